/**
 * SecretStore port: persistence of the KV v2 secret engine (engine config, per-path metadata, sealed
 * versions) and of response-wrapping tokens. Domain operations, not SQL (DESIGN.md §5): SQLite is the
 * embedded adapter; nothing here assumes that one process owns the store.
 *
 * Invariants every adapter keeps:
 * - Values arrive and leave sealed (`sealedValue` is a transit envelope under the environment's `_kv`
 *   key, AAD-bound to env, path and version). The store never sees a secret in clear.
 * - `putVersion` is one atomic step: check-and-set, `cas_required`, "version = current + 1",
 *   the insert, the current_version bump and the max_versions pruning happen in one transaction,
 *   so two writers never get the same version and a cas mismatch never writes.
 * - Pruned (over max_versions) and destroyed versions lose their sealed material for good.
 * - Wrapping tokens are stored as SHA-256(token) only; `consumeWrappingToken` marks a token used and
 *   drops its sealed payload in one transaction, so of two concurrent consumers exactly one gets it.
 * - Records are returned as fresh objects (Buffers copied).
 */
import type { Environment, SecretPath } from '../types.js';

/** Vault keeps 10 versions when neither the secret nor the engine config sets max_versions. */
export const DEFAULT_KV_MAX_VERSIONS = 10;

export interface KvEngineConfig {
  /** 0 = Vault's default (10). */
  readonly maxVersions: number;
  readonly casRequired: boolean;
  /** 0 = versions are never deleted automatically. */
  readonly deleteVersionAfterSeconds: number;
}

export const DEFAULT_KV_ENGINE_CONFIG: KvEngineConfig = Object.freeze({ maxVersions: 0, casRequired: false, deleteVersionAfterSeconds: 0 });

export interface KvVersionMeta {
  readonly version: number;
  readonly createdAt: Date;
  /** Soft-deletion time; a version is deleted once this is ≤ now (it may lie in the future: delete_version_after). */
  readonly deletionTime: Date | null;
  readonly destroyed: boolean;
}

export interface KvVersionRecord extends KvVersionMeta {
  /** The transit envelope bytes; null once destroyed. */
  readonly sealedValue: Buffer | null;
  /** Version of the `_kv` key and the root term it was wrapped under when sealed (bookkeeping). */
  readonly keyVersion: number;
  readonly rootTerm: number;
}

export interface KvMetadata {
  readonly env: Environment;
  readonly path: SecretPath;
  readonly currentVersion: number;
  /** 0 until versions have been pruned, then the oldest version kept (as Vault reports it). */
  readonly oldestVersion: number;
  /** 0 = the engine config's value (or 10). */
  readonly maxVersions: number;
  readonly casRequired: boolean;
  readonly deleteVersionAfterSeconds: number;
  /** null when never set, as Vault answers. */
  readonly customMetadata: Readonly<Record<string, string>> | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

export interface KvMetadataWithVersions extends KvMetadata {
  /** Versions still recorded (not pruned), ascending. */
  readonly versions: readonly KvVersionMeta[];
}

export interface NewKvVersion {
  readonly env: Environment;
  readonly path: SecretPath;
  /** The version the value was sealed for: must be current_version + 1 at commit time. */
  readonly version: number;
  readonly sealedValue: Buffer;
  readonly keyVersion: number;
  readonly rootTerm: number;
  readonly createdAt: Date;
  /** Vault's `options.cas`; undefined when not given. */
  readonly cas?: number;
}

export type PutVersionResult =
  | { readonly ok: true; readonly metadata: KvMetadata; readonly version: KvVersionMeta }
  /** Another writer committed first: re-seal for `currentVersion + 1` and try again. */
  | { readonly ok: false; readonly reason: 'stale'; readonly currentVersion: number };

export interface KvMetadataPatch {
  readonly maxVersions?: number;
  readonly casRequired?: boolean;
  readonly deleteVersionAfterSeconds?: number;
  readonly customMetadata?: Readonly<Record<string, string>> | null;
}

/** Which versions a soft delete applies to. */
export type KvVersionSelector = 'latest' | readonly number[];

export interface SecretStore {
  getKvConfig(env: Environment): Promise<KvEngineConfig>;
  putKvConfig(env: Environment, config: KvEngineConfig, at: Date): Promise<void>;

  getMetadata(env: Environment, path: SecretPath): Promise<KvMetadataWithVersions | null>;
  /** One version (null/0: the current one) with the secret's metadata; null when the secret has no metadata. */
  getVersion(env: Environment, path: SecretPath, version: number | null): Promise<{ metadata: KvMetadata; version: KvVersionRecord | null } | null>;
  /**
   * Check-and-set write. Throws ERR_CONFLICT on a cas mismatch or a missing cas when cas_required
   * (engine or secret). The deletion time of the new version follows delete_version_after.
   */
  putVersion(v: NewKvVersion): Promise<PutVersionResult>;
  /** Creates the metadata if missing; prunes versions beyond a lowered max_versions. */
  writeMetadata(env: Environment, path: SecretPath, patch: KvMetadataPatch, at: Date): Promise<KvMetadata>;
  /** Soft delete: sets deletion_time = at on the selected versions not destroyed and not already deleted. */
  deleteVersions(env: Environment, path: SecretPath, versions: KvVersionSelector, at: Date): Promise<void>;
  /** Clears deletion_time on the selected versions that are not destroyed. */
  undeleteVersions(env: Environment, path: SecretPath, versions: readonly number[], at: Date): Promise<void>;
  /** Erases the sealed material of the selected versions for good. */
  destroyVersions(env: Environment, path: SecretPath, versions: readonly number[], at: Date): Promise<void>;
  /** Removes metadata and every version. Returns false if there was nothing. */
  deleteSecret(env: Environment, path: SecretPath): Promise<boolean>;
  /** Direct children of `prefix` ('' or ending in '/'): leaf names, and folders with a trailing '/', sorted. */
  listChildren(env: Environment, prefix: string): Promise<string[]>;

