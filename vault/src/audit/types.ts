/**
 * Shapes of the tamper-evident audit trail, shared by the sink, the store, verification, exports
 * and the HTTP routes. Field names are snake_case because entries leave the process as JSON
 * (API, exports, device lines) and Vault's audit log is snake_case.
 *
 * Invariants:
 * - `AuditEntryBody` holds no secret in clear: sensitive values and the token accessor are
 *   `hmac-sha256:<hex>` (HMAC key in the HSM).
 * - `entry_hash = SHA-256(prev_hash || canonicalJson(body))`, `body.seq` included; hashes are hex.
 */
import type { JsonValue } from './canonical-json.js';

export interface AuditEntryBody {
  readonly seq: number;
  readonly time: string;
  readonly type: string;
  readonly request_id: string;
  readonly env?: string;
  readonly identity?: {
    readonly subject: string;
    readonly auth_method: string;
    readonly role?: string;
    readonly accessor?: string;
    readonly policies?: readonly string[];
  };
  readonly source_address?: string;
  readonly operation: string;
  readonly path: string;
  readonly key_name?: string;
  readonly key_version?: number;
  readonly decision?: { readonly allowed: boolean; readonly granting_policies: readonly string[]; readonly reason?: string };
  readonly outcome?: string;
  readonly status?: number;
  readonly duration_ms?: number;
  readonly error_code?: string;
  readonly sensitive?: Readonly<Record<string, string>>;
  readonly details?: { readonly [k: string]: JsonValue };
}

/** An entry as stored and exported: the hashed body plus its chain links. */
export interface StoredAuditEntry {
  readonly seq: number;
  readonly prev_hash: string;
  readonly entry_hash: string;
  readonly entry: AuditEntryBody;
}

/** A signed statement "the chain up to `seq` ends in `entry_hash`" (ES256 over canonical JSON). */
export interface AuditCheckpoint {
  readonly seq: number;
  readonly entry_hash: string;
  readonly time: string;
  readonly key_id: string;
  /** base64url raw r||s. */
  readonly signature: string;
}

/** Seq and hash of the last archived entry: where the chain kept in the DB starts. */
export interface ChainAnchor {
  readonly seq: number;
  readonly entry_hash: string;
}

export const AUDIT_HMAC_KEY_LABEL = 'keyward-audit-hmac-1';
export const AUDIT_SIGNING_KEY_LABEL = 'keyward-audit-es256-1';
export const HMAC_PREFIX = 'hmac-sha256:';
