/**
 * Where the JWT method's verification keys come from, per environment: a JWKS URL (jose
 * createRemoteJWKSet: cached, rate-limited refetch on an unknown kid), an OIDC discovery URL
 * (`/.well-known/openid-configuration` → `jwks_uri`, and the discovered `issuer`, which must equal
 * the discovery URL as OIDC Discovery §4.3 requires), or fixed PEM public keys.
 *
 * Keys are only ever taken from the configured source: a token's own `jku`, `x5u`, `jwk` or `x5c`
 * header is never followed or trusted (RFC 8725 §3.10). Resolvers are cached per environment and
 * rebuilt when the config changes.
 */
import crypto from 'node:crypto';
import { createRemoteJWKSet, type JWTVerifyGetKey } from 'jose';
import { loginFailed } from '../approle/login-failure.js';
import type { JwtAuthConfig } from './jwt-config.js';

export type KeySource =
  | { readonly kind: 'remote'; readonly getKey: JWTVerifyGetKey; readonly discoveredIssuer: string | null }
  | { readonly kind: 'static'; readonly keys: readonly crypto.KeyObject[] };

export interface KeySourceOptions {
  /** Per-request timeout for discovery and JWKS fetches; default 5 s. */
  readonly fetchTimeoutMs?: number;
  /** How long a fetched JWKS is trusted before a refetch; default 10 min. */
  readonly jwksCacheMaxAgeMs?: number;
}

const stripSlash = (s: string): string => s.replace(/\/+$/, '');

async function discover(discoveryUrl: string, timeoutMs: number): Promise<{ jwksUri: string; issuer: string }> {
  const url = `${stripSlash(discoveryUrl)}/.well-known/openid-configuration`;
  let doc: unknown;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'error', headers: { accept: 'application/json' } });
    if (!res.ok) throw new Error(`status ${res.status}`);
    doc = await res.json();
  } catch (e) {
    throw loginFailed('error validating token', 'oidc-discovery-failed');
  }
  const { jwks_uri: jwksUri, issuer } = (doc ?? {}) as { jwks_uri?: unknown; issuer?: unknown };
  if (typeof jwksUri !== 'string' || typeof issuer !== 'string' || !/^https?:\/\//.test(jwksUri)) {
    throw loginFailed('error validating token', 'oidc-discovery-invalid');
  }
  if (stripSlash(issuer) !== stripSlash(discoveryUrl)) throw loginFailed('error validating token', 'oidc-discovery-issuer-mismatch');
  return { jwksUri, issuer };
}

export class KeySources {
  private readonly cache = new Map<string, { fingerprint: string; source: KeySource }>();
  private readonly timeoutMs: number;
  private readonly maxAgeMs: number;

  constructor(options: KeySourceOptions = {}) {
    this.timeoutMs = options.fetchTimeoutMs ?? 5000;
    this.maxAgeMs = options.jwksCacheMaxAgeMs ?? 600_000;
  }

  private remote(jwksUri: string, discoveredIssuer: string | null): KeySource {
    const getKey = createRemoteJWKSet(new URL(jwksUri), {
      timeoutDuration: this.timeoutMs,
      cooldownDuration: 30_000,
      cacheMaxAge: this.maxAgeMs,
    });
    return { kind: 'remote', getKey, discoveredIssuer };
  }

  async forConfig(env: string, config: JwtAuthConfig): Promise<KeySource> {
    const fingerprint = JSON.stringify([config.oidc_discovery_url, config.jwks_url, config.jwt_validation_pubkeys]);
    const hit = this.cache.get(env);
    if (hit && hit.fingerprint === fingerprint) return hit.source;
    let source: KeySource;
    if (config.jwt_validation_pubkeys.length > 0) {
      source = { kind: 'static', keys: config.jwt_validation_pubkeys.map((pem) => crypto.createPublicKey(pem)) };
    } else if (config.jwks_url !== '') {
      source = this.remote(config.jwks_url, null);
    } else {
      const d = await discover(config.oidc_discovery_url, this.timeoutMs);
      source = this.remote(d.jwksUri, d.issuer);
    }
    this.cache.set(env, { fingerprint, source });
    return source;
  }

  forget(env: string): void {
    this.cache.delete(env);
  }
}
