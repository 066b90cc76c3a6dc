/**
 * Hands out bytes from the token RNG (C_GenerateRandom), pulled 4 KiB at a time.
 *
 * Why: C_GenerateRandom has no async variant in pkcs11js and costs a call per use; batching keeps
 * IV and randomBytes requests to one sync call per 4 KiB. Invariant: every byte is handed out at most
 * once (the consumed region is zeroed), and requests larger than the batch bypass it.
 */
const BATCH = 4096;

export class RandomBuffer {
  private pool = Buffer.alloc(0);
  private offset = 0;

  /** `generate(n)` fills n bytes from the token RNG on a session the caller holds. */
  take(length: number, generate: (length: number) => Buffer): Buffer {
    if (length > BATCH / 4) return Buffer.from(generate(length));
    if (this.pool.length - this.offset < length) {
      this.pool.fill(0);
      this.pool = Buffer.from(generate(BATCH));
      this.offset = 0;
    }
    const out = Buffer.from(this.pool.subarray(this.offset, this.offset + length));
    this.pool.fill(0, this.offset, this.offset + length);
    this.offset += length;
    return out;
  }

  dispose(): void {
    this.pool.fill(0);
    this.pool = Buffer.alloc(0);
    this.offset = 0;
  }
}
