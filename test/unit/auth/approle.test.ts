import { describe, expect, it } from 'vitest';
import { generateSecretId, isValidSecretIdFormat, SECRET_ID_LENGTH } from '../../../vault/src/auth/approle/secret-id-format.js';
import { loginFailureReason } from '../../../vault/src/auth/approle/login-failure.js';
import { SECRET_ID_HMAC_KEY } from '../../../vault/src/auth/approle/approle-service.js';
import { PROD, DEV, deniedReason } from './fixture.js';
import { makeIdentityFixture } from './approle-fixture.js';
import crypto from 'node:crypto';

const rng = async (n: number): Promise<Buffer> => crypto.randomBytes(n);

async function failReason(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
  } catch (e) {
    expect((e as { code?: string }).code).toBe('ERR_INVALID_INPUT');
    expect((e as Error).message).toBe('invalid role or secret ID');
    return loginFailureReason(e);
  }
  throw new Error('expected the login to fail');
}

describe('secret ID format', () => {
  it('when generated, then it has the prefix, length and a valid checksum', async () => {
    for (let i = 0; i < 200; i++) {
      const id = await generateSecretId(rng);
      expect(id).toMatch(/^kwsid_[0-9A-Za-z]{38}$/);
      expect(id.length).toBe(SECRET_ID_LENGTH);
      expect(isValidSecretIdFormat(id)).toBe(true);
    }
  });

  it('when random strings of the right shape are checked, then (almost) none validate', () => {
    const alphabet = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
    let valid = 0;
    for (let i = 0; i < 2000; i++) {
      let s = 'kwsid_';
      for (let j = 0; j < 38; j++) s += alphabet[crypto.randomInt(62)];
      if (isValidSecretIdFormat(s)) valid++;
    }
    expect(valid).toBe(0);
    expect(isValidSecretIdFormat('ghp_abc')).toBe(false);
    expect(isValidSecretIdFormat(42)).toBe(false);
  });

  it('when any one character is changed, then the checksum no longer matches', async () => {
    const id = await generateSecretId(rng);
    for (let pos = 6; pos < id.length; pos++) {
      const c = id[pos] === 'a' ? 'b' : 'a';
      expect(isValidSecretIdFormat(id.slice(0, pos) + c + id.slice(pos + 1))).toBe(false);
    }
    expect(isValidSecretIdFormat('kwsix_' + id.slice(6))).toBe(false);
  });
});

