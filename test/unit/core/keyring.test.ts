import { describe, expect, it } from 'vitest';
import { KeywardError } from '../../../vault/src/core/errors.js';
import {
  assertDeletable,
  assertKeyAllows,
  selectDecryptionVersion,
  selectEncryptionVersion,
  validateConfigPatch,
  validateTrim,
  versionCacheId,
  wrappedKeyRef,
  type KeyOperation,
} from '../../../vault/src/core/keyring.js';
import { DEFAULT_KEY_CONFIG, type KeyConfig, type KeyState, type TransitKeyRecord, type VersionState } from '../../../vault/src/core/ports/key-store.js';
import type { Environment, KeyName, KeyVersion } from '../../../vault/src/core/types.js';

function key(opts: { latest?: number; minAvail?: number; config?: Partial<KeyConfig>; state?: KeyState; vstates?: Record<number, VersionState> } = {}): TransitKeyRecord {
  const latest = opts.latest ?? 5;
  const minAvail = opts.minAvail ?? 1;
  const t = new Date(0);
  const versions = [];
  for (let v = minAvail; v <= latest; v++) {
    const state = opts.vstates?.[v] ?? 'active';
    versions.push({ version: v as KeyVersion, wrappedKek: state === 'destroyed' ? null : Buffer.from([v]), rootTerm: 2, createdAt: t, state });
  }
  return {
    env: 'prod' as Environment,
    name: 'payments' as KeyName,
    type: 'aes256-gcm96',
    derived: false,
    state: opts.state ?? 'active',
    config: { ...DEFAULT_KEY_CONFIG, ...opts.config },
    latestVersion: latest,
    minAvailableVersion: minAvail,
    createdAt: t,
    updatedAt: t,
    versions,
    deletionDeadline: null,
    lastRotatedAt: t,
  };
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
    return 'ok';
  } catch (e) {
    if (e instanceof KeywardError) return e.code;
    throw e;
  }
}

describe('keyring: encryption version', () => {
  const cases: Array<[string, TransitKeyRecord, number | undefined, number | string]> = [
    ['latest by default', key(), undefined, 5],
    ['0 means latest', key(), 0, 5],
    ['explicit older version', key(), 2, 2],
    ['above latest', key(), 6, 'ERR_INVALID_INPUT'],
    ['negative', key(), -1, 'ERR_INVALID_INPUT'],
    ['below min_encryption_version', key({ config: { minEncryptionVersion: 3, minDecryptionVersion: 2 } }), 2, 'ERR_INVALID_INPUT'],
    ['at min_encryption_version', key({ config: { minEncryptionVersion: 3, minDecryptionVersion: 2 } }), 3, 3],
    ['latest even with min_encryption_version', key({ config: { minEncryptionVersion: 3 } }), 0, 5],
    ['below min_decryption_version', key({ config: { minDecryptionVersion: 4 } }), 3, 'ERR_INVALID_INPUT'],
    ['trimmed version', key({ minAvail: 3, config: { minDecryptionVersion: 3 } }), 2, 'ERR_INVALID_INPUT'],
    ['disabled version', key({ vstates: { 5: 'disabled' } }), 0, 'ERR_CONFLICT'],
    ['compromised version', key({ vstates: { 4: 'compromised' } }), 4, 'ERR_CONFLICT'],
    ['destroyed version', key({ vstates: { 4: 'destroyed' } }), 4, 'ERR_CONFLICT'],
  ];
  it.each(cases)('%s', (_t, k, requested, expected) => {
    if (typeof expected === 'number') expect(selectEncryptionVersion(k, requested).version).toBe(expected);
    else expect(codeOf(() => selectEncryptionVersion(k, requested))).toBe(expected);
  });
});

describe('keyring: decryption version', () => {
  const cases: Array<[string, TransitKeyRecord, number, 'decrypt' | 'rewrap', string]> = [
    ['active version', key(), 3, 'decrypt', 'ok'],
    ['version 0 (forged)', key(), 0, 'decrypt', 'ERR_DECRYPTION_FAILED'],
    ['above latest', key(), 6, 'decrypt', 'ERR_DECRYPTION_FAILED'],
    ['below min_decryption_version', key({ config: { minDecryptionVersion: 4 } }), 3, 'decrypt', 'ERR_INVALID_INPUT'],
    ['at min_decryption_version', key({ config: { minDecryptionVersion: 4 } }), 4, 'decrypt', 'ok'],
    ['trimmed', key({ minAvail: 3, config: { minDecryptionVersion: 3 } }), 2, 'decrypt', 'ERR_INVALID_INPUT'],
    ['compromised via decrypt', key({ vstates: { 2: 'compromised' } }), 2, 'decrypt', 'ERR_CONFLICT'],
    ['compromised via rewrap', key({ vstates: { 2: 'compromised' } }), 2, 'rewrap', 'ok'],
    ['disabled', key({ vstates: { 2: 'disabled' } }), 2, 'rewrap', 'ERR_CONFLICT'],
    ['destroyed', key({ vstates: { 2: 'destroyed' } }), 2, 'decrypt', 'ERR_CONFLICT'],
  ];
  it.each(cases)('%s', (_t, k, v, purpose, expected) => {
    expect(codeOf(() => selectDecryptionVersion(k, v, purpose))).toBe(expected);
  });
});

