/**
 * BufferedRandomHsm: an Hsm whose small `randomBytes` requests (data keys, accessors, IDs) are served
 * from a batch drawn from the device RNG through the wrapped port, one port call per `batchBytes`.
 *
 * Why: every port call on the request path pays the layers around the device (metrics, circuit
 * breaker and its timeout, session pool); a transit encrypt needs 32 random bytes per message, so
 * drawing them one request at a time cost a full port round trip each. The bytes still come from the
 * device RNG only, and the same amount of unused randomness sits in process memory as the PKCS#11
 * adapter's own 4 KiB RNG buffer already held.
 *
 * Invariants:
 * - Every byte is handed out at most once; the handed-out region of the batch is zeroed at once and
 *   a batch is zeroed when replaced or on close.
 * - At most one refill is in flight; concurrent callers wait for it. A failed refill rejects the
 *   callers that waited for it (ERR_HSM_UNAVAILABLE passes through unchanged) and the next call
 *   tries again.
 * - Requests larger than a quarter batch, and every other method, go straight to the wrapped Hsm.
 */
import type { Hsm, HsmStatus, PublicJwk, RootKeyRef, WrappedKeyRef } from './ports/hsm.js';

export const DEFAULT_RANDOM_BATCH_BYTES = 4096;

export class BufferedRandomHsm implements Hsm {
  private pool: Buffer = Buffer.alloc(0);
  private offset = 0;
  private refilling: Promise<void> | null = null;

  constructor(
    private readonly inner: Hsm,
    private readonly batchBytes = DEFAULT_RANDOM_BATCH_BYTES,
  ) {}

  async randomBytes(length: number): Promise<Buffer> {
    if (!Number.isSafeInteger(length) || length <= 0 || length > this.batchBytes / 4) return this.inner.randomBytes(length);
    while (this.pool.length - this.offset < length) {
      this.refilling ??= this.refill();
      await this.refilling;
    }
    const out = Buffer.from(this.pool.subarray(this.offset, this.offset + length));
    this.pool.fill(0, this.offset, this.offset + length);
    this.offset += length;
    return out;
  }

  private async refill(): Promise<void> {
    try {
      const fresh = await this.inner.randomBytes(this.batchBytes);
      this.pool.fill(0);
      this.pool = fresh;
      this.offset = 0;
    } finally {
      this.refilling = null;
    }
  }

  async close(): Promise<void> {
    this.pool.fill(0);
    this.pool = Buffer.alloc(0);
    this.offset = 0;
    await this.inner.close();
  }

  ensureRootKey(root: RootKeyRef): Promise<void> {
    return this.inner.ensureRootKey(root);
  }
  hasRootKey(root: RootKeyRef): Promise<boolean> {
    return this.inner.hasRootKey(root);
  }
  destroyRootKey(root: RootKeyRef): Promise<void> {
    return this.inner.destroyRootKey(root);
  }
  generateWrappedKey(root: RootKeyRef): Promise<Uint8Array> {
    return this.inner.generateWrappedKey(root);
  }
  rewrapKey(key: WrappedKeyRef, to: RootKeyRef): Promise<Uint8Array> {
    return this.inner.rewrapKey(key, to);
  }
  forgetKey(cacheId: string): Promise<void> {
    return this.inner.forgetKey(cacheId);
  }
  seal(key: WrappedKeyRef, plaintext: Uint8Array, aad: Uint8Array): Promise<Buffer> {
    return this.inner.seal(key, plaintext, aad);
  }
  open(key: WrappedKeyRef, sealed: Uint8Array, aad: Uint8Array): Promise<Buffer> {
    return this.inner.open(key, sealed, aad);
  }
  ensureSigningKey(label: string): Promise<PublicJwk> {
    return this.inner.ensureSigningKey(label);
  }
  signEs256(label: string, data: Uint8Array): Promise<Buffer> {
    return this.inner.signEs256(label, data);
  }
  ensureMacKey(label: string): Promise<void> {
    return this.inner.ensureMacKey(label);
  }
  hmacSha256(label: string, data: Uint8Array): Promise<Buffer> {
    return this.inner.hmacSha256(label, data);
  }
  destroyKeyByLabel(label: string): Promise<void> {
    return this.inner.destroyKeyByLabel(label);
  }
  status(): Promise<HsmStatus> {
    return this.inner.status();
  }
}
