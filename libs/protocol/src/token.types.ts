/** Roles an API token can have (see src/auth/access.ts for what each may do). */
export const TOKEN_ROLES = ['admin', 'operator', 'viewer', 'worker'] as const;
export type TokenRole = (typeof TOKEN_ROLES)[number];

/**
 * An API token as stored under `tokens/{id}`. The secret itself is never stored: only the
 * hex SHA-256 of the whole token text, which the node compares in constant time.
 */
export interface ApiTokenRecord {
  id: string;
  name: string;
  role: TokenRole;
  /** Groups the token is limited to; absent: every group. */
  groups?: string[];
  /** A viewer token that may see params and outputs. */
  revealData: boolean;
  /** Hex SHA-256 of the token text. */
  secretHash: string;
  /** Actor that created it (a token name, or `bootstrap` for the first admin token). */
  createdBy: string;
  createdAt: string;
  /** Last successful use, written at most once a minute per token. */
  lastUsedAt?: string;
}
