/**
 * Retry policy for SDK calls: exponential backoff with full jitter (delay = random(0, min(max,
 * base * 2^attempt))), and a server's Retry-After wins when it asks for longer.
 *
 * What is retried (the one rule, kept deliberately simple):
 *  - 'idempotent' calls (reads, lists, transit encrypt/decrypt/rewrap/datakey, logins, unwrap is NOT
 *    one - see below): 429, 503, network errors and timeouts. These create no lasting state on the
 *    server, so sending them twice is harmless.
 *  - 'write' calls (KV writes and deletes): 429 and 503 (the server answered "not done"), and network
 *    errors that prove the request never left: the connection was never established
 *    (ECONNREFUSED, ENOTFOUND, EAI_AGAIN). Never a timeout or a reset - the write may have landed.
 *  - 'once' calls (sys/wrapping/unwrap: the wrapping token is single-use): never retried.
 *  - Any other 4xx (400, 401, 403, 404, 409, 412 ...) is never retried here. (A 403 may trigger one
 *    re-login by the auth layer; that is not a retry of this policy.)
 */
import { KeywardApiError } from './http-client.js';

export interface RetryPolicy {
  /** Retries after the first attempt (0 disables retrying). */
  readonly max: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export type RetryClass = 'idempotent' | 'write' | 'once';

export const DEFAULT_RETRY_POLICY: RetryPolicy = { max: 4, baseDelayMs: 100, maxDelayMs: 5_000 };

/** Connection never established: the request bytes cannot have reached the server. */
const NOT_SENT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN']);

export function isRetryable(err: unknown, cls: RetryClass): boolean {
  if (cls === 'once' || !(err instanceof KeywardApiError)) return false;
  if (err.kind === 'http') return err.status === 429 || err.status === 503;
  if (cls === 'idempotent') return true; // network or timeout
  return err.kind === 'network' && err.networkCode !== undefined && NOT_SENT_CODES.has(err.networkCode);
}

/** Full-jitter delay for attempt n (0-based), raised to the server's Retry-After if it set one. */
export function backoffDelayMs(attempt: number, policy: RetryPolicy, err: unknown, random: () => number = Math.random): number {
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  const jittered = Math.floor(random() * cap);
  const retryAfterMs = err instanceof KeywardApiError && err.retryAfterSeconds !== undefined ? err.retryAfterSeconds * 1000 : 0;
  // Retry-After is the server's explicit instruction; it may exceed maxDelayMs (bounded below).
  return Math.max(jittered, Math.min(retryAfterMs, 60_000));
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function withRetries<T>(fn: () => Promise<T>, policy: RetryPolicy, cls: RetryClass): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= policy.max || !isRetryable(err, cls)) throw err;
      await sleep(backoffDelayMs(attempt, policy, err));
    }
  }
}
