/**
 * Random identifiers for tokens, drawn from the HSM's RNG: the `jti` (in the JWT) and the accessor
 * (stored beside the token, never in it). Both are 128 bits, base64url: unguessable, and the accessor
 * is independent of the token so nobody holding only an accessor can derive the token or vice versa.
 */
import type { Hsm } from '../core/ports/hsm.js';

export const ACCESSOR_PREFIX = 'kwa_';
const ID_BYTES = 16; // 128 bits
const ACCESSOR_RE = /^kwa_[A-Za-z0-9_-]{22}$/;

export async function newJti(hsm: Pick<Hsm, 'randomBytes'>): Promise<string> {
  return (await hsm.randomBytes(ID_BYTES)).toString('base64url');
}

export async function newAccessor(hsm: Pick<Hsm, 'randomBytes'>): Promise<string> {
  return ACCESSOR_PREFIX + (await hsm.randomBytes(ID_BYTES)).toString('base64url');
}

export function isAccessorShape(value: string): boolean {
  return ACCESSOR_RE.test(value);
}
