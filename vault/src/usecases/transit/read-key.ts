/** readKey: the key record for `GET transit/keys/:name`; a missing key is a bare 404, as in Vault. */
import { notFound } from '../../core/errors.js';
import type { KeyStore, TransitKeyRecord } from '../../core/ports/key-store.js';
import type { Environment, KeyName } from '../../core/types.js';

export type ReadKey = (input: { readonly env: Environment; readonly name: KeyName }) => Promise<TransitKeyRecord>;

export function makeReadKey(deps: { readonly keys: Pick<KeyStore, 'getKey'> }): ReadKey {
  return async ({ env, name }) => {
    const key = await deps.keys.getKey(env, name);
    if (!key) throw notFound('');
    return key;
  };
}
