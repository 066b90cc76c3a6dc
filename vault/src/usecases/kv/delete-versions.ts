/** deleteVersions: soft-delete listed versions (Vault `POST secret/delete/:path { versions }`); the material stays, undelete restores. */
import type { Environment, SecretPath } from '../../core/types.js';
import { checkVersionList, type KvDeps } from './shared.js';

export type DeleteVersions = (input: { readonly env: Environment; readonly path: SecretPath; readonly versions: readonly number[] }) => Promise<void>;

export function makeDeleteVersions(deps: Pick<KvDeps, 'secrets' | 'clock'>): DeleteVersions {
  return async ({ env, path, versions }) => deps.secrets.deleteVersions(env, path, checkVersionList(versions), deps.clock.now());
}
