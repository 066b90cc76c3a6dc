/**
 * What the lifecycle scheduler does to one key per tick: destroy it when its deletion deadline has
 * passed, rotate it when its `auto_rotate_period` has run out or its latest version is about to
 * expire (`version_ttl`), and trim versions beyond `max_versions`.
 *
 * Invariants:
 * - Rotation is exactly once per due period across processes: the store re-checks "due" inside the
 *   write that appends (appendKeyVersionIfDue); a loser's freshly generated blob is simply dropped.
 * - Only active keys rotate on schedule; disabled/compromised/pending keys are left to the operator.
 * - Expiry-driven rotation happens `leadMs` before the latest version expires, so encryption never
 *   meets an expired latest version while the scheduler runs.
 * - Retention never trims a version that Keyward's own stored data still uses (UsedVersions, when the
 *   SecretStore provides it); without that answer it never trims at or above min_decryption_version.
 *   With it, reaching the retention target may raise min_decryption_version first (documented in
 *   vault/src/lifecycle/NOTES.md: external ciphertexts under trimmed versions stop decrypting).
 * - Every act is recorded via `audit.record({ type: 'lifecycle' })` before it happens (fail closed).
 */
import crypto from 'node:crypto';
import { isVersionExpired, validateTrim, versionCacheId, versionExpiresAt, minUsableEncryptionVersion } from '../../core/keyring.js';
import type { AuditSink } from '../../core/ports/audit-sink.js';
import type { Clock } from '../../core/ports/clock.js';
import type { Hsm } from '../../core/ports/hsm.js';
import type { KeyStore, TransitKeyRecord } from '../../core/ports/key-store.js';
import type { Environment, KeyName } from '../../core/types.js';
import { forgetAllVersions } from './key-transitions.js';

/** Versions of `keyName` that ciphertexts stored by Keyward itself (KV secrets) still use. */
export type UsedVersions = (env: Environment, keyName: KeyName) => Promise<Set<number>>;

export interface MaintenanceDeps {
  readonly hsm: Pick<Hsm, 'generateWrappedKey' | 'forgetKey'>;
  readonly keys: KeyStore;
  readonly clock: Clock;
  readonly audit: AuditSink;
  readonly usedVersions?: UsedVersions;
  /** Rotate this long before the latest version expires (default: 2 scheduler ticks). */
  readonly expiryLeadMs: number;
}

export type MaintenanceAction = 'destroyed' | 'rotated' | 'trimmed';

export async function recordLifecycle(audit: AuditSink, env: Environment, operation: string, key: TransitKeyRecord, details: Record<string, unknown>, keyVersion?: number): Promise<void> {
  await audit.record({
    type: 'lifecycle',
    time: new Date(),
    requestId: `lifecycle-${crypto.randomUUID()}`,
    env,
    operation,
    path: `transit/keys/${key.name}`,
    keyName: key.name,
    ...(keyVersion !== undefined ? { keyVersion } : {}),
    identity: { subject: 'keyward-scheduler', authMethod: 'internal' },
    details,
  });
}

/** The latest `lastRotatedAt` that makes the key due now, or null if nothing schedules it. */
export function rotationDueBefore(key: TransitKeyRecord, now: Date, leadMs: number): Date | null {
  const candidates: number[] = [];
  if (key.config.autoRotatePeriodSeconds > 0) candidates.push(now.getTime() - key.config.autoRotatePeriodSeconds * 1000);
  // lastRotatedAt is the creation time of the latest version (append sets both in one write).
  if (key.config.versionTtlSeconds > 0) candidates.push(now.getTime() + leadMs - key.config.versionTtlSeconds * 1000);
  return candidates.length === 0 ? null : new Date(Math.max(...candidates));
}

/** Lowest version retention may keep, or null when nothing is to be trimmed. */
export async function retentionTarget(key: TransitKeyRecord, usedVersions: UsedVersions | undefined): Promise<{ minAvailable: number; raiseMinDecryption: boolean } | null> {
  const max = key.config.maxVersions;
  if (max <= 0) return null;
  let target = key.latestVersion - max + 1;
  if (target <= key.minAvailableVersion) return null;
  if (key.config.minEncryptionVersion !== 0) target = Math.min(target, key.config.minEncryptionVersion);
  if (!usedVersions) {
    target = Math.min(target, key.config.minDecryptionVersion);
  } else {
    const used = await usedVersions(key.env, key.name);
    for (const v of used) if (v >= key.minAvailableVersion) target = Math.min(target, v);
  }
  if (target <= key.minAvailableVersion) return null;
  return { minAvailable: target, raiseMinDecryption: target > key.config.minDecryptionVersion };
}