describe('AppRole', () => {
  it('when a service logs in with role ID and secret ID, then it gets a token for the role in that environment', async () => {
    const f = await makeIdentityFixture();
    await f.ids.approle.writeRole(PROD, 'payments', { tokenPolicies: ['pay-read'], tokenTtlSeconds: 600 });
    const roleId = (await f.ids.approle.readRoleId(PROD, 'payments'))!;
    const g = await f.ids.approle.generateSecretId(PROD, 'payments');
    const r = await f.ids.approle.login(PROD, { roleId, secretId: g.secretId }, '127.0.0.1');
    expect(r.policies).toEqual(['default', 'pay-read']);
    expect(r.metadata).toEqual({ role_name: 'payments' });
    expect(r.token.ttlSeconds).toBe(600);
    const p = await f.service.verify(r.token.token, { env: PROD });
    expect(p).toMatchObject({ authMethod: 'approle', role: 'payments', env: 'prod' });
    // the same role ID means nothing in another environment
    expect(await failReason(f.ids.approle.login(DEV, { roleId, secretId: g.secretId }, '127.0.0.1'))).toBe('unknown-role-id');
  });

  it('when the secret ID is stored, then only its HSM HMAC is kept, never the secret', async () => {
    const f = await makeIdentityFixture();
    await f.ids.approle.writeRole(PROD, 'svc', {});
    const g = await f.ids.approle.generateSecretId(PROD, 'svc');
    const rec = await f.ids.store.getSecretIdByAccessor(PROD, 'svc', g.accessor);
    expect(rec).not.toBeNull();
    const expected = await f.hsm.hmacSha256(SECRET_ID_HMAC_KEY, Buffer.from(`keyward-secret-id\0prod\0svc\0${g.secretId}`));
    expect(rec!.secretIdHmac.equals(expected)).toBe(true);
    expect(JSON.stringify(rec)).not.toContain(g.secretId.slice(6, 38));
  });

  it('when a secret ID has num_uses 2, then the third login fails', async () => {
    const f = await makeIdentityFixture();
    await f.ids.approle.writeRole(PROD, 'svc', { secretIdNumUses: 2 });
    const roleId = (await f.ids.approle.readRoleId(PROD, 'svc'))!;
    const g = await f.ids.approle.generateSecretId(PROD, 'svc');
    expect(g.numUses).toBe(2);
    await f.ids.approle.login(PROD, { roleId, secretId: g.secretId }, '10.0.0.1');
    await f.ids.approle.login(PROD, { roleId, secretId: g.secretId }, '10.0.0.1');
    expect(await failReason(f.ids.approle.login(PROD, { roleId, secretId: g.secretId }, '10.0.0.1'))).toBe('unknown-secret-id');
  });

  it('when concurrent logins race for the last use, then exactly one wins', async () => {
    const f = await makeIdentityFixture();
    await f.ids.approle.writeRole(PROD, 'svc', { secretIdNumUses: 1 });
    const roleId = (await f.ids.approle.readRoleId(PROD, 'svc'))!;
    const g = await f.ids.approle.generateSecretId(PROD, 'svc');
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => f.ids.approle.login(PROD, { roleId, secretId: g.secretId }, '10.0.0.1')));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
  });

  it('when the secret ID TTL has passed, then login fails and lookup finds nothing', async () => {
    const f = await makeIdentityFixture();
    await f.ids.approle.writeRole(PROD, 'svc', { secretIdTtlSeconds: 60 });
    const roleId = (await f.ids.approle.readRoleId(PROD, 'svc'))!;
    const g = await f.ids.approle.generateSecretId(PROD, 'svc');
    f.clock.advance(59);
    expect(await f.ids.approle.lookupSecretId(PROD, 'svc', g.secretId)).not.toBeNull();
    f.clock.advance(2);
    expect(await f.ids.approle.lookupSecretId(PROD, 'svc', g.secretId)).toBeNull();
    expect(await failReason(f.ids.approle.login(PROD, { roleId, secretId: g.secretId }, '10.0.0.1'))).toBe('unknown-secret-id');
  });

  it('when the source address is outside the bound CIDRs, then login fails without consuming a use', async () => {
    const f = await makeIdentityFixture();
    await f.ids.approle.writeRole(PROD, 'svc', { secretIdBoundCidrs: '10.1.0.0/16', secretIdNumUses: 1 });
    const roleId = (await f.ids.approle.readRoleId(PROD, 'svc'))!;
    const g = await f.ids.approle.generateSecretId(PROD, 'svc', { cidrList: ['10.1.2.0/24'] });
    expect(await failReason(f.ids.approle.login(PROD, { roleId, secretId: g.secretId }, '192.168.1.1'))).toBe('source-address-not-allowed');
    expect(await failReason(f.ids.approle.login(PROD, { roleId, secretId: g.secretId }, '10.1.9.9'))).toBe('source-address-not-allowed');
    const ok = await f.ids.approle.login(PROD, { roleId, secretId: g.secretId }, '::ffff:10.1.2.3');
    expect(ok.token.token).toBeTruthy();
  });

  it('when a wrong or malformed secret ID is presented, then the answer is the same 400 message', async () => {
    const f = await makeIdentityFixture();
    await f.ids.approle.writeRole(PROD, 'svc', {});
    const roleId = (await f.ids.approle.readRoleId(PROD, 'svc'))!;
    expect(await failReason(f.ids.approle.login(PROD, { roleId, secretId: await generateSecretId(rng) }, '10.0.0.1'))).toBe('unknown-secret-id');
    expect(await failReason(f.ids.approle.login(PROD, { roleId, secretId: 'kwsid_nope' }, '10.0.0.1'))).toBe('malformed-secret-id');
    expect(await failReason(f.ids.approle.login(PROD, { roleId: 'nope', secretId: 'x' }, '10.0.0.1'))).toBe('unknown-role-id');
  });

  it('when a role is deleted, then its tokens are revoked and its secret IDs are gone, and a same-named role elsewhere is untouched', async () => {
    const f = await makeIdentityFixture();
    for (const env of [PROD, DEV]) await f.ids.approle.writeRole(env, 'svc', {});
    const login = async (env: typeof PROD) => {
      const g = await f.ids.approle.generateSecretId(env, 'svc');
      return f.ids.approle.login(env, { roleId: (await f.ids.approle.readRoleId(env, 'svc'))!, secretId: g.secretId }, '10.0.0.1');
    };
    const prodLogin = await login(PROD);
    const devLogin = await login(DEV);
    const r = await f.ids.approle.deleteRole(PROD, 'svc');
    expect(r).toEqual({ deleted: true, revokedTokens: 1 });
    expect(await deniedReason(f.service.verify(prodLogin.token.token, { env: PROD }))).toBe('revoked');
    await expect(f.service.verify(devLogin.token.token, { env: DEV })).resolves.toMatchObject({ role: 'svc' });
    expect(await f.ids.store.listSecretIdAccessors(PROD, 'svc')).toEqual([]);
    expect(await f.ids.approle.readRole(PROD, 'svc')).toBeNull();
  });

  it('when a secret ID is destroyed by accessor, then it can no longer log in', async () => {
    const f = await makeIdentityFixture();
    await f.ids.approle.writeRole(PROD, 'svc', {});
    const roleId = (await f.ids.approle.readRoleId(PROD, 'svc'))!;
    const g = await f.ids.approle.generateSecretId(PROD, 'svc', { metadata: { team: 'pay' } });
    expect(await f.ids.approle.listSecretIdAccessors(PROD, 'svc')).toEqual([g.accessor]);
    expect((await f.ids.approle.lookupAccessor(PROD, 'svc', g.accessor))?.metadata).toEqual({ team: 'pay' });
    expect(await f.ids.approle.destroyAccessor(PROD, 'svc', g.accessor)).toBe(true);
    expect(await failReason(f.ids.approle.login(PROD, { roleId, secretId: g.secretId }, '10.0.0.1'))).toBe('unknown-secret-id');
  });

  it('when a role binds nothing, then it is refused', async () => {
    const f = await makeIdentityFixture();
    await expect(f.ids.approle.writeRole(PROD, 'svc', { bindSecretId: false })).rejects.toMatchObject({ code: 'ERR_INVALID_INPUT' });
    await expect(f.ids.approle.writeRole(PROD, 'bad name', {})).rejects.toMatchObject({ code: 'ERR_INVALID_INPUT' });
  });
});
