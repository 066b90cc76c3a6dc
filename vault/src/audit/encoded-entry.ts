/**
 * An unsealed entry body in the form the writer stores: its canonical JSON split around the place
 * where `"seq":N` goes (the seq is only known inside the write transaction), plus the copies of
 * the indexed columns. Encoded by the writer thread, once per entry, with a canonicaliser written
 * for the body's known shape (no generic key sorting); the main thread only builds the body.
 * (Measured: building the string on the main thread cost it more than the structured clone of
 * the body that it saves.)
 *
 * Invariant: `entryJson(prefix, seq, suffix) === canonicalJson({ seq, ...body })` byte for byte —
 * the bytes hashed and stored are exactly those the generic canonicaliser produced before (the
 * unit test test/unit/audit/encoded-entry.test.ts compares the two on varied bodies).
 */
import { canonicalJson, type JsonValue } from './canonical-json.js';
import { KeywardError } from '../core/errors.js';
import type { UnsealedBody } from './entry-builder.js';
import type { AuditEntryBody, StoredAuditEntry } from './types.js';

/** Values per entry in an EncodedRows array, in this order. */
export const ROW_FIELDS = 9;

/**
 * A batch, flat: per entry [prefix, suffix, time_ms, type, request_id, subject, path, operation,
 * outcome]. Cheap to structured-clone (primitives only).
 */
export type EncodedRows = Array<string | number | null>;

/** What the write path assigned to a batch: seqs firstSeq.., the head it chained from, each entry_hash. */
export interface BatchLinks {
  readonly firstSeq: number;
  readonly prevHash: string;
  readonly hashes: string[];
}

/** Top-level keys of a body in canonical (sorted) order, split around "seq" ('sensitive' < 'seq'). */
export const KEYS_BEFORE_SEQ = ['decision', 'details', 'duration_ms', 'env', 'error_code', 'identity', 'key_name', 'key_version', 'operation', 'outcome', 'path', 'request_id', 'sensitive'] as const;
export const KEYS_AFTER_SEQ = ['source_address', 'status', 'time', 'type'] as const;

/** The stored/hashed JSON of an entry: canonical JSON of `{ seq, ...body }`. */
export function entryJson(prefix: string, seq: number, suffix: string): string {
  return `${prefix}"seq":${seq}${suffix}`;
}

function wrap(before: string, after: string): [string, string] {
  return [before === '' ? '{' : `{${before},`, after === '' ? '}' : `,${after}}`];
}

/** JSON of a value the body types declare as a string (anything else: the generic rule). */
function str(v: unknown): string {
  return typeof v === 'string' ? JSON.stringify(v) : canonicalJson(v as JsonValue);
}

/** A string array: JSON.stringify prints it exactly as canonicalJson does. */
function strArray(v: unknown): string {
  if (Array.isArray(v)) {
    let plain = true;
    for (const x of v) if (typeof x !== 'string') plain = false;
    if (plain) return JSON.stringify(v);
  }
  return canonicalJson(v as JsonValue);
}

/** `"k":json` members joined with ',' (canonicalJson's member syntax). */
function member(acc: string, key: string, json: string): string {
  return acc === '' ? `${key}${json}` : `${acc},${key}${json}`;
}

/** identity as entry-builder builds it (keys accessor, auth_method, policies, role, subject), sorted. */
function identityJson(id: NonNullable<UnsealedBody['identity']>): string {
  let s = '';
  if (id.accessor !== undefined) s = member(s, '"accessor":', str(id.accessor));
  if (id.auth_method !== undefined) s = member(s, '"auth_method":', str(id.auth_method));
  if (id.policies !== undefined) s = member(s, '"policies":', strArray(id.policies));
  if (id.role !== undefined) s = member(s, '"role":', str(id.role));
  if (id.subject !== undefined) s = member(s, '"subject":', str(id.subject));
  return `{${s}}`;
}

/** decision as entry-builder builds it (keys allowed, granting_policies, reason), sorted. */
function decisionJson(d: NonNullable<UnsealedBody['decision']>): string {
  let s = '';
  if (d.allowed !== undefined) s = member(s, '"allowed":', canonicalJson(d.allowed as JsonValue));
  if (d.granting_policies !== undefined) s = member(s, '"granting_policies":', strArray(d.granting_policies));
  if (d.reason !== undefined) s = member(s, '"reason":', str(d.reason));
  return `{${s}}`;
}

/**
 * Prefix/suffix of a body built by entry-builder (its keys, and those of its identity and decision,
 * are exactly the declared ones): members written in sorted key order by hand, strings through
 * JSON.stringify (which is what canonicalJson does for them), objects with free-form keys
 * (sensitive, details) through canonicalJson.
 */
