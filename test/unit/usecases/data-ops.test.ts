import { describe, expect, it, vi } from 'vitest';
import { b64, codeOf, dec, enc, env, keyName, transitHarness } from './transit-harness.js';
import { MAX_BATCH_ITEMS } from '../../../vault/src/usecases/transit/index.js';

const name = keyName('k');

describe('encrypt / decrypt', () => {
  it('round-trips, including empty plaintext and binary data', async () => {
    const h = await transitHarness();
    for (const p of ['hello', '', '\u0000\u00ff binary']) expect(await dec(h, 'k', await enc(h, 'k', p))).toBe(p);
  });

  it('two encryptions of one plaintext differ (fresh DEK and IVs)', async () => {
    const h = await transitHarness();
    expect(await enc(h, 'k', 'same')).not.toBe(await enc(h, 'k', 'same'));
  });

  it('upserts a missing key only when the caller may create; otherwise permission denied', async () => {
    const h = await transitHarness();
    expect(await codeOf(h.encrypt({ env, name, items: [{ plaintext: b64('x') }], mayCreate: false }))).toBe('ERR_PERMISSION_DENIED');
    expect(await codeOf(h.readKey({ env, name }))).toBe('ERR_NOT_FOUND');
    const r = await h.encrypt({ env, name, items: [{ plaintext: b64('x') }], mayCreate: true });
    expect(r.created).toBe(true);
    expect((await h.readKey({ env, name })).derived).toBe(false);
    const again = await h.encrypt({ env, name, items: [{ plaintext: b64('x') }], mayCreate: false });
    expect(again.created).toBe(false);
  });

  it('upsert with context creates a derived key; mixed context in a batch is refused', async () => {
    const h = await transitHarness();
    const mixed = h.encrypt({ env, name, items: [{ plaintext: b64('a'), context: b64('c') }, { plaintext: b64('b') }], mayCreate: true });
    expect(await codeOf(mixed)).toBe('ERR_INVALID_INPUT');
    await h.encrypt({ env, name, items: [{ plaintext: b64('a'), context: b64('c') }], mayCreate: true });
    expect((await h.readKey({ env, name })).derived).toBe(true);
  });

  it('decrypt of a missing key is Vault\'s 400 "encryption key not found"', async () => {
    const h = await transitHarness();
    expect(await codeOf(h.decrypt({ env, name, items: [{ ciphertext: 'vault:v1:AAAA' }] }))).toBe('ERR_INVALID_INPUT');
  });

  it('derived keys need the same context to decrypt', async () => {
    const h = await transitHarness();
    await h.createKey({ env, name, derived: true });
    expect(await codeOf(enc(h, 'k', 'x'))).toBe('ERR_INVALID_INPUT');
    const ct = await enc(h, 'k', 'tenant data', { context: b64('tenant-1') });
    expect(await dec(h, 'k', ct, { context: b64('tenant-1') })).toBe('tenant data');
    expect(await codeOf(dec(h, 'k', ct, { context: b64('tenant-2') }))).toBe('ERR_DECRYPTION_FAILED');
    expect(await codeOf(dec(h, 'k', ct))).toBe('ERR_INVALID_INPUT');
  });

  it('non-derived keys ignore a context, as Vault does', async () => {
    const h = await transitHarness();
    await h.createKey({ env, name });
    const ct = await enc(h, 'k', 'x', { context: b64('ignored') });
    expect(await dec(h, 'k', ct)).toBe('x');
    expect(await dec(h, 'k', ct, { context: b64('other') })).toBe('x');
  });

  it('associated_data must match', async () => {
    const h = await transitHarness();
    const ct = await enc(h, 'k', 'x', { associatedData: b64('order-1') });
    expect(await dec(h, 'k', ct, { associatedData: b64('order-1') })).toBe('x');
    expect(await codeOf(dec(h, 'k', ct, { associatedData: b64('order-2') }))).toBe('ERR_DECRYPTION_FAILED');
    expect(await codeOf(dec(h, 'k', ct))).toBe('ERR_DECRYPTION_FAILED');
  });

  it('a ciphertext of one key does not decrypt under another key or environment', async () => {
    const h = await transitHarness();
    const ct = await enc(h, 'k', 'x');
    await h.createKey({ env, name: keyName('other') });
    expect(await codeOf(dec(h, 'other', ct))).toBe('ERR_DECRYPTION_FAILED');
  });

  it('key_version selects an older version and honours min_encryption_version', async () => {
    const h = await transitHarness();
    await h.createKey({ env, name });
    await h.rotateKey({ env, name });
    await h.rotateKey({ env, name });
    expect((await enc(h, 'k', 'x', { keyVersion: 2 })).startsWith('vault:v2:')).toBe(true);
    expect(await codeOf(enc(h, 'k', 'x', { keyVersion: 4 }))).toBe('ERR_INVALID_INPUT');
    await h.updateKeyConfig({ env, name, patch: { minEncryptionVersion: 3 } });
    expect(await codeOf(enc(h, 'k', 'x', { keyVersion: 2 }))).toBe('ERR_INVALID_INPUT');
    expect((await enc(h, 'k', 'x')).startsWith('vault:v3:')).toBe(true);
  });

  it('bad base64 is invalid input', async () => {
    const h = await transitHarness();
    expect(await codeOf(enc(h, 'k', 'x', { plaintext: 'not base64!' } as never))).toBe('ERR_INVALID_INPUT');
    await h.createKey({ env, name: keyName('j') });
    expect(await codeOf(h.encrypt({ env, name: keyName('j'), items: [{ plaintext: '%%%' }], mayCreate: false }).then((r) => {
      if (!r.items[0]?.ok) throw r.items[0]?.error;
    }))).toBe('ERR_INVALID_INPUT');
  });

  it('uses one store read, one RNG call and one seal per item', async () => {
    const h = await transitHarness();
    await h.createKey({ env, name });
    const getKey = vi.spyOn(h.keys, 'getKey');
    const rng = vi.spyOn(h.hsm, 'randomBytes');
    const seal = vi.spyOn(h.hsm, 'seal');
    await h.encrypt({ env, name, items: [{ plaintext: b64('a') }, { plaintext: b64('b') }, { plaintext: b64('c') }], mayCreate: true });
    expect(getKey).toHaveBeenCalledTimes(1);
    expect(rng).toHaveBeenCalledTimes(1);
    expect(seal).toHaveBeenCalledTimes(3);
  });
});

