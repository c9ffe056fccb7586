import { createForestLogger, logDestination, PinoLoggerService } from './forest-logger';
import { prettyLine } from './pretty-log';

/** A destination that keeps the lines pino writes. */
function capture() {
  const lines: string[] = [];
  return { lines, stream: { write: (line: string) => void lines.push(line) } };
}

const settings = { logLevel: 'info', logFormat: 'json', nodeId: 'node-1' } as const;

describe('the node logger', () => {
  it('writes JSON lines with the node id, secrets redacted', () => {
    const out = capture();
    const log = createForestLogger(settings, out.stream);
    log.info({ req: { headers: { authorization: 'Bearer fst_x', host: 'h' } } }, 'hello');
    const record = JSON.parse(out.lines[0]) as Record<string, any>;
    expect(record).toMatchObject({ level: 30, node: 'node-1', msg: 'hello' });
    expect(record.req.headers).toEqual({ authorization: '[Redacted]', host: 'h' });
  });

  it("takes Nest's logger calls: context last, error(message, stack, context), omitted contexts", () => {
    const out = capture();
    const nest = new PinoLoggerService(createForestLogger(settings, out.stream), [
      'ExceptionHandler',
    ]);
    nest.log('module loaded', 'InstanceLoader');
    nest.error('it broke', 'Error: it broke\n    at x (y.js:1:1)', 'Store');
    nest.warn('plain');
    nest.error('hidden', 'Error: hidden\n    at x (y.js:1:1)', 'ExceptionHandler');
    const records = out.lines.map((l) => JSON.parse(l) as Record<string, any>);
    expect(records).toHaveLength(3);
    expect(records[0]).toMatchObject({
      level: 30,
      context: 'InstanceLoader',
      msg: 'module loaded',
    });
    expect(records[1]).toMatchObject({ level: 50, context: 'Store', msg: 'it broke' });
    expect(records[1].err.stack).toContain('at x (y.js:1:1)');
    expect(records[2]).toEqual(expect.objectContaining({ level: 40, msg: 'plain' }));
    expect(records[2].context).toBeUndefined();
  });

  it('FOREST_LOG_FORMAT=pretty turns each line into readable text', () => {
    const out = capture();
    const log = createForestLogger(settings, logDestination('pretty', out.stream, false));
    log.warn({ context: 'Planner', job: 'nightly report' }, 'misfire');
    expect(out.lines).toEqual([
      expect.stringMatching(
        /^\d{4}-\d\d-\d\dT[\d:.]+Z WARN {2}\[Planner\] misfire job="nightly report"\n$/,
      ),
    ]);
  });

  it('pretty lines indent an error stack and pass text that is not JSON through', () => {
    const line = JSON.stringify({
      level: 60,
      time: 0,
      node: 'n',
      msg: 'Forest failed to start: boom',
      err: { message: 'boom', stack: 'Error: boom\n    at main.js:1:1' },
    });
    expect(prettyLine(line)).toBe(
      '1970-01-01T00:00:00.000Z FATAL Forest failed to start: boom\n    Error: boom\n        at main.js:1:1\n',
    );
    expect(prettyLine('not json')).toBe('not json\n');
    expect(prettyLine(JSON.stringify({ level: 30, time: 0, msg: 'x' }), true)).toContain(
      '\u001b[32mINFO',
    );
  });
});
