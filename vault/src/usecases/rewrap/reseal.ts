/**
 * Re-seal one stored internal envelope (a KV secret version under `_kv`, a wrapped response under
 * `_wrap`) under another version of the same reserved key, keeping its binding (env/path/version for
 * KV, env/accessor for wrapping): the plaintext never leaves the process and is zeroed at once.
 *
 * Invariants:
 * - The binding is the derived-key context of the envelope, exactly as internal-sealer.ts uses it, so
 *   a re-sealed value opens only where the original did.
 * - Opening uses purpose 'rewrap', the one path on which a compromised version may be read
 *   (core/keyring.ts), so an incident can move data off a compromised version.
 * - The recovered plaintext and the new DEK are zeroed before this returns or throws.
 */
import { DEK_BYTES } from '../../core/aead.js';
import { contextDigest } from '../../core/context.js';
import { openMessage, sealMessage } from '../../core/envelope-crypto.js';
import { parseEnvelope } from '../../core/envelope.js';
import { assertKeyAllows, selectDecryptionVersion, wrappedKeyRef } from '../../core/keyring.js';
import type { Hsm } from '../../core/ports/hsm.js';
import type { KeyVersionRecord, TransitKeyRecord } from '../../core/ports/key-store.js';
import type { SealedValue } from '../kv/internal-sealer.js';

export type Reseal = (key: TransitKeyRecord, target: KeyVersionRecord, binding: Buffer, envelope: Buffer) => Promise<SealedValue>;

export function makeReseal(hsm: Pick<Hsm, 'open' | 'seal' | 'randomBytes'>): Reseal {
  return async (key, target, binding, envelope) => {
    assertKeyAllows(key, 'rewrap');
    const parsed = parseEnvelope(envelope.toString('utf8'));
    const from = selectDecryptionVersion(key, parsed.keyVersion, 'rewrap');
    const digest = contextDigest(true, binding);
    const plaintext = await openMessage(hsm, wrappedKeyRef(key, from), { env: key.env, name: key.name, version: from.version, contextDigest: digest }, parsed, undefined);
    try {
      const dek = await hsm.randomBytes(DEK_BYTES);
      const ciphertext = await sealMessage(hsm, wrappedKeyRef(key, target), { env: key.env, name: key.name, version: target.version, contextDigest: digest }, dek, plaintext, undefined);
      return { envelope: Buffer.from(ciphertext, 'utf8'), keyVersion: target.version, rootTerm: target.rootTerm };
    } finally {
      plaintext.fill(0);
    }
  };
}
