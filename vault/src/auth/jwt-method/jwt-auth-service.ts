/**
 * The JWT/OIDC auth method: a workload or person presents a JWT from an external issuer and gets a
 * Keyward token with the role's policies.
 *
 * Checks, in order (RFC 8725 section in brackets): size ≤ 16 KiB and compact form; signature under a
 * key from the configured source only, with an algorithm from the asymmetric allow-list [§3.1, §3.2];
 * `exp` required, `nbf`/`exp` with the role's leeway (≤ 60 s) [§3.8 ff.]; `iss` = bound_issuer (or
 * the discovered issuer); `aud` ∈ bound_audiences — and a token carrying `aud` is refused by a role
 * that binds none [§3.9]; `sub` = bound_subject; bound_claims (string or glob); the user claim must
 * be a string or number.
 *
 * Every failure is ERR_INVALID_INPUT "error validating token" (400, as Vault) with the reason in
 * `cause` for the audit entry; the token's contents are never echoed.
 * The issued token: subject `jwt:<user claim>`, authMethod 'jwt', role = the role name,
 * env = the request's environment, metadata {role, groups?, ...claim_mappings}.
 */
import type { KeyObject } from 'node:crypto';
import { decodeProtectedHeader, jwtVerify, type JWTPayload, type JWTVerifyOptions } from 'jose';
import { KeywardError, invalidInput } from '../../core/errors.js';
import type { Clock } from '../../core/ports/clock.js';
import type { IdentityStore } from '../../core/ports/identity-store.js';
import type { Environment } from '../../core/types.js';
import type { IssuedToken, TokenService } from '../token-service.js';
import { effectivePolicies, entityIdFor, parsePolicies, parseRoleName } from '../approle/approle-service.js';
import { loginFailed } from '../approle/login-failure.js';
import { claimAt, claimsMatch } from './bound-claims.js';
import { parseJwtConfig, parseJwtRole, type ConfigInput, type JwtAuthConfig, type JwtRole, type RoleInput } from './jwt-config.js';
import { KeySources, type KeySourceOptions } from './key-source.js';

export const JWT_METHOD = 'jwt';
export const MAX_EXTERNAL_JWT_BYTES = 16 * 1024;
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
const FAILED = 'error validating token';
const META_VALUE_MAX = 512;

export interface JwtAuthDeps {
  readonly store: IdentityStore;
  readonly tokens: Pick<TokenService, 'issue'>;
  readonly clock: Clock;
}

export interface JwtLogin {
  readonly token: IssuedToken;
  readonly subject: string;
  readonly entityId: string;
  readonly policies: readonly string[];
  readonly metadata: Record<string, string>;
}

function joseReason(e: unknown): string {
  const code = (e as { code?: unknown }).code;
  const claim = (e as { claim?: unknown }).claim;
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return 'expired';
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      return typeof claim === 'string' ? `bad-claim-${claim}` : 'bad-claim';
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
    case 'ERR_JOSE_NOT_SUPPORTED':
      return 'bad-alg';
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return 'bad-signature';
    case 'ERR_JWKS_NO_MATCHING_KEY':
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
      return 'no-matching-key';
    case 'ERR_JWKS_TIMEOUT':
    case 'ERR_JWKS_INVALID':
      return 'jwks-unavailable';
    default:
      return 'malformed';
  }
}

/** Whether a PEM key can verify `alg` at all (RFC 7518 §3.1), so fixed keys of other types are skipped. */
function keyFitsAlg(key: KeyObject, alg: unknown): boolean {
  if (typeof alg !== 'string') return false;
  const type = key.asymmetricKeyType;
  const curve = key.asymmetricKeyDetails?.namedCurve;
  if (/^(RS|PS)(256|384|512)$/.test(alg)) return type === 'rsa' || (alg.startsWith('PS') && type === 'rsa-pss');
  if (alg === 'ES256') return type === 'ec' && curve === 'prime256v1';
  if (alg === 'ES384') return type === 'ec' && curve === 'secp384r1';
  if (alg === 'ES512') return type === 'ec' && curve === 'secp521r1';
  if (alg === 'EdDSA' || alg === 'Ed25519') return type === 'ed25519' || (alg === 'EdDSA' && type === 'ed448');
  return false;
}

function metaValue(v: unknown): string | null {
  if (typeof v === 'string') return v.length <= META_VALUE_MAX ? v : null;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return null;
}

export class JwtAuthService {
  private readonly keys: KeySources;

  constructor(
    private readonly deps: JwtAuthDeps,
    options: KeySourceOptions = {},
  ) {
    this.keys = new KeySources(options);
  }

  // ---- config and roles -------------------------------------------------------------------

  async writeConfig(env: Environment, input: ConfigInput): Promise<JwtAuthConfig> {
    const config = parseJwtConfig(input);
    await this.deps.store.putJwtConfig(env, config as unknown as Record<string, unknown>, this.deps.clock.now());
    this.keys.forget(env);
    return config;
  }

  async readConfig(env: Environment): Promise<JwtAuthConfig | null> {
    return (await this.deps.store.getJwtConfig(env)) as JwtAuthConfig | null;
  }

  async writeRole(env: Environment, name: string, input: RoleInput): Promise<JwtRole> {
    const role = parseJwtRole(input, parsePolicies);
    await this.deps.store.putJwtRole(env, parseRoleName(name), role as unknown as Record<string, unknown>, this.deps.clock.now());
    return role;
  }

