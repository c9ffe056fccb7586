import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { Keyspace } from '@forest/protocol';
import { EmbeddedStore } from '@forest/store';
import { ForestConfig } from '../config/forest.config';
import { GroupOutOfScopeError, TokenNotFoundError } from './auth.errors';
import { hashToken, tokenIdOf, tokenMatches } from './token-text';
import { TokenRepository } from './token.repository';
import { LAST_USED_INTERVAL_MS, TOKEN_CACHE_TTL_MS, TokenService } from './token.service';

const ADMIN = { kind: 'anonymous' } as const;
const CONFIGURED = 'configured-admin-token-0123456789abcdef';

describe('token text', () => {
  it('finds the id of a fst_ token, and takes any other text for the configured admin token', () => {
    expect(tokenIdOf('fst_abc123abc123_AAAAAAAAAAAAAAAAAAAAAAAA')).toBe('abc123abc123');
    expect(tokenIdOf(CONFIGURED)).toBe('admin');
    expect(tokenIdOf('')).toBeUndefined();
    expect(tokenIdOf('has space')).toBeUndefined();
    expect(tokenIdOf('x'.repeat(513))).toBeUndefined();
  });

  it('compares against the stored hash', () => {
    expect(tokenMatches('a-token', hashToken('a-token'))).toBe(true);
    expect(tokenMatches('a-token!', hashToken('a-token'))).toBe(false);
    expect(tokenMatches('a-token', 'not-hex')).toBe(false);
  });
});

