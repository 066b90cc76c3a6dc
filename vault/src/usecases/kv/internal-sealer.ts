/**
 * The internal sealer: seals Keyward's own stored values (KV secret versions, wrapped responses) with
 * the transit envelope (core/envelope-crypto.ts) under a reserved, per-environment transit key such as
 * `_kv`. No new cryptography: a fresh DEK from the HSM RNG per value, sealed in the HSM under the key's
 * latest version, data sealed under the DEK — exactly a transit `encrypt`.
 *
 * Invariants:
 * - The reserved key is an ordinary transit key (derived, created on first use through the transit
 *   createKey use case), so rotation and root re-wrap treat it like every other key; old versions keep
 *   decrypting after a rotation.
 * - The binding (what a value belongs to, e.g. env + path + version) is the derived-key context: its
 *   SHA-256 sits in the sealed DEK's AAD, so a value moved to another path, version or token does not
 *   open (ERR_DECRYPTION_FAILED, the one message).
 * - The caller's plaintext buffer is zeroed after sealing; the DEK is zeroed by sealMessage.
 */
import { DEK_BYTES } from '../../core/aead.js';
import { contextDigest } from '../../core/context.js';
import { openMessage, sealMessage } from '../../core/envelope-crypto.js';
import { parseEnvelope } from '../../core/envelope.js';
import { KeywardError, decryptionFailed } from '../../core/errors.js';
import { assertKeyAllows, selectDecryptionVersion, selectEncryptionVersion, wrappedKeyRef } from '../../core/keyring.js';
import type { Clock } from '../../core/ports/clock.js';
import type { Hsm } from '../../core/ports/hsm.js';
import type { KeyStore, TransitKeyRecord } from '../../core/ports/key-store.js';
import { internalKeyName, type Environment, type KeyName } from '../../core/types.js';
import { makeCreateKey } from '../transit/create-key.js';

export const KV_KEY_NAME: KeyName = internalKeyName('_kv');
export const WRAPPING_KEY_NAME: KeyName = internalKeyName('_wrap');

export interface SealedValue {
  /** UTF-8 bytes of the `vault:v<N>:…` envelope. */
  readonly envelope: Buffer;
  readonly keyVersion: number;
  readonly rootTerm: number;
}

export interface InternalSealer {
  seal(env: Environment, binding: Buffer, plaintext: Buffer): Promise<SealedValue>;
  open(env: Environment, binding: Buffer, envelope: Buffer): Promise<Buffer>;
}

export interface InternalSealerDeps {
  readonly hsm: Pick<Hsm, 'seal' | 'open' | 'randomBytes' | 'generateWrappedKey'>;
  readonly keys: Pick<KeyStore, 'getKey' | 'createKey' | 'getActiveRoot'>;
  readonly clock: Clock;
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n, 0);
  return b;
}

/** Length-prefixed encoding of a binding tuple (a label first), so no two tuples share bytes. */
export function encodeBinding(label: string, fields: ReadonlyArray<string | number>): Buffer {
  const parts: Buffer[] = [];
  for (const f of [label, ...fields]) {
    const bytes = typeof f === 'number' ? Buffer.from(String(f), 'utf8') : Buffer.from(f, 'utf8');
    parts.push(u32(bytes.length), bytes);
  }
  return Buffer.concat(parts);
}

export function makeInternalSealer(deps: InternalSealerDeps, keyName: KeyName): InternalSealer {
  const createKey = makeCreateKey(deps);

  const keyFor = async (env: Environment, createIfMissing: boolean): Promise<TransitKeyRecord> => {
    const key = await deps.keys.getKey(env, keyName);
    if (key) return key;
    // A missing key with data to open means the store was tampered with: same answer as a bad tag.
    if (!createIfMissing) throw decryptionFailed();
    const created = await createKey({ env, name: keyName, derived: true });
    return created.key;
  };

  return {
    async seal(env, binding, plaintext) {
      try {
        const key = await keyFor(env, true);
        if (!key.derived) throw new KeywardError('ERR_INTERNAL', 'internal sealing key is not derived');
        assertKeyAllows(key, 'encrypt');
        const version = selectEncryptionVersion(key, undefined);
        const dek = await deps.hsm.randomBytes(DEK_BYTES);
        const bindingDigest = contextDigest(true, binding);
        const ciphertext = await sealMessage(deps.hsm, wrappedKeyRef(key, version), { env, name: key.name, version: version.version, contextDigest: bindingDigest }, dek, plaintext, undefined);
        return { envelope: Buffer.from(ciphertext, 'utf8'), keyVersion: version.version, rootTerm: version.rootTerm };
      } finally {
        plaintext.fill(0);
      }
    },
    async open(env, binding, envelope) {
      const key = await keyFor(env, false);
      const parsed = parseEnvelope(envelope.toString('utf8'));
      const version = selectDecryptionVersion(key, parsed.keyVersion, 'decrypt');
      const bindingDigest = contextDigest(true, binding);
      return openMessage(deps.hsm, wrappedKeyRef(key, version), { env, name: key.name, version: version.version, contextDigest: bindingDigest }, parsed, undefined);
    },
  };
}
