/** undeleteVersions: clear the deletion time of listed versions (Vault `POST secret/undelete/:path`); destroyed versions stay destroyed. */
import type { Environment, SecretPath } from '../../core/types.js';
import { checkVersionList, type KvDeps } from './shared.js';

export type UndeleteVersions = (input: { readonly env: Environment; readonly path: SecretPath; readonly versions: readonly number[] }) => Promise<void>;

export function makeUndeleteVersions(deps: Pick<KvDeps, 'secrets' | 'clock'>): UndeleteVersions {
  return async ({ env, path, versions }) => deps.secrets.undeleteVersions(env, path, checkVersionList(versions), deps.clock.now());
}
