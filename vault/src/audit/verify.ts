/**
 * Verification of an audit chain: pure (no I/O), shared by the server (`GET sys/audit-log/verify`)
 * and the CLI (`keyward audit verify --export …`).
 *
 * Input: entries in stored order, the checkpoints, the public JWK of the checkpoint key and, when
 * older entries were archived, the anchor (seq + hash of the last archived entry).
 * The walk keeps (expected seq, expected prev hash); at the first entry that does not continue the
 * chain it classifies the problem, looking one entry back and ahead:
 * - inserted:  the entry after a bad one continues the chain as if the bad one were absent, or the
 *              entry repeats a seq already seen;
 * - reordered: a genuine entry whose predecessor comes later, or the expected seq appears later;
 * - removed:   the seq jumps and the missing seq appears nowhere;
 * - modified:  right seq but the hash does not match the body / prev hash, or a predecessor whose
 *              hash was recomputed (the next entry's prev_hash still names the original).
 * Checkpoints are then checked: a bad signature, a checkpointed (seq, hash) that the chain does not
 * contain (a rewritten segment), and a checkpoint beyond the last entry (truncation). Entries after
 * the last checkpoint are reported as `unprotectedEntries`: anyone with write access could rewrite
 * them consistently, so only the next checkpoint protects them.
 */
import crypto from 'node:crypto';
import type { PublicJwk } from '../core/ports/hsm.js';
import { GENESIS_HASH, checkpointPayload, computeEntryHash } from './chain.js';
import type { AuditCheckpoint, ChainAnchor, StoredAuditEntry } from './types.js';

export type VerifyProblem =
  | 'modified'
  | 'removed'
  | 'reordered'
  | 'inserted'
  | 'bad-checkpoint-signature'
  | 'truncated-after-checkpoint'
  | 'malformed';

export interface VerifyResult {
  readonly ok: boolean;
  readonly entries: number;
  readonly firstSeq: number | null;
  readonly lastSeq: number | null;
  readonly firstBadSeq?: number;
  readonly problem?: VerifyProblem;
  readonly message?: string;
  readonly checkpoints: number;
  readonly lastCheckpointSeq: number | null;
  /** Entries after the last valid checkpoint: chained, but not yet signed. */
  readonly unprotectedEntries: number;
}

export interface VerifyInput {
  readonly entries: readonly StoredAuditEntry[];
  readonly checkpoints: readonly AuditCheckpoint[];
  readonly publicKey: PublicJwk;
  readonly anchor?: ChainAnchor | null;
}

interface Link {
  readonly seq: number;
  readonly hash: string;
}

function selfConsistent(e: StoredAuditEntry): boolean {
  return e.entry.seq === e.seq && computeEntryHash(e.prev_hash, e.entry) === e.entry_hash;
}

/** Does `e` validly continue the chain whose last link is `link`? */
function continues(e: StoredAuditEntry | undefined, link: Link): boolean {
  return e !== undefined && e.seq === link.seq + 1 && e.prev_hash === link.hash && selfConsistent(e);
}

function wellFormed(e: StoredAuditEntry): boolean {
  return (
    typeof e === 'object' &&
    e !== null &&
    Number.isSafeInteger(e.seq) &&
    typeof e.prev_hash === 'string' &&
    typeof e.entry_hash === 'string' &&
    typeof e.entry === 'object' &&
    e.entry !== null
  );
}

export function verifySignature(cp: AuditCheckpoint, publicKey: PublicJwk): boolean {
  try {
    const key = crypto.createPublicKey({ key: { ...publicKey }, format: 'jwk' });
    return crypto.verify('sha256', checkpointPayload(cp), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(cp.signature, 'base64url'));
  } catch {
    return false;
  }
}

interface ChainFailure {
  readonly problem: VerifyProblem;
  readonly firstBadSeq: number;
  readonly message: string;
}