  // ---- bulk rewrap (issue 5 part B) ----------------------------------------------------------
  /**
   * Sealed (not destroyed) versions whose `_kv` key version is below `belowKeyVersion`, in (path,
   * version) order strictly after `after` (null: from the start), at most `limit`.
   */
  listSealedVersions(env: Environment, belowKeyVersion: number, after: KvRewrapCursor | null, limit: number): Promise<KvSealedRow[]>;
  countSealedVersions(env: Environment, belowKeyVersion: number): Promise<number>;
  /**
   * Compare-and-set re-seal: replaces the sealed value of (env, path, version) only if it is still
   * sealed (not destroyed) under `expectedKeyVersion`. False when it changed meanwhile (destroyed,
   * pruned, deleted or already re-sealed); nothing else about the version changes.
   */
  replaceSealedValue(env: Environment, path: SecretPath, version: number, expectedKeyVersion: number, newSealed: Buffer, newKeyVersion: number, newRootTerm?: number): Promise<boolean>;
  /** The `_kv` key versions that sealed values still stored (not destroyed) use. */
  usedKeyVersions(env: Environment): Promise<Set<number>>;
}

/** Position of the KV rewrap scan: the last (path, version) handled. */
export interface KvRewrapCursor {
  readonly path: string;
  readonly version: number;
}

export interface KvSealedRow {
  readonly path: SecretPath;
  readonly version: number;
  readonly keyVersion: number;
  readonly sealedValue: Buffer;
}

/** Effective max_versions: the secret's, else the engine's, else Vault's default of 10. */
export function effectiveMaxVersions(config: KvEngineConfig, meta: Pick<KvMetadata, 'maxVersions'> | null): number {
  if (meta && meta.maxVersions > 0) return meta.maxVersions;
  return config.maxVersions > 0 ? config.maxVersions : DEFAULT_KV_MAX_VERSIONS;
}

/** Effective delete_version_after (seconds, 0 = none): the shorter of the secret's and the engine's when both are set. */
export function effectiveDeleteAfterSeconds(config: KvEngineConfig, meta: Pick<KvMetadata, 'deleteVersionAfterSeconds'> | null): number {
  const a = meta?.deleteVersionAfterSeconds ?? 0;
  const b = config.deleteVersionAfterSeconds;
  if (a > 0 && b > 0) return Math.min(a, b);
  return a > 0 ? a : b;
}

/** Deleted = a deletion time that has passed (a future one is only scheduled). */
export function isVersionDeleted(v: Pick<KvVersionMeta, 'deletionTime'>, now: Date): boolean {
  return v.deletionTime !== null && v.deletionTime.getTime() <= now.getTime();
}

// ---- response wrapping ----------------------------------------------------------------------

export interface WrappingTokenRecord {
  /** SHA-256 of the token string. */
  readonly idHash: Buffer;
  readonly accessor: string;
  readonly env: Environment;
  readonly creationPath: string;
  readonly ttlSeconds: number;
  readonly createdAt: Date;
  readonly expiresAt: Date;
  /** Transit envelope of the wrapped response; null once used. */
  readonly sealedPayload: Buffer | null;
  readonly keyVersion: number;
  readonly rootTerm: number;
  readonly usedAt: Date | null;
}

export type NewWrappingToken = Omit<WrappingTokenRecord, 'usedAt'> & { readonly sealedPayload: Buffer };

export type ConsumeWrappingResult =
  | { readonly status: 'ok'; readonly record: WrappingTokenRecord }
  | { readonly status: 'missing' }
  | { readonly status: 'expired'; readonly record: WrappingTokenRecord }
  /** Already consumed: a second use (reuse attempt). */
  | { readonly status: 'used'; readonly record: WrappingTokenRecord };

export interface WrappingTokenStore {
  putWrappingToken(token: NewWrappingToken): Promise<void>;
  getWrappingToken(idHash: Buffer): Promise<WrappingTokenRecord | null>;
  /** Atomically: a live, unused token is marked used at `at` and returned with its payload (dropped from the store). */
  consumeWrappingToken(idHash: Buffer, at: Date): Promise<ConsumeWrappingResult>;
  /** Deletes tokens that expired before `before` (used or not). Returns how many. */
  purgeWrappingTokens(before: Date): Promise<number>;

  // ---- bulk rewrap (issue 5 part B) ----------------------------------------------------------
  /** Unused tokens still holding a payload sealed below `belowKeyVersion`, by accessor after `afterAccessor`. */
  listSealedWrappingTokens(env: Environment, belowKeyVersion: number, afterAccessor: string | null, limit: number): Promise<WrappingSealedRow[]>;
  countSealedWrappingTokens(env: Environment, belowKeyVersion: number): Promise<number>;
  /** Compare-and-set re-seal of a pending token's payload (only if still unused and under `expectedKeyVersion`). */
  replaceWrappingPayload(accessor: string, expectedKeyVersion: number, newSealed: Buffer, newKeyVersion: number, newRootTerm: number): Promise<boolean>;
  /** The `_wrap` key versions that pending payloads still use. */
  usedWrappingKeyVersions(env: Environment): Promise<Set<number>>;
}

export interface WrappingSealedRow {
  readonly accessor: string;
  readonly env: Environment;
  readonly keyVersion: number;
  readonly sealedPayload: Buffer;
}
