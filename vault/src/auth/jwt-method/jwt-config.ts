/**
 * The JWT/OIDC auth method's configuration (one per environment) and roles, in Vault's field names.
 * Parsed and checked here once, when written; stored as the normalised document.
 *
 * Rules (RFC 8725 in brackets):
 * - Exactly one trust source: `oidc_discovery_url`, `jwks_url` or `jwt_validation_pubkeys`; URLs are
 *   http(s) only; PEMs must be public keys.
 * - `jwt_supported_algs` is an allow-list of asymmetric algorithms only — never `none` or HS*
 *   [§3.1, §3.2]; default RS256, ES256, EdDSA.
 * - Roles: `role_type` is `jwt`; clock skew leeway is capped at 60 s.
 */
import crypto from 'node:crypto';
import { invalidInput } from '../../core/errors.js';
import type { BoundClaims, BoundClaimsType } from './bound-claims.js';

export const ASYMMETRIC_ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'] as const;
export const DEFAULT_ALGS = ['RS256', 'ES256', 'EdDSA'] as const;
export const MAX_LEEWAY_SECONDS = 60;

export interface JwtAuthConfig {
  readonly oidc_discovery_url: string;
  readonly jwks_url: string;
  readonly jwt_validation_pubkeys: readonly string[];
  readonly bound_issuer: string;
  readonly jwt_supported_algs: readonly string[];
  readonly default_role: string;
}

export interface JwtRole {
  readonly role_type: 'jwt';
  readonly bound_audiences: readonly string[];
  readonly bound_subject: string;
  readonly bound_claims: BoundClaims;
  readonly bound_claims_type: BoundClaimsType;
  readonly user_claim: string;
  readonly groups_claim: string;
  readonly claim_mappings: Readonly<Record<string, string>>;
  readonly token_policies: readonly string[];
  readonly token_no_default_policy: boolean;
  readonly token_ttl: number;
  readonly token_max_ttl: number;
  readonly clock_skew_leeway: number;
}

