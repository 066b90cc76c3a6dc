/** Builds valid chains and checkpoints in memory for the verify unit tests. */
import crypto from 'node:crypto';
import { checkpointPayload } from '../../../vault/src/audit/chain.js';
import { sealBatch } from '../../../vault/src/audit/seal.js';
import type { AuditCheckpoint, StoredAuditEntry } from '../../../vault/src/audit/types.js';
import type { PublicJwk } from '../../../vault/src/core/ports/hsm.js';

export function makeSigner(): { publicKey: PublicJwk; sign(seq: number, hash: string): AuditCheckpoint } {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' });
  return {
    publicKey: { kty: 'EC', crv: 'P-256', x: String(jwk.x), y: String(jwk.y) },
    sign(seq, hash) {
      const unsigned = { seq, entry_hash: hash, time: new Date(1_700_000_000_000 + seq).toISOString(), key_id: 'test-key' };
      const sig = crypto.sign('sha256', checkpointPayload(unsigned), { key: privateKey, dsaEncoding: 'ieee-p1363' });
      return { ...unsigned, signature: sig.toString('base64url') };
    },
  };
}

export function makeChain(n: number, head: { seq: number; hash: string } | null = null): StoredAuditEntry[] {
  const bodies = Array.from({ length: n }, (_, i) => ({
    time: new Date(1_700_000_000_000 + i * 1000).toISOString(),
    type: i % 2 === 0 ? 'request' : 'response',
    request_id: `req-${Math.floor(i / 2)}`,
    operation: 'transit.encrypt',
    path: 'transit/encrypt/payments',
    identity: { subject: 'svc-a', auth_method: 'approle' },
    ...(i % 2 === 1 ? { status: 200, outcome: 'success', duration_ms: 1.25 } : {}),
  }));
  return sealBatch(head, bodies);
}

/** A deep copy with one entry's body field changed (hash untouched). */
export function clone(entries: readonly StoredAuditEntry[]): StoredAuditEntry[] {
  return JSON.parse(JSON.stringify(entries)) as StoredAuditEntry[];
}
