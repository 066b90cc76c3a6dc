import { describe, expect, it } from 'vitest';
import { env, keyName, transitHarness, codeOf, enc, dec } from './transit-harness.js';
import { makeEnsureEnvironmentRoot } from '../../../vault/src/usecases/ensure-environment-root.js';
import { parseEnvironment } from '../../../vault/src/core/types.js';

describe('ensureEnvironmentRoot', () => {
  it('creates term 1 once and is idempotent, also when called concurrently', async () => {
    const h = await transitHarness();
    const other = parseEnvironment('staging');
    const results = await Promise.all([h.ensureRoot(other), h.ensureRoot(other), h.ensureRoot(other)]);
    expect(results.map((r) => r.term)).toEqual([1, 1, 1]);
    expect((await h.keys.listRoots(other)).length).toBe(1);
    expect(await h.hsm.hasRootKey({ env: other, term: 1 })).toBe(true);
  });

  it('refuses to invent a root when the recorded one is missing from the token', async () => {
    const h = await transitHarness();
    await h.hsm.destroyRootKey({ env, term: 1 });
    expect(await codeOf(h.ensureRoot(env))).toBe('ERR_SEALED');
  });

  it('refuses to create term 1 for an environment with root history but no active term', async () => {
    const h = await transitHarness();
    await h.keys.setRootState(env, 1, 'retiring', new Date());
    expect(await codeOf(makeEnsureEnvironmentRoot({ hsm: h.hsm, keys: h.keys, clock: h.clock })(env))).toBe('ERR_SEALED');
  });
});

describe('createKey / readKey / listKeys', () => {
  it('creates v1 under the active root with Vault defaults; creating again returns the existing key', async () => {
    const h = await transitHarness();
    const a = await h.createKey({ env, name: keyName('k1') });
    expect(a.created).toBe(true);
    expect(a.key.latestVersion).toBe(1);
    expect(a.key.versions[0]?.rootTerm).toBe(1);
    expect(a.key.config).toMatchObject({ minDecryptionVersion: 1, minEncryptionVersion: 0, deletionAllowed: false });
    const b = await h.createKey({ env, name: keyName('k1') });
    expect(b.created).toBe(false);
    expect(b.key.versions[0]?.wrappedKek?.equals(a.key.versions[0]?.wrappedKek ?? Buffer.alloc(0))).toBe(true);
  });

  it('refuses other key types, exportable, plaintext backup, convergent and short rotate periods', async () => {
    const h = await transitHarness();
    const name = keyName('k');
    expect(await codeOf(h.createKey({ env, name, type: 'rsa-2048' }))).toBe('ERR_INVALID_INPUT');
    expect(await codeOf(h.createKey({ env, name, type: 'aes128-gcm96' }))).toBe('ERR_INVALID_INPUT');
    expect(await codeOf(h.createKey({ env, name, exportable: true }))).toBe('ERR_UNSUPPORTED');
    expect(await codeOf(h.createKey({ env, name, allowPlaintextBackup: true }))).toBe('ERR_UNSUPPORTED');
    expect(await codeOf(h.createKey({ env, name, convergentEncryption: true }))).toBe('ERR_UNSUPPORTED');
    expect(await codeOf(h.createKey({ env, name, autoRotatePeriodSeconds: 59 }))).toBe('ERR_INVALID_INPUT');
    expect((await h.createKey({ env, name, autoRotatePeriodSeconds: 86400 })).key.config.autoRotatePeriodSeconds).toBe(86400);
  });

  it('concurrent creates of one name yield one key', async () => {
    const h = await transitHarness();
    const rs = await Promise.all(Array.from({ length: 5 }, () => h.createKey({ env, name: keyName('race') })));
    expect(rs.filter((r) => r.created).length).toBe(1);
    const wrapped = new Set(rs.map((r) => r.key.versions[0]?.wrappedKek?.toString('hex')));
    expect(wrapped.size).toBe(1);
  });

  it('read and list of missing keys are not found', async () => {
    const h = await transitHarness();
    expect(await codeOf(h.readKey({ env, name: keyName('nope') }))).toBe('ERR_NOT_FOUND');
    expect(await codeOf(h.listKeys({ env }))).toBe('ERR_NOT_FOUND');
    await h.createKey({ env, name: keyName('b') });
    await h.createKey({ env, name: keyName('a') });
    expect(await h.listKeys({ env })).toEqual(['a', 'b']);
  });

  it('fails with ERR_SEALED when the environment has no root', async () => {
    const h = await transitHarness();
    expect(await codeOf(h.createKey({ env: parseEnvironment('prod'), name: keyName('x') }))).toBe('ERR_SEALED');
  });
});

