/**
 * mulberry32: the one seeded PRNG for fault schedules, traffic mixes and kill points in tests and
 * the soak. Seeded, never the clock (STYLE.md "Not to copy"): the same 32-bit seed yields the same
 * sequence, so a failing run is replayed by passing its printed seed back in. Not cryptographic.
 */

/** A generator of floats in [0, 1), deterministic per `seed` (taken as an unsigned 32-bit integer). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
