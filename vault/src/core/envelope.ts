/**
 * The transit ciphertext format: `vault:v<N>:<base64(envelope bytes)>`, where N is the key version and
 * the base64 is standard (RFC 4648 §4) with padding, as Vault writes it.
 *
 * Envelope bytes, format version 1 (all lengths fixed except the data ciphertext):
 *
 *   offset  length  field
 *   0       1       format version, 0x01
 *   1       12      sealed DEK: IV chosen by the HSM (AES-256-GCM under key version N)
 *   13      32      sealed DEK: encrypted DEK
 *   45      16      sealed DEK: GCM tag (AAD = aad.ts dekAad: env, key name, N, SHA-256(context))
 *   61      12      data IV (random, SP 800-38D §8.2.2)
 *   73      L       data ciphertext, AES-256-GCM under the DEK (L = total - 89, may be 0)
 *   73+L    16      data GCM tag (AAD = aad.ts dataAad: format byte, sealed DEK, associated data)
 *
 * Bytes 1..60 are exactly what `Hsm.seal` returns (iv || ciphertext || tag).
 *
 * Invariants:
 * - Parsing is strict: the `vault:` prefix, `v<N>` with N a positive integer without sign or leading
 *   zeros (≤ 2^31-1), canonical base64, a known format byte and the exact fixed lengths.
 * - Every parse failure is `decryptionFailed()`, the same error as a failed tag, so the parser is no
 *   oracle on which part of a ciphertext was wrong.
 */
import { strictBase64Padding } from './base64.js';
import { decryptionFailed } from './errors.js';
import { DATA_IV_BYTES, DATA_TAG_BYTES, DEK_BYTES } from './aead.js';

export const ENVELOPE_FORMAT_V1 = 0x01;
export const HSM_IV_BYTES = 12;
export const HSM_TAG_BYTES = 16;
export const SEALED_DEK_BYTES = HSM_IV_BYTES + DEK_BYTES + HSM_TAG_BYTES; // 60
export const ENVELOPE_OVERHEAD_BYTES = 1 + SEALED_DEK_BYTES + DATA_IV_BYTES + DATA_TAG_BYTES; // 89
const MAX_VERSION = 2 ** 31 - 1;

export interface Envelope {
  readonly keyVersion: number;
  readonly formatVersion: number;
  readonly sealedDek: Buffer;
  readonly dataIv: Buffer;
  readonly dataCiphertext: Buffer;
  readonly dataTag: Buffer;
}

const PREFIX = 'vault:v';

/**
 * The N of a leading `vault:v<N>:` (N = [1-9][0-9]{0,9}, so up to 9999999999), and the index of the
 * character after its colon; null if the string does not start so. Hand-written: runs per ciphertext.
 */
export function envelopePrefix(ciphertext: string): { readonly keyVersion: number; readonly bodyStart: number } | null {
  if (!ciphertext.startsWith(PREFIX)) return null;
  let i = PREFIX.length;
  const first = ciphertext.charCodeAt(i);
  if (!(first >= 0x31 && first <= 0x39)) return null; // 1-9
  let n = first - 0x30;
  i += 1;
  const maxEnd = i + 9;
  for (; i < ciphertext.length && i < maxEnd; i++) {
    const c = ciphertext.charCodeAt(i);
    if (c < 0x30 || c > 0x39) break;
    n = n * 10 + (c - 0x30);
  }
  if (ciphertext.charCodeAt(i) !== 0x3a) return null; // ':'
  return { keyVersion: n, bodyStart: i + 1 };
}

const B64_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < 64; i++) B64_VALUE['ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.charCodeAt(i)] = i;

/** `vault:v<N>:` + base64 of finished envelope bytes (laid out as above by the caller). */
export function encodeEnvelope(keyVersion: number, bytes: Buffer): string {
  if (!Number.isSafeInteger(keyVersion) || keyVersion < 1 || keyVersion > MAX_VERSION) throw new RangeError('invalid key version');
  return `vault:v${keyVersion}:${bytes.toString('base64')}`;
}

export function serializeEnvelope(e: Envelope): string {
  if (!Number.isSafeInteger(e.keyVersion) || e.keyVersion < 1 || e.keyVersion > MAX_VERSION) throw new RangeError('invalid key version');
  if (e.formatVersion !== ENVELOPE_FORMAT_V1) throw new RangeError('unknown envelope format');
  if (e.sealedDek.length !== SEALED_DEK_BYTES || e.dataIv.length !== DATA_IV_BYTES || e.dataTag.length !== DATA_TAG_BYTES) {
    throw new RangeError('envelope field has the wrong length');
  }
  // One allocation, fields copied in place (was Buffer.concat of five buffers).
  const bytes = Buffer.allocUnsafe(ENVELOPE_OVERHEAD_BYTES + e.dataCiphertext.length);
  bytes[0] = e.formatVersion;
  let o = 1;
  o += e.sealedDek.copy(bytes, o);
  o += e.dataIv.copy(bytes, o);
  o += e.dataCiphertext.copy(bytes, o);
  e.dataTag.copy(bytes, o);
  return `vault:v${e.keyVersion}:${bytes.toString('base64')}`;
}

export function parseEnvelope(ciphertext: unknown): Envelope {
  if (typeof ciphertext !== 'string') throw decryptionFailed();
  const prefix = envelopePrefix(ciphertext);
  if (prefix === null || prefix.keyVersion > MAX_VERSION) throw decryptionFailed();
  const b64 = ciphertext.slice(prefix.bodyStart);
  const pad = strictBase64Padding(b64);
  if (pad < 0) throw decryptionFailed();
  // Canonical form only: unused trailing bits must be zero, so one envelope has one spelling (the same
  // set re-encoding and comparing accepted: for strict base64 only the last data character can differ).
  if (pad > 0) {
    const last = B64_VALUE[b64.charCodeAt(b64.length - pad - 1)] ?? -1;
    if ((last & (pad === 1 ? 0x03 : 0x0f)) !== 0) throw decryptionFailed();
  }
  const bytes = Buffer.from(b64, 'base64');
  if (bytes.length < ENVELOPE_OVERHEAD_BYTES || bytes[0] !== ENVELOPE_FORMAT_V1) throw decryptionFailed();
  const dataStart = 1 + SEALED_DEK_BYTES;
  const tagStart = bytes.length - DATA_TAG_BYTES;
  return {
    keyVersion: prefix.keyVersion,
    formatVersion: ENVELOPE_FORMAT_V1,
    sealedDek: bytes.subarray(1, dataStart),
    dataIv: bytes.subarray(dataStart, dataStart + DATA_IV_BYTES),
    dataCiphertext: bytes.subarray(dataStart + DATA_IV_BYTES, tagStart),
    dataTag: bytes.subarray(tagStart),
  };
}
