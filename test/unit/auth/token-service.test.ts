/** TokenService behaviour over MemoryHsm + MemoryTokenStore: issuing, child rules, revocation, keys, cache. */
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { describe, expect, it, vi } from 'vitest';
import { tokenDenialReason } from '../../../vault/src/auth/token-denial.js';
import type { TokenRecord } from '../../../vault/src/core/ports/token-store.js';
import { MemoryTokenStore } from '../../helpers/memory-token-store.js';
import { DEV, ISSUER, PROD, deniedReason, makeFixture } from './fixture.js';

const payloadOf = (token: string): Record<string, unknown> =>
  JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString('utf8')) as Record<string, unknown>;

describe('TokenService: issue and verify', () => {
  it('when a token is issued, then it verifies to the same principal and carries the documented claims', async () => {
    const { service, clock } = await makeFixture();
    const issued = await service.issue({ subject: 'app-1', authMethod: 'approle', role: 'web', policies: ['a', 'b', 'a'], env: PROD, ttlSeconds: 900, meta: { team: 'pay' } });
    expect(issued.accessor).toMatch(/^kwa_[A-Za-z0-9_-]{22}$/);
    expect(issued.jti).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(issued.policies).toEqual(['a', 'b']);
    expect(issued.ttlSeconds).toBe(900);
    expect(issued.expiresAt.getTime() - clock.now().getTime()).toBe(900_000);

    const header = decodeProtectedHeader(issued.token);
    expect(Object.keys(header).sort()).toEqual(['alg', 'kid', 'typ']);
    expect(header).toMatchObject({ alg: 'ES256', typ: 'JWT' });
    const claims = payloadOf(issued.token);
    expect(claims).toMatchObject({ iss: ISSUER, sub: 'app-1', aud: 'keyward', jti: issued.jti, policies: ['a', 'b'], env: 'prod', meth: 'approle', role: 'web' });
    expect(claims.nbf).toBe(claims.iat);
    expect((claims.exp as number) - (claims.iat as number)).toBe(900);
    expect(JSON.stringify(claims)).not.toContain(issued.accessor);

    const p = await service.verify(issued.token, { env: PROD });
    expect(p).toEqual({
      jti: issued.jti, accessor: issued.accessor, subject: 'app-1', authMethod: 'approle', role: 'web', policies: ['a', 'b'],
      env: 'prod', issuedAt: issued.issuedAt, expiresAt: issued.expiresAt, isRoot: false, boundCidrs: [],
    });
  });

  it('when the JWKS is given to plain jose, then an issued token verifies with it (interop)', async () => {
    const { service, clock } = await makeFixture();
    const issued = await service.issue({ subject: 's', authMethod: 'approle', policies: ['p'], env: PROD });
    const { payload } = await jwtVerify(issued.token, createLocalJWKSet(await service.jwks()), { issuer: ISSUER, audience: 'keyward', currentDate: clock.now() });
    expect(payload.sub).toBe('s');
  });

  it('when no ttl is asked, then the default applies, and a ttl above the maximum is capped', async () => {
    const { service } = await makeFixture({ defaultTtlSeconds: 1200, maxTtlSeconds: 3600 });
    expect((await service.issue({ subject: 's', authMethod: 'approle', policies: ['p'], env: PROD })).ttlSeconds).toBe(1200);
    expect((await service.issue({ subject: 's', authMethod: 'approle', policies: ['p'], env: PROD, ttlSeconds: 99_999 })).ttlSeconds).toBe(3600);
    await expect(service.issue({ subject: 's', authMethod: 'approle', policies: ['p'], env: PROD, ttlSeconds: 0 })).rejects.toMatchObject({ code: 'ERR_INVALID_INPUT' });
  });

  it("when an orphan token asks for the 'root' policy or the '*' environment, then it is refused", async () => {
    const { service } = await makeFixture();
    expect(await deniedReason(service.issue({ subject: 's', authMethod: 'approle', policies: ['root'], env: PROD }))).toBe('not-permitted');
    await expect(service.issue({ subject: 's', authMethod: 'approle', policies: ['p'], env: '*' as typeof PROD })).rejects.toMatchObject({ code: 'ERR_INVALID_INPUT' });
  });

  it('when the root token is issued, then it is valid in every environment with the root policy for 7 days by default', async () => {
    const { service, clock } = await makeFixture();
    const root = await service.issueRootToken();
    expect(root.ttlSeconds).toBe(7 * 86_400);
    for (const env of [PROD, DEV]) {
      const p = await service.verify(root.token, { env });
      expect(p).toMatchObject({ isRoot: true, env: '*', policies: ['root'] });
    }
    clock.advance(7 * 86_400 + 61);
    expect(await deniedReason(service.verify(root.token, { env: PROD }))).toBe('expired');
  });
});

