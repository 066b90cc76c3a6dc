import { describe, expect, it } from 'vitest';
import { isIdle, newBucket, take, type BucketParams } from '../../../vault/src/observability/rate-limit/token-bucket.js';

describe('token bucket', () => {
  const p: BucketParams = { rate: 5, intervalSeconds: 1, blockIntervalSeconds: 0 };

  it('when a full bucket of 5/s is drained, then the 6th request is refused with Retry-After 1', () => {
    const b = newBucket(p, 0);
    for (let i = 0; i < 5; i++) expect(take(b, p, 0).allowed).toBe(true);
    expect(take(b, p, 0)).toEqual({ allowed: false, retryAfterSeconds: 1 });
  });

  it('when 200 ms pass at 5/s, then exactly one token is back', () => {
    const b = newBucket(p, 0);
    for (let i = 0; i < 5; i++) take(b, p, 0);
    expect(take(b, p, 199).allowed).toBe(false);
    expect(take(b, p, 200).allowed).toBe(true);
    expect(take(b, p, 200).allowed).toBe(false);
  });

  it('when the bucket refills for a long time, then it never exceeds its capacity', () => {
    const b = newBucket(p, 0);
    take(b, p, 0);
    let allowed = 0;
    for (let i = 0; i < 20; i++) if (take(b, p, 3_600_000).allowed) allowed++;
    expect(allowed).toBe(5);
  });

  it('when the rate is 10 per minute, then Retry-After is the whole seconds until one token (6 s)', () => {
    const q: BucketParams = { rate: 10, intervalSeconds: 60, blockIntervalSeconds: 0 };
    const b = newBucket(q, 0);
    for (let i = 0; i < 10; i++) take(b, q, 0);
    expect(take(b, q, 0)).toEqual({ allowed: false, retryAfterSeconds: 6 });
    expect(take(b, q, 5_999).allowed).toBe(false);
    expect(take(b, q, 6_000).allowed).toBe(true);
  });

  it('when a block_interval is set, then exceeding blocks for that long even though tokens refill', () => {
    const q: BucketParams = { rate: 2, intervalSeconds: 1, blockIntervalSeconds: 30 };
    const b = newBucket(q, 0);
    take(b, q, 0);
    take(b, q, 0);
    expect(take(b, q, 0)).toEqual({ allowed: false, retryAfterSeconds: 30 });
    expect(take(b, q, 10_000)).toEqual({ allowed: false, retryAfterSeconds: 20 });
    expect(take(b, q, 29_999).allowed).toBe(false);
    expect(take(b, q, 30_000).allowed).toBe(true);
  });

  it('when the rate is fractional (0.5/s), then one request is admitted and the next waits 2 s', () => {
    const q: BucketParams = { rate: 0.5, intervalSeconds: 1, blockIntervalSeconds: 0 };
    const b = newBucket(q, 0);
    expect(take(b, q, 0).allowed).toBe(true);
    expect(take(b, q, 0)).toEqual({ allowed: false, retryAfterSeconds: 2 });
    expect(take(b, q, 2_000).allowed).toBe(true);
  });

  it('when a bucket is full and unblocked, then it is idle; when blocked, then not', () => {
    const q: BucketParams = { rate: 1, intervalSeconds: 1, blockIntervalSeconds: 5 };
    const b = newBucket(q, 0);
    expect(isIdle(b, q, 0)).toBe(true);
    take(b, q, 0);
    expect(isIdle(b, q, 500)).toBe(false);
    take(b, q, 500);
    expect(isIdle(b, q, 3_000)).toBe(false);
    expect(isIdle(b, q, 6_000)).toBe(true);
  });
});
