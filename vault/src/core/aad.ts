/**
 * Associated-data encodings for the two AEAD layers of a transit ciphertext (DESIGN.md §3).
 *
 * Invariants:
 * - Every variable-length field is length-prefixed (u32 big-endian length || bytes) and the key version is
 *   a fixed-width u32, so no two distinct tuples encode to the same bytes (no concatenation ambiguity).
 * - Each encoding starts with its own domain label, so a DEK AAD can never be replayed as a data AAD.
 * - The DEK AAD binds environment, key name, key version and SHA-256(context) (empty when not derived):
 *   a sealed DEK moved to another key, version, environment or context fails to open in the HSM.
 * - The data AAD binds the envelope format byte and the sealed DEK bytes, so a data part cannot be paired
 *   with another message's DEK; the caller's associated data is always present (empty when not given),
 *   which makes "absent" and "empty" equal, as in GCM itself and in Vault.
 */
import type { Environment, KeyName } from './types.js';

export const DEK_AAD_LABEL = 'keyward/dek/v1';
export const DATA_AAD_LABEL = 'keyward/data/v1';

const DEK_LABEL_BYTES = Buffer.from(DEK_AAD_LABEL, 'utf8');
const DATA_LABEL_BYTES = Buffer.from(DATA_AAD_LABEL, 'utf8');

/** Writes u32be(bytes.length) || bytes at `o`; returns the offset after it. */
function putLp(out: Buffer, o: number, bytes: Uint8Array): number {
  out.writeUInt32BE(bytes.length, o);
  out.set(bytes, o + 4);
  return o + 4 + bytes.length;
}

/** Writes u32be(utf8 length) || utf8(s) at `o`; returns the offset after it. */
function putLpUtf8(out: Buffer, o: number, s: string, byteLength: number): number {
  out.writeUInt32BE(byteLength, o);
  out.write(s, o + 4, byteLength, 'utf8');
  return o + 4 + byteLength;
}

/** What the sealed DEK is bound to. `contextDigest` is SHA-256(context) for derived keys, else empty. */
export interface DekBinding {
  readonly env: Environment;
  readonly name: KeyName;
  readonly version: number;
  readonly contextDigest: Uint8Array;
}

// Each encoding is written into one buffer of its exact size (was Buffer.concat of 8-10 small buffers).

export function dekAad(b: DekBinding): Buffer {
  const envBytes = Buffer.byteLength(b.env, 'utf8');
  const nameBytes = Buffer.byteLength(b.name, 'utf8');
  const out = Buffer.allocUnsafe(4 + DEK_LABEL_BYTES.length + 4 + envBytes + 4 + nameBytes + 4 + 4 + b.contextDigest.length);
  let o = putLp(out, 0, DEK_LABEL_BYTES);
  o = putLpUtf8(out, o, b.env, envBytes);
  o = putLpUtf8(out, o, b.name, nameBytes);
  o = out.writeUInt32BE(b.version, o);
  putLp(out, o, b.contextDigest);
  return out;
}

export function dataAad(formatVersion: number, sealedDek: Uint8Array, associatedData: Uint8Array | undefined): Buffer {
  const adBytes = associatedData?.length ?? 0;
  const out = Buffer.allocUnsafe(4 + DATA_LABEL_BYTES.length + 1 + 4 + sealedDek.length + 4 + adBytes);
  let o = putLp(out, 0, DATA_LABEL_BYTES);
  out[o++] = formatVersion & 0xff; // as Buffer.from([formatVersion]) wrote it
  o = putLp(out, o, sealedDek);
  out.writeUInt32BE(adBytes, o);
  if (associatedData !== undefined) out.set(associatedData, o + 4);
  return out;
}
