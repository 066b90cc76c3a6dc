import { describe, expect, it } from 'vitest';
import { BufferedRandomHsm } from '../../../vault/src/core/buffered-random-hsm.js';
import { KeywardError } from '../../../vault/src/core/errors.js';
import type { Hsm } from '../../../vault/src/core/ports/hsm.js';
import { MemoryHsm } from '../../../hsm-sim/memory-hsm.js';

/** A MemoryHsm whose randomBytes calls are counted and can be made to fail. */
function countingHsm(): { hsm: Hsm; calls: number[]; fail: { on: boolean } } {
  const inner = new MemoryHsm();
  const calls: number[] = [];
  const fail = { on: false };
  const hsm = Object.create(inner) as Hsm;
  hsm.randomBytes = async (n: number) => {
    calls.push(n);
    if (fail.on) throw new KeywardError('ERR_HSM_UNAVAILABLE', 'HSM unavailable');
    return inner.randomBytes(n);
  };
  return { hsm, calls, fail };
}

describe('BufferedRandomHsm', () => {
  it('when many small draws are made, then one port call serves a whole batch and no byte is handed out twice', async () => {
    const { hsm, calls } = countingHsm();
    const buffered = new BufferedRandomHsm(hsm, 1024);
    const draws = await Promise.all(Array.from({ length: 64 }, () => buffered.randomBytes(32)));
    expect(calls).toEqual([1024, 1024]);
    const seen = new Set(draws.map((d) => d.toString('hex')));
    expect(seen.size).toBe(64);
    expect(draws.every((d) => d.length === 32)).toBe(true);
  });

  it('when concurrent callers find the batch empty, then only one refill is in flight', async () => {
    const { hsm, calls } = countingHsm();
    const buffered = new BufferedRandomHsm(hsm, 256);
    await Promise.all(Array.from({ length: 8 }, () => buffered.randomBytes(32)));
    expect(calls).toEqual([256]);
  });

  it('when a draw is larger than a quarter batch, then it goes straight to the device', async () => {
    const { hsm, calls } = countingHsm();
    const buffered = new BufferedRandomHsm(hsm, 1024);
    expect((await buffered.randomBytes(512)).length).toBe(512);
    expect(calls).toEqual([512]);
  });

  it('when the refill fails, then the waiting callers get the device error and the next call retries', async () => {
    const { hsm, calls, fail } = countingHsm();
    const buffered = new BufferedRandomHsm(hsm, 256);
    fail.on = true;
    const results = await Promise.allSettled([buffered.randomBytes(32), buffered.randomBytes(32)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect((results[0] as PromiseRejectedResult).reason).toMatchObject({ code: 'ERR_HSM_UNAVAILABLE' });
    fail.on = false;
    expect((await buffered.randomBytes(32)).length).toBe(32);
    expect(calls).toEqual([256, 256]);
  });
});
