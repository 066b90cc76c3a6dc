/**
 * Numbers and chains a batch of bodies from the head read inside the write transaction. Pure, so
 * the store adapter runs it inside its transaction without knowing the chain rule.
 */
import type { ChainHead } from './audit-store.js';
import { GENESIS_HASH, canonicalBodyJson, hashCanonicalBody } from './chain.js';
import type { UnsealedBody } from './entry-builder.js';
import type { AuditEntryBody, StoredAuditEntry } from './types.js';

export function sealBatch(head: ChainHead | null, bodies: readonly UnsealedBody[]): StoredAuditEntry[] {
  return sealBatchWithJson(head, bodies).map((s) => s.stored);
}

/** A sealed entry plus the canonical JSON that was hashed (stored as-is: serialised once). */
export interface SealedWithJson {
  readonly stored: StoredAuditEntry;
  readonly json: string;
}

export function sealBatchWithJson(head: ChainHead | null, bodies: readonly UnsealedBody[]): SealedWithJson[] {
  let seq = head?.seq ?? 0;
  let prev = head?.hash ?? GENESIS_HASH;
  const out: SealedWithJson[] = [];
  for (const b of bodies) {
    seq += 1;
    // seq first in the object only for readability; the canonical form sorts keys anyway.
    const entry: AuditEntryBody = { seq, ...b };
    const json = canonicalBodyJson(entry);
    const entryHash = hashCanonicalBody(prev, json);
    out.push({ stored: { seq, prev_hash: prev, entry_hash: entryHash, entry }, json });
    prev = entryHash;
  }
  return out;
}
