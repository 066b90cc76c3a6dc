import { describe, expect, it } from 'vitest';
import { generate } from 'otplib';
import { criticalPathMfaPolicy } from '../../../vault/src/auth/mfa/critical-paths.js';
import { parseMfaHeader } from '../../../vault/src/auth/mfa/mfa-header.js';
import { base32Encode } from '../../../vault/src/auth/mfa/base32.js';
import { PROD } from './fixture.js';
import { makeIdentityFixture, type IdentityFixture } from './approle-fixture.js';

const ALICE = { subject: 'jwt:alice@example.com' };

async function enrolled(config: Record<string, unknown> = {}): Promise<{ f: IdentityFixture; secret: string; code: (offsetSteps?: number) => Promise<string> }> {
  const f = await makeIdentityFixture();
  await f.ids.mfa.writeTotpMethod(PROD, 'totp', { issuer: 'Keyward', ...config });
  const e = await f.ids.mfa.enrol(PROD, 'totp', ALICE.subject);
  expect(e.url).toMatch(/^otpauth:\/\/totp\//);
  const secret = new URL(e.url!).searchParams.get('secret')!;
  const code = (offsetSteps = 0) => generate({ secret, epoch: Math.floor(f.clock.now().getTime() / 1000) + offsetSteps * 30 });
  return { f, secret, code };
}

async function rejectsWith(p: Promise<unknown>, code: string): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    expect((e as { code?: string }).code).toBe(code);
    return e;
  }
  throw new Error(`expected ${code}`);
}

describe('TOTP MFA', () => {
  it('when a subject enrols, then the secret is stored sealed and a second enrolment shows nothing', async () => {
    const { f, secret } = await enrolled();
    const rec = await f.ids.store.getMfaEnrolment(PROD, 'totp', ALICE.subject);
    expect(rec).not.toBeNull();
    const raw = Buffer.from(secret, 'ascii');
    expect(rec!.sealedSecret.includes(raw)).toBe(false);
    expect(await f.ids.mfa.enrol(PROD, 'totp', ALICE.subject)).toEqual({ url: null, alreadyEnrolled: true });
  });

  it('when the right code is given in X-Vault-MFA, then the step-up passes, and the same code is refused the second time', async () => {
    const { f, code } = await enrolled();
    const c = await code();
    await f.ids.mfaVerifier.verify(ALICE, PROD, ['totp'], `totp:${c}`);
    await rejectsWith(f.ids.mfaVerifier.verify(ALICE, PROD, ['totp'], `totp:${c}`), 'ERR_PERMISSION_DENIED');
  });

  it('when the code is one period off and skew is 1, then it passes; two periods off, it fails', async () => {
    const { f, code } = await enrolled();
    await f.ids.mfaVerifier.verify(ALICE, PROD, ['totp'], `totp:${await code(1)}`);
    await rejectsWith(f.ids.mfaVerifier.verify(ALICE, PROD, ['totp'], `totp:${await code(-2)}`), 'ERR_PERMISSION_DENIED');
  });

  it('when the header is missing or names another method, then MFA is required and the methods are named', async () => {
    const { f } = await enrolled();
    const e = (await rejectsWith(f.ids.mfaVerifier.verify(ALICE, PROD, ['totp', 'yubi'], undefined), 'ERR_MFA_REQUIRED')) as Error;
    expect(e.message).toBe('MFA required: totp, yubi');
    await rejectsWith(f.ids.mfaVerifier.verify(ALICE, PROD, ['totp'], 'other:123456'), 'ERR_MFA_REQUIRED');
  });

  it('when a subject is not enrolled, then a code is refused', async () => {
    const { f, code } = await enrolled();
    await rejectsWith(f.ids.mfaVerifier.verify({ subject: 'jwt:bob' }, PROD, ['totp'], `totp:${await code()}`), 'ERR_PERMISSION_DENIED');
  });

  it('when max_validation_attempts wrong codes are given, then the subject is locked (429, Retry-After) even for the right code, until the lockout ends', async () => {
    const { f, code } = await enrolled({ max_validation_attempts: 3, lockout_seconds: 120 });
    const good = await code();
    const wrong = good === '000000' ? '111111' : '000000';
    await rejectsWith(f.ids.mfaVerifier.verify(ALICE, PROD, ['totp'], `totp:${wrong}`), 'ERR_PERMISSION_DENIED');
    await rejectsWith(f.ids.mfaVerifier.verify(ALICE, PROD, ['totp'], `totp:${wrong}`), 'ERR_PERMISSION_DENIED');
    const third = (await rejectsWith(f.ids.mfaVerifier.verify(ALICE, PROD, ['totp'], `totp:${wrong}`), 'ERR_RATE_LIMITED')) as { retryAfterSeconds?: number };
    expect(third.retryAfterSeconds).toBe(120);
    await rejectsWith(f.ids.mfaVerifier.verify(ALICE, PROD, ['totp'], `totp:${good}`), 'ERR_RATE_LIMITED');
    f.clock.advance(121);
    await f.ids.mfaVerifier.verify(ALICE, PROD, ['totp'], `totp:${await code()}`);
  });

  it('when the method uses SHA256 and 8 digits, then codes generated the same way pass', async () => {
    const { f, secret } = await enrolled({ algorithm: 'SHA256', digits: 8 });
    const c = await generate({ secret, algorithm: 'sha256', digits: 8, epoch: Math.floor(f.clock.now().getTime() / 1000) });
    expect(c).toHaveLength(8);
    await f.ids.mfaVerifier.verify(ALICE, PROD, ['totp'], `totp:${c}`);
  });

  it('when the header carries several credentials, then each is parsed', () => {
    expect(parseMfaHeader('a:123456, b:654321')).toEqual([
      { method: 'a', passcode: '123456' },
      { method: 'b', passcode: '654321' },
    ]);
    expect(parseMfaHeader(':1,nocolon')).toEqual([]);
  });

  it('when base32 encodes RFC 4648 vectors, then the output matches', () => {
    expect(base32Encode(Buffer.from('foobar'))).toBe('MZXW6YTBOI');
    expect(base32Encode(Buffer.from('f'))).toBe('MY');
  });

  it('when the critical-path rule is asked, then prod needs MFA for rotate, key delete and policy writes, and dev does not', () => {
    const p = criticalPathMfaPolicy(['dev'], 'totp');
    expect(p.requiredMfaFor('prod', 'sys/rotate', 'update')).toEqual(['totp']);
    expect(p.requiredMfaFor('prod', 'transit/keys/payments', 'delete')).toEqual(['totp']);
    expect(p.requiredMfaFor('prod', 'transit/keys/payments', 'read')).toEqual([]);
    expect(p.requiredMfaFor('prod', 'sys/policies/acl/admin', 'update')).toEqual(['totp']);
    expect(p.requiredMfaFor('staging', 'sys/policy/admin', 'delete')).toEqual(['totp']);
    expect(p.requiredMfaFor('dev', 'sys/rotate', 'update')).toEqual([]);
    expect(p.requiredMfaFor('prod', 'transit/encrypt/payments', 'update')).toEqual([]);
  });
});
