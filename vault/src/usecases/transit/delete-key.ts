/**
 * deleteKey: remove a key and all its versions, only when `deletion_allowed` is set (Vault answers 400
 * "deletion is not allowed for this key" otherwise, and 400 for a missing key).
 */
import { invalidInput } from '../../core/errors.js';
import { assertDeletable, versionCacheId } from '../../core/keyring.js';
import type { Hsm } from '../../core/ports/hsm.js';
import type { KeyStore } from '../../core/ports/key-store.js';
import type { Environment, KeyName } from '../../core/types.js';

export type DeleteKey = (input: { readonly env: Environment; readonly name: KeyName }) => Promise<void>;

export function makeDeleteKey(deps: { readonly hsm: Pick<Hsm, 'forgetKey'>; readonly keys: Pick<KeyStore, 'getKey' | 'deleteKey'> }): DeleteKey {
  return async ({ env, name }) => {
    const key = await deps.keys.getKey(env, name);
    if (!key) throw invalidInput('could not delete key; not found');
    assertDeletable(key);
    if (!(await deps.keys.deleteKey(env, name))) throw invalidInput('could not delete key; not found');
    for (const v of key.versions) await deps.hsm.forgetKey(versionCacheId(env, name, v.version, v.rootTerm));
  };
}
