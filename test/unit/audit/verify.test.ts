import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../../vault/src/audit/canonical-json.js';
import { GENESIS_HASH, computeEntryHash } from '../../../vault/src/audit/chain.js';
import { sealBatch } from '../../../vault/src/audit/seal.js';
import type { StoredAuditEntry } from '../../../vault/src/audit/types.js';
import { verifyChain } from '../../../vault/src/audit/verify.js';
import { clone, makeChain, makeSigner } from './chain-fixture.js';

const signer = makeSigner();

function withCheckpoints(entries: StoredAuditEntry[], every: number) {
  return entries.filter((e) => e.seq % every === 0).map((e) => signer.sign(e.seq, e.entry_hash));
}

/** Rewrite entry i's body and recompute the hashes from i onward (an attacker with DB write access). */
function rewriteFrom(entries: StoredAuditEntry[], i: number, mutate: (e: StoredAuditEntry) => void): StoredAuditEntry[] {
  const out = clone(entries);
  mutate(out[i]!);
  let prev = i === 0 ? GENESIS_HASH : out[i - 1]!.entry_hash;
  for (let j = i; j < out.length; j++) {
    const e = out[j]! as { prev_hash: string; entry_hash: string; entry: StoredAuditEntry['entry'] };
    e.prev_hash = prev;
    e.entry_hash = computeEntryHash(prev, e.entry);
    prev = e.entry_hash;
  }
  return out;
}

describe('audit chain', () => {
  it('canonical JSON sorts keys and round-trips through JSON.parse', () => {
    const v = { b: 1, a: { d: [1, 'x', null], c: 1.25 }, e: 'é' };
    const s = canonicalJson(v);
    expect(s).toBe('{"a":{"c":1.25,"d":[1,"x",null]},"b":1,"e":"é"}');
    expect(canonicalJson(JSON.parse(s))).toBe(s);
  });

  it('entry hash is SHA-256(prev || canonical body) starting from 32 zero bytes', () => {
    const [first] = makeChain(1);
    expect(first!.prev_hash).toBe(GENESIS_HASH);
    expect(first!.entry.seq).toBe(1);
    expect(first!.entry_hash).toBe(computeEntryHash(GENESIS_HASH, first!.entry));
    expect(first!.entry_hash).not.toBe(computeEntryHash('11'.repeat(32), first!.entry));
  });

  it('continues from a head', () => {
    const a = makeChain(3);
    const b = sealBatch({ seq: 3, hash: a[2]!.entry_hash }, [{ time: 't', type: 'request', request_id: 'r', operation: 'o', path: 'p' }]);
    expect(b[0]!.seq).toBe(4);
    expect(b[0]!.prev_hash).toBe(a[2]!.entry_hash);
  });
});

