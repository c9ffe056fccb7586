import { EtcdCompactor } from './etcd-compactor';

describe('EtcdCompactor', () => {
  function rig(policy: { intervalMs: number; keepRevisions: number; maxInUseBytes?: number }) {
    let nowMs = 0;
    let revision = 1;
    let inUseBytes: number | undefined | Error;
    const compacted: number[] = [];
    const warnings: string[] = [];
    const compactor = new EtcdCompactor(
      {
        revision: () => Promise.resolve(revision),
        inUseBytes: () =>
          inUseBytes instanceof Error ? Promise.reject(inUseBytes) : Promise.resolve(inUseBytes),
      },
      (to) => {
        compacted.push(to);
        return Promise.resolve();
      },
      { ...policy, checkMs: 5_000 },
      { warn: (message: string) => warnings.push(message) },
      () => nowMs,
    );
    return {
      compacted,
      warnings,
      /** What the next checks read as etcd's database size in use. */
      inUse(bytes: number | undefined | Error) {
        inUseBytes = bytes;
      },
      /** Advances the clock and the revision, then runs one check. */
      async step(ms: number, revisions: number) {
        nowMs += ms;
        revision += revisions;
        await compactor.tick();
      },
    };
  }

  it('compacts by time to the revision seen one interval earlier', async () => {
    const r = rig({ intervalMs: 60_000, keepRevisions: 0 });
    await r.step(0, 0); // revision 1 seen at t=0
    await r.step(30_000, 100); // 101 at 30 s
    expect(r.compacted).toEqual([]);
    await r.step(30_000, 100); // 201 at 60 s: 1 is one interval old
    await r.step(30_000, 100); // 301 at 90 s: 101 is
    expect(r.compacted).toEqual([1, 101]);
  });

  it('also keeps at most keepRevisions, never past the revision seen a check ago', async () => {
    const r = rig({ intervalMs: 300_000, keepRevisions: 1_000 });
    await r.step(0, 0); // 1
    await r.step(5_000, 5_000); // 5,001: target 4,001, bounded by the previous check's 1
    await r.step(5_000, 5_000); // 10,001: target 9,001, bounded by 5,001
    await r.step(5_000, 100); // 10,101: target 9,101
    expect(r.compacted).toEqual([1, 5_001, 9_101]);
  });

  it('does nothing by count while the history is under keepRevisions', async () => {
    const r = rig({ intervalMs: 0, keepRevisions: 1_000 });
    for (let i = 0; i < 5; i++) await r.step(5_000, 100);
    expect(r.compacted).toEqual([]);
  });

  it('compacts to the last check while the database in use is over its size bound', async () => {
    const MiB = 1024 * 1024;
    const r = rig({ intervalMs: 300_000, keepRevisions: 100_000, maxInUseBytes: 512 * MiB });
    r.inUse(100 * MiB);
    await r.step(0, 0); // 1
    await r.step(5_000, 500); // 501: under the bound, nothing to compact by time or count
    expect(r.compacted).toEqual([]);

    r.inUse(600 * MiB);
    await r.step(5_000, 500); // 1,001: over, compacts to 501 (seen one check ago)
    await r.step(5_000, 500); // 1,501: still over, compacts to 1,001
    expect(r.compacted).toEqual([501, 1_001]);
    expect(r.warnings).toHaveLength(1); // once a minute
    expect(r.warnings[0]).toContain('600 MiB, over the compaction bound of 512 MiB');

    r.inUse(200 * MiB);
    await r.step(5_000, 500); // back under: nothing more
    r.inUse(undefined); // an etcd that does not report it: no size bound
    await r.step(5_000, 500);
    expect(r.compacted).toEqual([501, 1_001]);
  });

  it('goes on by time and revisions when the size cannot be read', async () => {
    const r = rig({ intervalMs: 0, keepRevisions: 1_000, maxInUseBytes: 1 });
    r.inUse(new Error('permission denied'));
    await r.step(0, 0); // 1
    await r.step(5_000, 5_000); // 5,001: by count to 4,001, bounded by the previous 1
    await r.step(5_000, 100); // 5,101: by count to 4,101
    expect(r.compacted).toEqual([1, 4_101]);
    expect(r.warnings).toEqual([expect.stringContaining('cannot read etcd')]);
  });
});
