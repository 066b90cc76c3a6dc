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
import { envelopePrefix, parseEnvelope } from '../../core/envelope.js';
import { assertKeyAllows, selectDecryptionVersion, wrappedKeyRef } from '../../core/keyring.js';
import type { Hsm } from '../../core/ports/hsm.js';
import type { KeyStore, TransitKeyRecord } from '../../core/ports/key-store.js';
import type { Environment, KeyName } from '../../core/types.js';
import { checkBatchSize, getKeyForData, optionalBase64, runReferencedItems, type ItemOutcome } from './shared.js';
import { openWithDekCache, type DekCachePolicy } from './dek-cache-policy.js';
import type { KeyRecordReader } from './key-cache.js';

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
  dekCache?: DekCachePolicy,
): Promise<{ plaintext: Buffer; keyVersion: number }> {
  const context = optionalBase64(item.context, 'context');
  const associatedData = optionalBase64(item.associatedData, 'associated_data');
  const digest = contextDigest(key.derived, context);
  const envelope = parseEnvelope(item.ciphertext);
  const version = selectDecryptionVersion(key, envelope.keyVersion, purpose);
  const binding = { env: key.env, name: key.name, version: version.version, contextDigest: digest };
  const plaintext =
    dekCache && dekCache.appliesTo(key.env, key.name)
      ? await openWithDekCache(hsm, dekCache.cache, wrappedKeyRef(key, version), binding, envelope, associatedData)
      : await openMessage(hsm, wrappedKeyRef(key, version), binding, envelope, associatedData);
  return { plaintext, keyVersion: version.version };
}

/** Highest `vault:vN:` version named by the items (0 if none parse); only to spot a stale cached record. */
function newestNamedVersion(items: readonly DecryptItemInput[]): number {
  let newest = 0;
  for (const item of items) {
    const prefix = typeof item.ciphertext === 'string' ? envelopePrefix(item.ciphertext) : null;
    if (prefix !== null && prefix.keyVersion > newest) newest = prefix.keyVersion;
  }
  return newest;
}

export interface DecryptDeps {
  readonly hsm: Pick<Hsm, 'open'>;
  /** A cached reader (key-cache.ts) may offer getKeyFresh: used when a ciphertext is newer than the record. */
  readonly keys: Pick<KeyStore, 'getKey'> & Partial<Pick<KeyRecordReader, 'getKeyFresh'>>;
  readonly dekCache?: DekCachePolicy;
}

export function makeDecrypt(deps: DecryptDeps): Decrypt {
  return async (input) => {
    checkBatchSize(input.items.length);
    let key = await getKeyForData(deps.keys, input.env, input.name);
    // Another worker may have rotated within the cache TTL: a ciphertext naming a newer version
    // than the record knows triggers one fresh read instead of a spurious refusal.
    if (deps.keys.getKeyFresh && newestNamedVersion(input.items) > key.latestVersion) {
      key = (await deps.keys.getKeyFresh(input.env, input.name)) ?? key;
    }
    assertKeyAllows(key, 'decrypt');
    const record = key;
    const items: DecryptItemResult[] = await runReferencedItems(input.items, async (item) => {
      const opened = await openItem(deps.hsm, record, item, 'decrypt', deps.dekCache);
      return { ok: true as const, plaintext: opened.plaintext, keyVersion: opened.keyVersion, reference: item.reference ?? '' };
    });
    return { items };
  };
}