  async readRole(env: Environment, name: string): Promise<JwtRole | null> {
    return ((await this.deps.store.getJwtRole(env, parseRoleName(name)))?.doc ?? null) as JwtRole | null;
  }

  listRoles(env: Environment): Promise<string[]> {
    return this.deps.store.listJwtRoles(env);
  }

  deleteRole(env: Environment, name: string): Promise<boolean> {
    return this.deps.store.deleteJwtRole(env, parseRoleName(name));
  }

  // ---- login ------------------------------------------------------------------------------

  private async verify(env: string, config: JwtAuthConfig, role: JwtRole, jwt: string): Promise<JWTPayload> {
    const source = await this.keys.forConfig(env, config);
    const issuer = config.bound_issuer !== '' ? config.bound_issuer : source.kind === 'remote' ? source.discoveredIssuer : null;
    const options: JWTVerifyOptions = {
      algorithms: [...config.jwt_supported_algs],
      clockTolerance: role.clock_skew_leeway,
      currentDate: this.deps.clock.now(),
      requiredClaims: ['exp'],
      ...(issuer !== null ? { issuer } : {}),
      ...(role.bound_audiences.length > 0 ? { audience: [...role.bound_audiences] } : {}),
    };
    try {
      if (source.kind === 'remote') return (await jwtVerify(jwt, source.getKey, options)).payload;
      const alg = decodeProtectedHeader(jwt).alg;
      const candidates = source.keys.filter((k) => keyFitsAlg(k, alg));
      if (candidates.length === 0) {
        // An algorithm outside the allow-list is the better-known reason; say that one.
        if (typeof alg !== 'string' || !config.jwt_supported_algs.includes(alg)) throw loginFailed(FAILED, 'bad-alg');
        throw loginFailed(FAILED, 'no-matching-key');
      }
      let last: unknown = new Error('no keys');
      for (const key of candidates) {
        try {
          return (await jwtVerify(jwt, key, options)).payload;
        } catch (e) {
          last = e;
          const code = (e as { code?: unknown }).code;
          // Only a signature mismatch means "try the next key"; a claim failure means the signature verified.
          if (code !== 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') throw e;
        }
      }
      throw last;
    } catch (e) {
      if (e instanceof KeywardError) throw e;
      throw loginFailed(FAILED, joseReason(e));
    }
  }

  async login(env: Environment, input: { role?: string | undefined; jwt: unknown }): Promise<JwtLogin> {
    const rawConfig = await this.deps.store.getJwtConfig(env);
    if (!rawConfig) throw invalidInput('could not load configuration');
    const config = rawConfig as unknown as JwtAuthConfig;
    const roleName = input.role !== undefined && input.role !== '' ? input.role : config.default_role;
    if (roleName === '') throw invalidInput('missing role');
    const stored = await this.deps.store.getJwtRole(env, parseRoleName(roleName));
    if (!stored) throw invalidInput(`role "${roleName}" could not be found`);
    const role = stored.doc as unknown as JwtRole;
    const jwt = input.jwt;
    if (typeof jwt !== 'string' || jwt === '') throw invalidInput('missing token');
    if (jwt.length > MAX_EXTERNAL_JWT_BYTES) throw loginFailed(FAILED, 'oversized');
    if (!COMPACT_JWS.test(jwt)) throw loginFailed(FAILED, 'malformed');
    try {
      decodeProtectedHeader(jwt);
    } catch {
      throw loginFailed(FAILED, 'malformed');
    }
    const payload = await this.verify(env, config, role, jwt);
    if (role.bound_audiences.length === 0 && payload.aud !== undefined) throw loginFailed(FAILED, 'audience-not-bound');
    if (role.bound_subject !== '' && payload.sub !== role.bound_subject) throw loginFailed(FAILED, 'bad-subject');
    if (!claimsMatch(payload, role.bound_claims, role.bound_claims_type)) throw loginFailed(FAILED, 'bound-claims-mismatch');
    const user = metaValue(claimAt(payload, role.user_claim));
    if (user === null || user === '' || user.length > 240) throw loginFailed(FAILED, 'missing-user-claim');

    const metadata: Record<string, string> = { role: roleName };
    for (const [claim, key] of Object.entries(role.claim_mappings)) {
      const v = metaValue(claimAt(payload, claim));
      if (v !== null) metadata[key] = v;
    }
    if (role.groups_claim !== '') {
      const raw = claimAt(payload, role.groups_claim);
      const groups = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).map(metaValue);
      if (groups.some((g) => g === null)) throw loginFailed(FAILED, 'bad-groups-claim');
      const joined = (groups as string[]).join(',');
      if (joined.length > META_VALUE_MAX) throw loginFailed(FAILED, 'bad-groups-claim');
      metadata['groups'] = joined;
    }
    const policies = effectivePolicies(role.token_policies, role.token_no_default_policy);
    let ttlSeconds: number | undefined = role.token_ttl > 0 ? role.token_ttl : undefined;
    if (role.token_max_ttl > 0) ttlSeconds = Math.min(ttlSeconds ?? role.token_max_ttl, role.token_max_ttl);
    const subject = `jwt:${user}`;
    const token = await this.deps.tokens.issue({
      subject,
      authMethod: JWT_METHOD,
      role: roleName,
      policies,
      env,
      meta: metadata,
      ...(ttlSeconds === undefined ? {} : { ttlSeconds }),
    });
    return { token, subject, entityId: entityIdFor(env, subject), policies, metadata };
  }
}
