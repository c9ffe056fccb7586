import { randomBytes } from 'node:crypto';
import { BeforeApplicationShutdown, Injectable, Logger } from '@nestjs/common';
import { Keyspace } from '@forest/protocol';
import { CoordinationStore } from '@forest/store';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { actorOf, principalOf } from '../auth/access';
import { ForestConfig } from '../config/forest.config';
import { InjectStore } from '../store/store.tokens';
import { AuditedCall, describeAuditedCall } from './audit-actions';
import { AuditFilters, AuditPage, readAuditPage } from './audit-query';
import { AuditWriter, AuditWriterStats, DEFAULT_AUDIT_WRITER_OPTIONS } from './audit-writer';
import { AuditEntry } from './audit.types';

/** A failed audit write is logged at most this often (with what happened meanwhile). */
const FAILURE_LOG_INTERVAL_MS = 10_000;
/** Answers larger than this are not parsed for the id of a created object. */
const MAX_ANSWER_PARSED = 64 * 1024;

/** What onSend learned about a call, for onResponse. */
interface PendingCall {
  call: AuditedCall;
  object?: string;
}

/**
 * The audit log: every state-changing API call becomes an entry (who, what, which object,
 * when, outcome) in `audit/`, written in batches by an AuditWriter, so recording never
 * blocks or fails a request. Fed by Fastify hooks (AuditHooks), which see every answer —
 * also the ones guards, pipes and filters refuse.
 */
@Injectable()
export class AuditService implements BeforeApplicationShutdown {
  private readonly logger = new Logger(AuditService.name);
  private readonly writer: AuditWriter;
  private readonly pending = new WeakMap<FastifyRequest, PendingCall>();
  private lastFailureLogMs = 0;

  constructor(
    @InjectStore() private readonly store: CoordinationStore,
    private readonly config: ForestConfig,
  ) {
    this.writer = new AuditWriter((entries) => this.write(entries), {
      ...DEFAULT_AUDIT_WRITER_OPTIONS,
      onWriteFailed: (error, batchSize, stats) => this.logFailure(error, batchSize, stats),
    });
  }

  get stats(): AuditWriterStats {
    return this.writer.stats;
  }

  /** Newest first; see readAuditPage. */
  list(filters: AuditFilters, limit: number, cursorKey?: string): Promise<AuditPage> {
    return readAuditPage(this.store, filters, limit, cursorKey);
  }

  /** Writes what is queued now (tests). */
  flush(): Promise<void> {
    return this.writer.flush();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.writer.close();
    const { dropped } = this.writer.stats;
    if (dropped > 0) this.logger.warn(`audit log: ${dropped} entries could not be written`);
  }

  /** onSend: for a create, the new object's id from the answer (a few named fields only). */
  noteAnswer(request: FastifyRequest, reply: FastifyReply, payload: unknown): void {
    const call = this.describe(request);
    if (!call) return;
    const pending: PendingCall = { call };
    if (
      call.objectFromAnswer &&
      reply.statusCode < 300 &&
      typeof payload === 'string' &&
      payload.length <= MAX_ANSWER_PARSED
    ) {
      try {
        const answer: unknown = JSON.parse(payload);
        if (typeof answer === 'object' && answer !== null) {
          pending.object = call.objectFromAnswer(answer as Record<string, unknown>);
        }
      } catch {
        // Not JSON: the object stays the kind alone.
      }
    }
    this.pending.set(request, pending);
  }

  /** onResponse: the call is answered; queue its entry. Never throws. */
  recordAnswered(request: FastifyRequest, reply: FastifyReply): void {
    try {
      const noted = this.pending.get(request);
      const call = noted?.call ?? this.describe(request);
      if (!call) return;
      this.writer.record(this.entryOf(request, reply.statusCode, call, noted?.object));
    } catch (error) {
      this.logger.warn(
        `audit log: could not record ${request.method} ${request.url}: ${String(error)}`,
      );
    }
  }

  private describe(request: FastifyRequest): AuditedCall | undefined {
    return describeAuditedCall(
      request.method,
      request.routeOptions?.url,
      request.params as Record<string, unknown> | undefined,
    );
  }

  private entryOf(
    request: FastifyRequest,
    status: number,
    call: AuditedCall,
    objectFromAnswer: string | undefined,
  ): AuditEntry {
    const atMs = Date.now();
    const id = Keyspace.auditEntry(atMs, randomBytes(4).toString('hex')).slice(
      Keyspace.audit.length,
    );
    const principal = principalOf(request);
    return {
      id,
      at: new Date(atMs).toISOString(),
      actor: this.actorName(request, status),
      ...(principal.kind === 'token' ? { tokenId: principal.tokenId } : {}),
      action: call.action,
      method: request.method,
      route: request.routeOptions?.url ?? '',
      object: objectFromAnswer ?? call.object,
      status,
      node: this.config.nodeId,
      ip: request.ip,
    };
  }

  /**
   * The token's name; `anonymous (auth off)` with FOREST_AUTH=off. With auth on, a call
   * without a principal is either a worker's own session call (leave: authenticated by its
   * session secret, so the worker is the actor) or one the node refused (`unauthenticated`).
   */
  private actorName(request: FastifyRequest, status: number): string {
    const principal = principalOf(request);
    if (principal.kind === 'token' || this.config.auth === 'off') return actorOf(principal);
    const params = request.params as Record<string, unknown> | undefined;
    if (status < 400 && typeof params?.group === 'string' && typeof params?.workerId === 'string') {
      return `worker:${params.group}/${params.workerId}`;
    }
    return 'unauthenticated';
  }

  private async write(entries: AuditEntry[]): Promise<void> {
    await this.store.txn({
      compare: [],
      success: entries.map((entry) => ({
        type: 'put' as const,
        key: `${Keyspace.audit}${entry.id}`,
        value: JSON.stringify(entry),
      })),
    });
  }

  private logFailure(error: unknown, batchSize: number, stats: AuditWriterStats): void {
    const now = Date.now();
    if (now - this.lastFailureLogMs < FAILURE_LOG_INTERVAL_MS) return;
    this.lastFailureLogMs = now;
    this.logger.warn(
      `audit log: writing ${batchSize} entries failed (${String(error)}); retrying. ` +
        `${stats.failedWrites} failed writes, ${stats.queued} entries waiting, ` +
        `${stats.dropped} dropped so far`,
    );
  }
}
