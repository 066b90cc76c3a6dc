/**
 * Checks a JWT's form, signature and registered claims with jose, the RFC 8725 way, and nothing
 * else (revocation and environment are TokenService's job). Every failure is a tokenDenied(reason);
 * jose errors are translated here, by their `code`, never by message (STYLE.md "Errors").
 *
 * Rules (RFC 8725 section in brackets):
 * - Size: more than 8 KiB is rejected before any parsing (bounded work per request).
 * - Algorithm: ES256 only, so `none`, HS256-with-the-public-key and RS256 fail before any key is
 *   chosen [§3.1, §3.2].
 * - Key: chosen by `kid` among Keyward's own recorded keys only; a header carrying jku, x5u, jwk or
 *   x5c is rejected outright — nothing is fetched, an embedded key is never trusted [§3.1, §3.10].
 * - typ must be JWT; iss and aud must match [§3.8, §3.9, §3.11]; exp, iat, nbf, jti, sub required;
 *   60 s clock tolerance on exp/nbf, and iat may not lie further in the future than that.
 */
import { jwtVerify, type CryptoKey, type JWTPayload } from 'jose';
import { KeywardError } from '../core/errors.js';
import type { KeywardClaims } from './jwt-signer.js';
import { tokenDenied, type DenialReason } from './token-denial.js';

export const MAX_TOKEN_BYTES = 8 * 1024;
export const CLOCK_TOLERANCE_SECONDS = 60;
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const FOREIGN_KEY_HEADERS = ['jku', 'x5u', 'jwk', 'x5c'] as const;

/** Returns the public key Keyward recorded for `kid`, or null if there is none that may verify. */
export type KeyResolver = (kid: string) => Promise<CryptoKey | null>;

export interface JwtCheckOptions {
  readonly issuer: string;
  readonly audience: string;
  readonly now: Date;
}

function joseReason(e: { code?: unknown; claim?: unknown; reason?: unknown }): DenialReason {
  switch (e.code) {
    case 'ERR_JWT_EXPIRED':
      return 'expired';
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      if (e.reason === 'missing') return 'missing-claim';
      switch (e.claim) {
        case 'iss':
          return 'bad-issuer';
        case 'aud':
          return 'bad-audience';
        case 'nbf':
          return 'not-yet-valid';
        case 'iat':
          return 'iat-in-future';
        case 'typ':
          return 'bad-header';
        default:
          return 'malformed';
      }
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
    case 'ERR_JOSE_NOT_SUPPORTED':
      return 'bad-alg';
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return 'bad-signature';
    default:
      return 'malformed'; // ERR_JWS_INVALID, ERR_JWT_INVALID, bad crit, bad JSON …
  }
}

const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');

/** Our own claims beyond the registered ones: right types or 'malformed'. */
function toKeywardClaims(p: JWTPayload): KeywardClaims {
  const { iss, sub, aud, iat, nbf, exp, jti } = p;
  const { policies, env, meth, role } = p as Record<string, unknown>;
  if (
    typeof iss !== 'string' || typeof sub !== 'string' || typeof aud !== 'string' || typeof jti !== 'string' ||
    typeof iat !== 'number' || typeof nbf !== 'number' || typeof exp !== 'number' ||
    !isStringArray(policies) || typeof env !== 'string' || typeof meth !== 'string' ||
    (role !== undefined && typeof role !== 'string')
  ) {
    throw tokenDenied('malformed');
  }
  return { iss, sub, aud, iat, nbf, exp, jti, policies, env, meth, ...(role === undefined ? {} : { role }) };
}

/** Verifies `token` and returns its claims, or throws tokenDenied(reason). */
export async function checkJwt(token: unknown, resolveKey: KeyResolver, options: JwtCheckOptions): Promise<KeywardClaims> {
  if (typeof token !== 'string') throw tokenDenied('malformed');
  if (token.length > MAX_TOKEN_BYTES) throw tokenDenied('oversized');
  if (!COMPACT_JWS.test(token)) throw tokenDenied('malformed');
  let payload: JWTPayload;
  try {
    const result = await jwtVerify(
      token,
      async (header) => {
        if (FOREIGN_KEY_HEADERS.some((h) => h in header)) throw tokenDenied('untrusted-key-header');
        if (typeof header.kid !== 'string' || header.kid.length === 0) throw tokenDenied('missing-kid');
        const key = await resolveKey(header.kid);
        if (key === null) throw tokenDenied('unknown-kid');
        return key;
      },
      {
        algorithms: ['ES256'],
        issuer: options.issuer,
        audience: options.audience,
        typ: 'JWT',
        clockTolerance: CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ['exp', 'iat', 'nbf', 'jti', 'sub'],
        currentDate: options.now,
      },
    );
    payload = result.payload;
  } catch (e) {
    if (e instanceof KeywardError) throw e;
    throw tokenDenied(joseReason(e as { code?: unknown; claim?: unknown; reason?: unknown }));
  }
  const claims = toKeywardClaims(payload);
  // jose checks iat only together with maxTokenAge; a token "issued in the future" is a forgery or a
  // badly skewed clock either way.
  if (claims.iat > Math.floor(options.now.getTime() / 1000) + CLOCK_TOLERANCE_SECONDS) throw tokenDenied('iat-in-future');
  return claims;
}
