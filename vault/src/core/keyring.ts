/**
 * Keyring rules: what a transit key (a TransitKeyRecord, Vault's `Policy`) allows. Pure functions, no
 * I/O: use cases read the record, ask these rules, then act. Every state/version rule lives here so the
 * lifecycle work extends one table, not the use cases.
 *
 * Invariants (each tested in test/unit/core/keyring.test.ts):
 * - Encryption uses the latest version, or an explicit `key_version` with
 *   max(min_encryption_version, min_decryption_version, min_available_version) ≤ v ≤ latest, whose
 *   material exists and whose state is active.
 * - Decryption needs min_decryption_version ≤ v ≤ latest, material present, version state active
 *   (compromised versions open only for rewrap), and a key state that allows the operation.
 * - Config: 1 ≤ min_decryption_version ≤ latest and ≥ min_available_version; min_encryption_version
 *   is 0 (latest) or in [min_decryption_version, latest]; exporting and plaintext backup are not offered.
 * - Trim: min_available_version only rises, and stays ≤ min_decryption_version and ≤
 *   min_encryption_version when that is set.
 * - Deletion only when deletion_allowed.
 * - A version's cache id names env, key, version and root term, so a re-wrapped blob gets a new id.
 * - Lifecycle transitions of keys and versions come from one table each (KEY_STATE_TRANSITIONS,
 *   VERSION_STATE_TRANSITIONS); anything not listed is ERR_CONFLICT. Destroyed is final.
 * - A version whose `version_ttl` has run out no longer encrypts (it still decrypts).
 * - The latest version cannot be destroyed (encryption would have nothing to use): rotate first.
 */
import { KeywardError, conflict, decryptionFailed, invalidInput } from './errors.js';
import type { WrappedKeyRef } from './ports/hsm.js';
import type { KeyConfig, KeyState, KeyVersionRecord, TransitKeyRecord, VersionState } from './ports/key-store.js';
import type { Environment, KeyName } from './types.js';

export type KeyOperation = 'encrypt' | 'decrypt' | 'rewrap' | 'rotate' | 'configure' | 'trim';

/** Which operations each key state allows (deletion is governed by deletion_allowed alone). */
export const KEY_STATE_RULES: Readonly<Record<KeyState, ReadonlySet<KeyOperation>>> = {
  active: new Set<KeyOperation>(['encrypt', 'decrypt', 'rewrap', 'rotate', 'configure', 'trim']),
  disabled: new Set<KeyOperation>(['rotate', 'configure', 'trim']),
  // Remedy for a compromise: rotate, then move data off the old versions with rewrap only.
  compromised: new Set<KeyOperation>(['rewrap', 'rotate', 'configure', 'trim']),
  // Callers may still read their data out while the deletion deadline runs.
  pending_deletion: new Set<KeyOperation>(['decrypt']),
  destroyed: new Set<KeyOperation>(),
};

export function assertKeyAllows(key: TransitKeyRecord, op: KeyOperation): void {
  if (!KEY_STATE_RULES[key.state].has(op)) throw conflict(`key is ${key.state.replace('_', ' ')}; ${op} is not allowed`);
}

export const MIN_AUTO_ROTATE_PERIOD_SECONDS = 3600;

// ---- lifecycle transitions (issue 5) --------------------------------------------------------------

export type KeyLifecycleAction = 'disable' | 'enable' | 'compromise' | 'schedule_deletion' | 'cancel_deletion' | 'destroy';
export type VersionLifecycleAction = 'disable' | 'enable' | 'compromise' | 'destroy';

interface Transition<S extends string> {
  readonly from: ReadonlySet<S>;
  readonly to: S;
}

/**
 * Which key states each lifecycle action may start from, and where it leads. Cancelling a deletion
 * leaves the key disabled (as AWS KMS does), so using it again is a second, deliberate `enable`.
 * A compromised key is never re-enabled directly: its remedy is rotate + rewrap, then deletion.
 */
