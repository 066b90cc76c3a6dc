/**
 * The JWT attack suite (RFC 8725): every forged, altered or misused token is refused with
 * ERR_PERMISSION_DENIED 'permission denied'; the audit reason tells which check caught it.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { calculateJwkThumbprint } from 'jose';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { signJwt, type KeywardClaims } from '../../../vault/src/auth/jwt-signer.js';
import type { SigningKeyRecord } from '../../../vault/src/core/ports/token-store.js';
import { DEV, ISSUER, PROD, deniedReason, makeFixture, type Fixture } from './fixture.js';

const b64 = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
const parts = (token: string): [string, string, string] => token.split('.') as [string, string, string];
const decode = (part: string): Record<string, unknown> => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;

function esSign(privateKey: crypto.KeyObject, header: object, payload: object): string {
  const input = `${b64(header)}.${b64(payload)}`;
  const sig = crypto.sign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' });
  return `${input}.${sig.toString('base64url')}`;
}

describe('JWT attack suite', () => {
  let fx: Fixture;
  let active: SigningKeyRecord;
  let good: { token: string; jti: string };
  let claims: KeywardClaims;

  beforeEach(async () => {
    fx = await makeFixture();
    active = (await fx.store.listSigningKeys())[0] as SigningKeyRecord;
    const issued = await fx.service.issue({ subject: 'app-1', authMethod: 'approle', role: 'web', policies: ['payments-read'], env: PROD, ttlSeconds: 600 });
    good = issued;
    claims = decode(parts(issued.token)[1]) as unknown as KeywardClaims;
  });

  /** A token signed by Keyward's real key with altered claims (what a bug or an insider could produce). */
  const signedWith = (overrides: Partial<KeywardClaims> & Record<string, unknown>, kid = active.kid): Promise<string> =>
    signJwt(fx.hsm, { label: active.label, kid }, { ...claims, ...overrides } as KeywardClaims);

  it('the untouched token verifies (control)', async () => {
    const p = await fx.service.verify(good.token, { env: PROD });
    expect(p.jti).toBe(good.jti);
  });

  it('alg none is refused (with and without a signature part)', async () => {
    const [h, p] = parts(good.token);
    const none = `${b64({ alg: 'none', typ: 'JWT', kid: active.kid })}.${p}`;
    expect(await deniedReason(fx.service.verify(`${none}.`, { env: PROD }))).toBe('malformed');
    expect(await deniedReason(fx.service.verify(`${none}.AAAA`, { env: PROD }))).toBe('bad-alg');
    expect(h).not.toBe(''); // keep the control part used
  });

  it('HS256 signed with the public key (JWK JSON or PEM as the HMAC secret) is refused', async () => {
    const [, p] = parts(good.token);
    const jwkJson = JSON.stringify({ ...active.publicJwk, kid: active.kid });
    const pem = crypto.createPublicKey({ key: { ...active.publicJwk }, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString();
    for (const secret of [jwkJson, pem]) {
      const input = `${b64({ alg: 'HS256', typ: 'JWT', kid: active.kid })}.${p}`;
      const mac = crypto.createHmac('sha256', secret).update(input).digest('base64url');
      expect(await deniedReason(fx.service.verify(`${input}.${mac}`, { env: PROD }))).toBe('bad-alg');
    }
  });

  it('an RS256 token is refused', async () => {
    const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const input = `${b64({ alg: 'RS256', typ: 'JWT', kid: active.kid })}.${parts(good.token)[1]}`;
    const sig = crypto.sign('sha256', Buffer.from(input), privateKey).toString('base64url');
    expect(await deniedReason(fx.service.verify(`${input}.${sig}`, { env: PROD }))).toBe('bad-alg');
  });

  it('an expired token is refused once past the 60 s tolerance, and accepted within it', async () => {
    fx.clock.advance(600 + 30);
    await expect(fx.service.verify(good.token, { env: PROD })).resolves.toMatchObject({ jti: good.jti });
    fx.clock.advance(31);
    expect(await deniedReason(fx.service.verify(good.token, { env: PROD }))).toBe('expired');
  });

  it('nbf more than 60 s in the future is refused; within 60 s it is accepted', async () => {
    expect(await deniedReason(fx.service.verify(await signedWith({ nbf: claims.nbf + 120 }), { env: PROD }))).toBe('not-yet-valid');
    await expect(fx.service.verify(await signedWith({ nbf: claims.nbf + 30 }), { env: PROD })).resolves.toBeDefined();
  });

  it('iat in the future is refused', async () => {
    expect(await deniedReason(fx.service.verify(await signedWith({ iat: claims.iat + 120 }), { env: PROD }))).toBe('iat-in-future');
  });

  it('a wrong issuer is refused', async () => {
    expect(await deniedReason(fx.service.verify(await signedWith({ iss: 'https://evil.test' }), { env: PROD }))).toBe('bad-issuer');
  });

  it('a wrong audience is refused', async () => {
    expect(await deniedReason(fx.service.verify(await signedWith({ aud: 'someone-else' }), { env: PROD }))).toBe('bad-audience');
  });

  it('an unknown kid is refused', async () => {
    expect(await deniedReason(fx.service.verify(await signedWith({}, 'no-such-kid'), { env: PROD }))).toBe('unknown-kid');
  });

  it('a token without kid is refused', async () => {
    const input = `${b64({ alg: 'ES256', typ: 'JWT' })}.${parts(good.token)[1]}`;
    const sig = (await fx.hsm.signEs256(active.label, Buffer.from(input))).toString('base64url');
    expect(await deniedReason(fx.service.verify(`${input}.${sig}`, { env: PROD }))).toBe('missing-kid');
  });

  it('a tampered payload (policies changed) is refused', async () => {
    const [h, , s] = parts(good.token);
    const escalated = b64({ ...claims, policies: ['root'] });
    expect(await deniedReason(fx.service.verify(`${h}.${escalated}.${s}`, { env: PROD }))).toBe('bad-signature');
  });

  it('a tampered signature is refused', async () => {
    const [h, p, s] = parts(good.token);
    const sig = Buffer.from(s, 'base64url');
    sig[10] = (sig[10] as number) ^ 0x01;
    expect(await deniedReason(fx.service.verify(`${h}.${p}.${sig.toString('base64url')}`, { env: PROD }))).toBe('bad-signature');
  });

  it('a revoked jti is refused', async () => {
    await fx.service.revoke(good.jti);
    expect(await deniedReason(fx.service.verify(good.token, { env: PROD }))).toBe('revoked');
  });

  it('a token for another environment is refused', async () => {
    expect(await deniedReason(fx.service.verify(good.token, { env: DEV }))).toBe('wrong-env');
  });

  it('a token larger than 8 KiB is refused before parsing', async () => {
    const big = await signedWith({ policies: Array.from({ length: 800 }, (_, i) => `policy-${i}`) });
    expect(big.length).toBeGreaterThan(8 * 1024);
    expect(await deniedReason(fx.service.verify(big, { env: PROD }))).toBe('oversized');
  });

  describe('jku pointing elsewhere', () => {
    let server: http.Server;
    let hits = 0;
    beforeEach(async () => {
      hits = 0;
      server = http.createServer((_req, res) => {
        hits += 1;
        res.end('{"keys":[]}');
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    });
    afterEach(async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    it('is refused and the URL is never fetched', async () => {
      const attacker = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const jwk = attacker.publicKey.export({ format: 'jwk' });
      const attackerKid = await calculateJwkThumbprint({ kty: 'EC', crv: 'P-256', x: String(jwk.x), y: String(jwk.y) });
      const { port } = server.address() as AddressInfo;
      for (const kid of [attackerKid, active.kid]) {
        const forged = esSign(attacker.privateKey, { alg: 'ES256', typ: 'JWT', kid, jku: `http://127.0.0.1:${port}/jwks.json` }, claims);
        expect(await deniedReason(fx.service.verify(forged, { env: PROD }))).toBe('untrusted-key-header');
      }
      const x5u = esSign(attacker.privateKey, { alg: 'ES256', typ: 'JWT', kid: attackerKid, x5u: `http://127.0.0.1:${port}/cert.pem` }, claims);
      expect(await deniedReason(fx.service.verify(x5u, { env: PROD }))).toBe('untrusted-key-header');
      await new Promise((r) => setTimeout(r, 50));
      expect(hits).toBe(0);
    });
  });

  it('an embedded jwk header with an attacker key is refused', async () => {
    const attacker = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = attacker.publicKey.export({ format: 'jwk' });
    for (const kid of [active.kid, undefined]) {
      const forged = esSign(attacker.privateKey, { alg: 'ES256', typ: 'JWT', ...(kid ? { kid } : {}), jwk: { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y } }, { ...claims, policies: ['root'] });
      expect(await deniedReason(fx.service.verify(forged, { env: PROD }))).toBe('untrusted-key-header');
    }
  });

  it('a token signed by an attacker ES256 key under a known kid is refused', async () => {
    const attacker = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const forged = esSign(attacker.privateKey, { alg: 'ES256', typ: 'JWT', kid: active.kid }, { ...claims, policies: ['root'], env: '*' });
    expect(await deniedReason(fx.service.verify(forged, { env: PROD }))).toBe('bad-signature');
  });

  it('missing required claims (jti, sub, exp, nbf, iat) are refused', async () => {
    for (const claim of ['jti', 'sub', 'exp', 'nbf', 'iat']) {
      const c: Record<string, unknown> = { ...claims };
      delete c[claim];
      const token = await signJwt(fx.hsm, active, c as unknown as KeywardClaims);
      expect(await deniedReason(fx.service.verify(token, { env: PROD }))).toBe('missing-claim');
    }
  });

  it('a wrong typ header is refused', async () => {
    const input = `${b64({ alg: 'ES256', typ: 'at+jwt', kid: active.kid })}.${parts(good.token)[1]}`;
    const sig = (await fx.hsm.signEs256(active.label, Buffer.from(input))).toString('base64url');
    expect(await deniedReason(fx.service.verify(`${input}.${sig}`, { env: PROD }))).toBe('bad-header');
  });

  it('a correctly signed token Keyward never recorded is refused', async () => {
    expect(await deniedReason(fx.service.verify(await signedWith({ jti: 'never-recorded' }), { env: PROD }))).toBe('unknown-token');
  });

  it('a correctly signed token whose claims disagree with its record is refused', async () => {
    expect(await deniedReason(fx.service.verify(await signedWith({ policies: ['payments-read', 'admin'] }), { env: PROD }))).toBe('record-mismatch');
    expect(await deniedReason(fx.service.verify(await signedWith({ env: '*' }), { env: PROD }))).toBe('record-mismatch');
  });

  it('garbage and non-strings are refused', async () => {
    for (const junk of ['', 'a.b', 'a.b.c.d', '!!!.???.***', 'eyJ.eyJ.sig']) {
      expect(await deniedReason(fx.service.verify(junk, { env: PROD }))).toBe('malformed');
    }
    expect(await deniedReason(fx.service.verify(undefined as unknown as string, { env: PROD }))).toBe('malformed');
  });

  it('the denial message is the same for every reason and never contains the token', async () => {
    const errs: unknown[] = [];
    for (const t of [good.token.slice(0, -2) + 'xx', 'a.b.c', await signedWith({ iss: 'x' })]) {
      errs.push(await fx.service.verify(t, { env: PROD }).catch((e: unknown) => e));
    }
    for (const e of errs) {
      expect(e).toMatchObject({ code: 'ERR_PERMISSION_DENIED', message: 'permission denied' });
      expect(JSON.stringify(e)).not.toContain(good.token);
    }
    expect(ISSUER).toBeTruthy();
  });
});
