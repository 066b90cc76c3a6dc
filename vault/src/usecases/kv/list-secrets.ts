/**
 * listSecrets: the direct children of a folder (Vault `LIST secret/metadata/:path`): leaf names and
 * sub-folders with a trailing '/' (`["a", "b/"]`). An empty listing is a bare 404, as in Vault.
 */
import { notFound } from '../../core/errors.js';
import type { Environment, SecretPath } from '../../core/types.js';
import type { KvDeps } from './shared.js';

export type ListSecrets = (input: { readonly env: Environment; readonly folder: SecretPath | null }) => Promise<string[]>;

export function makeListSecrets(deps: Pick<KvDeps, 'secrets'>): ListSecrets {
  return async ({ env, folder }) => {
    const keys = await deps.secrets.listChildren(env, folder === null ? '' : `${folder}/`);
    if (keys.length === 0) throw notFound('');
    return keys;
  };
}
