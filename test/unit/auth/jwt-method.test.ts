import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignJWT, exportJWK, exportSPKI, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { loginFailureReason } from '../../../vault/src/auth/approle/login-failure.js';
import { globMatch, claimsMatch } from '../../../vault/src/auth/jwt-method/bound-claims.js';
import { PROD } from './fixture.js';
import { makeIdentityFixture, type IdentityFixture } from './approle-fixture.js';

const ISS = 'https://idp.test';
let server: http.Server;
let base = '';
let rsa: { privateKey: CryptoKey; publicKey: CryptoKey };
let ec: { privateKey: CryptoKey; publicKey: CryptoKey };
let jwks: { keys: JWK[] };
let jwksHits = 0;

beforeAll(async () => {
  rsa = await generateKeyPair('RS256', { extractable: true });
  ec = await generateKeyPair('ES256', { extractable: true });
  jwks = { keys: [{ ...(await exportJWK(rsa.publicKey)), kid: 'rsa1', alg: 'RS256', use: 'sig' }, { ...(await exportJWK(ec.publicKey)), kid: 'ec1', alg: 'ES256', use: 'sig' }] };
  server = http.createServer((req, res) => {
    if (req.url === '/jwks') {
      jwksHits++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks));
    } else if (req.url === '/.well-known/openid-configuration') {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ issuer: base, jwks_uri: `${base}/jwks` }));
    } else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

interface Opts {
  key?: CryptoKey | Uint8Array;
  alg?: string;
  kid?: string;
  iss?: string;
  aud?: string | string[] | null;
  sub?: string;
  exp?: number;
  claims?: Record<string, unknown>;
}

function sign(f: IdentityFixture, o: Opts = {}): Promise<string> {
  const now = Math.floor(f.clock.now().getTime() / 1000);
  let b = new SignJWT({ groups: ['eng', 'sre'], email: 'alice@example.com', ...(o.claims ?? {}) })
    .setProtectedHeader({ alg: o.alg ?? 'RS256', kid: o.kid ?? 'rsa1' })
    .setIssuer(o.iss ?? ISS)
    .setSubject(o.sub ?? 'alice')
    .setIssuedAt(now)
    .setExpirationTime(o.exp ?? now + 300);
  if (o.aud !== null) b = b.setAudience(o.aud ?? 'keyward');
  return b.sign(o.key ?? rsa.privateKey);
}

async function setup(role: Record<string, unknown> = {}): Promise<IdentityFixture> {
  const f = await makeIdentityFixture();
  await f.ids.jwtAuth.writeConfig(PROD, { jwks_url: `${base}/jwks`, bound_issuer: ISS });
  await f.ids.jwtAuth.writeRole(PROD, 'eng', {
    bound_audiences: ['keyward'],
    user_claim: 'email',
    groups_claim: 'groups',
    claim_mappings: { email: 'email' },
    token_policies: ['eng-read'],
    token_ttl: 900,
    ...role,
  });
  return f;
}

async function failReason(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (e) {
    expect((e as { code?: string }).code).toBe('ERR_INVALID_INPUT');
    return loginFailureReason(e);
  }
  throw new Error('expected the login to fail');
}

