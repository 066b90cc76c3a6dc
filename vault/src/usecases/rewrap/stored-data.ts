/**
 * What Keyward itself stores under each reserved key, as the bulk rewrap job and `usedVersions` see
 * it: a source per key that counts, lists (in a stable order, resumable from a cursor) and
 * compare-and-set replaces sealed values, and says which key versions stored data still uses.
 *
 *   `_kv`   KV secret versions (binding env/path/version, kv/shared.ts versionBinding)
 *   `_wrap` pending response-wrapping payloads (binding env/accessor, wrapping/shared.ts wrapBinding)
 *
 * Invariants:
 * - A cursor names the last item handled; listing after it never returns that item or any before it,
 *   so a resumed job neither skips nor repeats an item it had persisted.
 * - Replacement is a compare-and-set on the key version the item was listed with: a value written,
 *   destroyed, consumed or re-sealed meanwhile is left alone.
 */
import type { SecretStore, WrappingTokenStore } from '../../core/ports/secret-store.js';
import { type Environment, type KeyName, type SecretPath } from '../../core/types.js';
import { KV_KEY_NAME, WRAPPING_KEY_NAME, type SealedValue } from '../kv/internal-sealer.js';
import { versionBinding } from '../kv/shared.js';
import { wrapBinding } from '../wrapping/shared.js';

export interface SealedItem {
  /** JSON cursor of this item (pass it back to `list` to continue after it). */
  readonly cursor: string;
  readonly binding: Buffer;
  readonly keyVersion: number;
  readonly sealed: Buffer;
  /** Opaque to the job: what `replace` needs to address the row. */
  readonly ref: { readonly path?: SecretPath; readonly version?: number; readonly accessor?: string };
}

export interface StoredDataSource {
  readonly keyName: KeyName;
  count(env: Environment, belowKeyVersion: number): Promise<number>;
  list(env: Environment, belowKeyVersion: number, cursor: string | null, limit: number): Promise<SealedItem[]>;
  replace(env: Environment, item: SealedItem, sealed: SealedValue): Promise<boolean>;
  used(env: Environment): Promise<Set<number>>;
}

function parseCursor<T>(raw: string | null, check: (v: unknown) => v is T): T | null {
  if (raw === null) return null;
  try {
    const v: unknown = JSON.parse(raw);
    return check(v) ? v : null;
  } catch {
    return null;
  }
}

const isKvCursor = (v: unknown): v is { path: string; version: number } =>
  typeof v === 'object' && v !== null && typeof (v as { path?: unknown }).path === 'string' && Number.isSafeInteger((v as { version?: unknown }).version);
const isWrapCursor = (v: unknown): v is { accessor: string } => typeof v === 'object' && v !== null && typeof (v as { accessor?: unknown }).accessor === 'string';

export function kvSource(secrets: Pick<SecretStore, 'countSealedVersions' | 'listSealedVersions' | 'replaceSealedValue' | 'usedKeyVersions'>): StoredDataSource {
  return {
    keyName: KV_KEY_NAME,
    count: (env, below) => secrets.countSealedVersions(env, below),
    async list(env, below, cursor, limit) {
      const rows = await secrets.listSealedVersions(env, below, parseCursor(cursor, isKvCursor), limit);
      return rows.map((r) => ({
        cursor: JSON.stringify({ path: r.path, version: r.version }),
        binding: versionBinding(env, r.path, r.version),
        keyVersion: r.keyVersion,
        sealed: r.sealedValue,
        ref: { path: r.path, version: r.version },
      }));
    },
    async replace(env, item, sealed) {
      if (item.ref.path === undefined || item.ref.version === undefined) return false;
      return secrets.replaceSealedValue(env, item.ref.path, item.ref.version, item.keyVersion, sealed.envelope, sealed.keyVersion, sealed.rootTerm);
    },
    used: (env) => secrets.usedKeyVersions(env),
  };
}

export function wrapSource(store: Pick<WrappingTokenStore, 'countSealedWrappingTokens' | 'listSealedWrappingTokens' | 'replaceWrappingPayload' | 'usedWrappingKeyVersions'>): StoredDataSource {
  return {
    keyName: WRAPPING_KEY_NAME,
    count: (env, below) => store.countSealedWrappingTokens(env, below),
    async list(env, below, cursor, limit) {
      const rows = await store.listSealedWrappingTokens(env, below, parseCursor(cursor, isWrapCursor)?.accessor ?? null, limit);
      return rows.map((r) => ({
        cursor: JSON.stringify({ accessor: r.accessor }),
        binding: wrapBinding(env, r.accessor),
        keyVersion: r.keyVersion,
        sealed: r.sealedPayload,
        ref: { accessor: r.accessor },
      }));
    },
    replace: (_env, item, sealed) => store.replaceWrappingPayload(item.ref.accessor ?? '', item.keyVersion, sealed.envelope, sealed.keyVersion, sealed.rootTerm),
    used: (env) => store.usedWrappingKeyVersions(env),
  };
}

/** Reserved key names that have stored data, in the order a "rewrap everything" walks them. */
export const STORED_KEY_NAMES: readonly KeyName[] = [KV_KEY_NAME, WRAPPING_KEY_NAME];

export function isStoredKeyName(raw: string): raw is KeyName {
  return STORED_KEY_NAMES.some((k) => k === raw);
}

