/**
 * The hash chain and checkpoint payload: one definition used when writing (sink), when checking
 * (verify) and in exports, so the three can never disagree.
 *
 * entry_hash = SHA-256(prev_hash bytes (32) || UTF-8 canonical JSON of the body, seq included).
 * The genesis prev_hash is 32 zero bytes. A checkpoint signs canonical JSON of
 * { seq, entry_hash, time, key_id } with ES256 (the HSM hashes with SHA-256, RFC 7518 §3.4).
 */
import crypto from 'node:crypto';
import { canonicalJson, type JsonValue } from './canonical-json.js';
import type { AuditCheckpoint, AuditEntryBody } from './types.js';

export const GENESIS_HASH = '0'.repeat(64);
const HEX64 = /^[0-9a-f]{64}$/;

export function computeEntryHash(prevHash: string, body: AuditEntryBody): string {
  return hashCanonicalBody(prevHash, canonicalBodyJson(body));
}

/** The canonical JSON of a body: the bytes that are hashed and stored. */
export function canonicalBodyJson(body: AuditEntryBody): string {
  return canonicalJson(body as unknown as JsonValue);
}

/** entry_hash from the body's canonical JSON (when the caller also needs the JSON, e.g. to store it). */
export function hashCanonicalBody(prevHash: string, canonicalBody: string): string {
  return crypto.createHash('sha256').update(prevHashBytes(prevHash)).update(canonicalBody, 'utf8').digest('hex');
}

function prevHashBytes(prevHash: string): Buffer {
  // A malformed prev hash cannot be a link of this chain; hash it as-is so the mismatch shows.
  return HEX64.test(prevHash) ? Buffer.from(prevHash, 'hex') : Buffer.from(prevHash, 'utf8');
}

/**
 * A running chain for sealing a batch: `next(json)` returns the entry_hash of the entry whose
 * canonical JSON is `json` and whose prev_hash is the previous call's result (or `prevHash`).
 * Same rule as hashCanonicalBody, without a hex round trip per link.
 */
export function chainFrom(prevHash: string): (canonicalBody: string) => string {
  let prev = prevHashBytes(prevHash);
  return (canonicalBody) => {
    const digest = crypto.createHash('sha256').update(prev).update(canonicalBody, 'utf8').digest();
    prev = digest;
    return digest.toString('hex');
  };
}

export function checkpointPayload(cp: Pick<AuditCheckpoint, 'seq' | 'entry_hash' | 'time' | 'key_id'>): Buffer {
  return Buffer.from(canonicalJson({ seq: cp.seq, entry_hash: cp.entry_hash, time: cp.time, key_id: cp.key_id }), 'utf8');
}
