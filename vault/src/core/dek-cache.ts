/**
 * Optional data-key cache, after the AWS Encryption SDK's caching CMM: one DEK sealed by the HSM is
 * reused for several messages under the same (environment, key, version, root term, context), so most
 * encryptions cost no HSM call; on the decrypt side, a DEK opened once is reused for messages that carry
 * the same sealed DEK. Off by default (config `performance.dekCache`); keys can opt out.
 *
 * Invariants:
 * - A cached DEK serves at most `maxMessages` messages and `maxBytes` plaintext bytes, and never after
 *   `maxAgeMs`. Each message still gets a fresh random 96-bit data IV (SP 800-38D §8.2.2: with random
 *   IVs, stay far below 2^32 messages per key; `maxMessages` is capped below that).
 * - The envelope format is unchanged: a message made with a cached DEK is byte-for-byte an ordinary
 *   envelope, and decrypts without the cache.
 * - A decrypt-side entry is keyed by the exact sealed DEK *and* the binding it was opened under, so it
 *   can only return what the HSM would have returned for that input; the data tag is still verified.
 * - Cached DEKs are zeroed when they expire, are evicted or the cache is cleared. Callers use a DEK
 *   synchronously (no await) between taking it and finishing with it, so eviction never races a use.
 * - The trade-off (DESIGN.md §3 "DEKs exist in host memory only while used") is deliberate and opt-in.
 */
import type { DekBinding } from './aad.js';
import { dataAad } from './aad.js';
import { sealData } from './aead.js';
import { ENVELOPE_FORMAT_V1, serializeEnvelope } from './envelope.js';

export interface DekCacheLimits {
  readonly maxMessages: number;
  readonly maxBytes: number;
  readonly maxAgeMs: number;
  readonly maxEntries: number;
}

interface SealEntry {
  readonly dek: Buffer;
  readonly sealedDek: Buffer;
  readonly createdAt: number;
  messages: number;
  bytes: number;
}

interface OpenEntry {
  readonly dek: Buffer;
  readonly createdAt: number;
  messages: number;
}

/** Identity of the DEK's binding: the HSM key version object plus env/name/version/context. */
export function bindingId(cacheId: string, binding: DekBinding): string {
  return `${cacheId}\u0000${binding.env}\u0000${binding.name}\u0000${binding.version}\u0000${Buffer.from(binding.contextDigest).toString('hex')}`;
}

export class DekCache {
  private readonly seals = new Map<string, SealEntry>();
  private readonly opens = new Map<string, OpenEntry>();
  private hits = 0;
  private misses = 0;

  constructor(
    readonly limits: DekCacheLimits,
    private readonly now: () => number = () => performance.now(),
  ) {
    if (limits.maxMessages < 1 || limits.maxMessages >= 2 ** 32) throw new RangeError('maxMessages must be in [1, 2^32)');
  }

  get stats(): { hits: number; misses: number; sealEntries: number; openEntries: number } {
    return { hits: this.hits, misses: this.misses, sealEntries: this.seals.size, openEntries: this.opens.size };
  }

  /**
   * Encrypt one message with a cached DEK for this binding, if one is still within its limits after
   * this message; else null (the caller seals a fresh DEK and offers it with `rememberSeal`).
   */
  trySeal(id: string, binding: DekBinding, plaintext: Uint8Array, associatedData: Uint8Array | undefined): string | null {
    const entry = this.seals.get(id);
    if (!entry) {
      this.misses += 1;
      return null;
    }
    if (!this.sealUsable(entry, plaintext.length)) {
      this.dropSeal(id, entry);
      this.misses += 1;
      return null;
    }
    entry.messages += 1;
    entry.bytes += plaintext.length;
    this.hits += 1;
    return sealUnderSealedDek(entry.dek, entry.sealedDek, binding.version, plaintext, associatedData);
  }

  /** Keep a DEK that was just sealed by the HSM and used for one message of `bytes` bytes (copied). */
  rememberSeal(id: string, dek: Uint8Array, sealedDek: Uint8Array, bytes: number): void {
    if (this.limits.maxMessages <= 1 || bytes >= this.limits.maxBytes) return;
    const old = this.seals.get(id);
    if (old) this.dropSeal(id, old);
    this.evictIfFull(this.seals);
    this.seals.set(id, { dek: Buffer.from(dek), sealedDek: Buffer.from(sealedDek), createdAt: this.now(), messages: 1, bytes });
  }

  /** A DEK opened before for exactly this sealed DEK and binding, still within its limits; else null. */
  tryOpen(id: string, sealedDek: Uint8Array): Buffer | null {
    const key = `${id}\u0000${Buffer.from(sealedDek).toString('base64')}`;
    const entry = this.opens.get(key);
    if (!entry) {
      this.misses += 1;
      return null;
    }
    if (entry.messages >= this.limits.maxMessages || this.now() - entry.createdAt >= this.limits.maxAgeMs) {
      entry.dek.fill(0);
      this.opens.delete(key);
      this.misses += 1;
      return null;
    }
    entry.messages += 1;
    this.hits += 1;
    return entry.dek;
  }

  rememberOpen(id: string, sealedDek: Uint8Array, dek: Uint8Array): void {
    const key = `${id}\u0000${Buffer.from(sealedDek).toString('base64')}`;
    const old = this.opens.get(key);
    if (old) old.dek.fill(0);
    this.opens.delete(key);
    this.evictIfFull(this.opens);
    this.opens.set(key, { dek: Buffer.from(dek), createdAt: this.now(), messages: 1 });
  }

  clear(): void {
    for (const e of this.seals.values()) e.dek.fill(0);
    for (const e of this.opens.values()) e.dek.fill(0);
    this.seals.clear();
    this.opens.clear();
  }

  private sealUsable(entry: SealEntry, bytes: number): boolean {
    return (
      entry.messages + 1 <= this.limits.maxMessages &&
      entry.bytes + bytes <= this.limits.maxBytes &&
      this.now() - entry.createdAt < this.limits.maxAgeMs
    );
  }

  private dropSeal(id: string, entry: SealEntry): void {
    entry.dek.fill(0);
    this.seals.delete(id);
  }

  private evictIfFull(map: Map<string, { dek: Buffer }>): void {
    while (map.size >= this.limits.maxEntries) {
      const oldest = map.keys().next();
      if (oldest.done) return;
      map.get(oldest.value)?.dek.fill(0);
      map.delete(oldest.value);
    }
  }
}

/** The data layer of envelope-crypto's sealMessage, for a DEK that is already sealed. Same bytes out. */
export function sealUnderSealedDek(
  dek: Uint8Array,
  sealedDek: Buffer,
  keyVersion: number,
  plaintext: Uint8Array,
  associatedData: Uint8Array | undefined,
): string {
  const data = sealData(dek, plaintext, dataAad(ENVELOPE_FORMAT_V1, sealedDek, associatedData));
  return serializeEnvelope({ keyVersion, formatVersion: ENVELOPE_FORMAT_V1, sealedDek, dataIv: data.iv, dataCiphertext: data.ciphertext, dataTag: data.tag });
}
