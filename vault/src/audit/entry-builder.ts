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

/** A built body with its time_ms column (no date parsing later): what the trail queues per record. */
export interface PreparedEntry {
  readonly body: UnsealedBody;
  readonly timeMs: number;
}

/** The HMACs an event needs, computed in the HSM (only when it has any). */
interface Macs {
  readonly sensitive?: Record<string, string>;
  readonly accessor?: string;
  readonly details?: { [k: string]: JsonValue };
}

export async function buildBody(event: AuditEvent, hasher: AuditHasher): Promise<UnsealedBody> {
  return (await prepareEntry(event, hasher)).body;
}

/**
 * The body and its time_ms. Synchronous (no promise, no HSM round trip) when the event needs
 * no new HMAC — no sensitive values, no details, and an accessor whose HMAC is cached — which is
 * every request of a known token to a route that annotates nothing; otherwise the HMACs are
 * computed in the HSM first. Both paths assemble the body in `assemble`, so they cannot differ.
 */
export function prepareEntry(event: AuditEvent, hasher: AuditHasher): PreparedEntry | Promise<PreparedEntry> {
  const accessor = event.identity?.accessor;
  const cached = accessor !== undefined ? hasher.cachedAccessor(accessor) : undefined;
  if (!hasEntries(event.sensitive) && !hasEntries(event.details) && (accessor === undefined || cached !== undefined)) {
    return assemble(event, cached !== undefined ? { accessor: cached } : {});
  }
  return macsOf(event, hasher).then((macs) => assemble(event, macs));
}

function hasEntries(o: Readonly<Record<string, unknown>> | undefined): boolean {
  if (o === undefined) return false;
  for (const _ in o) return true;
  return false;
}

async function macsOf(event: AuditEvent, hasher: AuditHasher): Promise<Macs> {
  const sensitive: Record<string, string> = {};
  for (const [k, v] of Object.entries(event.sensitive ?? {})) sensitive[k] = await hasher.hash(v);
  let details: { [k: string]: JsonValue } | undefined;
  if (event.details && Object.keys(event.details).length > 0) {
    const json = toJsonValue(event.details);
    if (json && typeof json === 'object' && !Array.isArray(json)) details = (await scrub(json, hasher, false)) as { [k: string]: JsonValue };
  }
  const accessor = event.identity?.accessor;
  return {
    ...(Object.keys(sensitive).length > 0 ? { sensitive } : {}),
    ...(accessor !== undefined ? { accessor: await hasher.hashAccessor(accessor) } : {}),
    ...(details ? { details } : {}),
  };
}

function assemble(event: AuditEvent, macs: Macs): PreparedEntry {
  const id = event.identity;
  const time = Number.isNaN(event.time.getTime()) ? new Date(0) : event.time;
  // Members are added one by one in the order they always had (devices print nested objects in
  // insertion order; the stored form is canonical, sorted, regardless), without the temporary
  // objects of conditional spreads.
  const body: { [k: string]: unknown } = { time: time.toISOString(), type: event.type, request_id: event.requestId };
  if (event.env !== undefined) body['env'] = event.env;
  if (id) {
    const identity: { [k: string]: unknown } = { subject: id.subject, auth_method: id.authMethod };
    if (id.role !== undefined) identity['role'] = id.role;
    if (macs.accessor !== undefined) identity['accessor'] = macs.accessor;
    if (id.policies !== undefined) identity['policies'] = [...id.policies];
    body['identity'] = identity;
  }
  if (event.sourceAddress !== undefined) body['source_address'] = event.sourceAddress;
  body['operation'] = event.operation;
  body['path'] = event.path;
  if (event.keyName !== undefined) body['key_name'] = event.keyName;
  if (event.keyVersion !== undefined) body['key_version'] = event.keyVersion;
  if (event.decision) {
    const decision: { [k: string]: unknown } = { allowed: event.decision.allowed, granting_policies: [...event.decision.grantingPolicies] };
    if (event.decision.reason !== undefined) decision['reason'] = event.decision.reason;
    body['decision'] = decision;
  }
  if (event.outcome !== undefined) body['outcome'] = event.outcome;
  if (event.status !== undefined) body['status'] = event.status;
  if (event.durationMs !== undefined && Number.isFinite(event.durationMs)) body['duration_ms'] = event.durationMs;
  if (event.errorCode !== undefined) body['error_code'] = event.errorCode;
  if (macs.sensitive) body['sensitive'] = macs.sensitive;
  if (macs.details) body['details'] = macs.details;
  return { body: body as unknown as UnsealedBody, timeMs: time.getTime() };
}