function httpUrl(raw: string, what: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw invalidInput(`${what} must be an http(s) URL`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw invalidInput(`${what} must be an http(s) URL`);
  if (url.username !== '' || url.password !== '') throw invalidInput(`${what} must not carry credentials`);
  return url.toString();
}

export interface ConfigInput {
  oidc_discovery_url?: string | undefined;
  jwks_url?: string | undefined;
  jwt_validation_pubkeys?: readonly string[] | string | undefined;
  bound_issuer?: string | undefined;
  jwt_supported_algs?: readonly string[] | string | undefined;
  default_role?: string | undefined;
}

const list = (v: readonly string[] | string | undefined): string[] =>
  v === undefined ? [] : (typeof v === 'string' ? v.split(',') : [...v]).map((s) => s.trim()).filter((s) => s !== '');

export function parseJwtConfig(input: ConfigInput): JwtAuthConfig {
  const discovery = input.oidc_discovery_url?.trim() ?? '';
  const jwks = input.jwks_url?.trim() ?? '';
  // PEMs contain newlines and no commas: a string is one key.
  const pems = input.jwt_validation_pubkeys === undefined ? [] : typeof input.jwt_validation_pubkeys === 'string' ? [input.jwt_validation_pubkeys] : [...input.jwt_validation_pubkeys];
  const sources = [discovery !== '', jwks !== '', pems.length > 0].filter(Boolean).length;
  if (sources !== 1) throw invalidInput('exactly one of oidc_discovery_url, jwks_url or jwt_validation_pubkeys must be set');
  for (const pem of pems) {
    if (typeof pem !== 'string' || /PRIVATE KEY/.test(pem)) throw invalidInput('jwt_validation_pubkeys must be PEM public keys');
    try {
      const key = crypto.createPublicKey(pem);
      if (key.asymmetricKeyType === undefined) throw new Error('not asymmetric');
    } catch {
      throw invalidInput('jwt_validation_pubkeys must be PEM public keys');
    }
  }
  const algs = list(input.jwt_supported_algs);
  for (const alg of algs) {
    if (!(ASYMMETRIC_ALGS as readonly string[]).includes(alg)) throw invalidInput(`unsupported JWT algorithm; allowed: ${ASYMMETRIC_ALGS.join(', ')}`);
  }
  return {
    oidc_discovery_url: discovery === '' ? '' : httpUrl(discovery, 'oidc_discovery_url'),
    jwks_url: jwks === '' ? '' : httpUrl(jwks, 'jwks_url'),
    jwt_validation_pubkeys: pems,
    bound_issuer: input.bound_issuer?.trim() ?? '',
    jwt_supported_algs: algs.length > 0 ? algs : [...DEFAULT_ALGS],
    default_role: input.default_role?.trim() ?? '',
  };
}

export interface RoleInput {
  role_type?: string | undefined;
  bound_audiences?: readonly string[] | string | undefined;
  bound_subject?: string | undefined;
  bound_claims?: Record<string, string | readonly string[]> | undefined;
  bound_claims_type?: string | undefined;
  user_claim?: string | undefined;
  groups_claim?: string | undefined;
  claim_mappings?: Record<string, string> | undefined;
  token_policies?: readonly string[] | string | undefined;
  token_no_default_policy?: boolean | undefined;
  token_ttl?: number | undefined;
  token_max_ttl?: number | undefined;
  clock_skew_leeway?: number | undefined;
}

const META_KEY_RE = /^[A-Za-z0-9][A-Za-z0-9_.@:+=-]{0,127}$/;

export function parseJwtRole(input: RoleInput, parsePolicies: (raw: readonly string[] | string | undefined) => string[]): JwtRole {
  const roleType = input.role_type ?? 'jwt';
  if (roleType !== 'jwt') throw invalidInput('only role_type "jwt" is supported');
  const claimsType = input.bound_claims_type ?? 'string';
  if (claimsType !== 'string' && claimsType !== 'glob') throw invalidInput('bound_claims_type must be "string" or "glob"');
  const mappings = input.claim_mappings ?? {};
  for (const [claim, key] of Object.entries(mappings)) {
    if (claim === '' || !META_KEY_RE.test(key) || key === 'role') throw invalidInput('invalid claim_mappings entry');
  }
  const ttl = input.token_ttl ?? 0;
  const maxTtl = input.token_max_ttl ?? 0;
  if (maxTtl > 0 && ttl > maxTtl) throw invalidInput('token_ttl should not be greater than token_max_ttl');
  const leeway = input.clock_skew_leeway ?? MAX_LEEWAY_SECONDS;
  if (!Number.isInteger(leeway) || leeway < 0 || leeway > MAX_LEEWAY_SECONDS) throw invalidInput(`clock_skew_leeway must be between 0 and ${MAX_LEEWAY_SECONDS}`);
  const bound = input.bound_claims ?? {};
  for (const v of Object.values(bound)) {
    if (typeof v !== 'string' && !(Array.isArray(v) && v.every((s) => typeof s === 'string'))) throw invalidInput('bound_claims values must be strings or lists of strings');
  }
  const audiences = list(input.bound_audiences);
  if (audiences.length === 0 && (input.bound_subject ?? '') === '' && Object.keys(bound).length === 0) {
    throw invalidInput('must have at least one bound constraint when creating/updating a role');
  }
  return {
    role_type: 'jwt',
    bound_audiences: audiences,
    bound_subject: input.bound_subject ?? '',
    bound_claims: bound,
    bound_claims_type: claimsType,
    user_claim: input.user_claim?.trim() || 'sub',
    groups_claim: input.groups_claim?.trim() ?? '',
    claim_mappings: mappings,
    token_policies: parsePolicies(input.token_policies),
    token_no_default_policy: input.token_no_default_policy ?? false,
    token_ttl: ttl,
    token_max_ttl: maxTtl,
    clock_skew_leeway: leeway,
  };
}
