import { Injectable, Logger } from '@nestjs/common';
import { ApiTokenRecord, decodeApiToken, Keyspace, RecordDecodeError } from '@forest/protocol';
import { CoordinationStore, KeyValue, rangeAll } from '@forest/store';
import { InjectStore } from '../store/store.tokens';

export interface StoredToken {
  record: ApiTokenRecord;
  modRevision: number;
}

/** All store I/O for API tokens (`tokens/{id}`). */
@Injectable()
export class TokenRepository {
  private readonly logger = new Logger(TokenRepository.name);

  constructor(@InjectStore() private readonly store: CoordinationStore) {}

  async get(id: string): Promise<StoredToken | undefined> {
    return this.parse(await this.store.get(Keyspace.token(id)));
  }

  async list(): Promise<ApiTokenRecord[]> {
    const kvs = await rangeAll(this.store, Keyspace.tokens);
    return kvs.flatMap((kv) => {
      const stored = this.parse(kv);
      return stored ? [stored.record] : [];
    });
  }

  /** Writes the token only if its id is free; false when it is taken. */
  async create(record: ApiTokenRecord): Promise<boolean> {
    const key = Keyspace.token(record.id);
    const result = await this.store.txn({
      compare: [{ key, target: 'createRevision', op: '==', value: 0 }],
      success: [{ type: 'put', key, value: JSON.stringify(record) }],
    });
    return result.succeeded;
  }

  /**
   * Writes `record` over the token as it was read (same mod revision): a token revoked or
   * changed meanwhile is left alone. Returns the new mod revision, or undefined.
   */
  async replace(current: StoredToken, record: ApiTokenRecord): Promise<number | undefined> {
    const key = Keyspace.token(record.id);
    const result = await this.store.txn({
      compare: [{ key, target: 'modRevision', op: '==', value: current.modRevision }],
      success: [{ type: 'put', key, value: JSON.stringify(record) }],
    });
    return result.succeeded ? result.revision : undefined;
  }

  /** False when there was no such token. */
  async delete(id: string): Promise<boolean> {
    return (await this.store.delete(Keyspace.token(id))).deleted > 0;
  }

  /** A record that does not decode counts as absent (and is logged): it cannot authenticate. */
  private parse(kv: KeyValue | undefined): StoredToken | undefined {
    if (!kv) return undefined;
    try {
      return { record: decodeApiToken(kv.key, kv.value), modRevision: kv.modRevision };
    } catch (error) {
      if (!(error instanceof RecordDecodeError)) throw error;
      this.logger.warn(`${error.message}: ignored`);
      return undefined;
    }
  }
}
