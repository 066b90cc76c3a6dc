/**
 * One stored entry → one line in Vault's audit log shape (`time`, `type`, `auth`, `request`,
 * `response`, `error`), so tools that parse Vault's file/socket audit output read Keyward's too.
 * Keyward adds `seq` and `hash` (the chain's entry_hash) so a device copy can be matched against
 * the database, and a `keyward` block with what Vault has no field for (decision, outcome, status).
 * Everything secret is already `hmac-sha256:` in the stored entry; nothing is added here.
 */
import type { StoredAuditEntry } from '../types.js';

export function vaultLine(s: StoredAuditEntry): string {
  const e = s.entry;
  const id = e.identity;
  const auth = id
    ? {
        client_token: '',
        accessor: id.accessor ?? '',
        display_name: id.subject,
        policies: id.policies ?? [],
        token_policies: id.policies ?? [],
        metadata: id.role !== undefined ? { role: id.role, auth_method: id.auth_method } : { auth_method: id.auth_method },
        entity_id: '',
        token_type: 'service',
      }
    : {};
  const request: Record<string, unknown> = {
    id: e.request_id,
    operation: e.operation,
    path: e.path,
    namespace: { id: e.env ?? 'root', path: e.env ? `${e.env}/` : '' },
    remote_address: e.source_address ?? '',
    ...(id?.accessor !== undefined ? { client_token_accessor: id.accessor } : {}),
    ...(e.type === 'request' && e.sensitive ? { data: e.sensitive } : {}),
  };
  const keyward = {
    ...(e.key_name !== undefined ? { key_name: e.key_name } : {}),
    ...(e.key_version !== undefined ? { key_version: e.key_version } : {}),
    ...(e.decision ? { decision: e.decision } : {}),
    ...(e.outcome !== undefined ? { outcome: e.outcome } : {}),
    ...(e.status !== undefined ? { status: e.status } : {}),
    ...(e.duration_ms !== undefined ? { duration_ms: e.duration_ms } : {}),
    ...(e.details ? { details: e.details } : {}),
  };
  const line: Record<string, unknown> = {
    time: e.time,
    type: e.type,
    auth,
    request,
    ...(e.type === 'response' ? { response: { ...(e.sensitive ? { data: e.sensitive } : {}) } } : {}),
    error: e.error_code ?? '',
    keyward,
    seq: s.seq,
    hash: s.entry_hash,
  };
  return JSON.stringify(line);
}
