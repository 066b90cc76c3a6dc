/**
 * Derivation context rules (Vault's `derived` keys). Keyward does not derive a separate key per context:
 * the context is bound into the sealed DEK's AAD as SHA-256(context), so a ciphertext opens only with the
 * exact context it was made with (see aad.ts).
 *
 * Invariants:
 * - A derived key with a missing or empty context is a client error (ERR_INVALID_INPUT), never a silent
 *   encryption without context.
 * - A non-derived key ignores any context given, as Vault does; its digest is always empty.
 */
import { createHash } from 'node:crypto';
import { invalidInput } from './errors.js';

const EMPTY = Buffer.alloc(0);

export function contextDigest(derived: boolean, context: Uint8Array | undefined): Buffer {
  if (!derived) return EMPTY;
  if (context === undefined || context.length === 0) {
    throw invalidInput("missing 'context' for key derivation: this key was created as a derived key, so every request must carry its context");
  }
  return createHash('sha256').update(context).digest();
}