export const KEY_STATE_TRANSITIONS: Readonly<Record<KeyLifecycleAction, Transition<KeyState>>> = {
  disable: { from: new Set<KeyState>(['active']), to: 'disabled' },
  enable: { from: new Set<KeyState>(['disabled']), to: 'active' },
  compromise: { from: new Set<KeyState>(['active', 'disabled']), to: 'compromised' },
  schedule_deletion: { from: new Set<KeyState>(['active', 'disabled', 'compromised']), to: 'pending_deletion' },
  cancel_deletion: { from: new Set<KeyState>(['pending_deletion']), to: 'disabled' },
  // Immediate destruction (sudo) from any live state; the sweep destroys from pending_deletion.
  destroy: { from: new Set<KeyState>(['active', 'disabled', 'compromised', 'pending_deletion']), to: 'destroyed' },
};

export const VERSION_STATE_TRANSITIONS: Readonly<Record<VersionLifecycleAction, Transition<VersionState>>> = {
  disable: { from: new Set<VersionState>(['active']), to: 'disabled' },
  enable: { from: new Set<VersionState>(['disabled']), to: 'active' },
  compromise: { from: new Set<VersionState>(['active', 'disabled']), to: 'compromised' },
  destroy: { from: new Set<VersionState>(['active', 'disabled', 'compromised']), to: 'destroyed' },
};

const words = (s: string): string => s.replace(/_/g, ' ');

/** The state `action` leads to from the key's current state, or ERR_CONFLICT saying why not. */
export function planKeyTransition(key: Pick<TransitKeyRecord, 'state'>, action: KeyLifecycleAction): KeyState {
  const t = KEY_STATE_TRANSITIONS[action];
  if (!t.from.has(key.state)) throw conflict(`cannot ${words(action)} a key that is ${words(key.state)}`);
  return t.to;
}

/** The state `action` leads to for one version, or ERR_CONFLICT / ERR_INVALID_INPUT saying why not. */
export function planVersionTransition(key: TransitKeyRecord, version: number, action: VersionLifecycleAction): VersionState {
  if (key.state === 'destroyed') throw conflict('key is destroyed');
  if (!Number.isSafeInteger(version) || version < 1 || version > key.latestVersion) throw invalidInput('key version not found');
  const v = findVersion(key, version);
  if (!v) throw conflict('key version has been trimmed');
  const t = VERSION_STATE_TRANSITIONS[action];
  if (!t.from.has(v.state)) throw conflict(`cannot ${words(action)} key version ${version}: it is ${words(v.state)}`);
  if (action === 'destroy' && version === key.latestVersion) throw conflict('cannot destroy the latest key version; rotate the key first');
  return t.to;
}

export const MIN_PENDING_WINDOW_DAYS = 7;
export const MAX_PENDING_WINDOW_DAYS = 30;
export const DEFAULT_PENDING_WINDOW_DAYS = 30;

/** AWS KMS's deletion window: 7–30 days, default 30. */
export function validatePendingWindowDays(days: number | undefined): number {
  const d = days ?? DEFAULT_PENDING_WINDOW_DAYS;
  if (!Number.isSafeInteger(d) || d < MIN_PENDING_WINDOW_DAYS || d > MAX_PENDING_WINDOW_DAYS) {
    throw invalidInput(`pending_window_days must be between ${MIN_PENDING_WINDOW_DAYS} and ${MAX_PENDING_WINDOW_DAYS}`);
  }
  return d;
}

/** When a version stops encrypting (`version_ttl`), or null if the key sets no TTL. */
export function versionExpiresAt(key: Pick<TransitKeyRecord, 'config'>, v: Pick<KeyVersionRecord, 'createdAt'>): Date | null {
  if (key.config.versionTtlSeconds <= 0) return null;
  return new Date(v.createdAt.getTime() + key.config.versionTtlSeconds * 1000);
}

export function isVersionExpired(key: Pick<TransitKeyRecord, 'config'>, v: Pick<KeyVersionRecord, 'createdAt'>, now: Date): boolean {
  const at = versionExpiresAt(key, v);
  return at !== null && at.getTime() <= now.getTime();
}

export function versionCacheId(env: Environment, name: KeyName, version: number, rootTerm: number): string {
  return `${env}/${name}/${version}@t${rootTerm}`;
}