describe('rotate / config / trim / delete', () => {
  it('rotation adds a version; old ciphertexts still decrypt; new ones use the latest', async () => {
    const h = await transitHarness();
    const old = await enc(h, 'r', 'before');
    expect(old.startsWith('vault:v1:')).toBe(true);
    const rotated = await h.rotateKey({ env, name: keyName('r') });
    expect(rotated.latestVersion).toBe(2);
    const fresh = await enc(h, 'r', 'after');
    expect(fresh.startsWith('vault:v2:')).toBe(true);
    expect(await dec(h, 'r', old)).toBe('before');
    expect(await dec(h, 'r', fresh)).toBe('after');
  });

  it('rotating, configuring or trimming a missing key is invalid input (Vault 400)', async () => {
    const h = await transitHarness();
    const name = keyName('missing');
    expect(await codeOf(h.rotateKey({ env, name }))).toBe('ERR_INVALID_INPUT');
    expect(await codeOf(h.updateKeyConfig({ env, name, patch: { deletionAllowed: true } }))).toBe('ERR_INVALID_INPUT');
    expect(await codeOf(h.trimKey({ env, name, minAvailableVersion: 1 }))).toBe('ERR_INVALID_INPUT');
    expect(await codeOf(h.deleteKey({ env, name }))).toBe('ERR_INVALID_INPUT');
  });

  it('min_decryption_version refuses older ciphertexts; lowering it again restores them', async () => {
    const h = await transitHarness();
    const v1 = await enc(h, 'm', 'one');
    await h.rotateKey({ env, name: keyName('m') });
    await h.updateKeyConfig({ env, name: keyName('m'), patch: { minDecryptionVersion: 2 } });
    expect(await codeOf(dec(h, 'm', v1))).toBe('ERR_INVALID_INPUT');
    await h.updateKeyConfig({ env, name: keyName('m'), patch: { minDecryptionVersion: 1 } });
    expect(await dec(h, 'm', v1)).toBe('one');
    expect(await codeOf(h.updateKeyConfig({ env, name: keyName('m'), patch: { minDecryptionVersion: 3 } }))).toBe('ERR_INVALID_INPUT');
  });

  it('trim erases old versions for good and respects min_decryption_version', async () => {
    const h = await transitHarness();
    const v1 = await enc(h, 't', 'one');
    await h.rotateKey({ env, name: keyName('t') });
    await h.rotateKey({ env, name: keyName('t') });
    expect(await codeOf(h.trimKey({ env, name: keyName('t'), minAvailableVersion: 2 }))).toBe('ERR_INVALID_INPUT');
    await h.updateKeyConfig({ env, name: keyName('t'), patch: { minDecryptionVersion: 2 } });
    const trimmed = await h.trimKey({ env, name: keyName('t'), minAvailableVersion: 2 });
    expect(trimmed.minAvailableVersion).toBe(2);
    expect(trimmed.versions.map((v) => v.version)).toEqual([2, 3]);
    expect(await codeOf(h.updateKeyConfig({ env, name: keyName('t'), patch: { minDecryptionVersion: 1 } }))).toBe('ERR_INVALID_INPUT');
    expect(await codeOf(dec(h, 't', v1))).toBe('ERR_INVALID_INPUT');
  });

  it('delete needs deletion_allowed', async () => {
    const h = await transitHarness();
    await h.createKey({ env, name: keyName('d') });
    expect(await codeOf(h.deleteKey({ env, name: keyName('d') }))).toBe('ERR_INVALID_INPUT');
    await h.updateKeyConfig({ env, name: keyName('d'), patch: { deletionAllowed: true } });
    await h.deleteKey({ env, name: keyName('d') });
    expect(await codeOf(h.readKey({ env, name: keyName('d') }))).toBe('ERR_NOT_FOUND');
  });

  it('exportable cannot be turned on later either', async () => {
    const h = await transitHarness();
    await h.createKey({ env, name: keyName('e') });
    expect(await codeOf(h.updateKeyConfig({ env, name: keyName('e'), patch: { exportable: true } }))).toBe('ERR_UNSUPPORTED');
  });
});
