/**
 * The encoded form of audit entries (canonicalised once by the writer, with the seq spliced in)
 * must hash and store exactly the bytes the generic path did: canonicalJson({ seq, ...body })
 * chained with SHA-256 as sealBatch does.
 */
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { closeDatabase, openDatabase, type SqliteConnection } from '../../../vault/src/adapters/sqlite/database.js';
import { SqliteAuditStore } from '../../../vault/src/adapters/sqlite/sqlite-audit-store.js';
import { canonicalJson, type JsonValue } from '../../../vault/src/audit/canonical-json.js';
import { canonicalParts, encodeBatch, entryJson } from '../../../vault/src/audit/encoded-entry.js';
import { prepareEntry, type PreparedEntry, type UnsealedBody } from '../../../vault/src/audit/entry-builder.js';
import { AuditHasher } from '../../../vault/src/audit/hasher.js';
import { sealBatch } from '../../../vault/src/audit/seal.js';
import type { AuditEvent } from '../../../vault/src/core/ports/audit-sink.js';

/** Top-level keys of a full body in canonical (sorted) order, split around where "seq" sorts. */
const KEYS_BEFORE_SEQ = ['decision', 'details', 'duration_ms', 'env', 'error_code', 'identity', 'key_name', 'key_version', 'operation', 'outcome', 'path', 'request_id', 'sensitive'];
const KEYS_AFTER_SEQ = ['source_address', 'status', 'time', 'type'];

const fakeHsm = {
  ensureMacKey: async (): Promise<void> => undefined,
  hmacSha256: async (_label: string, data: Uint8Array): Promise<Buffer> => Buffer.from((await import('node:crypto')).createHmac('sha256', 'k').update(data).digest()),
};

const str = fc.string({ maxLength: 12 });
const eventArb: fc.Arbitrary<AuditEvent> = fc.record(
  {
    type: fc.constantFrom('request' as const, 'response' as const, 'lifecycle' as const),
    time: fc.date({ min: new Date(0), max: new Date(4_000_000_000_000) }),
    requestId: str,
    env: str,
    identity: fc.record(
      { subject: str, authMethod: str, role: str, accessor: str, policies: fc.array(str, { maxLength: 3 }) },
      { requiredKeys: ['subject', 'authMethod'] },
    ),
    sourceAddress: str,
    operation: str,
    path: str,
    keyName: str,
    keyVersion: fc.integer(),
    decision: fc.record({ allowed: fc.boolean(), grantingPolicies: fc.array(str, { maxLength: 3 }), reason: str }, { requiredKeys: ['allowed', 'grantingPolicies'] }),
    outcome: fc.constantFrom('success' as const, 'denied' as const, 'error' as const, 'unauthenticated' as const),
    status: fc.integer({ min: 100, max: 599 }),
    durationMs: fc.double({ noNaN: false }),
    errorCode: str,
    sensitive: fc.dictionary(str, str, { maxKeys: 3 }),
    details: fc.dictionary(str, fc.jsonValue({ maxDepth: 2 }), { maxKeys: 3 }),
  },
  { requiredKeys: ['type', 'time', 'requestId', 'operation', 'path'] },
);

async function prepared(event: AuditEvent, hasher: AuditHasher): Promise<PreparedEntry> {
  return prepareEntry(event, hasher);
}

