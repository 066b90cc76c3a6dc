/** What the sys/audit* routes need: the audit module's administrative service. */
import type { AuditService } from '../../../audit/audit-service.js';

export interface AuditRouteDeps {
  readonly audit: Pick<AuditService, 'listDevices' | 'enableDevice' | 'disableDevice' | 'auditHash' | 'query' | 'verify' | 'publicKey' | 'exportPage'>;
}
