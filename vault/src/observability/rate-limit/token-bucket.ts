/**
 * Token bucket arithmetic (pure; time is passed in as epoch milliseconds).
 *
 * A quota of `rate` requests per `interval` seconds is a bucket of capacity `rate` (at least 1, so a
 * fractional rate such as 0.5/s still admits a request) refilled continuously at rate/interval tokens
 * per second — Vault's reading: "a client may invoke `rate` requests at any given interval, after
 * which they may invoke additional requests at `rate` per interval".
 * With `blockIntervalSeconds` > 0, the request that finds the bucket empty blocks the client for that
 * long, whatever the bucket holds meanwhile.
 *
 * Invariants: tokens ∈ [0, capacity]; a refused request takes no token; Retry-After is a whole number
 * of seconds ≥ 1 that, if honoured, admits the next request (rounded up, never down).
 */

export interface BucketParams {
  readonly rate: number;
  readonly intervalSeconds: number;
  readonly blockIntervalSeconds: number;
}

export interface BucketState {
  tokens: number;
  updatedAtMs: number;
  blockedUntilMs: number;
}

export type TakeResult = { readonly allowed: true } | { readonly allowed: false; readonly retryAfterSeconds: number };

export function capacityOf(p: BucketParams): number {
  return Math.max(1, p.rate);
}

export function newBucket(p: BucketParams, nowMs: number): BucketState {
  return { tokens: capacityOf(p), updatedAtMs: nowMs, blockedUntilMs: 0 };
}

function refill(state: BucketState, p: BucketParams, nowMs: number): void {
  const elapsedMs = Math.max(0, nowMs - state.updatedAtMs);
  const perMs = p.rate / (p.intervalSeconds * 1000);
  state.tokens = Math.min(capacityOf(p), state.tokens + elapsedMs * perMs);
  state.updatedAtMs = Math.max(state.updatedAtMs, nowMs);
}

/** Tries to take one token; mutates `state`. */
export function take(state: BucketState, p: BucketParams, nowMs: number): TakeResult {
  if (nowMs < state.blockedUntilMs) {
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((state.blockedUntilMs - nowMs) / 1000)) };
  }
  refill(state, p, nowMs);
  if (state.tokens >= 1) {
    state.tokens -= 1;
    return { allowed: true };
  }
  if (p.blockIntervalSeconds > 0) {
    state.blockedUntilMs = nowMs + p.blockIntervalSeconds * 1000;
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(p.blockIntervalSeconds)) };
  }
  const missing = 1 - state.tokens;
  const waitMs = missing / (p.rate / (p.intervalSeconds * 1000));
  return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
}

/** A bucket that is full and not blocking holds no information: it may be dropped to save memory. */
export function isIdle(state: BucketState, p: BucketParams, nowMs: number): boolean {
  if (nowMs < state.blockedUntilMs) return false;
  const elapsedMs = Math.max(0, nowMs - state.updatedAtMs);
  return state.tokens + elapsedMs * (p.rate / (p.intervalSeconds * 1000)) >= capacityOf(p);
}
