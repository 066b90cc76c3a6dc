/**
 * SoftHSM-only behaviour of Pkcs11Hsm that the shared contract cannot express: session loss and
 * re-login, what an independent PKCS#11 client sees in the token, and concurrency; the session-loss
 * and concurrency tests run in both call modes (performance.hsmCallMode).
 */
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { acquireLibrary, type LibraryLease } from '../../vault/src/adapters/pkcs11/library.js';
import { openPkcs11Hsm, type Pkcs11Hsm } from '../../vault/src/adapters/pkcs11/index.js';
import type { HsmCallMode } from '../../vault/src/adapters/pkcs11/pkcs11-hsm.js';
import type { RootKeyRef, WrappedKeyRef } from '../../vault/src/core/ports/hsm.js';
import { parseEnvironment } from '../../vault/src/core/types.js';
import { createThrowawayToken, type ThrowawayToken } from '../helpers/throwaway-token.js';

const run = promisify(execFile);

let token: ThrowawayToken;
let hsm: Pkcs11Hsm;
let lease: LibraryLease;

const openHsm = (callMode: HsmCallMode = 'auto', sessionPoolSize?: number): Promise<Pkcs11Hsm> =>
  openPkcs11Hsm({
    modulePath: token.modulePath,
    tokenLabel: token.label,
    pin: token.pin,
    softhsmConf: token.confPath,
    callMode,
    ...(sessionPoolSize !== undefined ? { sessionPoolSize } : {}),
  });

beforeAll(async () => {
  token = await createThrowawayToken();
  hsm = await openHsm();
  lease = acquireLibrary(token.modulePath); // the same process-wide library, to pull the rug
});

afterAll(async () => {
  await hsm?.close();
  lease?.release();
  token?.cleanup();
});

async function newKey(env: string, term = 1, on: Pkcs11Hsm = hsm): Promise<WrappedKeyRef> {
  const root: RootKeyRef = { env: parseEnvironment(env), term };
  await on.ensureRootKey(root);
  return { cacheId: `${env}/k/${crypto.randomUUID()}@t${term}`, root, wrappedKek: await on.generateWrappedKey(root) };
}

function closeAllSessionsUnderneath(): void {
  const p = lease.pkcs11;
  const slot = p.C_GetSlotList(true).find((s) => p.C_GetTokenInfo(s).label.trim() === token.label);
  if (!slot) throw new Error('test token not found');
  p.C_CloseAllSessions(slot); // also drops the process's login (PKCS11-NOTES pitfall 4)
}

describe('Pkcs11Hsm on SoftHSM2', () => {
  it('when an independent PKCS#11 client lists the token, then every secret key is sensitive and roots are never extractable nor readable', async () => {
    const key = await newKey('inspect');
    await hsm.ensureMacKey('inspect-mac');
    await hsm.ensureSigningKey('inspect-jwt');
    await hsm.seal(key, Buffer.from('x'), Buffer.alloc(0));

    const args = ['--module', token.modulePath, '--token-label', token.label, '--login', '--pin', token.pin];
    const env = { ...process.env, SOFTHSM2_CONF: token.confPath };
    const { stdout } = await run('pkcs11-tool', [...args, '--list-objects', '--type', 'secrkey'], { env });
    const blocks = stdout.split(/\n(?=Secret Key Object)/).filter((b) => b.startsWith('Secret Key Object'));
    const labelOf = (b: string): string => /label:\s*(.*)/.exec(b)?.[1]?.trim() ?? '';
    const accessOf = (b: string): string => /Access:\s*(.*)/.exec(b)?.[1] ?? '';
    const usageOf = (b: string): string => /Usage:\s*(.*)/.exec(b)?.[1] ?? '';

    expect(blocks.length).toBeGreaterThanOrEqual(2);
    for (const block of blocks) expect(accessOf(block)).toMatch(/(^|, )sensitive/);
    const root = blocks.find((b) => labelOf(b) === 'keyward-root-inspect-t1');
    expect(root, 'root key listed').toBeDefined();
    expect(accessOf(root as string)).toContain('never extractable');
    expect(accessOf(root as string)).toContain('always sensitive');
    expect(usageOf(root as string).split(/,\s*/).sort()).toEqual(['unwrap', 'wrap']);
    expect(blocks.some((b) => labelOf(b) === 'inspect-mac' && accessOf(b).includes('never extractable'))).toBe(true);

    const read = await run('pkcs11-tool', [...args, '--read-object', '--type', 'secrkey', '--label', 'keyward-root-inspect-t1'], { env }).then(
      (r) => ({ ok: true, out: r.stdout }),
      (e: { stderr?: string }) => ({ ok: false, out: e.stderr ?? '' }),
    );
    expect(read.ok).toBe(false);
    expect(read.out).toContain('CKR_ATTRIBUTE_SENSITIVE');
  });

  it('when the token label does not exist, then opening fails with ERR_HSM_UNAVAILABLE', async () => {
    await expect(openPkcs11Hsm({ modulePath: token.modulePath, tokenLabel: 'no-such-token', pin: token.pin })).rejects.toMatchObject({
      code: 'ERR_HSM_UNAVAILABLE',
    });
  });
});