describe('batches', () => {
  it('reports per-item errors, echoes references and keeps order', async () => {
    const h = await transitHarness();
    const r = await h.encrypt({
      env,
      name,
      mayCreate: true,
      items: [
        { plaintext: b64('one'), reference: 'r1' },
        { plaintext: '!!', reference: 'r2' },
        { plaintext: b64('three'), reference: 'r3', keyVersion: 9 },
        { plaintext: b64('four') },
      ],
    });
    expect(r.items.map((i) => i.ok)).toEqual([true, false, false, true]);
    expect(r.items.map((i) => i.reference)).toEqual(['r1', 'r2', 'r3', '']);
    const cts = r.items.map((i) => (i.ok ? i.ciphertext : 'vault:v1:broken'));
    const d = await h.decrypt({ env, name, items: cts.map((ciphertext, i) => ({ ciphertext, reference: `d${i}` })) });
    expect(d.items.map((i) => (i.ok ? i.plaintext.toString() : i.error.code))).toEqual(['one', 'ERR_DECRYPTION_FAILED', 'ERR_DECRYPTION_FAILED', 'four']);
    expect(d.items.map((i) => i.reference)).toEqual(['d0', 'd1', 'd2', 'd3']);
  });

  it('refuses an empty batch and one larger than the limit', async () => {
    const h = await transitHarness();
    expect(await codeOf(h.encrypt({ env, name, items: [], mayCreate: true }))).toBe('ERR_INVALID_INPUT');
    const big = Array.from({ length: MAX_BATCH_ITEMS + 1 }, () => ({ plaintext: '' }));
    expect(await codeOf(h.encrypt({ env, name, items: big, mayCreate: true }))).toBe('ERR_INVALID_INPUT');
  });

  it('an HSM failure fails the whole request, not one item', async () => {
    const h = await transitHarness();
    await h.createKey({ env, name });
    await h.hsm.close();
    expect(await codeOf(h.encrypt({ env, name, items: [{ plaintext: b64('a') }], mayCreate: true }))).toBe('ERR_HSM_UNAVAILABLE');
  });

  it('handles a large batch', async () => {
    const h = await transitHarness();
    const items = Array.from({ length: 500 }, (_, i) => ({ plaintext: b64(`m${i}`) }));
    const r = await h.encrypt({ env, name, items, mayCreate: true });
    const d = await h.decrypt({ env, name, items: r.items.map((i) => ({ ciphertext: i.ok ? i.ciphertext : '' })) });
    expect(d.items.every((i, n) => i.ok && i.plaintext.toString() === `m${n}`)).toBe(true);
  });
});

