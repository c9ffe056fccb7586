import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * API token text: `fst_<id>_<secret>`, the id in clear so a node finds the record with one
 * read, the secret 256 random bits (base64url). Only the SHA-256 of the whole text is
 * stored: for a random 256-bit secret a fast hash is enough (nothing to brute-force from it).
 */
export const TOKEN_PREFIX = 'fst_';

/** The id of the token a configured FOREST_ADMIN_TOKEN in any other form is stored under. */
export const ADMIN_TOKEN_ID = 'admin';

/** Longest bearer text looked at; anything longer is refused without a store read. */
const MAX_TOKEN_LENGTH = 512;

const TOKEN_FORMAT = /^fst_([a-z0-9]{1,64})_[A-Za-z0-9_-]{16,}$/;
const ID_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const ID_LENGTH = 12;

/** A new random token id: 12 characters of a-z 0-9 (so never `admin`). */
export function newTokenId(): string {
  const bytes = randomBytes(ID_LENGTH);
  let id = '';
  for (const byte of bytes) id += ID_ALPHABET[byte % ID_ALPHABET.length];
  return id;
}

/** A new token's text for `id`. */
export function newTokenText(id: string): string {
  return `${TOKEN_PREFIX}${id}_${randomBytes(32).toString('base64url')}`;
}

/**
 * The id of the record to check `text` against: the id inside a `fst_` token, otherwise
 * `admin` (a FOREST_ADMIN_TOKEN chosen by the operator, in any form). Undefined for text
 * that cannot be a token.
 */
export function tokenIdOf(text: string): string | undefined {
  if (text.length === 0 || text.length > MAX_TOKEN_LENGTH || /\s/.test(text)) return undefined;
  return TOKEN_FORMAT.exec(text)?.[1] ?? ADMIN_TOKEN_ID;
}

/** Hex SHA-256 of the token text: what the store keeps. */
export function hashToken(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** Constant-time comparison of the token text against a stored hash. */
export function tokenMatches(text: string, secretHash: string): boolean {
  const expected = Buffer.from(secretHash, 'hex');
  const actual = createHash('sha256').update(text, 'utf8').digest();
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** The token of an `Authorization: Bearer <token>` header; undefined for anything else. */
export function bearerToken(header: string | string[] | undefined): string | undefined {
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer +(\S+) *$/i.exec(header);
  return match?.[1];
}
