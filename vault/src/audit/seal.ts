/**
 * Numbers and chains a batch of bodies from the head read inside the write transaction. Pure, so
 * the store adapter runs it inside its transaction without knowing the chain rule.
 */
import type { ChainHead } from './audit-store.js';
import { GENESIS_HASH, computeEntryHash } from './chain.js';
import type { UnsealedBody } from './entry-builder.js';
import type { AuditEntryBody, StoredAuditEntry } from './types.js';

export function sealBatch(head: ChainHead | null, bodies: readonly UnsealedBody[]): StoredAuditEntry[] {
  let seq = head?.seq ?? 0;
  let prev = head?.hash ?? GENESIS_HASH;
  const out: StoredAuditEntry[] = [];
  for (const b of bodies) {
    seq += 1;
    // seq first in the object only for readability; the canonical form sorts keys anyway.
    const entry: AuditEntryBody = { seq, ...b };
    const entryHash = computeEntryHash(prev, entry);
    out.push({ seq, prev_hash: prev, entry_hash: entryHash, entry });
    prev = entryHash;
  }
  return out;
}
