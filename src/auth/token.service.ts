import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  BeforeApplicationShutdown,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { ApiTokenRecord, TokenRole } from '@forest/protocol';
import { ForestConfig } from '../config/forest.config';
import { actorOf, mayAccessGroup, Principal, Role, TokenPrincipal } from './access';
import { GroupOutOfScopeError, TokenNotFoundError } from './auth.errors';
import { CreatedTokenDto, CreateTokenDto, TokenDto } from './dto/token.dto';
import { StoredToken, TokenRepository } from './token.repository';
import {
  ADMIN_TOKEN_ID,
  hashToken,
  newTokenId,
  newTokenText,
  tokenIdOf,
  tokenMatches,
} from './token-text';

// The protocol's stored roles and the access contract's roles are the same list.
const SAME_ROLES: [Role, TokenRole] extends [TokenRole, Role] ? true : never = true;
void SAME_ROLES;

/**
 * How long a node trusts what it read of a token. A revoke on another node takes effect
 * here within this (on this node at once).
 */
export const TOKEN_CACHE_TTL_MS = 5_000;
/** lastUsedAt is written at most this often per token, so reads do not become writes. */
export const LAST_USED_INTERVAL_MS = 60_000;
/** Most token lookups kept in memory (the oldest go first). */
const CACHE_MAX_ENTRIES = 10_000;
/** File the generated first admin token is written to, in FOREST_DATA_DIR. */
export const ADMIN_TOKEN_FILE = 'admin-token';
const CREATE_ATTEMPTS = 3;

interface CacheEntry {
  stored: StoredToken | undefined;
  fetchedMs: number;
}

/**
 * API tokens: create, list, revoke, authenticate (with a short per-node cache), and the
 * first admin token at start-up. Any node serves all of it; the store is the truth.
 */