describe('encoded audit entries', () => {
  it('splice the seq into exactly the canonical JSON of the sealed body', async () => {
    const hasher = new AuditHasher(fakeHsm);
    await fc.assert(
      fc.asyncProperty(eventArb, fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER }), async (event, seq) => {
        const p = await prepared(event, hasher);
        const expected = canonicalJson({ seq, ...p.body } as unknown as JsonValue);
        const parts = canonicalParts(p.body);
        expect(entryJson(parts[0], seq, parts[1])).toBe(expected);
        // As the writer thread sees it: a structured clone of the body.
        const cloned = canonicalParts(structuredClone(p.body));
        expect(entryJson(cloned[0], seq, cloned[1])).toBe(expected);
        expect(p.timeMs).toBe(Date.parse(p.body.time));
      }),
      { numRuns: 300 },
    );
  });

  it('when the accessor HMAC is cached and nothing needs an HMAC, then the entry is built without a promise', async () => {
    const hasher = new AuditHasher(fakeHsm);
    const event: AuditEvent = { type: 'request', time: new Date(1_700_000_000_000), requestId: 'r', operation: 'transit.encrypt', path: 'transit/encrypt/k', identity: { subject: 's', authMethod: 'token', accessor: 'acc' } };
    expect(prepareEntry(event, hasher)).toBeInstanceOf(Promise);
    const first = await prepareEntry(event, hasher);
    const second = prepareEntry(event, hasher);
    expect(second).not.toBeInstanceOf(Promise);
    expect(second).toEqual(first);
    expect(prepareEntry({ ...event, sensitive: { token: 'x' } }, hasher)).toBeInstanceOf(Promise);
  });

  it('keeps the body members in the order devices have always printed them', async () => {
    const hasher = new AuditHasher(fakeHsm);
    const full = fc.sample(eventArb, { numRuns: 500, seed: 3 }).find((e) => Object.keys(e).length === 17 && e.identity?.role !== undefined && e.identity.accessor !== undefined && e.identity.policies !== undefined && e.decision?.reason !== undefined && Number.isFinite(e.durationMs) && Object.keys(e.sensitive ?? {}).length > 0 && Object.keys(e.details ?? {}).length > 0);
    const b = (await prepared(full ?? (() => { throw new Error('no full sample'); })(), hasher)).body;
    expect(Object.keys(b)).toEqual(['time', 'type', 'request_id', 'env', 'identity', 'source_address', 'operation', 'path', 'key_name', 'key_version', 'decision', 'outcome', 'status', 'duration_ms', 'error_code', 'sensitive', 'details']);
    expect(Object.keys(b.identity ?? {})).toEqual(['subject', 'auth_method', 'role', 'accessor', 'policies']);
    expect(Object.keys(b.decision ?? {})).toEqual(['allowed', 'granting_policies', 'reason']);
    expect([...KEYS_BEFORE_SEQ, 'seq', ...KEYS_AFTER_SEQ]).toEqual([...KEYS_BEFORE_SEQ, 'seq', ...KEYS_AFTER_SEQ].sort());
    expect(Object.keys(b).sort()).toEqual([...KEYS_BEFORE_SEQ, ...KEYS_AFTER_SEQ]);
  });

  it('handles bodies with no key before or after seq', () => {
    const b = { time: 't' } as unknown as UnsealedBody;
    expect(entryJson(...spliceArgs(canonicalParts(b), 7))).toBe('{"seq":7,"time":"t"}');
    const c = { path: 'p' } as unknown as UnsealedBody;
    expect(entryJson(...spliceArgs(canonicalParts(c), 7))).toBe('{"path":"p","seq":7}');
  });

  describe('through the SQLite write path', () => {
    let db: SqliteConnection;
    beforeEach(async () => {
      db = await openDatabase({ file: ':memory:' });
    });
    afterEach(() => closeDatabase(db));

    it('stores and chains the same bytes and hashes as sealBatch, across multi-row insert chunks', async () => {
      const hasher = new AuditHasher(fakeHsm);
      const events = fc.sample(eventArb, { numRuns: 75, seed: 7 });
      const bodies: UnsealedBody[] = [];
      for (const e of events) bodies.push((await prepared(e, hasher)).body);
      const store = new SqliteAuditStore(db);
      // Two batches: the second chains from the head the first left (33 + 42 rows: chunks of 32 + remainders).
      const a = await store.appendBodies(bodies.slice(0, 33));
      const b = await store.appendRows(encodeBatch({ bodies: bodies.slice(33), timeMs: bodies.slice(33).map((x) => Date.parse(x.time)) }));
      const expected = sealBatch(null, bodies);
      expect(a).toEqual(expected.slice(0, 33));
      expect(b.firstSeq).toBe(34);
      expect(b.prevHash).toBe(expected[32]?.entry_hash);
      expect(b.hashes).toEqual(expected.slice(33).map((s) => s.entry_hash));
      const rows = db.prepare('SELECT seq, time_ms, type, request_id, subject, path, operation, outcome, body, prev_hash, entry_hash FROM audit_entries ORDER BY seq').all() as Array<Record<string, unknown>>;
      expect(rows).toHaveLength(75);
      rows.forEach((r, i) => {
        const s = expected[i]!;
        expect(r).toEqual({
          seq: s.seq,
          time_ms: Date.parse(s.entry.time),
          type: s.entry.type,
          request_id: s.entry.request_id,
          subject: s.entry.identity?.subject ?? null,
          path: s.entry.path,
          operation: s.entry.operation,
          outcome: s.entry.outcome ?? null,
          body: canonicalJson(s.entry as unknown as JsonValue),
          prev_hash: s.prev_hash,
          entry_hash: s.entry_hash,
        });
      });
    });
  });
});

function spliceArgs(parts: readonly [string, string], seq: number): [string, number, string] {
  return [parts[0], seq, parts[1]];
}
