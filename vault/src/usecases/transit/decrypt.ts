/**
 * decrypt: open one or many `vault:v<N>:` ciphertexts under a named key (Vault `transit/decrypt/:name`).
 *
 * Invariants:
 * - Every malformed, tampered, foreign, wrong-context or wrong-associated-data ciphertext fails with the
 *   one "decryption failed" error; only policy refusals (too-old version, version state) say more.
 * - Versions below min_decryption_version are refused even though their material may still exist.
 * - Compromised versions do not decrypt here (only rewrap may read them).
 */
import { contextDigest } from '../../core/context.js';
import { openMessage } from '../../core/envelope-crypto.js';
import { parseEnvelope } from '../../core/envelope.js';
import { assertKeyAllows, selectDecryptionVersion, wrappedKeyRef } from '../../core/keyring.js';
import type { Hsm } from '../../core/ports/hsm.js';
import type { KeyStore, TransitKeyRecord } from '../../core/ports/key-store.js';
import type { Environment, KeyName } from '../../core/types.js';
import { checkBatchSize, getKeyForData, optionalBase64, runItems, type ItemOutcome } from './shared.js';

export interface DecryptItemInput {
  readonly ciphertext: string;
  readonly context?: string;
  readonly associatedData?: string;
  readonly reference?: string;
}

export interface DecryptInput {
  readonly env: Environment;
  readonly name: KeyName;
  readonly items: readonly DecryptItemInput[];
}

export type DecryptItemResult = ItemOutcome<{ readonly plaintext: Buffer; readonly keyVersion: number }> & { readonly reference: string };

export interface DecryptResult {
  readonly items: DecryptItemResult[];
}

export type Decrypt = (input: DecryptInput) => Promise<DecryptResult>;

/** Open one item under `key`; shared with rewrap, which opens with purpose 'rewrap'. */
export async function openItem(
  hsm: Pick<Hsm, 'open'>,
  key: TransitKeyRecord,
  item: DecryptItemInput,
  purpose: 'decrypt' | 'rewrap',
): Promise<{ plaintext: Buffer; keyVersion: number }> {
  const context = optionalBase64(item.context, 'context');
  const associatedData = optionalBase64(item.associatedData, 'associated_data');
  const digest = contextDigest(key.derived, context);
  const envelope = parseEnvelope(item.ciphertext);
  const version = selectDecryptionVersion(key, envelope.keyVersion, purpose);
  const binding = { env: key.env, name: key.name, version: version.version, contextDigest: digest };
  const plaintext = await openMessage(hsm, wrappedKeyRef(key, version), binding, envelope, associatedData);
  return { plaintext, keyVersion: version.version };
}

export function makeDecrypt(deps: { readonly hsm: Pick<Hsm, 'open'>; readonly keys: Pick<KeyStore, 'getKey'> }): Decrypt {
  return async (input) => {
    checkBatchSize(input.items.length);
    const key = await getKeyForData(deps.keys, input.env, input.name);
    assertKeyAllows(key, 'decrypt');
    const outcomes = await runItems(input.items, (item) => openItem(deps.hsm, key, item, 'decrypt'));
    return { items: outcomes.map((o, i) => ({ ...o, reference: input.items[i]?.reference ?? '' })) };
  };
}