describe('rewrap', () => {
  it('moves old ciphertexts to the latest version, keeping context and associated data', async () => {
    const h = await transitHarness();
    await h.createKey({ env, name, derived: true });
    const ctx = b64('c1');
    const ad = b64('ad');
    const old = await enc(h, 'k', 'payload', { context: ctx, associatedData: ad });
    await h.rotateKey({ env, name });
    await h.rotateKey({ env, name });
    const r = await h.rewrap({ env, name, items: [{ ciphertext: old, context: ctx, associatedData: ad, reference: 'x' }] });
    const item = r.items[0];
    if (!item?.ok) throw new Error('rewrap failed');
    expect(item.keyVersion).toBe(3);
    expect(item.reference).toBe('x');
    expect(item.ciphertext.startsWith('vault:v3:')).toBe(true);
    expect(await dec(h, 'k', item.ciphertext, { context: ctx, associatedData: ad })).toBe('payload');
    const pinned = await h.rewrap({ env, name, items: [{ ciphertext: old, context: ctx, associatedData: ad, keyVersion: 2 }] });
    expect(pinned.items[0]?.ok && pinned.items[0].keyVersion).toBe(2);
  });

  it('is the only way to read a compromised version', async () => {
    const h = await transitHarness();
    const old = await enc(h, 'k', 'p');
    await h.rotateKey({ env, name });
    await h.keys.setVersionState(env, name, 1 as never, 'compromised', new Date());
    expect(await codeOf(dec(h, 'k', old))).toBe('ERR_CONFLICT');
    const r = await h.rewrap({ env, name, items: [{ ciphertext: old }] });
    expect(r.items[0]?.ok).toBe(true);
  });

  it('respects min_decryption_version', async () => {
    const h = await transitHarness();
    const old = await enc(h, 'k', 'p');
    await h.rotateKey({ env, name });
    await h.updateKeyConfig({ env, name, patch: { minDecryptionVersion: 2 } });
    const r = await h.rewrap({ env, name, items: [{ ciphertext: old }] });
    expect(r.items[0]?.ok === false && r.items[0].error.code).toBe('ERR_INVALID_INPUT');
  });
});

describe('datakey', () => {
  it('plaintext datakey decrypts to the same bytes; wrapped returns no plaintext', async () => {
    const h = await transitHarness();
    await h.createKey({ env, name });
    for (const bits of [128, 256, 512]) {
      const dk = await h.dataKey({ env, name, kind: 'plaintext', bits });
      expect(dk.plaintext?.length).toBe(bits / 8);
      const d = await h.decrypt({ env, name, items: [{ ciphertext: dk.ciphertext }] });
      expect(d.items[0]?.ok && d.items[0].plaintext.toString('base64')).toBe(dk.plaintext?.toString('base64'));
    }
    const w = await h.dataKey({ env, name, kind: 'wrapped' });
    expect(w.plaintext).toBeUndefined();
    expect(w.keyVersion).toBe(1);
    const d = await h.decrypt({ env, name, items: [{ ciphertext: w.ciphertext }] });
    expect(d.items[0]?.ok && d.items[0].plaintext.length).toBe(32);
  });

  it('refuses other bit sizes, kinds and missing keys; derived keys need context', async () => {
    const h = await transitHarness();
    expect(await codeOf(h.dataKey({ env, name, kind: 'plaintext' }))).toBe('ERR_INVALID_INPUT');
    await h.createKey({ env, name });
    expect(await codeOf(h.dataKey({ env, name, kind: 'plaintext', bits: 192 }))).toBe('ERR_INVALID_INPUT');
    expect(await codeOf(h.dataKey({ env, name, kind: 'raw' as never }))).toBe('ERR_INVALID_INPUT');
    await h.createKey({ env, name: keyName('dk'), derived: true });
    expect(await codeOf(h.dataKey({ env, name: keyName('dk'), kind: 'wrapped' }))).toBe('ERR_INVALID_INPUT');
    const w = await h.dataKey({ env, name: keyName('dk'), kind: 'wrapped', context: b64('c') });
    expect(await codeOf(dec(h, 'dk', w.ciphertext, { context: b64('c') }))).toBe('ok');
  });
});

describe('key states', () => {
  it('disabled keys neither encrypt nor decrypt; pending deletion only decrypts', async () => {
    const h = await transitHarness();
    const ct = await enc(h, 'k', 'p');
    await h.keys.setKeyState(env, name, 'disabled', null, new Date());
    expect(await codeOf(enc(h, 'k', 'p'))).toBe('ERR_CONFLICT');
    expect(await codeOf(dec(h, 'k', ct))).toBe('ERR_CONFLICT');
    await h.keys.setKeyState(env, name, 'pending_deletion', new Date(Date.now() + 1e6), new Date());
    expect(await codeOf(enc(h, 'k', 'p'))).toBe('ERR_CONFLICT');
    expect(await dec(h, 'k', ct)).toBe('p');
  });
});
