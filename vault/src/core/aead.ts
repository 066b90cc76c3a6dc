/**
 * AES-256-GCM for the data layer, in node:crypto, under a per-message DEK (DESIGN.md §3).
 *
 * Invariants:
 * - A fresh random 96-bit IV per message (SP 800-38D §8.2.2, RBG-based construction). Each DEK encrypts
 *   exactly one message, so the 2^32-invocation limit of §8.3 is never approached.
 * - Full 128-bit tags only (SP 800-38D §5.2.1.2); a tag of any other length is refused before use.
 * - Every failure to open is ERR_DECRYPTION_FAILED with the one shared message.
 */
import crypto from 'node:crypto';
import { decryptionFailed } from './errors.js';

export const DATA_IV_BYTES = 12;
export const DATA_TAG_BYTES = 16;
export const DEK_BYTES = 32;

export interface SealedData {
  readonly iv: Buffer;
  readonly ciphertext: Buffer;
  readonly tag: Buffer;
}

export function sealData(dek: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): SealedData {
  if (dek.length !== DEK_BYTES) throw new RangeError('DEK must be 32 bytes');
  const iv = crypto.randomBytes(DATA_IV_BYTES);
  const cipher = crypto.createCipheriv('aes-256-gcm', dek, iv, { authTagLength: DATA_TAG_BYTES });
  cipher.setAAD(aad);
  const ciphertext = joinFinal(cipher.update(plaintext), cipher.final());
  return { iv, ciphertext, tag: cipher.getAuthTag() };
}

/**
 * Seals straight into `out` at `offset` as iv (12) || ciphertext (plaintext.length) || tag (16), the
 * layout of the envelope's data part, so the envelope needs no second copy. Same cipher as sealData.
 */
export function sealDataInto(dek: Uint8Array, plaintext: Uint8Array, aad: Uint8Array, out: Buffer, offset: number): void {
  if (dek.length !== DEK_BYTES) throw new RangeError('DEK must be 32 bytes');
  if (out.length - offset !== DATA_IV_BYTES + plaintext.length + DATA_TAG_BYTES) throw new RangeError('output has the wrong length');
  const iv = out.subarray(offset, offset + DATA_IV_BYTES);
  crypto.randomFillSync(iv);
  const cipher = crypto.createCipheriv('aes-256-gcm', dek, iv, { authTagLength: DATA_TAG_BYTES });
  cipher.setAAD(aad);
  let o = offset + DATA_IV_BYTES;
  o += cipher.update(plaintext).copy(out, o);
  o += cipher.final().copy(out, o);
  // GCM is a stream mode: update+final give exactly plaintext.length bytes.
  if (o !== offset + DATA_IV_BYTES + plaintext.length) throw new RangeError('unexpected ciphertext length');
  cipher.getAuthTag().copy(out, o);
}

/** update() || final(); GCM's final() is empty, so the update buffer is returned without a copy. */
function joinFinal(head: Buffer, tail: Buffer): Buffer {
  return tail.length === 0 ? head : Buffer.concat([head, tail]);
}

export function openData(dek: Uint8Array, sealed: SealedData, aad: Uint8Array): Buffer {
  if (dek.length !== DEK_BYTES || sealed.iv.length !== DATA_IV_BYTES || sealed.tag.length !== DATA_TAG_BYTES) throw decryptionFailed();
  try {
    const decipher = crypto.createDecipheriv('aes-256-gcm', dek, sealed.iv, { authTagLength: DATA_TAG_BYTES });
    decipher.setAAD(aad);
    decipher.setAuthTag(sealed.tag);
    const plaintext = decipher.update(sealed.ciphertext);
    try {
      return joinFinal(plaintext, decipher.final());
    } catch (e) {
      plaintext.fill(0); // unauthenticated plaintext never leaves, and is not left in memory
      throw e;
    }
  } catch (e) {
    throw decryptionFailed(e);
  }
}
