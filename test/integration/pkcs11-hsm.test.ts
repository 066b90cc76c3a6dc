/**
 * SoftHSM-only behaviour of Pkcs11Hsm that the shared contract cannot express: session loss and
 * re-login, what an independent PKCS#11 client sees in the token, and concurrency.
 */
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acquireLibrary, type LibraryLease } from '../../vault/src/adapters/pkcs11/library.js';
import { openPkcs11Hsm, type Pkcs11Hsm } from '../../vault/src/adapters/pkcs11/index.js';
import type { RootKeyRef, WrappedKeyRef } from '../../vault/src/core/ports/hsm.js';
import { parseEnvironment } from '../../vault/src/core/types.js';
import { createThrowawayToken, type ThrowawayToken } from '../helpers/throwaway-token.js';

const run = promisify(execFile);

let token: ThrowawayToken;
let hsm: Pkcs11Hsm;
let lease: LibraryLease;

beforeAll(async () => {
  token = await createThrowawayToken();
  hsm = await openPkcs11Hsm({ modulePath: token.modulePath, tokenLabel: token.label, pin: token.pin, softhsmConf: token.confPath });
  lease = acquireLibrary(token.modulePath); // the same process-wide library, to pull the rug
});

afterAll(async () => {
  await hsm?.close();
  lease?.release();
  token?.cleanup();
});

async function newKey(env: string, term = 1): Promise<WrappedKeyRef> {
  const root: RootKeyRef = { env: parseEnvironment(env), term };
  await hsm.ensureRootKey(root);
  return { cacheId: `${env}/k/${crypto.randomUUID()}@t${term}`, root, wrappedKek: await hsm.generateWrappedKey(root) };
}

function closeAllSessionsUnderneath(): void {
  const p = lease.pkcs11;
  const slot = p.C_GetSlotList(true).find((s) => p.C_GetTokenInfo(s).label.trim() === token.label);
  if (!slot) throw new Error('test token not found');
  p.C_CloseAllSessions(slot); // also drops the process's login (PKCS11-NOTES pitfall 4)
}

describe('Pkcs11Hsm on SoftHSM2', () => {
  it('when every session is closed underneath, then the next seal and open still work (re-login, re-unwrap)', async () => {
    const key = await newKey('relogin');
    const aad = Buffer.from('aad');
    const before = await hsm.seal(key, Buffer.from('before'), aad); // key version now loaded

    closeAllSessionsUnderneath();

    const after = await hsm.seal(key, Buffer.from('after'), aad);
    expect((await hsm.open(key, before, aad)).toString()).toBe('before');
    expect((await hsm.open(key, after, aad)).toString()).toBe('after');
    expect(await hsm.hasRootKey(key.root)).toBe(true); // private objects visible again: logged in

    closeAllSessionsUnderneath();
    expect((await hsm.status()).available).toBe(true);
    await hsm.ensureMacKey('relogin-mac');
    closeAllSessionsUnderneath();
    expect((await hsm.hmacSha256('relogin-mac', Buffer.from('x'))).length).toBe(32);
  });

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

  it('when the token label does not exist, then opening fails with ERR_HSM_UNAVAILABLE', async () => {
    await expect(openPkcs11Hsm({ modulePath: token.modulePath, tokenLabel: 'no-such-token', pin: token.pin })).rejects.toMatchObject({
      code: 'ERR_HSM_UNAVAILABLE',
    });
  });
});
