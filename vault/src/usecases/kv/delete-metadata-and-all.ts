/** deleteMetadataAndAll: remove a secret's metadata and every version, material included (Vault `DELETE secret/metadata/:path`). */
import type { Environment, SecretPath } from '../../core/types.js';
import type { KvDeps } from './shared.js';

export type DeleteMetadataAndAll = (input: { readonly env: Environment; readonly path: SecretPath }) => Promise<void>;

export function makeDeleteMetadataAndAll(deps: Pick<KvDeps, 'secrets'>): DeleteMetadataAndAll {
  return async ({ env, path }) => {
    await deps.secrets.deleteSecret(env, path);
  };
}
