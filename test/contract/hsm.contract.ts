/**
 * The Hsm contract: every invariant of vault/src/core/ports/hsm.ts, run against every adapter
 * (MemoryHsm, Pkcs11Hsm on SoftHSM2). Each test uses its own environment name, so tests never share
 * roots even though they share one Hsm instance.
 */
import crypto from 'node:crypto';
import * as jose from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DECRYPTION_FAILED_MESSAGE, KeywardError } from '../../vault/src/core/errors.js';
import type { Hsm, RootKeyRef, WrappedKeyRef } from '../../vault/src/core/ports/hsm.js';
import { parseEnvironment } from '../../vault/src/core/types.js';

export interface HsmUnderTest {
  readonly hsm: Hsm;
  cleanup(): Promise<void>;
}

let counter = 0;
const freshRoot = (term = 1): RootKeyRef => ({
  env: parseEnvironment(`e${crypto.randomBytes(4).toString('hex')}${(counter += 1)}`),
  term,
});

async function expectCode(promise: Promise<unknown>, code: string, message?: string): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, `expected ${code}`).toBeInstanceOf(KeywardError);
  expect((error as KeywardError).code).toBe(code);
  if (message !== undefined) expect((error as KeywardError).message).toBe(message);
}

const expectDecryptionFailed = (p: Promise<unknown>): Promise<void> => expectCode(p, 'ERR_DECRYPTION_FAILED', DECRYPTION_FAILED_MESSAGE);

