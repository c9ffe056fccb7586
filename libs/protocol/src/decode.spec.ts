import { decodeAssignmentAt, decodeWorkerAt, RecordDecodeError } from './decode';
import { Keyspace, parseAssignmentKey, parseWorkerKey } from './keyspace';

describe('decoders checked against their key', () => {
  const entry = {
    executionId: 'job~000000000000001',
    jobId: 'job',
    target: 't',
    group: 'g',
    workerId: 'w1',
    state: 'assigned',
    scheduledMs: 1,
  };

  it('decodeAssignmentAt takes an entry that names its own inbox and refuses any other', () => {
    const key = Keyspace.assignment('g', 'w1', entry.executionId);
    const parts = parseAssignmentKey(key)!;
    expect(decodeAssignmentAt(parts, key, JSON.stringify(entry))).toEqual(entry);
    for (const other of [{ group: 'h' }, { workerId: 'w2' }, { executionId: 'job~2' }]) {
      expect(() => decodeAssignmentAt(parts, key, JSON.stringify({ ...entry, ...other }))).toThrow(
        RecordDecodeError,
      );
    }
    expect(() => decodeAssignmentAt(parts, key, 'not json')).toThrow(/not JSON/);
  });

  it('decodeWorkerAt takes a record that names its own key and refuses any other', () => {
    const record = { id: 'w1', group: 'g', targets: ['t'], capacity: 1, lease: '1' };
    const key = Keyspace.worker('g', 'w1');
    const parts = parseWorkerKey(key)!;
    expect(decodeWorkerAt(parts, key, JSON.stringify(record))).toEqual(record);
    expect(() => decodeWorkerAt(parts, key, JSON.stringify({ ...record, id: 'w2' }))).toThrow(
      /names worker g\/w2/,
    );
    expect(() => decodeWorkerAt(parts, key, JSON.stringify({ ...record, group: 'h' }))).toThrow(
      /names worker h\/w1/,
    );
  });
});