describe('TokenService', () => {
  let dataDir: string;
  let store: EmbeddedStore;
  let repository: TokenRepository;
  let now: number;

  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'forest-tokens-'));
    store = await EmbeddedStore.open({ dataDir: join(dataDir, 'store') });
    repository = new TokenRepository(store);
    now = Date.parse('2026-11-24T02:00:00Z');
    jest.spyOn(Date, 'now').mockImplementation(() => now);
    jest.spyOn(Logger.prototype, 'log').mockImplementation(() => undefined);
    jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
  });

  afterEach(async () => {
    jest.restoreAllMocks();
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  function service(config: Partial<ForestConfig> = {}, repo = repository): TokenService {
    return new TokenService(repo, {
      auth: 'on',
      adminToken: undefined,
      dataDir: join(dataDir, 'node'),
      ...config,
    } as ForestConfig);
  }

  it('authenticates a token it created, and nothing else', async () => {
    const tokens = service();
    const created = await tokens.create(
      { name: 'ci', role: 'operator', groups: ['b', 'a'] },
      ADMIN,
    );
    expect(await tokens.authenticate(created.token)).toEqual({
      kind: 'token',
      tokenId: created.id,
      name: 'ci',
      role: 'operator',
      groups: ['a', 'b'],
      revealData: false,
    });
    expect(await tokens.authenticate(`${created.token}x`)).toBeUndefined();
    expect(
      await tokens.authenticate(created.token.replace(created.id, 'zzzzzzzzzzzz')),
    ).toBeUndefined();
    expect(await tokens.authenticate('nonsense')).toBeUndefined();
    const stored = await store.get(Keyspace.token(created.id));
    expect(stored!.value).not.toContain(created.token.split('_')[2]);
  });

  it('reads a token once per cache TTL, and forgets a revoked one at once', async () => {
    const tokens = service();
    const created = await tokens.create({ name: 'ci', role: 'viewer' }, ADMIN);
    const reads = jest.spyOn(repository, 'get');
    await tokens.authenticate(created.token);
    await Promise.all([tokens.authenticate(created.token), tokens.authenticate(created.token)]);
    expect(reads).toHaveBeenCalledTimes(1);
    now += TOKEN_CACHE_TTL_MS;
    await tokens.authenticate(created.token);
    expect(reads).toHaveBeenCalledTimes(2);
    await tokens.revoke(created.id, ADMIN);
    expect(await tokens.authenticate(created.token)).toBeUndefined();
    await expect(tokens.revoke(created.id, ADMIN)).rejects.toBeInstanceOf(TokenNotFoundError);
  });

  it('sees a revoke made through another node within the cache TTL', async () => {
    const here = service();
    const there = service();
    const created = await there.create({ name: 'ci', role: 'viewer' }, ADMIN);
    expect(await here.authenticate(created.token)).toBeDefined();
    await there.revoke(created.id, ADMIN);
    now += TOKEN_CACHE_TTL_MS - 1;
    expect(await here.authenticate(created.token)).toBeDefined(); // still cached
    now += 1;
    expect(await here.authenticate(created.token)).toBeUndefined();
  });

  it('writes lastUsedAt at most once a minute per token', async () => {
    const tokens = service();
    const created = await tokens.create({ name: 'ci', role: 'viewer' }, ADMIN);
    const writes = jest.spyOn(repository, 'replace');
    for (let i = 0; i < 5; i++) {
      await tokens.authenticate(created.token);
      now += 1000;
    }
    await tokens.settled();
    expect(writes).toHaveBeenCalledTimes(1);
    const first = (await tokens.list(ADMIN))[0].lastUsedAt;
    expect(first).toBe('2026-11-24T02:00:00.000Z');
    now += LAST_USED_INTERVAL_MS;
    await tokens.authenticate(created.token);
    await tokens.settled();
    expect(writes).toHaveBeenCalledTimes(2);
    expect((await tokens.list(ADMIN))[0].lastUsedAt).toBe(new Date(now).toISOString());
    // Another node that reads the recent lastUsedAt does not write it again.
    const other = service();
    await other.authenticate(created.token);
    await other.settled();
    expect(writes).toHaveBeenCalledTimes(2);
  });

  it('never brings a revoked token back by writing lastUsedAt', async () => {
    const tokens = service();
    const created = await tokens.create({ name: 'ci', role: 'viewer' }, ADMIN);
    const stale = await repository.get(created.id);
    await store.delete(Keyspace.token(created.id));
    expect(await repository.replace(stale!, { ...stale!.record, lastUsedAt: 'x' })).toBeUndefined();
    expect(await store.get(Keyspace.token(created.id))).toBeUndefined();
  });

  it('lets a principal limited to groups create and see only tokens within them', async () => {
    const tokens = service();
    const scoped = {
      kind: 'token',
      tokenId: 't',
      name: 'scoped-admin',
      role: 'admin',
      groups: ['a'],
      revealData: false,
    } as const;
    await expect(tokens.create({ name: 'x', role: 'viewer' }, scoped)).rejects.toBeInstanceOf(
      GroupOutOfScopeError,
    );
    await expect(
      tokens.create({ name: 'x', role: 'viewer', groups: ['a', 'b'] }, scoped),
    ).rejects.toBeInstanceOf(GroupOutOfScopeError);
    const inside = await tokens.create({ name: 'x', role: 'viewer', groups: ['a'] }, scoped);
    expect(inside.createdBy).toBe('scoped-admin');
    const outside = await tokens.create({ name: 'y', role: 'viewer' }, ADMIN);
    expect((await tokens.list(scoped)).map((t) => t.id)).toEqual([inside.id]);
    await expect(tokens.revoke(outside.id, scoped)).rejects.toBeInstanceOf(TokenNotFoundError);
  });

  describe('the first admin token', () => {
    it('stores FOREST_ADMIN_TOKEN once, idempotently, and replaces it when the variable changes', async () => {
      await service({ adminToken: CONFIGURED }).onApplicationBootstrap();
      const first = await store.get(Keyspace.token('admin'));
      await Promise.all([
        service({ adminToken: CONFIGURED }).onApplicationBootstrap(),
        service({ adminToken: CONFIGURED }).onApplicationBootstrap(),
      ]);
      expect((await store.get(Keyspace.token('admin')))!.modRevision).toBe(first!.modRevision);
      expect(await service().authenticate(CONFIGURED)).toMatchObject({
        role: 'admin',
        name: 'admin',
      });

      const rotated = `${CONFIGURED}-rotated`;
      await service({ adminToken: rotated }).onApplicationBootstrap();
      const tokens = service();
      expect(await tokens.authenticate(rotated)).toMatchObject({ role: 'admin' });
      expect(await tokens.authenticate(CONFIGURED)).toBeUndefined();
    });

    it('is generated by exactly one of two nodes starting together, into a 0600 file', async () => {
      const dirs = [join(dataDir, 'node-1'), join(dataDir, 'node-2')];
      await Promise.all(dirs.map((dir) => service({ dataDir: dir }).onApplicationBootstrap()));
      const files = dirs
        .map((dir) => join(dir, 'admin-token'))
        .filter((file) => {
          try {
            return statSync(file).isFile();
          } catch {
            return false;
          }
        });
      expect(files).toHaveLength(1);
      expect(statSync(files[0]).mode & 0o777).toBe(0o600);
      for (const dir of dirs) {
        expect(readdirSync(dir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
      }
      const token = readFileSync(files[0], 'utf8').trim();
      expect(await service().authenticate(token)).toMatchObject({
        role: 'admin',
        tokenId: 'admin',
      });
      expect(await service().list(ADMIN)).toHaveLength(1);
    });

    it('is not generated while any admin token exists, nor with auth off', async () => {
      await service().create({ name: 'other-admin', role: 'admin' }, ADMIN);
      await service().onApplicationBootstrap();
      await service({ auth: 'off' }).onApplicationBootstrap();
      expect(await store.get(Keyspace.token('admin'))).toBeUndefined();
    });
  });
});
