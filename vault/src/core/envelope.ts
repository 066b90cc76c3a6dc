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

const PREFIX_RE = /^vault:v([1-9][0-9]{0,9}):([A-Za-z0-9+/=]*)$/;
const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export function serializeEnvelope(e: Envelope): string {
  if (!Number.isSafeInteger(e.keyVersion) || e.keyVersion < 1 || e.keyVersion > MAX_VERSION) throw new RangeError('invalid key version');
  if (e.formatVersion !== ENVELOPE_FORMAT_V1) throw new RangeError('unknown envelope format');
  if (e.sealedDek.length !== SEALED_DEK_BYTES || e.dataIv.length !== DATA_IV_BYTES || e.dataTag.length !== DATA_TAG_BYTES) {
    throw new RangeError('envelope field has the wrong length');
  }
  const bytes = Buffer.concat([Buffer.from([e.formatVersion]), e.sealedDek, e.dataIv, e.dataCiphertext, e.dataTag]);
  return `vault:v${e.keyVersion}:${bytes.toString('base64')}`;
}

export function parseEnvelope(ciphertext: unknown): Envelope {
  if (typeof ciphertext !== 'string') throw decryptionFailed();
  const m = PREFIX_RE.exec(ciphertext);
  if (!m || m[1] === undefined || m[2] === undefined) throw decryptionFailed();
  const keyVersion = Number(m[1]);
  if (keyVersion > MAX_VERSION) throw decryptionFailed();
  const b64 = m[2];
  if (!BASE64_RE.test(b64)) throw decryptionFailed();
  const bytes = Buffer.from(b64, 'base64');
  // Canonical form only: unused trailing bits must be zero, so one envelope has one spelling.
  if (bytes.toString('base64') !== b64) throw decryptionFailed();
  if (bytes.length < ENVELOPE_OVERHEAD_BYTES || bytes[0] !== ENVELOPE_FORMAT_V1) throw decryptionFailed();
  const dataStart = 1 + SEALED_DEK_BYTES;
  const tagStart = bytes.length - DATA_TAG_BYTES;
  return {
    keyVersion,
    formatVersion: ENVELOPE_FORMAT_V1,
    sealedDek: bytes.subarray(1, dataStart),
    dataIv: bytes.subarray(dataStart, dataStart + DATA_IV_BYTES),
    dataCiphertext: bytes.subarray(dataStart + DATA_IV_BYTES, tagStart),
    dataTag: bytes.subarray(tagStart),
  };
}
