/*
 * Preloaded into a benchmarked process (NODE_OPTIONS=--require <this file>) when
 * FOREST_BENCH_CPU_PROFILE names a file F: once `F.start` exists it starts V8's sampling
 * CPU profiler (through the in-process inspector, 1 ms interval); once `F.stop` exists it
 * stops it and writes the profile (.cpuprofile JSON, as `node --cpu-prof` writes it) to F,
 * atomically (a temp file renamed). So the benchmark profiles exactly the slice it wants,
 * not the process's whole life, and the process need not exit to write it. Files, not
 * signals: the node's shutdown hooks (Nest's enableShutdownHooks) take SIGUSR2 and the
 * like. Without the variable it does nothing.
 */
'use strict';
const file = process.env.FOREST_BENCH_CPU_PROFILE;
if (file) {
  const fs = require('node:fs');
  const inspector = require('node:inspector');
  const session = new inspector.Session();
  session.connect();
  let state = 'waiting';
  const timer = setInterval(() => {
    if (state === 'waiting' && fs.existsSync(`${file}.start`)) {
      state = 'profiling';
      session.post('Profiler.enable', () =>
        session.post('Profiler.setSamplingInterval', { interval: 1000 }, () =>
          session.post('Profiler.start'),
        ),
      );
    } else if (state === 'profiling' && fs.existsSync(`${file}.stop`)) {
      state = 'done';
      clearInterval(timer);
      session.post('Profiler.stop', (error, result) => {
        const text = JSON.stringify(error ? { error: String(error) } : result.profile);
        fs.writeFileSync(`${file}.tmp`, text);
        fs.renameSync(`${file}.tmp`, file);
      });
    }
  }, 100);
  timer.unref();
}