function walkChain(entries: readonly StoredAuditEntry[], anchor: ChainAnchor | null): ChainFailure | null {
  let link: Link = anchor ? { seq: anchor.seq, hash: anchor.entry_hash } : { seq: 0, hash: GENESIS_HASH };
  const links: Link[] = [];
  const seen = new Set<number>();
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i] as StoredAuditEntry;
    if (!wellFormed(e)) return { problem: 'malformed', firstBadSeq: link.seq + 1, message: `entry at position ${i} is malformed` };
    if (continues(e, link)) {
      links.push(link);
      link = { seq: e.seq, hash: e.entry_hash };
      seen.add(e.seq);
      continue;
    }
    const expected = link.seq + 1;
    const before = links[links.length - 1];
    const prevEntry = i > 0 ? entries[i - 1] : undefined;
    // The previous entry passed, yet this one continues the chain as it stood before it: inserted.
    if (before && prevEntry && continues(e, before)) {
      return { problem: 'inserted', firstBadSeq: prevEntry.seq, message: `entry ${prevEntry.seq} does not belong to the chain` };
    }
    // A genuine entry (self-consistent) whose predecessor comes later in the list: moved.
    if (e.seq !== expected && selfConsistent(e) && entries.slice(i + 1).some((x) => wellFormed(x) && x.entry_hash === e.prev_hash && x.seq === e.seq - 1)) {
      return { problem: 'reordered', firstBadSeq: Math.min(expected, e.seq), message: `entry ${e.seq} appears out of order` };
    }
    // This entry is foreign but the next one continues from the last good link: inserted.
    if (continues(entries[i + 1], link)) {
      return { problem: 'inserted', firstBadSeq: e.seq, message: `entry claiming seq ${e.seq} does not belong to the chain` };
    }
    if (e.seq !== expected && entries.slice(i + 1).some((x) => wellFormed(x) && x.seq === expected)) {
      return { problem: 'reordered', firstBadSeq: expected, message: `entry ${expected} appears out of order` };
    }
    if (e.seq > expected) {
      return { problem: 'removed', firstBadSeq: expected, message: `entries ${expected}..${e.seq - 1} are missing` };
    }
    if (e.seq < expected || seen.has(e.seq)) {
      return { problem: 'inserted', firstBadSeq: e.seq, message: `seq ${e.seq} appears twice` };
    }
    // Right seq, wrong hash.
    if (!selfConsistent(e)) return { problem: 'modified', firstBadSeq: e.seq, message: `entry ${e.seq} does not match its hash` };
    // Self-consistent but linked to another predecessor: the predecessor was rewritten and re-hashed
    // (or, for the first entry, the anchor does not match).
    const culprit = prevEntry ? prevEntry.seq : e.seq;
    return { problem: 'modified', firstBadSeq: culprit, message: `entry ${culprit} was rewritten (chain link broken)` };
  }
  return null;
}

export function verifyChain(input: VerifyInput): VerifyResult {
  const entries = input.entries;
  const anchor = input.anchor ?? null;
  const firstSeq = entries.length > 0 ? (entries[0]?.seq ?? null) : null;
  const lastSeq = entries.length > 0 ? (entries[entries.length - 1]?.seq ?? null) : null;
  const checkpoints = [...input.checkpoints].sort((a, b) => a.seq - b.seq);
  const base = { entries: entries.length, firstSeq, lastSeq, checkpoints: checkpoints.length };

  const fail = (f: ChainFailure, lastCheckpointSeq: number | null): VerifyResult => ({
    ok: false,
    ...base,
    problem: f.problem,
    firstBadSeq: f.firstBadSeq,
    message: f.message,
    lastCheckpointSeq,
    unprotectedEntries: 0,
  });

  // Signatures first: a forged checkpoint must not vouch for anything below.
  for (const cp of checkpoints) {
    if (!verifySignature(cp, input.publicKey)) {
      return fail({ problem: 'bad-checkpoint-signature', firstBadSeq: cp.seq, message: `checkpoint at seq ${cp.seq} has an invalid signature` }, null);
    }
  }

  const chainFailure = walkChain(entries, anchor);
  const bySeq = new Map<number, string>();
  for (const e of entries) if (wellFormed(e)) bySeq.set(e.seq, e.entry_hash);
  if (anchor) bySeq.set(anchor.seq, anchor.entry_hash);
  const startSeq = anchor ? anchor.seq : 0;
  const endSeq = lastSeq ?? startSeq;

  let lastGood: number | null = null;
  let cpFailure: ChainFailure | null = null;
  for (const cp of checkpoints) {
    if (cp.seq < startSeq) continue; // covers archived entries, checked with those exports
    if (cp.seq > endSeq) {
      cpFailure = { problem: 'truncated-after-checkpoint', firstBadSeq: endSeq + 1, message: `checkpoint at seq ${cp.seq} but the log ends at ${endSeq}` };
      break;
    }
    const hash = bySeq.get(cp.seq);
    if (hash === undefined) {
      cpFailure = { problem: 'removed', firstBadSeq: cp.seq, message: `checkpointed entry ${cp.seq} is missing` };
      break;
    }
    if (hash !== cp.entry_hash) {
      // The whole segment was rewritten consistently; the checkpoint still names the original.
      const from = (lastGood ?? startSeq) + 1;
      cpFailure = { problem: 'modified', firstBadSeq: from, message: `entries ${from}..${cp.seq} differ from checkpoint ${cp.seq}` };
      break;
    }
    lastGood = cp.seq;
  }

  if (chainFailure && (!cpFailure || chainFailure.firstBadSeq <= cpFailure.firstBadSeq || cpFailure.problem === 'truncated-after-checkpoint')) {
    return fail(chainFailure, lastGood);
  }
  if (cpFailure) return fail(cpFailure, lastGood);
  const protectedUpTo = lastGood ?? startSeq;
  return { ok: true, ...base, lastCheckpointSeq: lastGood, unprotectedEntries: Math.max(0, endSeq - protectedUpTo) };
}