@Injectable()
export class TokenService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger(TokenService.name);
  private readonly cache = new Map<string, CacheEntry>();
  private readonly reads = new Map<string, Promise<StoredToken | undefined>>();
  /** When this node last wrote lastUsedAt, per token id. */
  private readonly usesWritten = new Map<string, number>();
  private readonly writes = new Set<Promise<void>>();

  constructor(
    private readonly tokens: TokenRepository,
    private readonly config: ForestConfig,
  ) {}

  async onApplicationBootstrap(): Promise<void> {
    if (this.config.auth !== 'on') return;
    if (this.config.adminToken !== undefined) {
      await this.storeConfiguredAdminToken(this.config.adminToken);
    } else {
      await this.generateFirstAdminToken();
    }
  }

  /** lastUsedAt writes in flight finish before the store closes. */
  async beforeApplicationShutdown(): Promise<void> {
    await this.settled();
  }

  /** Resolves when every lastUsedAt write started so far has finished. */
  async settled(): Promise<void> {
    await Promise.all([...this.writes]);
  }

  /** The principal of a bearer token, or undefined when it is unknown, revoked or wrong. */
  async authenticate(text: string): Promise<TokenPrincipal | undefined> {
    const id = tokenIdOf(text);
    if (id === undefined) return undefined;
    const stored = await this.lookup(id);
    if (!stored || !tokenMatches(text, stored.record.secretHash)) return undefined;
    this.noteUse(stored);
    const { record } = stored;
    return {
      kind: 'token',
      tokenId: record.id,
      name: record.name,
      role: record.role,
      ...(record.groups ? { groups: [...record.groups] } : {}),
      revealData: record.revealData,
    };
  }

  async create(dto: CreateTokenDto, by: Principal): Promise<CreatedTokenDto> {
    const groups = dto.groups ? [...new Set(dto.groups)].sort() : undefined;
    requireWithinScope(by, groups);
    for (let attempt = 1; ; attempt++) {
      const id = newTokenId();
      const token = newTokenText(id);
      const record: ApiTokenRecord = {
        id,
        name: dto.name,
        role: dto.role,
        ...(groups ? { groups } : {}),
        revealData: dto.revealData ?? false,
        secretHash: hashToken(token),
        createdBy: actorOf(by),
        createdAt: new Date(Date.now()).toISOString(),
      };
      if (await this.tokens.create(record)) {
        this.logger.log(
          `token=${id} name=${record.name} role=${record.role} ` +
            `groups=${groups?.join(',') ?? '*'} created by ${record.createdBy}`,
        );
        const { secretHash: _hash, lastUsedAt: _used, ...shown } = record;
        return { ...shown, groups: groups ?? null, token };
      }
      // A random 12-character id taken: practically never; draw another.
      if (attempt >= CREATE_ATTEMPTS) throw new Error(`no free token id after ${attempt} draws`);
    }
  }

  /** Tokens the caller may see (a token limited to groups sees those within its groups). */
  async list(by: Principal): Promise<TokenDto[]> {
    return (await this.tokens.list())
      .filter((record) => isWithinScope(by, record.groups))
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id))
      .map(toTokenDto);
  }

  /** Deletes the token; this node forgets it at once, every other within the cache TTL. */
  async revoke(id: string, by: Principal): Promise<void> {
    const stored = await this.tokens.get(id);
    if (!stored || !isWithinScope(by, stored.record.groups)) throw new TokenNotFoundError(id);
    const deleted = await this.tokens.delete(id);
    this.forget(id);
    if (!deleted) throw new TokenNotFoundError(id);
    this.logger.log(`token=${id} name=${stored.record.name} revoked by ${actorOf(by)}`);
  }

  private forget(id: string): void {
    this.cache.delete(id);
    this.usesWritten.delete(id);
  }

  /** The token as stored, from the cache while fresh; concurrent misses share one read. */
  private async lookup(id: string): Promise<StoredToken | undefined> {
    const cached = this.cache.get(id);
    if (cached && Date.now() - cached.fetchedMs < TOKEN_CACHE_TTL_MS) return cached.stored;
    const inFlight = this.reads.get(id);
    if (inFlight) return inFlight;
    const read = this.tokens
      .get(id)
      .then((stored) => {
        this.remember(id, stored);
        return stored;
      })
      .finally(() => this.reads.delete(id));
    this.reads.set(id, read);
    return read;
  }

  private remember(id: string, stored: StoredToken | undefined): void {
    this.cache.delete(id);
    if (this.cache.size >= CACHE_MAX_ENTRIES) {
      const oldest = this.cache.keys().next().value;
      if (oldest !== undefined) this.cache.delete(oldest);
    }
    this.cache.set(id, { stored, fetchedMs: Date.now() });
  }

  /**
   * Records the use in lastUsedAt when the last recorded use (by any node, as last read, or
   * by this node) is a minute old or more. In the background: a request never waits for it.
   */
  private noteUse(stored: StoredToken): void {
    const { record } = stored;
    const nowMs = Date.now();
    const recorded = record.lastUsedAt ? Date.parse(record.lastUsedAt) : 0;
    const last = Math.max(
      Number.isNaN(recorded) ? 0 : recorded,
      this.usesWritten.get(record.id) ?? 0,
    );
    if (nowMs - last < LAST_USED_INTERVAL_MS) return;
    this.usesWritten.set(record.id, nowMs);
    const next: ApiTokenRecord = { ...record, lastUsedAt: new Date(nowMs).toISOString() };
    const write = this.tokens
      .replace(stored, next)
      .then((modRevision) => {
        const cached = this.cache.get(record.id);
        if (modRevision === undefined) {
          // Revoked or changed meanwhile: read it afresh next time.
          this.cache.delete(record.id);
        } else if (cached?.stored?.modRevision === stored.modRevision) {
          cached.stored = { record: next, modRevision };
        }
      })
      .catch((error: unknown) => {
        this.logger.warn(`token=${record.id} lastUsedAt not written: ${String(error)}`);
      })
      .finally(() => this.writes.delete(write));
    this.writes.add(write);
  }

  /**
   * FOREST_ADMIN_TOKEN, used as given: stored (hashed) as the admin token if absent, which
   * every node starting with it does idempotently. A stored token of that id that does not
   * match (the variable was changed: a rotation) is replaced.
   */
  private async storeConfiguredAdminToken(text: string): Promise<void> {
    const id = tokenIdOf(text) ?? ADMIN_TOKEN_ID;
    const wanted = (current?: ApiTokenRecord): ApiTokenRecord => ({
      id,
      name: current?.name ?? 'admin',
      role: 'admin',
      revealData: true,
      secretHash: hashToken(text),
      createdBy: 'FOREST_ADMIN_TOKEN',
      createdAt: new Date(Date.now()).toISOString(),
    });
    for (let attempt = 1; attempt <= CREATE_ATTEMPTS; attempt++) {
      const current = await this.tokens.get(id);
      if (!current) {
        if (await this.tokens.create(wanted())) {
          this.logger.log(`token=${id} name=admin stored from FOREST_ADMIN_TOKEN`);
          return;
        }
        continue; // another node stored it meanwhile: check what it wrote
      }
      const { record } = current;
      if (tokenMatches(text, record.secretHash) && record.role === 'admin' && !record.groups) {
        return;
      }
      if ((await this.tokens.replace(current, wanted(record))) !== undefined) {
        this.forget(id);
        this.logger.warn(
          `token=${id} did not match FOREST_ADMIN_TOKEN (changed?): replaced by the configured one`,
        );
        return;
      }
    }
    throw new Error(`FOREST_ADMIN_TOKEN: token ${id} kept changing while it was being stored`);
  }

  /**
   * Without FOREST_ADMIN_TOKEN and without any admin token in the store, the first node to
   * start creates one (create-if-absent: of nodes starting together one wins), writes it to
   * FOREST_DATA_DIR/admin-token (mode 0600) and logs where; the token is never logged.
   */
  private async generateFirstAdminToken(): Promise<void> {
    const admins = (await this.tokens.list()).filter((record) => record.role === 'admin');
    if (admins.length > 0) return;
    const dir = resolve(this.config.dataDir);
    const file = join(dir, ADMIN_TOKEN_FILE);
    const staging = `${file}.${process.pid}.tmp`;
    const text = newTokenText(ADMIN_TOKEN_ID);
    // The file is written (private) before the token exists, so a token is never stored
    // that nobody can read; it gets its name only once the token is stored.
    await mkdir(dir, { recursive: true });
    await writePrivateFile(staging, `${text}\n`);
    const created = await this.tokens
      .create({
        id: ADMIN_TOKEN_ID,
        name: 'admin',
        role: 'admin',
        revealData: true,
        secretHash: hashToken(text),
        createdBy: 'bootstrap',
        createdAt: new Date(Date.now()).toISOString(),
      })
      .catch(async (error: unknown) => {
        await unlink(staging).catch(() => undefined);
        throw error;
      });
    if (!created) {
      await unlink(staging);
      this.logger.log('the first admin token was created by another node: not generating one');
      return;
    }
    await rename(staging, file);
    this.logger.log(
      `no admin token existed: generated token=${ADMIN_TOKEN_ID} name=admin and wrote it to ` +
        `${file} (mode 0600); read it from there, keep it safe and delete the file`,
    );
  }
}

/** Creates (or truncates) `path` with mode 0600 and writes `text`, durably. */
async function writePrivateFile(path: string, text: string): Promise<void> {
  const handle = await open(path, 'w', 0o600);
  try {
    await handle.chmod(0o600); // an existing file keeps its mode on open: set it
    await handle.writeFile(text, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function toTokenDto(record: ApiTokenRecord): TokenDto {
  return {
    id: record.id,
    name: record.name,
    role: record.role,
    groups: record.groups ? [...record.groups] : null,
    revealData: record.revealData,
    createdAt: record.createdAt,
    createdBy: record.createdBy,
    lastUsedAt: record.lastUsedAt ?? null,
  };
}

/** A token of `groups` (undefined: every group) is within what `by` may see and grant. */
function isWithinScope(by: Principal, groups: readonly string[] | undefined): boolean {
  if (by.kind === 'anonymous' || !by.groups) return true;
  return groups !== undefined && groups.every((group) => mayAccessGroup(by, group));
}

function requireWithinScope(by: Principal, groups: readonly string[] | undefined): void {
  if (isWithinScope(by, groups)) return;
  const outside = groups?.find((group) => !mayAccessGroup(by, group));
  throw new GroupOutOfScopeError(outside);
}