export function describeHsmContract(name: string, makeHsm: () => Promise<HsmUnderTest>): void {
  describe(`Hsm contract: ${name}`, () => {
    let subject: HsmUnderTest;
    let hsm: Hsm;

    beforeAll(async () => {
      subject = await makeHsm();
      hsm = subject.hsm;
    });
    afterAll(async () => {
      await subject?.cleanup();
    });

    async function newKey(root?: RootKeyRef): Promise<WrappedKeyRef> {
      const r = root ?? freshRoot();
      await hsm.ensureRootKey(r);
      const wrappedKek = await hsm.generateWrappedKey(r);
      return { cacheId: `${r.env}/k/${crypto.randomUUID()}@t${r.term}`, root: r, wrappedKek };
    }

    describe('root keys', () => {
      it('ensureRootKey is idempotent and hasRootKey reflects it', async () => {
        const root = freshRoot();
        expect(await hsm.hasRootKey(root)).toBe(false);
        await hsm.ensureRootKey(root);
        const key = await newKey(root);
        await hsm.ensureRootKey(root); // must not replace the root: the blob still opens
        expect(await hsm.hasRootKey(root)).toBe(true);
        const sealed = await hsm.seal(key, Buffer.from('x'), Buffer.alloc(0));
        await hsm.forgetKey(key.cacheId);
        expect((await hsm.open(key, sealed, Buffer.alloc(0))).toString()).toBe('x');
      });

      it('concurrent ensureRootKey calls create one root', async () => {
        const root = freshRoot();
        await Promise.all([hsm.ensureRootKey(root), hsm.ensureRootKey(root), hsm.ensureRootKey(root)]);
        const key = await newKey(root);
        const sealed = await hsm.seal(key, Buffer.from('one'), Buffer.alloc(0));
        await hsm.forgetKey(key.cacheId);
        expect((await hsm.open(key, sealed, Buffer.alloc(0))).toString()).toBe('one');
      });

      it('roots of different terms and environments are different keys', async () => {
        const a = freshRoot(1);
        const b: RootKeyRef = { env: a.env, term: 2 };
        await hsm.ensureRootKey(a);
        await hsm.ensureRootKey(b);
        expect(await hsm.hasRootKey(b)).toBe(true);
        const key = await newKey(a);
        const sealed = await hsm.seal(key, Buffer.from('x'), Buffer.alloc(0));
        await expectDecryptionFailed(hsm.open({ ...key, cacheId: `${key.cacheId}-b`, root: b }, sealed, Buffer.alloc(0)));
      });

      it('generateWrappedKey under a missing root is ERR_NOT_FOUND', async () => {
        await expectCode(hsm.generateWrappedKey(freshRoot()), 'ERR_NOT_FOUND');
      });

      it('destroyRootKey of a missing root is a no-op', async () => {
        await hsm.destroyRootKey(freshRoot());
      });
    });

    describe('key versions', () => {
      it('generateWrappedKey returns 40-byte KWP blobs that differ each time', async () => {
        const root = freshRoot();
        await hsm.ensureRootKey(root);
        const a = await hsm.generateWrappedKey(root);
        const b = await hsm.generateWrappedKey(root);
        expect(a.length).toBe(40); // RFC 5649: 32-byte key + 8-byte integrity block
        expect(b.length).toBe(40);
        expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
      });

      it('rewrap to a new root keeps the key; after destroying the old root only the new blob opens', async () => {
        const oldRoot = freshRoot(1);
        const newRoot: RootKeyRef = { env: oldRoot.env, term: 2 };
        const key = await newKey(oldRoot);
        const aad = Buffer.from('env=x;key=k;v=1');
        const sealed = await hsm.seal(key, Buffer.from('survives rotation'), aad);
        await hsm.ensureRootKey(newRoot);
        const rewrapped = await hsm.rewrapKey(key, newRoot);
        expect(rewrapped.length).toBe(40);
        expect(Buffer.from(rewrapped).equals(Buffer.from(key.wrappedKek))).toBe(false);
        const newRef: WrappedKeyRef = { cacheId: key.cacheId.replace(/@t1$/, '@t2'), root: newRoot, wrappedKek: rewrapped };
        expect((await hsm.open(newRef, sealed, aad)).toString()).toBe('survives rotation');
        await hsm.destroyRootKey(oldRoot);
        expect(await hsm.hasRootKey(oldRoot)).toBe(false);
        await expectDecryptionFailed(hsm.open(key, sealed, aad));
        await expectCode(hsm.rewrapKey(key, newRoot), 'ERR_NOT_FOUND');
        expect((await hsm.open(newRef, sealed, aad)).toString()).toBe('survives rotation');
      });

      it('rewrap of a corrupt blob is ERR_DECRYPTION_FAILED', async () => {
        const key = await newKey();
        const corrupt = Buffer.from(key.wrappedKek);
        corrupt[5] = (corrupt[5] ?? 0) ^ 1;
        await expectDecryptionFailed(hsm.rewrapKey({ ...key, wrappedKek: corrupt }, key.root));
      });
    });

    describe('seal and open', () => {
      it('open inverts seal, for empty and large plaintexts', async () => {
        const key = await newKey();
        for (const size of [0, 1, 32, 4096, 100_000]) {
          const plaintext = crypto.randomBytes(size);
          const aad = Buffer.from(`aad-${size}`);
          const sealed = await hsm.seal(key, plaintext, aad);
          expect(sealed.length).toBe(12 + size + 16);
          expect((await hsm.open(key, sealed, aad)).equals(plaintext)).toBe(true);
        }
      });

      it('seal output is standard AES-256-GCM iv||ct||tag (interoperable layout)', async () => {
        const key = await newKey();
        const sealed = await hsm.seal(key, Buffer.from('layout'), Buffer.from('a'));
        // Changing any of the three regions breaks authentication, proving where they are.
        for (const index of [0, 11, 12, sealed.length - 16, sealed.length - 1]) {
          const copy = Buffer.from(sealed);
          copy[index] = (copy[index] ?? 0) ^ 0x80;
          await expectDecryptionFailed(hsm.open(key, copy, Buffer.from('a')));
        }
      });

      it('every seal uses a fresh IV', async () => {
        const key = await newKey();
        const ivs = new Set<string>();
        for (let i = 0; i < 64; i += 1) {
          const sealed = await hsm.seal(key, Buffer.from('same'), Buffer.from('same'));
          ivs.add(sealed.subarray(0, 12).toString('hex'));
        }
        expect(ivs.size).toBe(64);
      });

      it('wrong AAD, tampered tag, truncation, another key version or root: ERR_DECRYPTION_FAILED, one message', async () => {
        const key = await newKey();
        const other = await newKey(key.root);
        const otherRootKey = await newKey();
        const aad = Buffer.from('env=prod;key=payments;v=1');
        const sealed = await hsm.seal(key, Buffer.from('secret dek'), aad);

        await expectDecryptionFailed(hsm.open(key, sealed, Buffer.from('env=prod;key=payments;v=2')));
        await expectDecryptionFailed(hsm.open(key, sealed, Buffer.alloc(0)));
        const tampered = Buffer.from(sealed);
        tampered[tampered.length - 1] = (tampered[tampered.length - 1] ?? 0) ^ 1;
        await expectDecryptionFailed(hsm.open(key, tampered, aad));
        await expectDecryptionFailed(hsm.open(key, sealed.subarray(0, sealed.length - 1), aad));
        await expectDecryptionFailed(hsm.open(key, sealed.subarray(0, 27), aad));
        await expectDecryptionFailed(hsm.open(key, Buffer.alloc(0), aad));
        await expectDecryptionFailed(hsm.open(other, sealed, aad));
        // the same blob presented under another root (unwrap fails) and a key from another root
        await expectDecryptionFailed(hsm.open({ ...key, cacheId: `${key.cacheId}-x`, root: otherRootKey.root }, sealed, aad));
        await expectDecryptionFailed(hsm.open(otherRootKey, sealed, aad));
        // an unknown root is a decryption failure too, not a 404 oracle
        await expectDecryptionFailed(hsm.open({ ...key, cacheId: `${key.cacheId}-y`, root: freshRoot() }, sealed, aad));
        // and the original still opens
        expect((await hsm.open(key, sealed, aad)).toString()).toBe('secret dek');
      });

      it('a corrupt key-version blob fails seal and open with ERR_DECRYPTION_FAILED', async () => {
        const key = await newKey();
        const corrupt = Buffer.from(key.wrappedKek);
        corrupt[0] = (corrupt[0] ?? 0) ^ 1;
        const bad: WrappedKeyRef = { ...key, cacheId: `${key.cacheId}-corrupt`, wrappedKek: corrupt };
        await expectDecryptionFailed(hsm.seal(bad, Buffer.from('x'), Buffer.alloc(0)));
        const sealed = await hsm.seal(key, Buffer.from('x'), Buffer.alloc(0));
        await expectDecryptionFailed(hsm.open(bad, sealed, Buffer.alloc(0)));
      });

      it('seal under a missing root is ERR_NOT_FOUND', async () => {
        const key = await newKey();
        await expectCode(hsm.seal({ ...key, cacheId: `${key.cacheId}-z`, root: freshRoot() }, Buffer.from('x'), Buffer.alloc(0)), 'ERR_NOT_FOUND');
      });

      it('forgetKey does not break later use of the blob', async () => {
        const key = await newKey();
        const sealed = await hsm.seal(key, Buffer.from('again'), Buffer.alloc(0));
        await hsm.forgetKey(key.cacheId);
        await hsm.forgetKey(key.cacheId);
        expect((await hsm.open(key, sealed, Buffer.alloc(0))).toString()).toBe('again');
      });

      it('parallel seals and opens on many key versions all succeed', async () => {
        const keys = await Promise.all(Array.from({ length: 4 }, () => newKey()));
        const results = await Promise.all(
          Array.from({ length: 40 }, async (_, i) => {
            const key = keys[i % keys.length] as WrappedKeyRef;
            const plaintext = Buffer.from(`message ${i}`);
            const sealed = await hsm.seal(key, plaintext, Buffer.from([i]));
            return (await hsm.open(key, sealed, Buffer.from([i]))).equals(plaintext);
          }),
        );
        expect(results.every(Boolean)).toBe(true);
      });
    });

    describe('randomness', () => {
      it('randomBytes returns the requested length and distinct values', async () => {
        for (const length of [1, 12, 32, 1000, 5000]) expect((await hsm.randomBytes(length)).length).toBe(length);
        expect((await hsm.randomBytes(0)).length).toBe(0);
        const seen = new Set<string>();
        for (let i = 0; i < 100; i += 1) seen.add((await hsm.randomBytes(16)).toString('hex'));
        expect(seen.size).toBe(100);
      });
    });

    describe('signing and MAC keys', () => {
      it('signEs256 signatures verify with the returned JWK (jose and node:crypto)', async () => {
        const label = `jwt-${crypto.randomBytes(4).toString('hex')}`;
        const jwk = await hsm.ensureSigningKey(label);
        expect(jwk.kty).toBe('EC');
        expect(jwk.crv).toBe('P-256');
        expect(await hsm.ensureSigningKey(label)).toEqual(jwk); // idempotent: same key
        const signingInput = `${Buffer.from('{"alg":"ES256"}').toString('base64url')}.${Buffer.from('{"sub":"x"}').toString('base64url')}`;
        const signature = await hsm.signEs256(label, Buffer.from(signingInput));
        expect(signature.length).toBe(64);
        const publicKey = crypto.createPublicKey({ key: { ...jwk }, format: 'jwk' });
        expect(crypto.verify('sha256', Buffer.from(signingInput), { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature)).toBe(true);
        expect(crypto.verify('sha256', Buffer.from(`${signingInput}x`), { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature)).toBe(false);
        const { payload } = await jose.compactVerify(`${signingInput}.${signature.toString('base64url')}`, await jose.importJWK({ ...jwk }, 'ES256'));
        expect(Buffer.from(payload).toString()).toBe('{"sub":"x"}');
      });

      it('hmacSha256 is deterministic, 32 bytes, keyed by label', async () => {
        const a = `mac-${crypto.randomBytes(4).toString('hex')}`;
        const b = `${a}-b`;
        await hsm.ensureMacKey(a);
        await hsm.ensureMacKey(a);
        await hsm.ensureMacKey(b);
        const mac1 = await hsm.hmacSha256(a, Buffer.from('entry'));
        expect(mac1.length).toBe(32);
        expect((await hsm.hmacSha256(a, Buffer.from('entry'))).equals(mac1)).toBe(true);
        expect((await hsm.hmacSha256(a, Buffer.from('entrx'))).equals(mac1)).toBe(false);
        expect((await hsm.hmacSha256(b, Buffer.from('entry'))).equals(mac1)).toBe(false);
      });

      it('unknown signing or MAC labels are ERR_NOT_FOUND', async () => {
        await expectCode(hsm.signEs256(`nope-${crypto.randomUUID()}`, Buffer.from('x')), 'ERR_NOT_FOUND');
        await expectCode(hsm.hmacSha256(`nope-${crypto.randomUUID()}`, Buffer.from('x')), 'ERR_NOT_FOUND');
      });

      it('destroyKeyByLabel removes signing and MAC keys; ensure* then makes new ones', async () => {
        const sig = `jwt-${crypto.randomBytes(4).toString('hex')}`;
        const mac = `mac-${crypto.randomBytes(4).toString('hex')}`;
        const jwk = await hsm.ensureSigningKey(sig);
        await hsm.ensureMacKey(mac);
        const mac1 = await hsm.hmacSha256(mac, Buffer.from('x'));
        await hsm.destroyKeyByLabel(sig);
        await hsm.destroyKeyByLabel(mac);
        await expectCode(hsm.signEs256(sig, Buffer.from('x')), 'ERR_NOT_FOUND');
        await expectCode(hsm.hmacSha256(mac, Buffer.from('x')), 'ERR_NOT_FOUND');
        expect(await hsm.ensureSigningKey(sig)).not.toEqual(jwk);
        await hsm.ensureMacKey(mac);
        expect((await hsm.hmacSha256(mac, Buffer.from('x'))).equals(mac1)).toBe(false);
        await hsm.destroyKeyByLabel(`never-existed-${crypto.randomUUID()}`);
      });
    });

    describe('status and close', () => {
      it('status reports an available device with a module name', async () => {
        const status = await hsm.status();
        expect(status.available).toBe(true);
        expect(status.module.length).toBeGreaterThan(0);
        expect(status.tokenLabel.length).toBeGreaterThan(0);
      });

      it('after close, operations fail with ERR_HSM_UNAVAILABLE and status says unavailable', async () => {
        const second = await makeHsm();
        const key = await (async () => {
          const root = freshRoot();
          await second.hsm.ensureRootKey(root);
          return { cacheId: 'c', root, wrappedKek: await second.hsm.generateWrappedKey(root) };
        })();
        await second.hsm.close();
        await expectCode(second.hsm.seal(key, Buffer.from('x'), Buffer.alloc(0)), 'ERR_HSM_UNAVAILABLE');
        await expectCode(second.hsm.randomBytes(8), 'ERR_HSM_UNAVAILABLE');
        expect((await second.hsm.status()).available).toBe(false);
        await second.hsm.close(); // idempotent
        await second.cleanup();
        // the suite's own instance is unaffected by another instance closing
        expect((await hsm.randomBytes(4)).length).toBe(4);
      });
    });
  });
}
