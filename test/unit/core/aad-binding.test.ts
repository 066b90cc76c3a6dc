import { describe, expect, it } from 'vitest';
import { MemoryHsm } from '../../../hsm-sim/memory-hsm.js';
import { dataAad, dekAad } from '../../../vault/src/core/aad.js';
import { contextDigest } from '../../../vault/src/core/context.js';
import { openMessage, sealMessage } from '../../../vault/src/core/envelope-crypto.js';
import { parseEnvelope, serializeEnvelope } from '../../../vault/src/core/envelope.js';
import { KeywardError } from '../../../vault/src/core/errors.js';
import type { WrappedKeyRef } from '../../../vault/src/core/ports/hsm.js';
import { parseEnvironment, parseKeyName, type Environment, type KeyName } from '../../../vault/src/core/types.js';

const env = parseEnvironment('dev');
const name = parseKeyName('payments');
const ctx = Buffer.from('tenant-1');

async function setup(): Promise<{ hsm: MemoryHsm; ref: (v: number) => WrappedKeyRef }> {
  const hsm = new MemoryHsm();
  await hsm.ensureRootKey({ env, term: 1 });
  const blobs = [Buffer.from(await hsm.generateWrappedKey({ env, term: 1 })), Buffer.from(await hsm.generateWrappedKey({ env, term: 1 }))];
  return { hsm, ref: (v) => ({ cacheId: `dev/payments/${v}@t1`, root: { env, term: 1 }, wrappedKek: blobs[v - 1] ?? Buffer.alloc(0) }) };
}

async function expectFail(p: Promise<unknown>): Promise<void> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(KeywardError);
  expect((e as KeywardError).code).toBe('ERR_DECRYPTION_FAILED');
  expect((e as KeywardError).message).toBe('decryption failed');
}

describe('AAD binding', () => {
  it('length-prefixes fields so shifting bytes between them changes the AAD', () => {
    const a = dekAad({ env: 'dev' as Environment, name: 'ab' as KeyName, version: 1, contextDigest: Buffer.alloc(0) });
    const b = dekAad({ env: 'deva' as Environment, name: 'b' as KeyName, version: 1, contextDigest: Buffer.alloc(0) });
    expect(a.equals(b)).toBe(false);
    expect(dataAad(1, Buffer.from('ab'), Buffer.from('c')).equals(dataAad(1, Buffer.from('a'), Buffer.from('bc')))).toBe(false);
    // absent associated data equals empty associated data, as in GCM and Vault
    expect(dataAad(1, Buffer.from('x'), undefined).equals(dataAad(1, Buffer.from('x'), Buffer.alloc(0)))).toBe(true);
  });

  it('opens with exactly the binding it was sealed with, and fails on every change', async () => {
    const { hsm, ref } = await setup();
    const binding = { env, name, version: 1, contextDigest: contextDigest(true, ctx) };
    const ad = Buffer.from('order-7');
    const ct = await sealMessage(hsm, ref(1), binding, Buffer.alloc(32, 9), Buffer.from('secret'), ad);
    const envl = parseEnvelope(ct);
    expect((await openMessage(hsm, ref(1), binding, envl, ad)).toString()).toBe('secret');

    await expectFail(openMessage(hsm, ref(1), { ...binding, env: 'prod' as Environment }, envl, ad));
    await expectFail(openMessage(hsm, ref(1), { ...binding, name: 'other' as KeyName }, envl, ad));
    await expectFail(openMessage(hsm, ref(1), { ...binding, contextDigest: contextDigest(true, Buffer.from('tenant-2')) }, envl, ad));
    await expectFail(openMessage(hsm, ref(1), binding, envl, Buffer.from('order-8')));
    await expectFail(openMessage(hsm, ref(1), binding, envl, undefined));
    // version: relabelled prefix, and the right label opened under another version's key
    await expectFail(openMessage(hsm, ref(2), { ...binding, version: 2 }, { ...envl, keyVersion: 2 }, ad));
    await expectFail(openMessage(hsm, ref(2), binding, envl, ad));
  });

  it('cannot recombine the sealed DEK of one message with the data part of another', async () => {
    const { hsm, ref } = await setup();
    const binding = { env, name, version: 1, contextDigest: Buffer.alloc(0) };
    const a = parseEnvelope(await sealMessage(hsm, ref(1), binding, Buffer.alloc(32, 1), Buffer.from('aaaa'), undefined));
    const b = parseEnvelope(await sealMessage(hsm, ref(1), binding, Buffer.alloc(32, 1), Buffer.from('bbbb'), undefined));
    // Same DEK bytes on purpose: only the sealed-DEK binding in the data AAD can tell the halves apart.
    const spliced = parseEnvelope(serializeEnvelope({ ...a, dataIv: b.dataIv, dataCiphertext: b.dataCiphertext, dataTag: b.dataTag }));
    await expectFail(openMessage(hsm, ref(1), binding, spliced, undefined));
  });

  it('flipping any single byte of the envelope fails with decryption failed', async () => {
    const { hsm, ref } = await setup();
    const binding = { env, name, version: 1, contextDigest: Buffer.alloc(0) };
    const envl = parseEnvelope(await sealMessage(hsm, ref(1), binding, Buffer.alloc(32, 3), Buffer.from('hello'), undefined));
    const bytes = Buffer.from(serializeEnvelope(envl).split(':')[2] ?? '', 'base64');
    for (let i = 1; i < bytes.length; i++) {
      const t = Buffer.from(bytes);
      t[i] = (t[i] ?? 0) ^ 0x01;
      await expectFail(Promise.resolve().then(() => openMessage(hsm, ref(1), binding, parseEnvelope(`vault:v1:${t.toString('base64')}`), undefined)));
    }
  });

  it('zeroes the DEK handed to sealMessage', async () => {
    const { hsm, ref } = await setup();
    const dek = Buffer.alloc(32, 0xaa);
    await sealMessage(hsm, ref(1), { env, name, version: 1, contextDigest: Buffer.alloc(0) }, dek, Buffer.from('x'), undefined);
    expect(dek.every((b) => b === 0)).toBe(true);
  });

  it('derived key without context is invalid input; non-derived ignores context', () => {
    for (const missing of [undefined, Buffer.alloc(0)]) {
      try {
        contextDigest(true, missing);
        throw new Error('accepted');
      } catch (e) {
        expect((e as KeywardError).code).toBe('ERR_INVALID_INPUT');
      }
    }
    expect(contextDigest(false, Buffer.from('anything')).length).toBe(0);
    expect(contextDigest(true, ctx).length).toBe(32);
  });
});
