/** The transit route group: Vault Transit-compatible endpoints over the transit use cases. */
import type { TransitUseCases } from '../../../usecases/transit/index.js';
import type { RouteSpec } from '../../route-spec.js';
import { dataKeyRoutes } from './datakey.js';
import { decryptRoutes } from './decrypt.js';
import { encryptRoutes } from './encrypt.js';
import { keyAdminRoutes } from './key-admin.js';
import { keyRoutes } from './keys.js';
import { rewrapRoutes } from './rewrap.js';

export type TransitRouteDeps = TransitUseCases;

export function transitRoutes(deps: TransitRouteDeps): RouteSpec[] {
  return [...keyRoutes(deps), ...keyAdminRoutes(deps), ...encryptRoutes(deps), ...decryptRoutes(deps), ...rewrapRoutes(deps), ...dataKeyRoutes(deps)];
}
