import { StoreRequestError } from '../store.errors';
import { TxnOp, TxnRequest } from '../store.port';
import { Keyspace } from './keyspace';
import { WalRecord } from './wal-record';

/** Plans and applies a txn the way the store does; returns its result and logged record. */
function run(keyspace: Keyspace, request: TxnRequest, log?: WalRecord[]) {
  const plan = keyspace.planTxn(request);
  if (plan.record) {
    keyspace.apply(plan.record);
    log?.push(plan.record);
  }
  return plan.result;
}

const put = (key: string, value: string, lease?: string): TxnOp => ({
  type: 'put',
  key,
  value,
  lease,
});

describe('Keyspace', () => {
  it('starts at revision 1 and advances once per writing txn', () => {
    const keyspace = new Keyspace();
    expect(keyspace.revision).toBe(1);
    expect(run(keyspace, { compare: [], success: [put('a', '1'), put('b', '2')] }).revision).toBe(
      2,
    );
    expect(run(keyspace, { compare: [], success: [{ type: 'delete', key: 'zz' }] }).revision).toBe(
      2,
    );
    expect(run(keyspace, { compare: [], success: [{ type: 'get', key: 'a' }] }).revision).toBe(2);
    expect(keyspace.get('b')).toEqual({
      key: 'b',
      value: '2',
      createRevision: 2,
      modRevision: 2,
      version: 1,
    });
  });

  it('refuses what etcd refuses: duplicate keys, a put inside a deleted range, > 128 ops, empty keys', () => {
    const keyspace = new Keyspace();
    const refuse = (request: TxnRequest, message: RegExp) => {
      expect(() => keyspace.planTxn(request)).toThrow(StoreRequestError);
      expect(() => keyspace.planTxn(request)).toThrow(message);
    };
    refuse({ compare: [], success: [put('k', '1'), put('k', '2')] }, /duplicate key/);
    refuse(
      { compare: [], success: [put('k', '1'), { type: 'delete', key: 'k' }] },
      /duplicate key/,
    );
    refuse(
      { compare: [], success: [{ type: 'deletePrefix', prefix: 'p/' }, put('p/x', '1')] },
      /duplicate key/,
    );
    // Both branches are checked, whichever runs.
    refuse({ compare: [], success: [], failure: [put('k', '1'), put('k', '1')] }, /duplicate key/);
    const many = Array.from({ length: 129 }, (_, i) => put(`m/${i}`, 'x'));
    refuse({ compare: [], success: many }, /too many operations/);
    refuse({ compare: [], success: [put('', 'x')] }, /key is not provided/);
    refuse({ compare: [], success: [put('k', 'x', '12345')] }, /requested lease not found/);
    // Overlapping deletes are fine and each key is deleted once.
    run(keyspace, { compare: [], success: [put('d/1', 'a'), put('d/2', 'b')] });
    const result = run(keyspace, {
      compare: [],
      success: [
        { type: 'delete', key: 'd/1' },
        { type: 'deletePrefix', prefix: 'd/' },
      ],
    });
    expect(result.results).toEqual([
      { type: 'delete', deleted: 1 },
      { type: 'deletePrefix', deleted: 1 },
    ]);
  });

  it('compares absent keys as etcd does, and values by UTF-8 byte order', () => {
    const keyspace = new Keyspace();
    const holds = (compare: TxnRequest['compare'][0]) =>
      keyspace.planTxn({ compare: [compare], success: [] }).result.succeeded;
    expect(holds({ key: 'none', target: 'version', op: '==', value: 0 })).toBe(true);
    expect(holds({ key: 'none', target: 'lease', op: '==', value: '0' })).toBe(true);
    expect(holds({ key: 'none', target: 'value', op: '!=', value: 'x' })).toBe(false);
    run(keyspace, { compare: [], success: [put('u', '\uffff')] });
    // In UTF-16 '😀' < '\uffff'; in UTF-8 bytes (etcd) it is greater.
    expect(holds({ key: 'u', target: 'value', op: '<', value: '😀' })).toBe(true);
    expect(() => holds({ key: 'u', target: 'version', op: '==', value: 'abc' })).toThrow(
      StoreRequestError,
    );
  });

  it('revokes a lease by deleting its keys in key order, in one revision', () => {
    const keyspace = new Keyspace();
    const grant = keyspace.planGrant(10);
    keyspace.apply(grant);
    run(keyspace, {
      compare: [],
      success: [put('l/b', '2', grant.lease), put('l/a', '1', grant.lease)],
    });
    run(keyspace, { compare: [], success: [put('l/c', '3', grant.lease)] });
    run(keyspace, { compare: [], success: [put('l/c', 'detached')] }); // a put without lease detaches
    const revoke = keyspace.planRevoke(grant.lease)!;
    const events = keyspace.apply(revoke);
    expect(events?.revision).toBe(5);
    expect(events?.events.map((event) => [event.type, event.kv.key, event.prevKv?.value])).toEqual([
      ['delete', 'l/a', '1'],
      ['delete', 'l/b', '2'],
    ]);
    expect(keyspace.get('l/c')?.value).toBe('detached');
    expect(keyspace.planRevoke(grant.lease)).toBeUndefined();
    // A lease without keys goes without a revision.
    const empty = keyspace.planGrant(5);
    keyspace.apply(empty);
    expect(keyspace.apply(keyspace.planRevoke(empty.lease)!)).toBeUndefined();
    expect(keyspace.revision).toBe(5);
    expect(keyspace.planGrant(1).lease).toBe('3'); // ids are never reused
  });

  it('rebuilds the same state by replaying its records, and from a captured image', () => {
    const live = new Keyspace();
    const log: WalRecord[] = [];
    const lease = live.planGrant(30);
    live.apply(lease);
    log.push(lease);
    for (let i = 0; i < 200; i++) {
      const key = `k/${i % 37}`;
      switch (i % 5) {
        case 0:
          run(live, { compare: [], success: [put(key, `v${i}`, lease.lease)] }, log);
          break;
        case 1:
          run(live, { compare: [], success: [{ type: 'delete', key }] }, log);
          break;
        case 2:
          run(
            live,
            {
              compare: [{ key, target: 'version', op: '==', value: 0 }],
              success: [put(key, `created${i}`)],
              failure: [put(key, `updated${i}`), { type: 'delete', key: `k/${(i + 1) % 37}` }],
            },
            log,
          );
          break;
        case 3:
          run(
            live,
            { compare: [], success: [{ type: 'deletePrefix', prefix: `k/${i % 3}` }] },
            log,
          );
          break;
        default:
          run(live, { compare: [], success: [put(key, `v${i}`)] }, log);
      }
    }
    const replayed = new Keyspace();
    log.forEach((record) => replayed.apply(record));
    expect(replayed.capture()).toEqual(live.capture());
    expect(Keyspace.restore(live.capture()).capture()).toEqual(live.capture());
    expect(replayed.range('k/')).toEqual(live.range('k/'));
  });

  it('refuses a record that does not follow the current revision', () => {
    const keyspace = new Keyspace();
    expect(() =>
      keyspace.apply({ type: 'write', revision: 5, changes: [{ key: 'a', value: '1' }] }),
    ).toThrow(/cannot follow revision 1/);
  });
});
