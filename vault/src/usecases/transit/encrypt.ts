/**
 * encrypt: seal one or many plaintexts under a named key (Vault `transit/encrypt/:name`), creating the
 * key on first use when the caller may (Vault's upsert; the key is derived iff the items carry context).
 *
 * Hot path per item: one store read for the whole request, one HSM RNG call for the whole request,
 * one `hsm.seal`, one node:crypto GCM. Nothing else touches the device or the store.
 *
 * Invariants:
 * - Missing key and no right to create: permission denied, as Vault does (its upsert needs `create`).
 * - Client mistakes about one item land on that item (`error`); the others are still encrypted.
 * - Every DEK and every decoded plaintext buffer is zeroed once used.
 */
import { permissionDenied, invalidInput } from '../../core/errors.js';
import { contextDigest } from '../../core/context.js';
import { DEK_BYTES } from '../../core/aead.js';
import { sealMessage } from '../../core/envelope-crypto.js';
import { assertKeyAllows, selectEncryptionVersion, wrappedKeyRef } from '../../core/keyring.js';
import type { Hsm } from '../../core/ports/hsm.js';
import type { KeyStore, TransitKeyRecord } from '../../core/ports/key-store.js';
import type { Environment, KeyName } from '../../core/types.js';
import type { CreateKey } from './create-key.js';
import { checkBatchSize, decodeBase64Field, optionalBase64, runReferencedItems, type ItemOutcome } from './shared.js';
import { sealWithDekCache, type DekCachePolicy } from './dek-cache-policy.js';

export interface EncryptItemInput {
  /** base64, as on the wire; decoded here so a bad item fails alone. */
  readonly plaintext: string;
  readonly context?: string;
  readonly associatedData?: string;
  /** 0 or absent: latest. */
  readonly keyVersion?: number;
  readonly reference?: string;
}

export interface EncryptInput {
  readonly env: Environment;
  readonly name: KeyName;
  readonly items: readonly EncryptItemInput[];
  /** The caller holds `create` on the path: a missing key is created (Vault upsert). */
  readonly mayCreate: boolean;
  /** Upsert only: requested key type and convergent flag (validated by createKey). */
  readonly type?: string;
  readonly convergentEncryption?: boolean;
}

export type EncryptItemResult = ItemOutcome<{ readonly ciphertext: string; readonly keyVersion: number }> & { readonly reference: string };

export interface EncryptResult {
  readonly items: EncryptItemResult[];
  /** True when this request created the key. */
  readonly created: boolean;
}

export interface EncryptDeps {
  readonly hsm: Pick<Hsm, 'seal' | 'randomBytes'>;
  readonly keys: Pick<KeyStore, 'getKey'>;
  /** Present when upsert is possible at all; absent means a missing key is never created. */
  readonly createKey?: CreateKey;
  /** Optional DEK reuse (performance.dekCache); absent = one fresh DEK per message. */
  readonly dekCache?: DekCachePolicy;
}

export type Encrypt = (input: EncryptInput) => Promise<EncryptResult>;

async function upsert(deps: EncryptDeps, input: EncryptInput): Promise<{ key: TransitKeyRecord; created: boolean }> {
  if (!input.mayCreate || !deps.createKey) throw permissionDenied();
  const withContext = input.items.filter((i) => i.context !== undefined && i.context !== '').length;
  if (withContext !== 0 && withContext !== input.items.length) {
    throw invalidInput('context should be set either in all the request blocks or in none');
  }
  const r = await deps.createKey({
    env: input.env,
    name: input.name,
    type: input.type,
    derived: withContext > 0,
    convergentEncryption: input.convergentEncryption,
  });
  return { key: r.key, created: r.created };
}

export function makeEncrypt(deps: EncryptDeps): Encrypt {
  return async (input) => {
    checkBatchSize(input.items.length);
    let key = await deps.keys.getKey(input.env, input.name);
    let created = false;
    if (!key) ({ key, created } = await upsert(deps, input));
    assertKeyAllows(key, 'encrypt');
    const record = key;
    const dekCache = deps.dekCache?.appliesTo(input.env, input.name) ? deps.dekCache.cache : null;

    // With the DEK cache, DEKs are drawn per cache miss instead of in one call up front.
    const deks = dekCache ? Buffer.alloc(0) : await deps.hsm.randomBytes(DEK_BYTES * input.items.length);
    try {
      const items: EncryptItemResult[] = await runReferencedItems(input.items, async (item, i) => {
        const plaintext = decodeBase64Field(item.plaintext, 'plaintext');
        try {
          const context = optionalBase64(item.context, 'context');
          const associatedData = optionalBase64(item.associatedData, 'associated_data');
          const version = selectEncryptionVersion(record, item.keyVersion);
          const digest = contextDigest(record.derived, context);
          const binding = { env: record.env, name: record.name, version: version.version, contextDigest: digest };
          if (dekCache) {
            const ciphertext = await sealWithDekCache(deps.hsm, dekCache, wrappedKeyRef(record, version), binding, plaintext, associatedData);
            return { ok: true as const, ciphertext, keyVersion: version.version, reference: item.reference ?? '' };
          }
          const dek = deks.subarray(i * DEK_BYTES, (i + 1) * DEK_BYTES); // sealMessage zeroes it
          const ciphertext = await sealMessage(deps.hsm, wrappedKeyRef(record, version), binding, dek, plaintext, associatedData);
          return { ok: true as const, ciphertext, keyVersion: version.version, reference: item.reference ?? '' };
        } finally {
          plaintext.fill(0);
        }
      });
      return { items, created };
    } finally {
      deks.fill(0);
    }
  };
}