export function canonicalParts(body: UnsealedBody): [string, string] {
  const b = body;
  let before = '';
  if (b.decision !== undefined) before = member(before, '"decision":', decisionJson(b.decision));
  if (b.details !== undefined) before = member(before, '"details":', canonicalJson(b.details as JsonValue));
  if (b.duration_ms !== undefined) before = member(before, '"duration_ms":', canonicalJson(b.duration_ms));
  if (b.env !== undefined) before = member(before, '"env":', str(b.env));
  if (b.error_code !== undefined) before = member(before, '"error_code":', str(b.error_code));
  if (b.identity !== undefined) before = member(before, '"identity":', identityJson(b.identity));
  if (b.key_name !== undefined) before = member(before, '"key_name":', str(b.key_name));
  if (b.key_version !== undefined) before = member(before, '"key_version":', canonicalJson(b.key_version));
  if (b.operation !== undefined) before = member(before, '"operation":', str(b.operation));
  if (b.outcome !== undefined) before = member(before, '"outcome":', str(b.outcome));
  if (b.path !== undefined) before = member(before, '"path":', str(b.path));
  if (b.request_id !== undefined) before = member(before, '"request_id":', str(b.request_id));
  if (b.sensitive !== undefined) before = member(before, '"sensitive":', canonicalJson(b.sensitive as JsonValue));
  let after = '';
  if (b.source_address !== undefined) after = member(after, '"source_address":', str(b.source_address));
  if (b.status !== undefined) after = member(after, '"status":', canonicalJson(b.status));
  if (b.time !== undefined) after = member(after, '"time":', str(b.time));
  if (b.type !== undefined) after = member(after, '"type":', str(b.type));
  return wrap(before, after);
}

/** Prefix/suffix of any body (keys not known in advance; a stray `seq` member is ignored: the assigned seq is hashed). */
export function canonicalPartsGeneric(body: UnsealedBody): [string, string] {
  const b = body as unknown as Record<string, JsonValue | undefined>;
  const before: string[] = [];
  const after: string[] = [];
  for (const k of Object.keys(b).sort()) {
    const v = b[k];
    if (v === undefined || k === 'seq') continue;
    (k < 'seq' ? before : after).push(`${JSON.stringify(k)}:${canonicalJson(v)}`);
  }
  return wrap(before.join(','), after.join(','));
}

/** Appends one entry's row to `out`. */
export function pushRow(out: EncodedRows, body: UnsealedBody, parts: readonly [string, string], timeMs: number): void {
  out.push(parts[0], parts[1], timeMs, body.type, body.request_id, body.identity?.subject ?? null, body.path, body.operation, body.outcome ?? null);
}

/** time_ms column for a body's ISO time (as the store always derived it). */
export function timeMsOf(iso: string): number {
  const t = Date.parse(iso);
  return Number.isFinite(t) ? t : 0;
}

/**
 * A batch as it crosses to the writer: the bodies (structured clone copies an object graph more
 * cheaply than the main thread could serialise it), their time_ms, and whether entry-builder built
 * them (its key set is known: the fast canonicaliser applies) or they came from elsewhere.
 */
export interface BodyBatch {
  readonly bodies: readonly UnsealedBody[];
  readonly timeMs: readonly number[];
  readonly built: boolean;
}

export function bodyBatch(bodies: readonly UnsealedBody[]): BodyBatch {
  return { bodies, timeMs: bodies.map((b) => timeMsOf(b.time)), built: false };
}

/** The rows the write path stores (run by the writer: off the main thread). */
export function encodeBatch(batch: BodyBatch): EncodedRows {
  const out: EncodedRows = [];
  const { bodies, timeMs, built } = batch;
  for (let i = 0; i < bodies.length; i++) {
    const b = bodies[i] as UnsealedBody;
    pushRow(out, b, built ? canonicalParts(b) : canonicalPartsGeneric(b), timeMs[i] ?? timeMsOf(b.time));
  }
  return out;
}

/** Rows of arbitrary bodies. */
export function encodeBodies(bodies: readonly UnsealedBody[]): EncodedRows {
  return encodeBatch(bodyBatch(bodies));
}

/** The sealed entries of a batch, from its bodies and the links the write path assigned. */
export function sealedFromLinks(bodies: readonly UnsealedBody[], links: BatchLinks): StoredAuditEntry[] {
  const out: StoredAuditEntry[] = [];
  let prev = links.prevHash;
  for (let i = 0; i < bodies.length; i++) {
    const hash = links.hashes[i];
    const body = bodies[i];
    if (hash === undefined || body === undefined) throw new KeywardError('ERR_INTERNAL', 'audit writer answered a short batch');
    const seq = links.firstSeq + i;
    const entry: AuditEntryBody = { seq, ...body };
    out.push({ seq, prev_hash: prev, entry_hash: hash, entry });
    prev = hash;
  }
  return out;
}