export function wrappedKeyRef(key: TransitKeyRecord, v: KeyVersionRecord): WrappedKeyRef {
  if (v.wrappedKek === null) throw new KeywardError('ERR_INTERNAL', 'key version material is destroyed');
  return { cacheId: versionCacheId(key.env, key.name, v.version, v.rootTerm), root: { env: key.env, term: v.rootTerm }, wrappedKek: v.wrappedKek };
}

function findVersion(key: TransitKeyRecord, version: number): KeyVersionRecord | undefined {
  // versions are ascending and contiguous from min_available_version: index directly, then verify.
  const guess = key.versions[version - key.minAvailableVersion];
  if (guess?.version === version) return guess;
  return key.versions.find((v) => v.version === version);
}

/** Lowest version an explicit encryption request may name. */
export function minUsableEncryptionVersion(key: TransitKeyRecord): number {
  return Math.max(key.config.minEncryptionVersion, key.config.minDecryptionVersion, key.minAvailableVersion, 1);
}

/**
 * The version to encrypt with. `requested` 0 or undefined means latest, as in Vault. `now` defaults to
 * the wall clock so every caller enforces `version_ttl`; tests pass their own.
 */
export function selectEncryptionVersion(key: TransitKeyRecord, requested: number | undefined, now: Date = new Date()): KeyVersionRecord {
  const wanted = requested === undefined || requested === 0 ? key.latestVersion : requested;
  if (!Number.isSafeInteger(wanted) || wanted < 0) throw invalidInput('invalid key version');
  if (wanted > key.latestVersion) throw invalidInput('requested version for encryption is higher than the latest key version');
  if (wanted < minUsableEncryptionVersion(key)) throw invalidInput('requested version for encryption is less than the minimum encryption key version');
  const v = findVersion(key, wanted);
  if (!v || v.wrappedKek === null || v.state === 'destroyed') throw conflict('key version is destroyed');
  if (v.state !== 'active') throw conflict(`key version is ${v.state}; it cannot encrypt`);
  if (isVersionExpired(key, v, now)) throw conflict('key version has expired; it cannot encrypt (rotate the key)');
  return v;
}

/** The version a ciphertext names, if this key may open it for `purpose`. */
export function selectDecryptionVersion(key: TransitKeyRecord, version: number, purpose: 'decrypt' | 'rewrap'): KeyVersionRecord {
  // A version the key never had is a forged or foreign ciphertext: same answer as a bad tag.
  if (!Number.isSafeInteger(version) || version < 1 || version > key.latestVersion) throw decryptionFailed();
  if (version < key.config.minDecryptionVersion || version < key.minAvailableVersion) {
    throw invalidInput('ciphertext version is disallowed by policy (too old)');
  }
  const v = findVersion(key, version);
  if (!v || v.wrappedKek === null || v.state === 'destroyed') throw conflict('key version is destroyed');
  if (v.state === 'active') return v;
  if (v.state === 'compromised' && purpose === 'rewrap') return v;
  if (v.state === 'compromised') throw conflict('key version is compromised; its ciphertexts can only be rewrapped');
  throw conflict(`key version is ${v.state}; it cannot decrypt`);
}

export interface ConfigPatch {
  readonly minDecryptionVersion?: number;
  readonly minEncryptionVersion?: number;
  readonly deletionAllowed?: boolean;
  readonly exportable?: boolean;
  readonly allowPlaintextBackup?: boolean;
  readonly autoRotatePeriodSeconds?: number;
  /** Retention: keep at most this many versions (0 = unlimited); trimmed by the lifecycle scheduler. */
  readonly maxVersions?: number;
  /** A version stops encrypting this long after its creation (0 = never). */
  readonly versionTtlSeconds?: number;
}

export const MIN_VERSION_TTL_SECONDS = 3600;
export const MAX_MAX_VERSIONS = 10_000;

export function validateVersionTtl(seconds: number): number {
  if (!Number.isSafeInteger(seconds) || seconds < 0) throw invalidInput('invalid version_ttl');
  if (seconds !== 0 && seconds < MIN_VERSION_TTL_SECONDS) throw invalidInput('version_ttl must be 0 to disable or at least an hour');
  return seconds;
}

