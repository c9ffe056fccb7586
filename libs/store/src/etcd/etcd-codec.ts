import { CompareResult, CompareTarget, ICompare, IKeyValue, IRequestOp, IResponseOp } from 'etcd3';
import { prefixRangeEnd } from '../keys';
import { Compare, KeyValue, TxnOp, TxnOpResult } from '../store.port';

/** Translates between the port's relative string keys and etcd's prefixed byte keys. */
export class EtcdKeyCodec {
  private readonly prefixBytes: Buffer;

  constructor(readonly prefix: string) {
    this.prefixBytes = Buffer.from(prefix);
  }

  key(relative: string): Buffer {
    return Buffer.from(this.prefix + relative);
  }

  /** [start, end) covering every key under the relative prefix. */
  prefixRange(relativePrefix: string): { key: Buffer; range_end: Buffer } {
    const key = this.key(relativePrefix);
    return { key, range_end: prefixRangeEnd(key) };
  }

  relative(key: Buffer): string {
    return key.subarray(this.prefixBytes.length).toString();
  }

  keyValue(raw: IKeyValue): KeyValue {
    const kv: KeyValue = {
      key: this.relative(raw.key),
      value: raw.value ? raw.value.toString() : '',
      createRevision: Number(raw.create_revision),
      modRevision: Number(raw.mod_revision),
      version: Number(raw.version),
    };
    if (raw.lease && raw.lease !== '0') kv.lease = raw.lease;
    return kv;
  }

  compare(compare: Compare): ICompare {
    const key = this.key(compare.key);
    const result = COMPARE_RESULTS[compare.op];
    switch (compare.target) {
      case 'value':
        return {
          key,
          result,
          target: CompareTarget.Value,
          value: Buffer.from(String(compare.value)),
        };
      case 'version':
        return { key, result, target: CompareTarget.Version, version: compare.value };
      case 'createRevision':
        return { key, result, target: CompareTarget.Create, create_revision: compare.value };
      case 'modRevision':
        return { key, result, target: CompareTarget.Mod, mod_revision: compare.value };
      case 'lease':
        return { key, result, target: CompareTarget.Lease, lease: compare.value };
    }
  }

  requestOp(op: TxnOp): IRequestOp {
    switch (op.type) {
      case 'put':
        return {
          request_put: {
            key: this.key(op.key),
            value: Buffer.from(op.value),
            lease: op.lease ?? 0,
          },
        };
      case 'delete':
        return { request_delete_range: { key: this.key(op.key) } };
      case 'deletePrefix':
        return { request_delete_range: this.prefixRange(op.prefix) };
      case 'get':
        return { request_range: { key: this.key(op.key) } };
    }
  }

  opResult(op: TxnOp, response: IResponseOp): TxnOpResult {
    switch (op.type) {
      case 'put':
        return { type: 'put' };
      case 'delete':
      case 'deletePrefix':
        return { type: op.type, deleted: Number(response.response_delete_range.deleted) };
      case 'get': {
        const raw = response.response_range.kvs[0];
        return { type: 'get', kv: raw ? this.keyValue(raw) : undefined };
      }
    }
  }
}

const COMPARE_RESULTS = {
  '==': CompareResult.Equal,
  '!=': CompareResult.NotEqual,
  '<': CompareResult.Less,
  '>': CompareResult.Greater,
} as const;
