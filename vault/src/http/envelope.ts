/** Vault's response envelope. Every JSON answer except /sys/health uses exactly these fields. */
import type { Reply } from './route-spec.js';

export interface VaultEnvelope {
  request_id: string;
  lease_id: string;
  renewable: boolean;
  lease_duration: number;
  data: unknown;
  wrap_info: unknown;
  warnings: readonly string[] | null;
  auth: unknown;
}

export function envelope(requestId: string, reply: Reply): VaultEnvelope {
  return {
    request_id: requestId,
    lease_id: '',
    renewable: false,
    lease_duration: 0,
    data: reply.wrapInfo ? null : (reply.data ?? null),
    wrap_info: reply.wrapInfo ?? null,
    warnings: reply.warnings && reply.warnings.length > 0 ? reply.warnings : null,
    auth: reply.auth ?? null,
  };
}