for (const callMode of ['sync', 'async'] as const) {
  describe(`Pkcs11Hsm on SoftHSM2, ${callMode} calls`, () => {
    let main: Pkcs11Hsm;
    beforeAll(async () => {
      main = hsm;
      hsm = await openHsm(callMode); // shares the process-wide library and login with `main`
      expect(hsm.callMode).toBe(callMode);
    });
    afterAll(async () => {
      await hsm.close();
      hsm = main;
    });

    it('when every session is closed underneath, then the next seal and open still work (re-login, re-unwrap)', async () => {
      const key = await newKey(`relogin-${callMode}`);
      const aad = Buffer.from('aad');
      const before = await hsm.seal(key, Buffer.from('before'), aad); // key version now loaded

      closeAllSessionsUnderneath();

      const after = await hsm.seal(key, Buffer.from('after'), aad);
      expect((await hsm.open(key, before, aad)).toString()).toBe('before');
      expect((await hsm.open(key, after, aad)).toString()).toBe('after');
      expect(await hsm.hasRootKey(key.root)).toBe(true); // private objects visible again: logged in

      closeAllSessionsUnderneath();
      expect((await hsm.status()).available).toBe(true);
      await hsm.ensureMacKey(`relogin-mac-${callMode}`);
      closeAllSessionsUnderneath();
      expect((await hsm.hmacSha256(`relogin-mac-${callMode}`, Buffer.from('x'))).length).toBe(32);
    });

    it('when 200 seals and opens run in parallel, then all succeed', async () => {
      const keys = await Promise.all([newKey('par'), newKey('par'), newKey('par2')]);
      const outcomes = await Promise.all(
        Array.from({ length: 200 }, async (_, i) => {
          const key = keys[i % keys.length] as WrappedKeyRef;
          const plaintext = crypto.randomBytes(32);
          const aad = Buffer.from(`m${i}`);
          const sealed = await hsm.seal(key, plaintext, aad);
          return (await hsm.open(key, sealed, aad)).equals(plaintext);
        }),
      );
      expect(outcomes.filter(Boolean).length).toBe(200);
    });

    it('when a DEK is sealed and opened and a small value HMAC-ed, then the mode decides between the synchronous and the threadpool calls', async () => {
      const key = await newKey(`mode-${callMode}`);
      await hsm.ensureMacKey(`mode-mac-${callMode}`);
      await hsm.seal(key, Buffer.alloc(32), Buffer.alloc(0)); // key version loaded
      const p = lease.pkcs11; // the same process-wide PKCS11 object the adapter calls
      const sync = [vi.spyOn(p, 'C_Encrypt'), vi.spyOn(p, 'C_Decrypt'), vi.spyOn(p, 'C_Sign')];
      const threaded = [vi.spyOn(p, 'C_EncryptAsync'), vi.spyOn(p, 'C_DecryptAsync'), vi.spyOn(p, 'C_SignAsync')];
      try {
        const dek = crypto.randomBytes(32);
        const sealed = await hsm.seal(key, dek, Buffer.from('aad'));
        expect((await hsm.open(key, sealed, Buffer.from('aad'))).equals(dek)).toBe(true);
        expect((await hsm.hmacSha256(`mode-mac-${callMode}`, Buffer.from('accessor'))).length).toBe(32);
        const [used, unused] = callMode === 'sync' ? [sync, threaded] : [threaded, sync];
        for (const spy of used) expect(spy).toHaveBeenCalledTimes(1);
        for (const spy of unused) expect(spy).not.toHaveBeenCalled();

        // Bulk payloads stay on the threadpool in both modes.
        const big = crypto.randomBytes(100_000);
        const bigSealed = await hsm.seal(key, big, Buffer.alloc(0));
        expect((await hsm.open(key, bigSealed, Buffer.alloc(0))).equals(big)).toBe(true);
        expect(threaded[0]).toHaveBeenCalledTimes(callMode === 'sync' ? 1 : 2);
        expect(threaded[1]).toHaveBeenCalledTimes(callMode === 'sync' ? 1 : 2);
      } finally {
        for (const spy of [...sync, ...threaded]) spy.mockRestore();
      }
    });

    it('when every session is held by an in-flight threadpool call, then small operations wait for a session and all succeed', async () => {
      const single = await openHsm(callMode, 1);
      try {
        const key = await newKey(`busy-${callMode}`, 1, single);
        const big = crypto.randomBytes(200_000);
        const outcomes = await Promise.all(
          Array.from({ length: 40 }, async (_, i) => {
            const plaintext = i % 4 === 0 ? big : crypto.randomBytes(32); // every 4th holds the only lane across an await
            const sealed = await single.seal(key, plaintext, Buffer.from(`b${i}`));
            const [opened, random] = await Promise.all([single.open(key, sealed, Buffer.from(`b${i}`)), single.randomBytes(16)]);
            return opened.equals(plaintext) && random.length === 16;
          }),
        );
        expect(outcomes.every(Boolean)).toBe(true);
      } finally {
        await single.close();
      }
    });

    it('when a tampered DEK blob is opened, then it fails with ERR_DECRYPTION_FAILED and the session stays usable', async () => {
      const key = await newKey(`tamper-${callMode}`);
      const sealed = await hsm.seal(key, crypto.randomBytes(32), Buffer.alloc(0));
      sealed.writeUInt8((sealed.at(-1) as number) ^ 1, sealed.length - 1);
      const results = await Promise.allSettled(Array.from({ length: 8 }, () => hsm.open(key, sealed, Buffer.alloc(0))));
      for (const r of results) expect(r).toMatchObject({ status: 'rejected', reason: { code: 'ERR_DECRYPTION_FAILED' } });
      const again = await hsm.seal(key, Buffer.from('ok'), Buffer.alloc(0));
      expect((await hsm.open(key, again, Buffer.alloc(0))).toString()).toBe('ok');
    });
  });
}
