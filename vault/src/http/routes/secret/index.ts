/** The KV v2 route group (Vault's `secret/` engine): `kvRoutes(useCases)`, mounted below /v1. */
import type { KvUseCases } from '../../../usecases/kv/index.js';
import type { RouteSpec } from '../../route-spec.js';
import { configRoutes } from './config.js';
import { dataRoutes } from './data.js';
import { metadataRoutes } from './metadata.js';
import { versionRoutes } from './versions.js';

export type KvRouteDeps = KvUseCases;

export function kvRoutes(deps: KvRouteDeps): RouteSpec[] {
  return [...configRoutes(deps), ...dataRoutes(deps), ...versionRoutes(deps), ...metadataRoutes(deps)];
}