describe('TokenService: child tokens', () => {
  it('when a child asks for policies outside its parent, then it is refused; a subset is granted', async () => {
    const { service } = await makeFixture();
    const parent = await service.verify((await service.issue({ subject: 'p', authMethod: 'approle', policies: ['a', 'b'], env: PROD })).token, { env: PROD });
    expect(await deniedReason(service.issue({ subject: 'c', authMethod: 'token', policies: ['a', 'c'], env: PROD, parent }))).toBe('not-permitted');
    const child = await service.issue({ subject: 'c', authMethod: 'token', policies: ['b'], env: PROD, parent });
    expect((await service.lookup(child.jti))?.parentJti).toBe(parent.jti);
  });

  it("when a child asks for another environment than its parent's, then it is refused (unless the parent is root)", async () => {
    const { service } = await makeFixture();
    const parent = await service.verify((await service.issue({ subject: 'p', authMethod: 'approle', policies: ['a'], env: PROD })).token, { env: PROD });
    expect(await deniedReason(service.issue({ subject: 'c', authMethod: 'token', policies: ['a'], env: DEV, parent }))).toBe('not-permitted');
    const root = await service.verify((await service.issueRootToken()).token, { env: DEV });
    const fromRoot = await service.issue({ subject: 'c', authMethod: 'token', policies: ['anything', 'root'], env: DEV, parent: root });
    expect((await service.verify(fromRoot.token, { env: DEV })).isRoot).toBe(true);
    expect(await deniedReason(service.verify(fromRoot.token, { env: PROD }))).toBe('wrong-env');
  });

  it("when a child asks for more time than its parent has left, then its TTL is capped at the parent's remaining lifetime", async () => {
    const { service, clock } = await makeFixture();
    const parentIssued = await service.issue({ subject: 'p', authMethod: 'approle', policies: ['a'], env: PROD, ttlSeconds: 1000 });
    clock.advance(400);
    const parent = await service.verify(parentIssued.token, { env: PROD });
    const child = await service.issue({ subject: 'c', authMethod: 'token', policies: ['a'], env: PROD, parent, ttlSeconds: 5000 });
    expect(child.ttlSeconds).toBe(600);
    expect(child.expiresAt).toEqual(parentIssued.expiresAt);
  });

  it('when the parent is revoked between verify and issue, then the child is refused', async () => {
    const { service } = await makeFixture();
    const issued = await service.issue({ subject: 'p', authMethod: 'approle', policies: ['a'], env: PROD });
    const parent = await service.verify(issued.token, { env: PROD });
    await service.revoke(parent.jti);
    expect(await deniedReason(service.issue({ subject: 'c', authMethod: 'token', policies: ['a'], env: PROD, parent }))).toBe('revoked');
  });
});

