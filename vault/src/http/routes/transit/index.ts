/** The transit route group: Vault Transit-compatible endpoints over the transit use cases. */
import type { TransitUseCases } from '../../../usecases/transit/index.js';
import type { RouteSpec } from '../../route-spec.js';
import { dataKeyRoutes } from './datakey.js';
import { decryptRoutes } from './decrypt.js';
import { encryptRoutes } from './encrypt.js';
import { keyAdminRoutes } from './key-admin.js';
import { keyRoutes } from './keys.js';
import { transitLifecycleRoutes, type TransitLifecycleDeps } from './lifecycle.js';
import { rewrapRoutes } from './rewrap.js';

export type TransitRouteDeps = TransitUseCases & { readonly lifecycle?: Omit<TransitLifecycleDeps, 'readKey'> };

export function transitRoutes(deps: TransitRouteDeps): RouteSpec[] {
  // With the lifecycle wired, the config route also takes max_versions and version_ttl.
  const keyAdmin = keyAdminRoutes(deps, { lifecycle: deps.lifecycle !== undefined });
  const base = [...keyRoutes(deps), ...keyAdmin, ...encryptRoutes(deps), ...decryptRoutes(deps), ...rewrapRoutes(deps), ...dataKeyRoutes(deps)];
  if (!deps.lifecycle) return base;
  // With the lifecycle wired, its DELETE (pending deletion) replaces the plain Vault one of the same
  // method and path.
  const lifecycle = transitLifecycleRoutes({ ...deps.lifecycle, readKey: deps.readKey });
  const replaced = new Set(lifecycle.map((r) => `${String(r.method)} ${r.path}`));
  return [...base.filter((r) => !replaced.has(`${String(r.method)} ${r.path}`)), ...lifecycle];
}
