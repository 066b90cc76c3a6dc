/** readMetadata: a secret's metadata and version list (Vault `GET secret/metadata/:path`); missing is a bare 404. */
import { notFound } from '../../core/errors.js';
import type { KvMetadataWithVersions } from '../../core/ports/secret-store.js';
import type { Environment, SecretPath } from '../../core/types.js';
import type { KvDeps } from './shared.js';

export type ReadMetadata = (input: { readonly env: Environment; readonly path: SecretPath }) => Promise<KvMetadataWithVersions>;

export function makeReadMetadata(deps: Pick<KvDeps, 'secrets'>): ReadMetadata {
  return async ({ env, path }) => {
    const meta = await deps.secrets.getMetadata(env, path);
    if (!meta) throw notFound('');
    return meta;
  };
}