describe('JWT auth method', () => {
  it('when a JWT from the configured JWKS matches the role, then a token is issued with the mapped claims', async () => {
    const f = await setup();
    const r = await f.ids.jwtAuth.login(PROD, { role: 'eng', jwt: await sign(f) });
    expect(r.subject).toBe('jwt:alice@example.com');
    expect(r.policies).toEqual(['default', 'eng-read']);
    expect(r.metadata).toEqual({ role: 'eng', email: 'alice@example.com', groups: 'eng,sre' });
    expect(r.token.ttlSeconds).toBe(900);
    await expect(f.service.verify(r.token.token, { env: PROD })).resolves.toMatchObject({ authMethod: 'jwt', role: 'eng', subject: 'jwt:alice@example.com' });
    const es = await f.ids.jwtAuth.login(PROD, { role: 'eng', jwt: await sign(f, { key: ec.privateKey, alg: 'ES256', kid: 'ec1' }) });
    expect(es.subject).toBe('jwt:alice@example.com');
  });

  it('when the audience, issuer or subject is wrong, then login is refused', async () => {
    const f = await setup({ bound_subject: 'alice' });
    expect(await failReason(f.ids.jwtAuth.login(PROD, { role: 'eng', jwt: await sign(f, { aud: 'other' }) }))).toBe('bad-claim-aud');
    expect(await failReason(f.ids.jwtAuth.login(PROD, { role: 'eng', jwt: await sign(f, { iss: 'https://evil.test' }) }))).toBe('bad-claim-iss');
    expect(await failReason(f.ids.jwtAuth.login(PROD, { role: 'eng', jwt: await sign(f, { sub: 'mallory' }) }))).toBe('bad-subject');
  });

  it('when the role binds no audience but the JWT has one, then login is refused', async () => {
    const f = await setup({ bound_audiences: [], bound_subject: 'alice' });
    expect(await failReason(f.ids.jwtAuth.login(PROD, { role: 'eng', jwt: await sign(f) }))).toBe('audience-not-bound');
    await expect(f.ids.jwtAuth.login(PROD, { role: 'eng', jwt: await sign(f, { aud: null }) })).resolves.toBeTruthy();
  });

  it('when the JWT expired beyond the 60 s leeway, then login is refused; within it, accepted', async () => {
    const f = await setup();
    const now = Math.floor(f.clock.now().getTime() / 1000);
    await expect(f.ids.jwtAuth.login(PROD, { role: 'eng', jwt: await sign(f, { exp: now - 30 }) })).resolves.toBeTruthy();
    expect(await failReason(f.ids.jwtAuth.login(PROD, { role: 'eng', jwt: await sign(f, { exp: now - 61 }) }))).toBe('expired');
    await expect(f.ids.jwtAuth.writeRole(PROD, 'x', { bound_subject: 'a', clock_skew_leeway: 61 })).rejects.toMatchObject({ code: 'ERR_INVALID_INPUT' });
  });

  it('when the JWT is HS256 (even keyed with the public key) or unsigned, then login is refused', async () => {
    const f = await setup();
    const hmacKey = new TextEncoder().encode(JSON.stringify(jwks.keys[0]));
    expect(await failReason(f.ids.jwtAuth.login(PROD, { role: 'eng', jwt: await sign(f, { key: hmacKey, alg: 'HS256' }) }))).toBe('bad-alg');
    const good = await sign(f);
    const [, payload] = good.split('.');
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', kid: 'rsa1' })).toString('base64url')}.${payload}.`;
    expect(await failReason(f.ids.jwtAuth.login(PROD, { role: 'eng', jwt: none }))).toBe('malformed');
    await expect(f.ids.jwtAuth.writeConfig(PROD, { jwks_url: `${base}/jwks`, jwt_supported_algs: ['HS256'] })).rejects.toMatchObject({ code: 'ERR_INVALID_INPUT' });
    await expect(f.ids.jwtAuth.writeConfig(PROD, { jwks_url: 'file:///etc/passwd' })).rejects.toMatchObject({ code: 'ERR_INVALID_INPUT' });
  });

  it('when signed by a key not in the JWKS, then login is refused', async () => {
    const f = await setup();
    const other = await generateKeyPair('RS256');
    expect(await failReason(f.ids.jwtAuth.login(PROD, { role: 'eng', jwt: await sign(f, { key: other.privateKey }) }))).toBe('bad-signature');
    expect(await failReason(f.ids.jwtAuth.login(PROD, { role: 'eng', jwt: await sign(f, { key: other.privateKey, kid: 'unknown' }) }))).toBe('no-matching-key');
  });

  it('when bound claims use globs and lists, then only matching tokens log in', async () => {
    const f = await setup({ bound_claims: { email: '*@example.com', groups: ['sre', 'ops'] }, bound_claims_type: 'glob' });
    await expect(f.ids.jwtAuth.login(PROD, { role: 'eng', jwt: await sign(f) })).resolves.toBeTruthy();
    expect(await failReason(f.ids.jwtAuth.login(PROD, { role: 'eng', jwt: await sign(f, { claims: { email: 'alice@example.com.evil' } }) }))).toBe('bound-claims-mismatch');
    expect(await failReason(f.ids.jwtAuth.login(PROD, { role: 'eng', jwt: await sign(f, { claims: { groups: ['eng'] } }) }))).toBe('bound-claims-mismatch');
    // with 'string' type the '*' is literal
    await f.ids.jwtAuth.writeRole(PROD, 'lit', { bound_audiences: ['keyward'], bound_claims: { email: '*@example.com' } });
    expect(await failReason(f.ids.jwtAuth.login(PROD, { role: 'lit', jwt: await sign(f) }))).toBe('bound-claims-mismatch');
  });

  it('when the glob helpers are used, then * is the only wildcard and nested claims resolve', () => {
    expect(globMatch('repo:acme/*:ref:refs/heads/main', 'repo:acme/api:ref:refs/heads/main')).toBe(true);
    expect(globMatch('a.b', 'aXb')).toBe(false);
    expect(claimsMatch({ realm: { roles: ['admin'] } }, { '/realm/roles': 'admin' }, 'string')).toBe(true);
    expect(claimsMatch({}, { missing: '*' }, 'glob')).toBe(false);
  });

  it('when trust comes from OIDC discovery or PEM keys, then those keys verify', async () => {
    const f = await makeIdentityFixture();
    await f.ids.jwtAuth.writeConfig(PROD, { oidc_discovery_url: base });
    await f.ids.jwtAuth.writeRole(PROD, 'eng', { bound_audiences: ['keyward'] });
    await expect(f.ids.jwtAuth.login(PROD, { role: 'eng', jwt: await sign(f, { iss: base }) })).resolves.toMatchObject({ subject: 'jwt:alice' });
    expect(await failReason(f.ids.jwtAuth.login(PROD, { role: 'eng', jwt: await sign(f) }))).toBe('bad-claim-iss');

    await f.ids.jwtAuth.writeConfig(PROD, { jwt_validation_pubkeys: [await exportSPKI(ec.publicKey), await exportSPKI(rsa.publicKey)], bound_issuer: ISS });
    const hits = jwksHits;
    await expect(f.ids.jwtAuth.login(PROD, { role: 'eng', jwt: await sign(f) })).resolves.toBeTruthy();
    expect(jwksHits).toBe(hits);
  });
});
