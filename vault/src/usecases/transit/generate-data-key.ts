/**
 * generateDataKey: a fresh data key from the HSM RNG, returned sealed under the named key (and, for the
 * `plaintext` kind, also in clear) — Vault `transit/datakey/{plaintext|wrapped}/:name`. The ciphertext is
 * an ordinary transit ciphertext of the raw key bytes, so `decrypt` returns the same base64 plaintext.
 *
 * Invariants:
 * - bits ∈ {128, 256, 512} (Vault's set); the key bytes and the DEK come from one RNG call.
 * - For `wrapped`, the data key is zeroed before returning; only its ciphertext leaves.
 */
import { invalidInput } from '../../core/errors.js';
import { DEK_BYTES } from '../../core/aead.js';
import { contextDigest } from '../../core/context.js';
import { sealMessage } from '../../core/envelope-crypto.js';
import { assertKeyAllows, selectEncryptionVersion, wrappedKeyRef } from '../../core/keyring.js';
import type { Hsm } from '../../core/ports/hsm.js';
import type { KeyStore } from '../../core/ports/key-store.js';
import type { Environment, KeyName } from '../../core/types.js';
import { getKeyForData, optionalBase64 } from './shared.js';

export type DataKeyKind = 'plaintext' | 'wrapped';
export const DATA_KEY_BITS: readonly number[] = [128, 256, 512];

export interface GenerateDataKeyInput {
  readonly env: Environment;
  readonly name: KeyName;
  readonly kind: DataKeyKind;
  /** Default 256. */
  readonly bits?: number;
  readonly context?: string;
  readonly keyVersion?: number;
}

export interface GenerateDataKeyResult {
  /** Present only for kind 'plaintext'. */
  readonly plaintext?: Buffer;
  readonly ciphertext: string;
  readonly keyVersion: number;
}

export type GenerateDataKey = (input: GenerateDataKeyInput) => Promise<GenerateDataKeyResult>;

export function makeGenerateDataKey(deps: { readonly hsm: Pick<Hsm, 'seal' | 'randomBytes'>; readonly keys: Pick<KeyStore, 'getKey'> }): GenerateDataKey {
  return async (input) => {
    if (input.kind !== 'plaintext' && input.kind !== 'wrapped') throw invalidInput('invalid data key type: use plaintext or wrapped');
    const bits = input.bits ?? 256;
    if (!DATA_KEY_BITS.includes(bits)) throw invalidInput('invalid bits value: use 128, 256 or 512');
    const context = optionalBase64(input.context, 'context');
    const key = await getKeyForData(deps.keys, input.env, input.name);
    assertKeyAllows(key, 'encrypt');
    const version = selectEncryptionVersion(key, input.keyVersion);
    const digest = contextDigest(key.derived, context);

    const random = await deps.hsm.randomBytes(DEK_BYTES + bits / 8);
    const dek = random.subarray(0, DEK_BYTES);
    const dataKey = random.subarray(DEK_BYTES);
    try {
      const binding = { env: key.env, name: key.name, version: version.version, contextDigest: digest };
      const ciphertext = await sealMessage(deps.hsm, wrappedKeyRef(key, version), binding, dek, dataKey, undefined);
      const plaintext = input.kind === 'plaintext' ? Buffer.from(dataKey) : undefined;
      return plaintext ? { plaintext, ciphertext, keyVersion: version.version } : { ciphertext, keyVersion: version.version };
    } finally {
      random.fill(0);
    }
  };
}
