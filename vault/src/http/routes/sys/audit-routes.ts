/** auditRoutes(deps): every sys/audit* route, for buildApp's route list. */
import type { RouteSpec } from '../../route-spec.js';
import type { AuditRouteDeps } from './audit-deps.js';
import { auditDeviceRoutes } from './audit-devices.js';
import { auditHashRoutes } from './audit-hash.js';
import { auditLogRoutes } from './audit-log.js';

export type { AuditRouteDeps } from './audit-deps.js';

export function auditRoutes(deps: AuditRouteDeps): RouteSpec[] {
  return [...auditDeviceRoutes(deps), ...auditHashRoutes(deps), ...auditLogRoutes(deps)];
}