describe('verifyChain', () => {
  const entries = makeChain(20);
  const checkpoints = withCheckpoints(entries, 5);

  it('accepts an untouched chain and reports the unprotected tail', () => {
    const r = verifyChain({ entries, checkpoints, publicKey: signer.publicKey });
    expect(r).toMatchObject({ ok: true, entries: 20, lastCheckpointSeq: 20, unprotectedEntries: 0 });
    const r2 = verifyChain({ entries: entries.slice(0, 18), checkpoints: withCheckpoints(entries.slice(0, 18), 5), publicKey: signer.publicKey });
    expect(r2).toMatchObject({ ok: true, lastCheckpointSeq: 15, unprotectedEntries: 3 });
  });

  it('detects a modified body', () => {
    const t = clone(entries);
    (t[6]!.entry as { path: string }).path = 'transit/encrypt/other';
    expect(verifyChain({ entries: t, checkpoints, publicKey: signer.publicKey })).toMatchObject({ ok: false, problem: 'modified', firstBadSeq: 7 });
  });

  it('detects a modified entry whose own hash was recomputed', () => {
    const t = clone(entries);
    const e = t[6]! as { entry_hash: string; entry: StoredAuditEntry['entry'] };
    (e.entry as { outcome?: string }).outcome = 'denied';
    e.entry_hash = computeEntryHash(t[6]!.prev_hash, e.entry);
    expect(verifyChain({ entries: t, checkpoints, publicKey: signer.publicKey })).toMatchObject({ ok: false, problem: 'modified', firstBadSeq: 7 });
  });

  it('detects a removed entry', () => {
    const t = entries.filter((e) => e.seq !== 9);
    expect(verifyChain({ entries: t, checkpoints, publicKey: signer.publicKey })).toMatchObject({ ok: false, problem: 'removed', firstBadSeq: 9 });
  });

  it('detects reordered entries', () => {
    const t = clone(entries);
    [t[10], t[11]] = [t[11]!, t[10]!];
    expect(verifyChain({ entries: t, checkpoints, publicKey: signer.publicKey })).toMatchObject({ ok: false, problem: 'reordered', firstBadSeq: 11 });
  });

  it('detects an inserted entry (duplicate seq)', () => {
    const t = clone(entries);
    const forged = clone([t[4]!])[0]!;
    (forged.entry as { path: string }).path = 'sys/forged';
    t.splice(5, 0, forged);
    expect(verifyChain({ entries: t, checkpoints, publicKey: signer.publicKey })).toMatchObject({ ok: false, problem: 'inserted', firstBadSeq: 5 });
  });

  it('detects an inserted, self-consistent entry with a fresh seq', () => {
    const t = clone(entries);
    const [forged] = sealBatch({ seq: 12, hash: t[11]!.entry_hash }, [{ time: 't', type: 'request', request_id: 'x', operation: 'o', path: 'p' }]);
    t.splice(12, 0, forged!);
    expect(verifyChain({ entries: t, checkpoints, publicKey: signer.publicKey })).toMatchObject({ ok: false, problem: 'inserted', firstBadSeq: 13 });
  });

  it('detects a consistently rewritten segment through the checkpoint', () => {
    const t = rewriteFrom(entries, 7, (e) => ((e.entry as { outcome?: string }).outcome = 'denied'));
    expect(verifyChain({ entries: t, checkpoints, publicKey: signer.publicKey })).toMatchObject({ ok: false, problem: 'modified', firstBadSeq: 6 });
  });

  it('detects a bad checkpoint signature', () => {
    const cps = checkpoints.map((c) => (c.seq === 10 ? { ...c, entry_hash: entries[3]!.entry_hash } : c));
    expect(verifyChain({ entries, checkpoints: cps, publicKey: signer.publicKey })).toMatchObject({ ok: false, problem: 'bad-checkpoint-signature', firstBadSeq: 10 });
    const other = makeSigner();
    expect(verifyChain({ entries, checkpoints, publicKey: other.publicKey })).toMatchObject({ ok: false, problem: 'bad-checkpoint-signature' });
  });

  it('detects truncation after the last checkpoint', () => {
    const t = entries.slice(0, 17);
    expect(verifyChain({ entries: t, checkpoints, publicKey: signer.publicKey })).toMatchObject({ ok: false, problem: 'truncated-after-checkpoint', firstBadSeq: 18 });
  });

  it('verifies from an anchor after archiving, and rejects a wrong anchor', () => {
    const rest = entries.slice(10);
    const anchor = { seq: 10, entry_hash: entries[9]!.entry_hash };
    expect(verifyChain({ entries: rest, checkpoints, publicKey: signer.publicKey, anchor })).toMatchObject({ ok: true, firstSeq: 11, lastCheckpointSeq: 20 });
    const bad = { seq: 10, entry_hash: entries[8]!.entry_hash };
    expect(verifyChain({ entries: rest, checkpoints, publicKey: signer.publicKey, anchor: bad }).ok).toBe(false);
    expect(verifyChain({ entries: rest, checkpoints, publicKey: signer.publicKey }).ok).toBe(false);
  });
});