export function validateMaxVersions(n: number): number {
  if (!Number.isSafeInteger(n) || n < 0 || n > MAX_MAX_VERSIONS) throw invalidInput(`max_versions must be between 0 (unlimited) and ${MAX_MAX_VERSIONS}`);
  return n;
}

export function validateAutoRotatePeriod(seconds: number): number {
  if (!Number.isSafeInteger(seconds) || seconds < 0) throw invalidInput('invalid auto_rotate_period');
  if (seconds !== 0 && seconds < MIN_AUTO_ROTATE_PERIOD_SECONDS) {
    throw invalidInput('auto_rotate_period must be 0 to disable or at least an hour');
  }
  return seconds;
}

/** Checks a config change against the key and returns the patch to store (only changed fields). */
export function validateConfigPatch(key: TransitKeyRecord, patch: ConfigPatch): Partial<KeyConfig> {
  const out: { -readonly [K in keyof KeyConfig]?: KeyConfig[K] } = {};
  if (patch.exportable === true) throw new KeywardError('ERR_UNSUPPORTED', 'exportable keys are not offered: key material never leaves the HSM');
  if (patch.allowPlaintextBackup === true) throw new KeywardError('ERR_UNSUPPORTED', 'plaintext backup is not offered: key material never leaves the HSM');
  const minDec = patch.minDecryptionVersion ?? key.config.minDecryptionVersion;
  const minEnc = patch.minEncryptionVersion ?? key.config.minEncryptionVersion;
  if (!Number.isSafeInteger(minDec) || minDec < 1) throw invalidInput('min_decryption_version must be at least 1');
  if (minDec > key.latestVersion) throw invalidInput(`cannot set min_decryption_version to ${minDec}: the latest key version is ${key.latestVersion}`);
  if (minDec < key.minAvailableVersion) {
    throw invalidInput(`cannot set min_decryption_version to ${minDec}: versions below ${key.minAvailableVersion} have been trimmed`);
  }
  if (!Number.isSafeInteger(minEnc) || minEnc < 0) throw invalidInput('min_encryption_version must be 0 or positive');
  if (minEnc > key.latestVersion) throw invalidInput(`cannot set min_encryption_version to ${minEnc}: the latest key version is ${key.latestVersion}`);
  if (minEnc !== 0 && minEnc < minDec) throw invalidInput('min_encryption_version must not be less than min_decryption_version');
  if (patch.minDecryptionVersion !== undefined) out.minDecryptionVersion = minDec;
  if (patch.minEncryptionVersion !== undefined) out.minEncryptionVersion = minEnc;
  if (patch.deletionAllowed !== undefined) out.deletionAllowed = patch.deletionAllowed;
  if (patch.autoRotatePeriodSeconds !== undefined) out.autoRotatePeriodSeconds = validateAutoRotatePeriod(patch.autoRotatePeriodSeconds);
  if (patch.maxVersions !== undefined) out.maxVersions = validateMaxVersions(patch.maxVersions);
  if (patch.versionTtlSeconds !== undefined) out.versionTtlSeconds = validateVersionTtl(patch.versionTtlSeconds);
  return out;
}

export function validateTrim(key: TransitKeyRecord, minAvailableVersion: number): void {
  if (!Number.isSafeInteger(minAvailableVersion) || minAvailableVersion < 1) throw invalidInput('min_available_version must be a positive integer');
  if (minAvailableVersion < key.minAvailableVersion) throw invalidInput('min_available_version cannot be decreased');
  if (minAvailableVersion > key.config.minDecryptionVersion) throw invalidInput('min_available_version cannot be greater than min_decryption_version');
  if (key.config.minEncryptionVersion !== 0 && minAvailableVersion > key.config.minEncryptionVersion) {
    throw invalidInput('min_available_version cannot be greater than min_encryption_version');
  }
}

export function assertDeletable(key: TransitKeyRecord): void {
  if (!key.config.deletionAllowed) throw invalidInput('deletion is not allowed for this key');
}