describe('TokenService: revocation', () => {
  const tree = async () => {
    const fx = await makeFixture();
    const { service } = fx;
    const rootIssued = await service.issue({ subject: 'alice', authMethod: 'approle', role: 'web', policies: ['a'], env: PROD });
    const root = await service.verify(rootIssued.token, { env: PROD });
    const childIssued = await service.issue({ subject: 'svc', authMethod: 'token', policies: ['a'], env: PROD, parent: root });
    const child = await service.verify(childIssued.token, { env: PROD });
    const grandIssued = await service.issue({ subject: 'svc2', authMethod: 'token', policies: ['a'], env: PROD, parent: child });
    const other = await service.issue({ subject: 'bob', authMethod: 'approle', role: 'batch', policies: ['a'], env: PROD });
    return { ...fx, rootIssued, childIssued, grandIssued, other };
  };

  it('when a token is revoked with revokeTree, then it and all its descendants are refused, others still verify', async () => {
    const { service, rootIssued, childIssued, grandIssued, other } = await tree();
    expect(await service.revokeTree(rootIssued.jti)).toBe(3);
    for (const t of [rootIssued, childIssued, grandIssued]) expect(await deniedReason(service.verify(t.token, { env: PROD }))).toBe('revoked');
    await expect(service.verify(other.token, { env: PROD })).resolves.toBeDefined();
  });

  it('when revoked by accessor, then the token and its children are refused', async () => {
    const { service, childIssued, grandIssued, rootIssued } = await tree();
    expect(await service.revokeAccessor(childIssued.accessor)).toBe(2);
    expect(await deniedReason(service.verify(grandIssued.token, { env: PROD }))).toBe('revoked');
    await expect(service.verify(rootIssued.token, { env: PROD })).resolves.toBeDefined();
    expect(await service.revokeAccessor('kwa_unknown')).toBe(0);
    expect((await service.lookupAccessor(childIssued.accessor))?.revokedAt).not.toBeNull();
  });

  it('when revoke (single) is used, then the children survive (revoke-orphan)', async () => {
    const { service, rootIssued, childIssued } = await tree();
    expect(await service.revoke(rootIssued.jti)).toBe(true);
    await expect(service.verify(childIssued.token, { env: PROD })).resolves.toBeDefined();
  });

  it('when a subject is revoked, then everything issued to it (and below) is refused', async () => {
    const { service, rootIssued, grandIssued, other } = await tree();
    const second = await service.issue({ subject: 'alice', authMethod: 'jwt', policies: ['x'], env: DEV });
    expect(await service.revokeSubject('alice')).toBe(4);
    for (const t of [rootIssued, grandIssued]) expect(await deniedReason(service.verify(t.token, { env: PROD }))).toBe('revoked');
    expect(await deniedReason(service.verify(second.token, { env: DEV }))).toBe('revoked');
    await expect(service.verify(other.token, { env: PROD })).resolves.toBeDefined();
  });

  it('when a role is revoked, then every token issued through it is refused, other roles unaffected', async () => {
    const { service, rootIssued, other } = await tree();
    const sameRoleOtherMethod = await service.issue({ subject: 'z', authMethod: 'jwt', role: 'web', policies: ['a'], env: PROD });
    expect(await service.revokeRole('approle', 'web')).toBe(3);
    expect(await deniedReason(service.verify(rootIssued.token, { env: PROD }))).toBe('revoked');
    await expect(service.verify(other.token, { env: PROD })).resolves.toBeDefined();
    await expect(service.verify(sameRoleOtherMethod.token, { env: PROD })).resolves.toBeDefined();
  });
});

