/**
 * AuditEvent (the port's shape) → the entry body that is hashed and stored, minus its seq (assigned
 * inside the write transaction).
 *
 * Invariants:
 * - every `sensitive` value and the token accessor become `hmac-sha256:<hex>`;
 * - as a second line of defence, string values in `details` under secret-looking names (plaintext,
 *   ciphertext, token, secret_id, password, pin, …) are HMAC-ed too, so a route that annotates
 *   carelessly still cannot put a secret in clear into the log.
 */
import type { AuditEvent } from '../core/ports/audit-sink.js';
import { toJsonValue, type JsonValue } from './canonical-json.js';
import type { AuditHasher } from './hasher.js';
import type { AuditEntryBody } from './types.js';

export type UnsealedBody = Omit<AuditEntryBody, 'seq'>;

const SECRET_KEY_RE = /(plaintext|ciphertext|token|secret_id|secretid|password|passphrase|private_key|wrapped|(^|_)pin($|_)|^secret$|^data$)/i;

async function scrub(value: JsonValue, hasher: AuditHasher, keyIsSecret: boolean): Promise<JsonValue> {
  if (typeof value === 'string') return keyIsSecret ? hasher.hash(value) : value;
  if (Array.isArray(value)) return Promise.all(value.map((v) => scrub(v, hasher, keyIsSecret)));
  if (value !== null && typeof value === 'object') {
    const out: { [k: string]: JsonValue } = {};
    for (const [k, v] of Object.entries(value)) out[k] = await scrub(v, hasher, keyIsSecret || SECRET_KEY_RE.test(k));
    return out;
  }
  return value;
}

export async function buildBody(event: AuditEvent, hasher: AuditHasher): Promise<UnsealedBody> {
  const sensitive: Record<string, string> = {};
  for (const [k, v] of Object.entries(event.sensitive ?? {})) sensitive[k] = await hasher.hash(v);
  let details: { [k: string]: JsonValue } | undefined;
  if (event.details && Object.keys(event.details).length > 0) {
    const json = toJsonValue(event.details);
    if (json && typeof json === 'object' && !Array.isArray(json)) details = (await scrub(json, hasher, false)) as { [k: string]: JsonValue };
  }
  const id = event.identity;
  const time = Number.isNaN(event.time.getTime()) ? new Date(0) : event.time;
  return {
    time: time.toISOString(),
    type: event.type,
    request_id: event.requestId,
    ...(event.env !== undefined ? { env: event.env } : {}),
    ...(id
      ? {
          identity: {
            subject: id.subject,
            auth_method: id.authMethod,
            ...(id.role !== undefined ? { role: id.role } : {}),
            ...(id.accessor !== undefined ? { accessor: await hasher.hashAccessor(id.accessor) } : {}),
            ...(id.policies !== undefined ? { policies: [...id.policies] } : {}),
          },
        }
      : {}),
    ...(event.sourceAddress !== undefined ? { source_address: event.sourceAddress } : {}),
    operation: event.operation,
    path: event.path,
    ...(event.keyName !== undefined ? { key_name: event.keyName } : {}),
    ...(event.keyVersion !== undefined ? { key_version: event.keyVersion } : {}),
    ...(event.decision
      ? {
          decision: {
            allowed: event.decision.allowed,
            granting_policies: [...event.decision.grantingPolicies],
            ...(event.decision.reason !== undefined ? { reason: event.decision.reason } : {}),
          },
        }
      : {}),
    ...(event.outcome !== undefined ? { outcome: event.outcome } : {}),
    ...(event.status !== undefined ? { status: event.status } : {}),
    ...(event.durationMs !== undefined && Number.isFinite(event.durationMs) ? { duration_ms: event.durationMs } : {}),
    ...(event.errorCode !== undefined ? { error_code: event.errorCode } : {}),
    ...(Object.keys(sensitive).length > 0 ? { sensitive } : {}),
    ...(details ? { details } : {}),
  };
}
