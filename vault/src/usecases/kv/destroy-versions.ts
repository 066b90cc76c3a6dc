/** destroyVersions: erase the sealed material of listed versions for good (Vault `PUT secret/destroy/:path`). */
import type { Environment, SecretPath } from '../../core/types.js';
import { checkVersionList, type KvDeps } from './shared.js';

export type DestroyVersions = (input: { readonly env: Environment; readonly path: SecretPath; readonly versions: readonly number[] }) => Promise<void>;

export function makeDestroyVersions(deps: Pick<KvDeps, 'secrets' | 'clock'>): DestroyVersions {
  return async ({ env, path, versions }) => deps.secrets.destroyVersions(env, path, checkVersionList(versions), deps.clock.now());
}