describe('TokenService: signing key lifecycle', () => {
  it('when the key is rotated, then old tokens keep verifying, new tokens use the new kid, and the JWKS lists both', async () => {
    const { service, hsm, store, clock } = await makeFixture({ maxTtlSeconds: 3600, rootTtlSeconds: 3600 });
    const before = await service.issue({ subject: 's', authMethod: 'approle', policies: ['p'], env: PROD, ttlSeconds: 3600 });
    const k1 = (await store.listSigningKeys())[0];
    const k2 = await service.rotateSigningKey({ overlapSeconds: 60 });
    expect(k2.label).toBe('keyward-jwt-es256-2');
    expect(k1?.label).toBe('keyward-jwt-es256-1');
    const after = await service.issue({ subject: 's', authMethod: 'approle', policies: ['p'], env: PROD });
    expect(decodeProtectedHeader(after.token).kid).toBe(k2.kid);
    expect(decodeProtectedHeader(before.token).kid).toBe(k1?.kid);
    const jwks = await service.jwks();
    expect(jwks.keys.map((k) => k.kid).sort()).toEqual([k1?.kid, k2.kid].sort());
    for (const k of jwks.keys) expect(k).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });

    // The old key verifies until the longest token lifetime (+60 s) has passed, despite overlap 60.
    clock.advance(3000);
    await expect(service.verify(before.token, { env: PROD })).resolves.toBeDefined();
    expect(await service.retireSigningKeys()).toEqual([]);

    clock.advance(3600 + 61 - 3000);
    const destroy = vi.spyOn(hsm, 'destroyKeyByLabel');
    expect(await service.retireSigningKeys()).toEqual([k1?.kid]);
    expect(destroy).toHaveBeenCalledWith('keyward-jwt-es256-1');
    expect((await service.jwks()).keys.map((k) => k.kid)).toEqual([k2.kid]);
    expect((await store.listSigningKeys()).map((k) => k.state)).toEqual(['retired', 'active']);
    await expect(hsm.signEs256('keyward-jwt-es256-1', Buffer.from('x'))).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
  });

  it('when ensureActiveKey runs again (restart), then it keeps the recorded key; kid is the RFC 7638 thumbprint', async () => {
    const { service, store } = await makeFixture();
    const first = await service.ensureActiveKey();
    const again = await service.ensureActiveKey();
    expect(again.kid).toBe(first.kid);
    expect(await store.listSigningKeys()).toHaveLength(1);
    const { calculateJwkThumbprint } = await import('jose');
    expect(first.kid).toBe(await calculateJwkThumbprint({ kty: 'EC', crv: 'P-256', x: first.publicJwk.x, y: first.publicJwk.y as string }));
  });

  it('when the HSM lost the active key, then ensureActiveKey activates a new one and old tokens still verify', async () => {
    const fx = await makeFixture();
    const old = await fx.service.issue({ subject: 's', authMethod: 'approle', policies: ['p'], env: PROD });
    await fx.hsm.destroyKeyByLabel('keyward-jwt-es256-1');
    const next = await fx.service.ensureActiveKey();
    expect(next.label).toBe('keyward-jwt-es256-2');
    await expect(fx.service.verify(old.token, { env: PROD })).resolves.toBeDefined();
    await expect(fx.service.issue({ subject: 's', authMethod: 'approle', policies: ['p'], env: PROD })).resolves.toBeDefined();
  });
});

