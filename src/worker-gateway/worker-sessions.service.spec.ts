import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Keyspace, WorkerRecord } from '@forest/protocol';
import { EmbeddedStore } from '@forest/store';
import {
  WorkerForbiddenError,
  WorkerNotFoundError,
  WorkerUnauthenticatedError,
} from './worker.errors';
import {
  bearerOf,
  leaseOf,
  newSessionSecret,
  newWorkerId,
  WorkerSessions,
} from './worker-sessions.service';

const G = 'g';

describe('worker ids and session secrets', () => {
  it('makes ids of a host slug, 80 random bits and the lease id, within a key segment', () => {
    const ids = new Set<string>();
    for (let i = 0; i < 100; i++) {
      const id = newWorkerId('a very long host name.example.com!!', '7587889923456789012');
      expect(id).toMatch(/^a-very-long-host-name\.ex-[a-z2-7]{16}-7587889923456789012$/);
      expect(id.length).toBeLessThanOrEqual(64);
      expect(leaseOf(id)).toBe('7587889923456789012');
      ids.add(id);
    }
    expect(ids.size).toBe(100);
    expect(newWorkerId('***', '12')).toMatch(/^worker-[a-z2-7]{16}-12$/);
    expect(leaseOf('no-lease-here')).toBeUndefined();
  });

  it('issues 256-bit secrets and keeps only their SHA-256', () => {
    const { secret, sha256 } = newSessionSecret();
    expect(Buffer.from(secret, 'base64url')).toHaveLength(32);
    expect(sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(sha256).not.toContain(secret);
    expect(newSessionSecret().secret).not.toBe(secret);
  });

  it('reads a bearer secret, and nothing else', () => {
    expect(bearerOf('Bearer abc')).toBe('abc');
    expect(bearerOf('bearer abc')).toBe('abc');
    expect(bearerOf(undefined)).toBeUndefined();
    expect(bearerOf('')).toBeUndefined();
    expect(bearerOf('Basic abc')).toBeUndefined();
    expect(bearerOf('Bearer ')).toBeUndefined();
    expect(bearerOf('Bearer a b')).toBeUndefined();
    expect(bearerOf(['Bearer a', 'Bearer b'])).toBeUndefined();
  });
});

describe('WorkerSessions', () => {
  let dataDir: string;
  let store: EmbeddedStore;
  let sessions: WorkerSessions;
  let gets: string[];

  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'forest-sessions-'));
    store = await EmbeddedStore.open({ dataDir });
    gets = [];
    const counting = new Proxy(store, {
      get: (target, name) => {
        const value: unknown = Reflect.get(target, name);
        if (name === 'get') {
          return (key: string) => {
            gets.push(key);
            return target.get(key);
          };
        }
        return typeof value === 'function' ? (value as () => unknown).bind(target) : value;
      },
    });
    sessions = new WorkerSessions(counting);
    await sessions.onApplicationBootstrap();
  });

  afterEach(async () => {
    await sessions.onModuleDestroy();
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** A worker registered as the registry does it: its record on its own lease. */
  async function worker(host = 'h'): Promise<{ id: string; secret: string; lease: string }> {
    const lease = await store.grantLease(10);
    const id = newWorkerId(host, lease.id);
    const { secret, sha256 } = newSessionSecret();
    const record: WorkerRecord = {
      id,
      group: G,
      targets: ['t'],
      capacity: 1,
      host,
      pid: 1,
      labels: {},
      registeredAt: new Date().toISOString(),
      node: 'n1',
      lease: lease.id,
      sessionSecretSha256: sha256,
    };
    await store.put(Keyspace.worker(G, id), JSON.stringify(record), { lease: lease.id });
    return { id, secret, lease: lease.id };
  }

  const bearer = (secret: string) => `Bearer ${secret}`;

  it('accepts the worker\u2019s own secret, refuses none (401), another (403), and a gone worker (404)', async () => {
    const a = await worker();
    const b = await worker();
    await expect(sessions.verify(G, a.id, bearer(a.secret))).resolves.toMatchObject({ id: a.id });
    await expect(sessions.verify(G, a.id, undefined)).rejects.toBeInstanceOf(
      WorkerUnauthenticatedError,
    );
    await expect(sessions.verify(G, a.id, `Basic ${a.secret}`)).rejects.toBeInstanceOf(
      WorkerUnauthenticatedError,
    );
    await expect(sessions.verify(G, a.id, bearer(b.secret))).rejects.toBeInstanceOf(
      WorkerForbiddenError,
    );
    await expect(sessions.verify('other', a.id, bearer(a.secret))).rejects.toBeInstanceOf(
      WorkerNotFoundError,
    );
    // The victim's lease under another name: no such worker.
    await expect(
      sessions.verify(G, `evil-aaaaaaaaaaaaaaaa-${a.lease}`, bearer(a.secret)),
    ).rejects.toBeInstanceOf(WorkerNotFoundError);
    await expect(sessions.verify(G, 'no-lease', bearer(a.secret))).rejects.toBeInstanceOf(
      WorkerNotFoundError,
    );
  });

  it('caches a verified session (no read), never accepts a wrong secret from the cache', async () => {
    const a = await worker();
    const b = await worker();
    await sessions.verify(G, a.id, bearer(a.secret));
    gets.length = 0;
    for (let i = 0; i < 50; i++) {
      await expect(sessions.verify(G, a.id, bearer(a.secret))).resolves.toBeUndefined();
    }
    expect(gets).toEqual([]);
    for (const wrong of [b.secret, `${a.secret}x`, a.secret.slice(1), 'x']) {
      await expect(sessions.verify(G, a.id, bearer(wrong))).rejects.toBeInstanceOf(
        WorkerForbiddenError,
      );
    }
    // A wrong secret does not evict the right one either.
    await expect(sessions.verify(G, a.id, bearer(a.secret))).resolves.toBeUndefined();
    expect(gets).toEqual([]);
  });

  it('drops a cached session when the worker\u2019s lease ends (on any node: the watch)', async () => {
    const a = await worker();
    await sessions.verify(G, a.id, bearer(a.secret));
    expect(sessions.cachedSessions).toBe(1);
    await store.revokeLease(a.lease); // as another node's leave, or the lease expiring
    await waitUntil(() => sessions.cachedSessions === 0);
    await expect(sessions.verify(G, a.id, bearer(a.secret))).rejects.toBeInstanceOf(
      WorkerNotFoundError,
    );
  });

  it('drops it at once when the worker leaves through this node', async () => {
    const a = await worker();
    await sessions.verify(G, a.id, bearer(a.secret));
    sessions.forget(a.id);
    expect(sessions.cachedSessions).toBe(0);
  });

  it('caches nothing while it does not watch workers/ (every call reads the record)', async () => {
    await sessions.onModuleDestroy();
    const a = await worker();
    await sessions.verify(G, a.id, bearer(a.secret));
    await sessions.verify(G, a.id, bearer(a.secret));
    expect(sessions.cachedSessions).toBe(0);
    expect(gets.filter((key) => key === Keyspace.worker(G, a.id))).toHaveLength(2);
  });

  it('refuses a record without a session hash (written by an older node): register again', async () => {
    const lease = await store.grantLease(10);
    const id = newWorkerId('old', lease.id);
    await store.put(
      Keyspace.worker(G, id),
      JSON.stringify({ id, group: G, targets: ['t'], capacity: 1, lease: lease.id }),
      { lease: lease.id },
    );
    await expect(sessions.verify(G, id, bearer('anything'))).rejects.toThrow(/register again/);
  });
});

async function waitUntil(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