export async function maintainKey(deps: MaintenanceDeps, env: Environment, name: KeyName): Promise<MaintenanceAction[]> {
  const done: MaintenanceAction[] = [];
  const key = await deps.keys.getKey(env, name);
  if (!key || key.state === 'destroyed') return done;
  const now = deps.clock.now();

  if (key.state === 'pending_deletion') {
    if (key.deletionDeadline && key.deletionDeadline.getTime() <= now.getTime()) {
      await recordLifecycle(deps.audit, env, 'lifecycle.destroy', key, { from: 'pending_deletion', to: 'destroyed', deadline: key.deletionDeadline.toISOString() });
      if (await deps.keys.transitionKeyState(env, name, ['pending_deletion'], 'destroyed', null, now)) {
        await forgetAllVersions(deps.hsm, key);
        done.push('destroyed');
      }
    }
    return done;
  }

  if (key.state === 'active') {
    const dueBefore = rotationDueBefore(key, now, deps.expiryLeadMs);
    if (dueBefore && key.lastRotatedAt.getTime() <= dueBefore.getTime()) {
      const root = await deps.keys.getActiveRoot(env);
      if (root) {
        const reason = key.config.autoRotatePeriodSeconds > 0 && key.lastRotatedAt.getTime() <= now.getTime() - key.config.autoRotatePeriodSeconds * 1000 ? 'auto_rotate_period' : 'version_ttl';
        await recordLifecycle(deps.audit, env, 'lifecycle.rotate', key, { reason, expected_version: key.latestVersion + 1 }, key.latestVersion + 1);
        const wrappedKek = Buffer.from(await deps.hsm.generateWrappedKey({ env, term: root.term }));
        if ((await deps.keys.appendKeyVersionIfDue(env, name, wrappedKek, root.term, now, dueBefore)) !== null) done.push('rotated');
      }
    }
  }

  const current = done.includes('rotated') ? ((await deps.keys.getKey(env, name)) ?? key) : key;
  const target = await retentionTarget(current, deps.usedVersions);
  if (target) {
    await recordLifecycle(deps.audit, env, 'lifecycle.trim', current, { min_available_version: target.minAvailable, max_versions: current.config.maxVersions, raised_min_decryption_version: target.raiseMinDecryption });
    let k = current;
    if (target.raiseMinDecryption) k = await deps.keys.updateKeyConfig(env, name, { minDecryptionVersion: target.minAvailable }, now);
    validateTrim(k, target.minAvailable);
    await deps.keys.trimVersions(env, name, target.minAvailable, now);
    for (const v of k.versions) if (v.version < target.minAvailable) await deps.hsm.forgetKey(versionCacheId(env, name, v.version, v.rootTerm));
    done.push('trimmed');
  }
  return done;
}

export interface ExpiringVersion {
  readonly env: Environment;
  readonly key: KeyName;
  readonly version: number;
  readonly expiresAt: Date;
  readonly expired: boolean;
  readonly latest: boolean;
}

export type ExpiringVersions = (now: Date, horizonMs: number) => Promise<ExpiringVersion[]>;

/**
 * Versions that can encrypt and expire within `horizonMs` (plus an already expired latest version,
 * which means encryption with that key fails until it rotates). For health, metrics and reports.
 */
export function makeExpiringVersions(deps: { readonly keys: Pick<KeyStore, 'listKeys' | 'getKey'>; readonly environments: readonly Environment[] }): ExpiringVersions {
  return async (now, horizonMs) => {
    const out: ExpiringVersion[] = [];
    for (const env of deps.environments) {
      for (const name of await deps.keys.listKeys(env)) {
        const key = await deps.keys.getKey(env, name);
        if (!key || key.state !== 'active' || key.config.versionTtlSeconds <= 0) continue;
        for (const v of key.versions) {
          if (v.state !== 'active' || v.version < minUsableEncryptionVersion(key)) continue;
          const at = versionExpiresAt(key, v);
          if (!at || at.getTime() > now.getTime() + horizonMs) continue;
          const expired = isVersionExpired(key, v, now);
          const latest = v.version === key.latestVersion;
          if (expired && !latest) continue;
          out.push({ env, key: name, version: v.version, expiresAt: at, expired, latest });
        }
      }
    }
    return out;
  };
}
