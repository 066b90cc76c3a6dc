/**
 * updateKeyConfig: change a key's version bounds, deletion flag and auto-rotation period. All rules are
 * keyring.validateConfigPatch; this use case only reads, validates and writes.
 */
import { assertKeyAllows, validateConfigPatch, type ConfigPatch } from '../../core/keyring.js';
import type { Clock } from '../../core/ports/clock.js';
import type { KeyStore, TransitKeyRecord } from '../../core/ports/key-store.js';
import type { Environment, KeyName } from '../../core/types.js';
import { getKeyForWrite } from './shared.js';

export interface UpdateKeyConfigInput {
  readonly env: Environment;
  readonly name: KeyName;
  readonly patch: ConfigPatch;
}

export type UpdateKeyConfig = (input: UpdateKeyConfigInput) => Promise<TransitKeyRecord>;

export function makeUpdateKeyConfig(deps: { readonly keys: Pick<KeyStore, 'getKey' | 'updateKeyConfig'>; readonly clock: Clock }): UpdateKeyConfig {
  return async ({ env, name, patch }) => {
    const key = await getKeyForWrite(deps.keys, env, name);
    assertKeyAllows(key, 'configure');
    const valid = validateConfigPatch(key, patch);
    if (Object.keys(valid).length === 0) return key;
    return deps.keys.updateKeyConfig(env, name, valid, deps.clock.now());
  };
}
