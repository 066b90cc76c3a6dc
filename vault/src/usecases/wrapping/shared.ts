/**
 * Pieces shared by the response-wrapping use cases: the payload shape, the AAD binding, TTL bounds,
 * and Vault's one error for every unusable wrapping token.
 */
import { invalidInput, type KeywardError } from '../../core/errors.js';
import type { Clock } from '../../core/ports/clock.js';
import type { Hsm } from '../../core/ports/hsm.js';
import type { WrappingTokenStore } from '../../core/ports/secret-store.js';
import type { Environment } from '../../core/types.js';
import { encodeBinding, type InternalSealer } from '../kv/internal-sealer.js';

/** What a wrapped response carried: exactly what unwrap gives back. */
export interface WrappedPayload {
  readonly data?: unknown;
  readonly auth?: unknown;
  readonly warnings?: readonly string[];
}

export interface WrappingDeps {
  readonly hsm: Pick<Hsm, 'randomBytes'>;
  readonly sealer: InternalSealer;
  readonly store: WrappingTokenStore;
  readonly clock: Clock;
}

/** Vault's answer for a missing, malformed, expired or already-used wrapping token (400). */
export const WRAPPING_TOKEN_INVALID_MESSAGE = 'wrapping token is not valid or does not exist';
export const wrappingTokenInvalid = (): KeywardError => invalidInput(WRAPPING_TOKEN_INVALID_MESSAGE);

export const MIN_WRAP_TTL_SECONDS = 1;
/** Vault caps wrapping TTLs at the system max TTL (768h by default). */
export const MAX_WRAP_TTL_SECONDS = 768 * 3600;

export function checkWrapTtl(ttlSeconds: number): number {
  if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds < MIN_WRAP_TTL_SECONDS) throw invalidInput('invalid wrapping TTL');
  if (ttlSeconds > MAX_WRAP_TTL_SECONDS) throw invalidInput(`wrapping TTL must not exceed ${MAX_WRAP_TTL_SECONDS} seconds`);
  return ttlSeconds;
}

export const WRAP_BINDING_LABEL = 'keyward/wrap/v1';

/** The payload is bound to the token's accessor (and env): it opens under no other token. */
export function wrapBinding(env: Environment, accessor: string): Buffer {
  return encodeBinding(WRAP_BINDING_LABEL, [env, accessor]);
}

/** Details of a refused second use, for the anomaly detector. Never the token itself. */
export interface WrappingReuseInfo {
  readonly accessor: string;
  readonly env: Environment;
  readonly creationPath: string;
  readonly firstUsedAt: Date | null;
  readonly attemptedAt: Date;
  readonly requestId?: string;
  readonly sourceAddress?: string;
}
