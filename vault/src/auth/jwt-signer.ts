/**
 * Builds a compact ES256 JWS by hand and has the HSM sign it, so the private key never leaves the
 * device. PKCS#11 CKM_ECDSA over SHA-256 returns raw r || s (64 bytes for P-256), which is exactly
 * the JWS ES256 signature encoding (RFC 7518 §3.4) — no DER conversion.
 * The header is always {alg:'ES256', typ:'JWT', kid}: never jku/x5u/jwk (RFC 8725 §3.1).
 */
import { KeywardError } from '../core/errors.js';
import type { Hsm } from '../core/ports/hsm.js';

export interface KeywardClaims {
  readonly iss: string;
  readonly sub: string;
  readonly aud: string;
  readonly iat: number;
  readonly nbf: number;
  readonly exp: number;
  readonly jti: string;
  readonly policies: readonly string[];
  readonly env: string;
  readonly meth: string;
  readonly role?: string;
}

const b64url = (value: unknown): string => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');

export async function signJwt(hsm: Pick<Hsm, 'signEs256'>, key: { label: string; kid: string }, claims: KeywardClaims): Promise<string> {
  const signingInput = `${b64url({ alg: 'ES256', typ: 'JWT', kid: key.kid })}.${b64url(claims)}`;
  const signature = await hsm.signEs256(key.label, Buffer.from(signingInput, 'ascii'));
  if (signature.length !== 64) throw new KeywardError('ERR_INTERNAL', 'HSM returned a malformed ES256 signature');
  return `${signingInput}.${signature.toString('base64url')}`;
}
