/**
 * rewrap: open ciphertexts and seal them again under the latest key version (or `key_version`), without
 * the plaintext ever leaving the service (Vault `transit/rewrap/:name`). The context and associated data
 * carry over unchanged.
 *
 * Invariants:
 * - The only path on which a compromised version may be read, so data can be moved off it.
 * - The recovered plaintext and the new DEK are zeroed once the new ciphertext exists.
 */
import { DEK_BYTES } from '../../core/aead.js';
import { contextDigest } from '../../core/context.js';
import { sealMessage } from '../../core/envelope-crypto.js';
import { assertKeyAllows, selectEncryptionVersion, wrappedKeyRef } from '../../core/keyring.js';
import type { Hsm } from '../../core/ports/hsm.js';
import type { KeyStore } from '../../core/ports/key-store.js';
import type { Environment, KeyName } from '../../core/types.js';
import { openItem, type DecryptItemInput } from './decrypt.js';
import { checkBatchSize, getKeyForData, optionalBase64, runItems, type ItemOutcome } from './shared.js';

export interface RewrapItemInput extends DecryptItemInput {
  /** Target version; 0 or absent: latest. */
  readonly keyVersion?: number;
}

export interface RewrapInput {
  readonly env: Environment;
  readonly name: KeyName;
  readonly items: readonly RewrapItemInput[];
}

export type RewrapItemResult = ItemOutcome<{ readonly ciphertext: string; readonly keyVersion: number }> & { readonly reference: string };

export type Rewrap = (input: RewrapInput) => Promise<{ readonly items: RewrapItemResult[] }>;

export function makeRewrap(deps: { readonly hsm: Pick<Hsm, 'open' | 'seal' | 'randomBytes'>; readonly keys: Pick<KeyStore, 'getKey'> }): Rewrap {
  return async (input) => {
    checkBatchSize(input.items.length);
    const key = await getKeyForData(deps.keys, input.env, input.name);
    assertKeyAllows(key, 'rewrap');
    const deks = await deps.hsm.randomBytes(DEK_BYTES * input.items.length);
    try {
      const outcomes = await runItems(input.items, async (item, i) => {
        const target = selectEncryptionVersion(key, item.keyVersion);
        const opened = await openItem(deps.hsm, key, item, 'rewrap');
        try {
          const digest = contextDigest(key.derived, optionalBase64(item.context, 'context'));
          const binding = { env: key.env, name: key.name, version: target.version, contextDigest: digest };
          const dek = deks.subarray(i * DEK_BYTES, (i + 1) * DEK_BYTES);
          const associatedData = optionalBase64(item.associatedData, 'associated_data');
          const ciphertext = await sealMessage(deps.hsm, wrappedKeyRef(key, target), binding, dek, opened.plaintext, associatedData);
          return { ciphertext, keyVersion: target.version };
        } finally {
          opened.plaintext.fill(0);
        }
      });
      return { items: outcomes.map((o, i) => ({ ...o, reference: input.items[i]?.reference ?? '' })) };
    } finally {
      deks.fill(0);
    }
  };
}
