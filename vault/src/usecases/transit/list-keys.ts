/** listKeys: the names of the environment's transit keys, sorted; an empty list is a bare 404, as in Vault. */
import { notFound } from '../../core/errors.js';
import type { KeyStore } from '../../core/ports/key-store.js';
import type { Environment, KeyName } from '../../core/types.js';

export type ListKeys = (input: { readonly env: Environment }) => Promise<KeyName[]>;

export function makeListKeys(deps: { readonly keys: Pick<KeyStore, 'listKeys'> }): ListKeys {
  return async ({ env }) => {
    const names = await deps.keys.listKeys(env);
    if (names.length === 0) throw notFound('');
    return [...names].sort();
  };
}
