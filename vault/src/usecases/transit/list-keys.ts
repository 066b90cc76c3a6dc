/** listKeys: the names of the environment's transit keys, sorted; an empty list is a bare 404, as in Vault. */
import { notFound } from '../../core/errors.js';
import type { KeyStore } from '../../core/ports/key-store.js';
import { isReservedKeyName, type Environment, type KeyName } from '../../core/types.js';

export type ListKeys = (input: { readonly env: Environment }) => Promise<KeyName[]>;

export function makeListKeys(deps: { readonly keys: Pick<KeyStore, 'listKeys'> }): ListKeys {
  return async ({ env }) => {
    // Internal keys (`_kv`, `_wrap`) seal secrets and wrapped responses; they are not the caller's.
    const names = (await deps.keys.listKeys(env)).filter((n) => !isReservedKeyName(n));
    if (names.length === 0) throw notFound('');
    return [...names].sort();
  };
}
