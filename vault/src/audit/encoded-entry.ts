/**
 * An unsealed entry body in the form the writer stores: its canonical JSON split around the place
 * where `"seq":N` goes (the seq is only known inside the write transaction), plus the copies of
 * the indexed columns. Encoded by the writer thread, once per entry; the main thread only builds
 * the body.
 * (Measured: building the string on the main thread cost it more than the structured clone of
 * the body that it saves.)
 *
 * Invariant: `entryJson(prefix, seq, suffix) === canonicalJson({ seq, ...body })` byte for byte —
 * the bytes hashed and stored are exactly those of the generic canonicaliser (the unit test
 * test/unit/audit/encoded-entry.test.ts compares the two on varied bodies).
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

/** The stored/hashed JSON of an entry: canonical JSON of `{ seq, ...body }`. */
export function entryJson(prefix: string, seq: number, suffix: string): string {
  return `${prefix}"seq":${seq}${suffix}`;
}

function wrap(before: string, after: string): [string, string] {
  return [before === '' ? '{' : `{${before},`, after === '' ? '}' : `,${after}}`];
}

/**
 * Prefix/suffix of a body: its members in sorted key order through canonicalJson, split around
 * where "seq" sorts (a stray `seq` member is ignored: the assigned seq is hashed). Generic on
 * purpose: whatever members the entry builder adds are stored and hashed without a second list.
 */
export function canonicalParts(body: UnsealedBody): [string, string] {
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
 * cheaply than the main thread could serialise it) and their time_ms.
 */
export interface BodyBatch {
  readonly bodies: readonly UnsealedBody[];
  readonly timeMs: readonly number[];
}

export function bodyBatch(bodies: readonly UnsealedBody[]): BodyBatch {
  return { bodies, timeMs: bodies.map((b) => timeMsOf(b.time)) };
}

/** The rows the write path stores (run by the writer: off the main thread). */
export function encodeBatch(batch: BodyBatch): EncodedRows {
  const out: EncodedRows = [];
  const { bodies, timeMs } = batch;
  for (let i = 0; i < bodies.length; i++) {
    const b = bodies[i] as UnsealedBody;
    pushRow(out, b, canonicalParts(b), timeMs[i] ?? timeMsOf(b.time));
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
