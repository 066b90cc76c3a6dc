/** tokenAuthenticator: the token's own environment when the request names none, cached or not. */
import { describe, expect, it, vi } from 'vitest';
import { ownEnvironment, tokenAuthenticator } from '../../../vault/src/auth/token-authenticator.js';
import { DEV, PROD, deniedReason, makeFixture } from './fixture.js';

const fakeToken = (payload: unknown): string =>
  `${Buffer.from('{"alg":"ES256"}').toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.sig`;

describe('ownEnvironment', () => {
  it('when the verified claim is given, then it is used without decoding the token', () => {
    expect(ownEnvironment(DEV)('not-a-jwt', 'prod')).toBe('prod');
    expect(ownEnvironment(DEV)('not-a-jwt', '*')).toBe(DEV);
  });

  it('when no verified claim is given, then the claim is decoded from the token unverified', () => {
    expect(ownEnvironment(DEV)(fakeToken({ env: 'prod' }), undefined)).toBe('prod');
    expect(ownEnvironment(PROD)(fakeToken({ env: '*' }), undefined)).toBe(PROD);
  });

  it('when the token or its claim is malformed, then it is denied as malformed', async () => {
    const choose = ownEnvironment(DEV);
    for (const [token, verified] of [
      ['not-a-jwt', undefined],
      [fakeToken({ env: 42 }), undefined],
      [fakeToken({}), undefined],
      [fakeToken({ env: 'Not An Env!' }), undefined],
      ['not-a-jwt', 'Not An Env!'],
    ] as const) {
      expect(await deniedReason(Promise.resolve().then(() => choose(token, verified)))).toBe('malformed');
    }
  });
});

describe('tokenAuthenticator', () => {
  it("when the request names no environment, then the token's own applies, on the first call and from the cache", async () => {
    const { service } = await makeFixture({ cacheVerified: true });
    const auth = tokenAuthenticator(service, DEV);
    const issued = await service.issue({ subject: 's', authMethod: 'approle', policies: ['p'], env: PROD });
    const verify = vi.spyOn(service, 'verify');
    expect(await auth.authenticate(issued.token, null)).toMatchObject({ subject: 's', env: 'prod' });
    expect(await auth.authenticate(issued.token, null)).toMatchObject({ subject: 's', env: 'prod' });
    expect(verify).toHaveBeenCalledTimes(2);
    expect(await deniedReason(auth.authenticate(issued.token, DEV))).toBe('wrong-env');
    await service.revoke(issued.jti);
    expect(await deniedReason(auth.authenticate(issued.token, null))).toBe('revoked');
  });

  it('when the root token names no environment, then the default environment applies; garbage is malformed', async () => {
    for (const cacheVerified of [false, true]) {
      const { service } = await makeFixture({ cacheVerified });
      const auth = tokenAuthenticator(service, DEV);
      const root = await service.issueRootToken();
      expect(await auth.authenticate(root.token, null)).toMatchObject({ isRoot: true, env: '*' });
      expect(await auth.authenticate(root.token, null)).toMatchObject({ isRoot: true, env: '*' });
      expect(await deniedReason(auth.authenticate('garbage', null))).toBe('malformed');
    }
  });
});
