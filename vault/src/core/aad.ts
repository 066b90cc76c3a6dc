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

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n, 0);
  return b;
}

function lp(bytes: Uint8Array): Buffer[] {
  return [u32(bytes.length), Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)];
}

const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');

/** What the sealed DEK is bound to. `contextDigest` is SHA-256(context) for derived keys, else empty. */
export interface DekBinding {
  readonly env: Environment;
  readonly name: KeyName;
  readonly version: number;
  readonly contextDigest: Uint8Array;
}

export function dekAad(b: DekBinding): Buffer {
  return Buffer.concat([...lp(utf8(DEK_AAD_LABEL)), ...lp(utf8(b.env)), ...lp(utf8(b.name)), u32(b.version), ...lp(b.contextDigest)]);
}

export function dataAad(formatVersion: number, sealedDek: Uint8Array, associatedData: Uint8Array | undefined): Buffer {
  return Buffer.concat([
    ...lp(utf8(DATA_AAD_LABEL)),
    Buffer.from([formatVersion]),
    ...lp(sealedDek),
    ...lp(associatedData ?? Buffer.alloc(0)),
  ]);
}
