/**
 * KeyStore port: persistence of named transit keys, their versions (as wrapped blobs only) and the
 * per-environment root KEK terms. Domain operations, not SQL: the SQLite adapter is the embedded
 * default and a PostgreSQL adapter is planned, so nothing here may assume one process owns the store.
 *
 * Invariants (checked by test/contract/key-store.contract.ts):
 * - `appendKeyVersion` assigns version = latest + 1 atomically; concurrent appends on one key yield
 *   distinct, gap-free versions and never lose one.
 * - Every method that returns after writing has made the write durable (a restart keeps it).
 * - Records are returned as fresh objects; callers may not mutate store state through them.
 * - `appendKeyVersionIfDue` re-checks "due" (last rotation at or before `dueBefore`, key active) in the
 *   same atomic write that appends, so several schedulers on one store rotate a due key exactly once.
 * - `transitionKeyState` is a compare-and-set on the key state; `acquireLease` is a compare-and-set
 *   on the lease row (free, expired, or already ours).
 */
import type { Environment, KeyName, KeyVersion } from '../types.js';

export type KeyType = 'aes256-gcm96';
export type KeyState = 'active' | 'disabled' | 'compromised' | 'pending_deletion' | 'destroyed';
export type VersionState = 'active' | 'disabled' | 'compromised' | 'destroyed';

export interface KeyVersionRecord {
  readonly version: KeyVersion;
  /** Key version blob wrapped under root term `rootTerm` (RFC 5649); null once destroyed. */
  readonly wrappedKek: Buffer | null;
  readonly rootTerm: number;
  readonly createdAt: Date;
  readonly state: VersionState;
}

export interface KeyConfig {
  readonly minDecryptionVersion: number;
  readonly minEncryptionVersion: number; // 0 = latest
  readonly deletionAllowed: boolean;
  readonly exportable: boolean;
  readonly allowPlaintextBackup: boolean;
  readonly autoRotatePeriodSeconds: number; // 0 = disabled
  readonly maxVersions: number; // 0 = unlimited (retention, lifecycle issue)
  readonly versionTtlSeconds: number; // 0 = no expiry (lifecycle issue)
}

export interface TransitKeyRecord {
  readonly env: Environment;
  readonly name: KeyName;
  readonly type: KeyType;
  readonly derived: boolean;
  readonly state: KeyState;
  readonly config: KeyConfig;
  readonly latestVersion: number;
  /** Lowest version whose material still exists (raised by trim). */
  readonly minAvailableVersion: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
  /** Versions still available (>= minAvailableVersion), ascending. */
  readonly versions: readonly KeyVersionRecord[];
  /** Lifecycle bookkeeping (pending deletion deadline, last rotation). */
  readonly deletionDeadline: Date | null;
  readonly lastRotatedAt: Date;
}

export const DEFAULT_KEY_CONFIG: KeyConfig = Object.freeze({
  minDecryptionVersion: 1,
  minEncryptionVersion: 0,
  deletionAllowed: false,
  exportable: false,
  allowPlaintextBackup: false,
  autoRotatePeriodSeconds: 0,
  maxVersions: 0,
  versionTtlSeconds: 0,
});

export interface NewTransitKey {
  readonly env: Environment;
  readonly name: KeyName;
  readonly type: KeyType;
  readonly derived: boolean;
  readonly config: KeyConfig;
  readonly firstVersion: { readonly wrappedKek: Buffer; readonly rootTerm: number };
  readonly createdAt: Date;
}

export type RootKeyState = 'active' | 'retiring' | 'retired' | 'destroyed';

export interface RootKeyRecord {
  readonly env: Environment;
  readonly term: number;
  readonly state: RootKeyState;
  readonly installedAt: Date;
  readonly retiredAt: Date | null;
}

/** Progress of one root KEK rotation of an environment (from term → to term). */
export interface RootRotationRecord {
  readonly env: Environment;
  readonly fromTerm: number;
  readonly toTerm: number;
  /** Blobs under fromTerm when the job started (a late straggler may push `done` past it). */
  readonly total: number;
  readonly done: number;
  readonly startedAt: Date;
  readonly finishedAt: Date | null;
}

