/** deleteLatest: soft-delete the current version (Vault `DELETE secret/data/:path`); a missing secret is a no-op, as in Vault. */
import type { Environment, SecretPath } from '../../core/types.js';
import type { KvDeps } from './shared.js';

export type DeleteLatest = (input: { readonly env: Environment; readonly path: SecretPath }) => Promise<void>;

export function makeDeleteLatest(deps: Pick<KvDeps, 'secrets' | 'clock'>): DeleteLatest {
  return async ({ env, path }) => deps.secrets.deleteVersions(env, path, 'latest', deps.clock.now());
}
