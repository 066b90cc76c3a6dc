/**
 * Pieces shared by the KV v2 use cases: the AAD binding of a version, input checks Vault also makes
 * (version lists, custom_metadata limits), and the dependency shape. No I/O of its own.
 */
import { invalidInput } from '../../core/errors.js';
import type { Clock } from '../../core/ports/clock.js';
import type { SecretStore } from '../../core/ports/secret-store.js';
import type { Environment, SecretPath } from '../../core/types.js';
import { encodeBinding, type InternalSealer } from './internal-sealer.js';

export interface KvDeps {
  readonly secrets: SecretStore;
  readonly sealer: InternalSealer;
  readonly clock: Clock;
}

export const KV_BINDING_LABEL = 'keyward/kv/v1';

/** What a sealed version is bound to: a row moved to another env, path or version does not open. */
export function versionBinding(env: Environment, path: SecretPath, version: number): Buffer {
  return encodeBinding(KV_BINDING_LABEL, [env, path, version]);
}

/** Vault's limits on custom_metadata: 64 keys, keys ≤ 128 bytes, values ≤ 512 bytes, strings only. */
export const CUSTOM_METADATA_MAX_KEYS = 64;
export const CUSTOM_METADATA_MAX_KEY_LENGTH = 128;
export const CUSTOM_METADATA_MAX_VALUE_LENGTH = 512;

export function checkCustomMetadata(meta: Readonly<Record<string, unknown>>): Record<string, string> {
  const entries = Object.entries(meta);
  if (entries.length > CUSTOM_METADATA_MAX_KEYS) throw invalidInput(`custom_metadata may hold at most ${CUSTOM_METADATA_MAX_KEYS} keys`);
  const out: Record<string, string> = {};
  for (const [k, v] of entries) {
    if (k.length === 0 || k.length > CUSTOM_METADATA_MAX_KEY_LENGTH) throw invalidInput(`custom_metadata keys must be 1 to ${CUSTOM_METADATA_MAX_KEY_LENGTH} characters`);
    if (typeof v !== 'string') throw invalidInput('custom_metadata values must be strings');
    if (v.length > CUSTOM_METADATA_MAX_VALUE_LENGTH) throw invalidInput(`custom_metadata values must be at most ${CUSTOM_METADATA_MAX_VALUE_LENGTH} characters`);
    out[k] = v;
  }
  return out;
}

/** A non-empty list of positive version numbers (Vault: "no version number provided"). */
export function checkVersionList(versions: readonly number[]): number[] {
  if (versions.length === 0) throw invalidInput('no version number provided');
  for (const v of versions) if (!Number.isSafeInteger(v) || v < 1) throw invalidInput('invalid version number');
  return [...new Set(versions)];
}

/** How many times a write re-seals after losing a race for the next version number. */
export const MAX_WRITE_ATTEMPTS = 8;
