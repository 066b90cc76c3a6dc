/**
 * trimKey: permanently erase the material of versions below `min_available_version` (Vault's trim).
 * Rules in keyring.validateTrim; the HSM is told to drop any loaded object of a trimmed version.
 */
import { assertKeyAllows, validateTrim, versionCacheId } from '../../core/keyring.js';
import type { Clock } from '../../core/ports/clock.js';
import type { Hsm } from '../../core/ports/hsm.js';
import type { KeyStore, TransitKeyRecord } from '../../core/ports/key-store.js';
import type { Environment, KeyName } from '../../core/types.js';
import { getKeyForWrite } from './shared.js';

export interface TrimKeyInput {
  readonly env: Environment;
  readonly name: KeyName;
  readonly minAvailableVersion: number;
}

export type TrimKey = (input: TrimKeyInput) => Promise<TransitKeyRecord>;

export interface TrimKeyDeps {
  readonly hsm: Pick<Hsm, 'forgetKey'>;
  readonly keys: Pick<KeyStore, 'getKey' | 'trimVersions'>;
  readonly clock: Clock;
}

export function makeTrimKey(deps: TrimKeyDeps): TrimKey {
  return async ({ env, name, minAvailableVersion }) => {
    const key = await getKeyForWrite(deps.keys, env, name);
    assertKeyAllows(key, 'trim');
    validateTrim(key, minAvailableVersion);
    if (minAvailableVersion === key.minAvailableVersion) return key;
    await deps.keys.trimVersions(env, name, minAvailableVersion, deps.clock.now());
    for (const v of key.versions) {
      if (v.version < minAvailableVersion) await deps.hsm.forgetKey(versionCacheId(env, name, v.version, v.rootTerm));
    }
    return (await deps.keys.getKey(env, name)) ?? key;
  };
}
