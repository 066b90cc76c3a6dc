/** readKvConfig / writeKvConfig: the engine-wide defaults (Vault `secret/config`): max_versions, cas_required, delete_version_after. */
import { invalidInput } from '../../core/errors.js';
import type { KvEngineConfig } from '../../core/ports/secret-store.js';
import type { Environment } from '../../core/types.js';
import type { KvDeps } from './shared.js';

export type ReadKvConfig = (input: { readonly env: Environment }) => Promise<KvEngineConfig>;
export type WriteKvConfig = (input: { readonly env: Environment } & Partial<KvEngineConfig>) => Promise<KvEngineConfig>;

export function makeReadKvConfig(deps: Pick<KvDeps, 'secrets'>): ReadKvConfig {
  return async ({ env }) => deps.secrets.getKvConfig(env);
}

export function makeWriteKvConfig(deps: Pick<KvDeps, 'secrets' | 'clock'>): WriteKvConfig {
  return async ({ env, ...patch }) => {
    const current = await deps.secrets.getKvConfig(env);
    const next: KvEngineConfig = {
      maxVersions: patch.maxVersions ?? current.maxVersions,
      casRequired: patch.casRequired ?? current.casRequired,
      deleteVersionAfterSeconds: patch.deleteVersionAfterSeconds ?? current.deleteVersionAfterSeconds,
    };
    if (!Number.isSafeInteger(next.maxVersions) || next.maxVersions < 0) throw invalidInput('max_versions must be a non-negative integer');
    if (!Number.isSafeInteger(next.deleteVersionAfterSeconds) || next.deleteVersionAfterSeconds < 0) throw invalidInput('invalid delete_version_after');
    await deps.secrets.putKvConfig(env, next, deps.clock.now());
    return next;
  };
}