describe('TokenService: verified-token cache', () => {
  it('when the cache is on, then a second verify skips the signature check but revocation still holds at once', async () => {
    const { service, hsm, store, clock } = await makeFixture({ cacheVerified: true });
    const issued = await service.issue({ subject: 's', authMethod: 'approle', policies: ['p'], env: PROD });
    await service.verify(issued.token, { env: PROD });
    const subtle = vi.spyOn(globalThis.crypto.subtle, 'verify');
    await service.verify(issued.token, { env: PROD });
    expect(subtle).not.toHaveBeenCalled();
    subtle.mockRestore();

    // Revocation through this service drops the entry …
    await service.revoke(issued.jti);
    expect(await deniedReason(service.verify(issued.token, { env: PROD }))).toBe('revoked');

    // … and revocation by another process (straight in the shared store) holds too.
    const second = await service.issue({ subject: 's2', authMethod: 'approle', policies: ['p'], env: PROD });
    await service.verify(second.token, { env: PROD });
    const { TokenService } = await import('../../../vault/src/auth/token-service.js');
    const otherProcess = new TokenService({ hsm, store }, { issuer: ISSUER, clock });
    await otherProcess.revokeSubject('s2');
    expect(await deniedReason(service.verify(second.token, { env: PROD }))).toBe('revoked');
  });

  it('when the cache is on, then the environment is still checked and expired entries are not served', async () => {
    const { service, clock } = await makeFixture({ cacheVerified: true });
    const issued = await service.issue({ subject: 's', authMethod: 'approle', policies: ['p'], env: PROD, ttlSeconds: 100 });
    await service.verify(issued.token, { env: PROD });
    expect(await deniedReason(service.verify(issued.token, { env: DEV }))).toBe('wrong-env');
    clock.advance(100 + 61);
    const e = await service.verify(issued.token, { env: PROD }).catch((x: unknown) => x);
    expect(tokenDenialReason(e)).toBe('expired');
  });

  it('when a cached token is verified again, then only its status is read from the store and the principal is the same', async () => {
    const { service, store } = await makeFixture({ cacheVerified: true });
    const issued = await service.issue({ subject: 's', authMethod: 'approle', role: 'web', policies: ['p', 'q'], env: PROD, boundCidrs: ['10.0.0.0/8'] });
    const first = await service.verify(issued.token, { env: PROD });
    const full = vi.spyOn(store, 'getByJti');
    const status = vi.spyOn(store, 'tokenStatus');
    const second = await service.verify(issued.token, { env: PROD });
    expect(full).not.toHaveBeenCalled();
    expect(status).toHaveBeenCalledWith(issued.jti);
    expect(second).toEqual(first);
    expect(second).not.toBe(first);
    expect(second.policies).not.toBe(first.policies);
  });

  it('when a cached token\'s record is gone (purged by another process), then it is denied as unknown', async () => {
    const { service, store } = await makeFixture({ cacheVerified: true });
    const issued = await service.issue({ subject: 's', authMethod: 'approle', policies: ['p'], env: PROD });
    await service.verify(issued.token, { env: PROD });
    vi.spyOn(store, 'tokenStatus').mockResolvedValue('unknown');
    expect(await deniedReason(service.verify(issued.token, { env: PROD }))).toBe('unknown-token');
  });

  it('when a use-limited token is cached, then every use is still taken from the store and the last one is final', async () => {
    const { service, store } = await makeFixture({ cacheVerified: true });
    const issued = await service.issue({ subject: 's', authMethod: 'approle', policies: ['p'], env: PROD, numUses: 2 });
    const consume = vi.spyOn(store, 'consumeUse');
    await service.verify(issued.token, { env: PROD, consumeUse: false });
    await service.verify(issued.token, { env: PROD });
    await service.verify(issued.token, { env: PROD });
    expect(consume).toHaveBeenCalledTimes(2);
    expect(await deniedReason(service.verify(issued.token, { env: PROD }))).toBe('uses-exhausted');
    expect(await deniedReason(service.verify(issued.token, { env: PROD }))).toBe('revoked');
  });

  it('when the record disagrees with the token, then the token is never cached and every call is denied after a full check', async () => {
    class TamperedStore extends MemoryTokenStore {
      override async getByJti(jti: string): Promise<TokenRecord | null> {
        const r = await super.getByJti(jti);
        return r && { ...r, policies: [...r.policies, 'extra'] };
      }
    }
    const { service } = await makeFixture({ cacheVerified: true }, { store: new TamperedStore() });
    const issued = await service.issue({ subject: 's', authMethod: 'approle', policies: ['p'], env: PROD });
    const subtle = vi.spyOn(globalThis.crypto.subtle, 'verify');
    expect(await deniedReason(service.verify(issued.token, { env: PROD }))).toBe('record-mismatch');
    expect(await deniedReason(service.verify(issued.token, { env: PROD }))).toBe('record-mismatch');
    expect(subtle).toHaveBeenCalledTimes(2);
    subtle.mockRestore();
  });

  it('when the environment is chosen from the token, then the chooser gets the verified claim only on a cache hit', async () => {
    const { service } = await makeFixture({ cacheVerified: true });
    const issued = await service.issue({ subject: 's', authMethod: 'approle', policies: ['p'], env: PROD });
    const seen: Array<string | undefined> = [];
    const chooser = (_token: string, verifiedEnv: string | undefined): typeof PROD => {
      seen.push(verifiedEnv);
      return PROD;
    };
    await service.verify(issued.token, { env: chooser });
    await service.verify(issued.token, { env: chooser });
    expect(seen).toEqual([undefined, 'prod']);
    expect(await deniedReason(service.verify(issued.token, { env: () => DEV }))).toBe('wrong-env');
  });
});