describe('keyring: key states', () => {
  const ops: KeyOperation[] = ['encrypt', 'decrypt', 'rewrap', 'rotate', 'configure', 'trim'];
  const table: Record<KeyState, KeyOperation[]> = {
    active: ['encrypt', 'decrypt', 'rewrap', 'rotate', 'configure', 'trim'],
    disabled: ['rotate', 'configure', 'trim'],
    compromised: ['rewrap', 'rotate', 'configure', 'trim'],
    pending_deletion: ['decrypt'],
    destroyed: [],
  };
  for (const [state, allowed] of Object.entries(table) as Array<[KeyState, KeyOperation[]]>) {
    for (const op of ops) {
      it(`${state} ${allowed.includes(op) ? 'allows' : 'refuses'} ${op}`, () => {
        expect(codeOf(() => assertKeyAllows(key({ state }), op))).toBe(allowed.includes(op) ? 'ok' : 'ERR_CONFLICT');
      });
    }
  }
});

describe('keyring: config, trim, delete', () => {
  const cfg: Array<[string, TransitKeyRecord, Parameters<typeof validateConfigPatch>[1], string]> = [
    ['raise min_decryption_version', key(), { minDecryptionVersion: 3 }, 'ok'],
    ['min_decryption_version above latest', key(), { minDecryptionVersion: 6 }, 'ERR_INVALID_INPUT'],
    ['min_decryption_version 0', key(), { minDecryptionVersion: 0 }, 'ERR_INVALID_INPUT'],
    ['min_decryption_version below trimmed', key({ minAvail: 3, config: { minDecryptionVersion: 3 } }), { minDecryptionVersion: 2 }, 'ERR_INVALID_INPUT'],
    ['min_encryption_version 0', key(), { minEncryptionVersion: 0 }, 'ok'],
    ['min_encryption_version at latest', key(), { minEncryptionVersion: 5 }, 'ok'],
    ['min_encryption_version above latest', key(), { minEncryptionVersion: 6 }, 'ERR_INVALID_INPUT'],
    ['min_encryption_version below min_decryption_version', key({ config: { minDecryptionVersion: 3 } }), { minEncryptionVersion: 2 }, 'ERR_INVALID_INPUT'],
    ['exportable', key(), { exportable: true }, 'ERR_UNSUPPORTED'],
    ['plaintext backup', key(), { allowPlaintextBackup: true }, 'ERR_UNSUPPORTED'],
    ['auto_rotate_period under an hour', key(), { autoRotatePeriodSeconds: 60 }, 'ERR_INVALID_INPUT'],
    ['auto_rotate_period an hour', key(), { autoRotatePeriodSeconds: 3600 }, 'ok'],
  ];
  it.each(cfg)('config: %s', (_t, k, patch, expected) => {
    expect(codeOf(() => validateConfigPatch(k, patch))).toBe(expected);
  });

  it('config returns only the fields the caller changed', () => {
    expect(validateConfigPatch(key(), { minDecryptionVersion: 2, deletionAllowed: true })).toEqual({ minDecryptionVersion: 2, deletionAllowed: true });
  });

  const trims: Array<[string, TransitKeyRecord, number, string]> = [
    ['up to min_decryption_version', key({ config: { minDecryptionVersion: 3 } }), 3, 'ok'],
    ['above min_decryption_version', key({ config: { minDecryptionVersion: 3 } }), 4, 'ERR_INVALID_INPUT'],
    ['above min_encryption_version', key({ config: { minDecryptionVersion: 4, minEncryptionVersion: 4 } }), 5, 'ERR_INVALID_INPUT'],
    ['decrease', key({ minAvail: 3, config: { minDecryptionVersion: 3 } }), 2, 'ERR_INVALID_INPUT'],
    ['zero', key(), 0, 'ERR_INVALID_INPUT'],
  ];
  it.each(trims)('trim: %s', (_t, k, v, expected) => {
    expect(codeOf(() => validateTrim(k, v))).toBe(expected);
  });

  it('deletion only with deletion_allowed', () => {
    expect(codeOf(() => assertDeletable(key()))).toBe('ERR_INVALID_INPUT');
    expect(codeOf(() => assertDeletable(key({ config: { deletionAllowed: true } })))).toBe('ok');
  });

  it('cache id names env, key, version and root term', () => {
    expect(versionCacheId('prod' as Environment, 'payments' as KeyName, 3, 2)).toBe('prod/payments/3@t2');
    const k = key();
    const v = k.versions[2];
    if (!v) throw new Error('fixture');
    expect(wrappedKeyRef(k, v)).toMatchObject({ cacheId: 'prod/payments/3@t2', root: { env: 'prod', term: 2 } });
  });
});