export interface KeyStore {
  getKey(env: Environment, name: KeyName): Promise<TransitKeyRecord | null>;
  listKeys(env: Environment): Promise<KeyName[]>;
  /** Creates the key with version 1. Returns false (and writes nothing) if the name is taken. */
  createKey(key: NewTransitKey): Promise<boolean>;
  /** Adds version latest+1 and returns it. Throws ERR_NOT_FOUND if the key does not exist. */
  appendKeyVersion(env: Environment, name: KeyName, wrappedKek: Buffer, rootTerm: number, createdAt: Date): Promise<KeyVersion>;
  updateKeyConfig(env: Environment, name: KeyName, patch: Partial<KeyConfig>, updatedAt: Date): Promise<TransitKeyRecord>;
  setKeyState(env: Environment, name: KeyName, state: KeyState, deletionDeadline: Date | null, updatedAt: Date): Promise<void>;
  setVersionState(env: Environment, name: KeyName, version: KeyVersion, state: VersionState, updatedAt: Date): Promise<void>;
  /** Erase material of versions below `minAvailableVersion` (Vault's trim). */
  trimVersions(env: Environment, name: KeyName, minAvailableVersion: number, updatedAt: Date): Promise<void>;
  deleteKey(env: Environment, name: KeyName): Promise<boolean>;

  /** Root KEK terms. */
  getActiveRoot(env: Environment): Promise<RootKeyRecord | null>;
  listRoots(env: Environment): Promise<RootKeyRecord[]>;
  /** Records a root term (idempotent on env+term). */
  putRoot(env: Environment, term: number, state: RootKeyState, installedAt: Date): Promise<void>;
  setRootState(env: Environment, term: number, state: RootKeyState, at: Date): Promise<void>;
  /** Key-version blobs still wrapped under `term`, in batches (root rotation). */
  listVersionsWrappedUnder(env: Environment, term: number, limit: number): Promise<Array<{ name: KeyName; version: KeyVersion; wrappedKek: Buffer }>>;
  /** Compare-and-set re-wrap: replaces the blob only if it is still under `fromTerm`. */
  replaceWrappedKek(env: Environment, name: KeyName, version: KeyVersion, fromTerm: number, toTerm: number, wrappedKek: Buffer): Promise<boolean>;
  /** `replaceWrappedKek` for a batch, in one durable transaction; one result per item, in order. */
  replaceWrappedKeks(env: Environment, fromTerm: number, toTerm: number, items: ReadonlyArray<{ name: KeyName; version: KeyVersion; wrappedKek: Buffer }>): Promise<boolean[]>;

  // ---- lifecycle (issue 5) -----------------------------------------------------------------------
  /**
   * Scheduled rotation: appends latest+1 only if the key is active and `lastRotatedAt <= dueBefore`,
   * checked inside the write. Returns null (and writes nothing) when not due.
   */
  appendKeyVersionIfDue(env: Environment, name: KeyName, wrappedKek: Buffer, rootTerm: number, now: Date, dueBefore: Date): Promise<KeyVersion | null>;
  /**
   * Compare-and-set of the key state: moves to `to` only from one of `from`; false when the state moved
   * on meanwhile. `to === 'destroyed'` erases every blob, as setKeyState does. ERR_NOT_FOUND if missing.
   */
  transitionKeyState(env: Environment, name: KeyName, from: readonly KeyState[], to: KeyState, deletionDeadline: Date | null, at: Date): Promise<boolean>;
  countVersionsWrappedUnder(env: Environment, term: number): Promise<number>;
  /** Upsert on (env, fromTerm). */
  putRootRotation(record: RootRotationRecord): Promise<void>;
  /** The most recently started rotation of the environment, if any. */
  getRootRotation(env: Environment): Promise<RootRotationRecord | null>;
  /** Takes or renews the named lease until now + ttlMs when it is free, expired or held by `holder`. */
  acquireLease(name: string, holder: string, now: Date, ttlMs: number): Promise<boolean>;
  /** Gives the lease up if `holder` still holds it. */
  releaseLease(name: string, holder: string): Promise<void>;

  close(): Promise<void>;
}
