/**
 * The lifecycle state machine, table-driven: every (state, action) pair of keys and of versions is
 * either the listed transition or ERR_CONFLICT, and the use cases enforce the same table through a
 * compare-and-set on the store.
 */
import { describe, expect, it } from 'vitest';
import {
  planKeyTransition,
  planVersionTransition,
  selectDecryptionVersion,
  selectEncryptionVersion,
  validateConfigPatch,
  validatePendingWindowDays,
  type KeyLifecycleAction,
  type VersionLifecycleAction,
} from '../../../vault/src/core/keyring.js';
import { DEFAULT_KEY_CONFIG, type KeyConfig, type KeyState, type TransitKeyRecord, type VersionState } from '../../../vault/src/core/ports/key-store.js';
import { parseEnvironment, parseKeyName, type KeyVersion } from '../../../vault/src/core/types.js';
import { makeDeleteKeyLifecycle, makeTransitionKey, makeTransitionVersion } from '../../../vault/src/usecases/lifecycle/key-transitions.js';
import { MemoryKeyStore } from '../../helpers/memory-key-store.js';

const KEY_STATES: KeyState[] = ['active', 'disabled', 'compromised', 'pending_deletion', 'destroyed'];
const KEY_ACTIONS: KeyLifecycleAction[] = ['disable', 'enable', 'compromise', 'schedule_deletion', 'cancel_deletion', 'destroy'];
const VERSION_STATES: VersionState[] = ['active', 'disabled', 'compromised', 'destroyed'];
const VERSION_ACTIONS: VersionLifecycleAction[] = ['disable', 'enable', 'compromise', 'destroy'];

/** Expected key transitions: [from][action] → to, or absent = refused. */
const KEY_TABLE: Record<KeyState, Partial<Record<KeyLifecycleAction, KeyState>>> = {
  active: { disable: 'disabled', compromise: 'compromised', schedule_deletion: 'pending_deletion', destroy: 'destroyed' },
  disabled: { enable: 'active', compromise: 'compromised', schedule_deletion: 'pending_deletion', destroy: 'destroyed' },
  compromised: { schedule_deletion: 'pending_deletion', destroy: 'destroyed' },
  pending_deletion: { cancel_deletion: 'disabled', destroy: 'destroyed' },
  destroyed: {},
};

const VERSION_TABLE: Record<VersionState, Partial<Record<VersionLifecycleAction, VersionState>>> = {
  active: { disable: 'disabled', compromise: 'compromised', destroy: 'destroyed' },
  disabled: { enable: 'active', compromise: 'compromised', destroy: 'destroyed' },
  compromised: { destroy: 'destroyed' },
  destroyed: {},
};

function key(opts: { state?: KeyState; v1?: VersionState; latest?: number; config?: Partial<KeyConfig>; createdAt?: Date } = {}): TransitKeyRecord {
  const t = opts.createdAt ?? new Date(0);
  const latest = opts.latest ?? 2;
  const versions = [];
  for (let v = 1; v <= latest; v++) {
    const state = v === 1 ? (opts.v1 ?? 'active') : 'active';
    versions.push({ version: v as KeyVersion, wrappedKek: state === 'destroyed' ? null : Buffer.from([v]), rootTerm: 1, createdAt: t, state });
  }
  return {
    env: parseEnvironment('prod'),
    name: parseKeyName('k'),
    type: 'aes256-gcm96',
    derived: false,
    state: opts.state ?? 'active',
    config: { ...DEFAULT_KEY_CONFIG, ...opts.config },
    latestVersion: latest,
    minAvailableVersion: 1,
    createdAt: t,
    updatedAt: t,
    versions,
    deletionDeadline: null,
    lastRotatedAt: t,
  };
}

function codeOf(fn: () => unknown): string {
  try {
    const r = fn();
    return String(r);
  } catch (e) {
    return (e as { code?: string }).code ?? 'throw';
  }
}

describe('key state machine (keyring.KEY_STATE_TRANSITIONS)', () => {
  for (const from of KEY_STATES) {
    for (const action of KEY_ACTIONS) {
      const to = KEY_TABLE[from][action];
      it(`${from} --${action}--> ${to ?? 'refused (ERR_CONFLICT)'}`, () => {
        expect(codeOf(() => planKeyTransition({ state: from }, action))).toBe(to ?? 'ERR_CONFLICT');
      });
    }
  }
  it('names the states in the refusal, e.g. enabling a destroyed key', () => {
    expect(() => planKeyTransition({ state: 'destroyed' }, 'enable')).toThrow('cannot enable a key that is destroyed');
  });
});

describe('version state machine (keyring.VERSION_STATE_TRANSITIONS)', () => {
  for (const from of VERSION_STATES) {
    for (const action of VERSION_ACTIONS) {
      const to = VERSION_TABLE[from][action];
      it(`v1 ${from} --${action}--> ${to ?? 'refused (ERR_CONFLICT)'}`, () => {
        expect(codeOf(() => planVersionTransition(key({ v1: from }), 1, action))).toBe(to ?? 'ERR_CONFLICT');
      });
    }
  }
  it('refuses to destroy the latest version, and any version change on a destroyed key', () => {
    expect(codeOf(() => planVersionTransition(key(), 2, 'destroy'))).toBe('ERR_CONFLICT');
    expect(codeOf(() => planVersionTransition(key({ state: 'destroyed' }), 1, 'disable'))).toBe('ERR_CONFLICT');
    expect(codeOf(() => planVersionTransition(key(), 3, 'disable'))).toBe('ERR_INVALID_INPUT');
  });
});

describe('deletion window, config and expiry rules', () => {
  it.each([
    [undefined, '30'],
    [7, '7'],
    [30, '30'],
    [6, 'ERR_INVALID_INPUT'],
    [31, 'ERR_INVALID_INPUT'],
  ])('pending_window_days %s → %s', (days, want) => {
    expect(codeOf(() => validatePendingWindowDays(days))).toBe(want);
  });

  it.each([
    [{ autoRotatePeriodSeconds: 3599 }, 'ERR_INVALID_INPUT'],
    [{ autoRotatePeriodSeconds: 0 }, 'ok'],
    [{ autoRotatePeriodSeconds: 3600 }, 'ok'],
    [{ versionTtlSeconds: 60 }, 'ERR_INVALID_INPUT'],
    [{ versionTtlSeconds: 86400 }, 'ok'],
    [{ maxVersions: -1 }, 'ERR_INVALID_INPUT'],
    [{ maxVersions: 5 }, 'ok'],
  ])('config %j → %s', (patch, want) => {
    expect(codeOf(() => (validateConfigPatch(key(), patch), 'ok'))).toBe(want);
  });

  it('an expired version no longer encrypts but still decrypts', () => {
    const k = key({ config: { versionTtlSeconds: 3600 }, createdAt: new Date(0) });
    expect(selectEncryptionVersion(k, 0, new Date(3599_000)).version).toBe(2);
    expect(codeOf(() => selectEncryptionVersion(k, 0, new Date(3600_000)))).toBe('ERR_CONFLICT');
    expect(selectDecryptionVersion(k, 2, 'decrypt').version).toBe(2);
  });

  it('a disabled or compromised version does not decrypt, a compromised one opens for rewrap only', () => {
    expect(codeOf(() => selectDecryptionVersion(key({ v1: 'disabled' }), 1, 'decrypt'))).toBe('ERR_CONFLICT');
    expect(codeOf(() => selectDecryptionVersion(key({ v1: 'compromised' }), 1, 'decrypt'))).toBe('ERR_CONFLICT');
    expect(selectDecryptionVersion(key({ v1: 'compromised' }), 1, 'rewrap').version).toBe(1);
  });
});

describe('transition use cases over a store', () => {
  const env = parseEnvironment('prod');
  const name = parseKeyName('k');
  const setup = async (deletionAllowed = true) => {
    const keys = new MemoryKeyStore();
    const forgotten: string[] = [];
    const hsm = { forgetKey: async (id: string) => void forgotten.push(id) };
    let now = new Date('2025-01-01T00:00:00Z');
    const clock = { now: () => now };
    await keys.createKey({ env, name, type: 'aes256-gcm96', derived: false, config: { ...DEFAULT_KEY_CONFIG, deletionAllowed }, firstVersion: { wrappedKek: Buffer.alloc(40, 1), rootTerm: 1 }, createdAt: now });
    await keys.appendKeyVersion(env, name, Buffer.alloc(40, 2), 1, now);
    const transitionKey = makeTransitionKey({ hsm, keys, clock });
    return { keys, forgotten, transitionKey, transitionVersion: makeTransitionVersion({ hsm, keys, clock }), del: makeDeleteKeyLifecycle(transitionKey, { keys }), advance: (ms: number) => (now = new Date(now.getTime() + ms)) };
  };

  it('schedules deletion with the window, cancels to disabled, enables again', async () => {
    const t = await setup();
    const r = await t.transitionKey({ env, name, action: 'schedule_deletion', pendingWindowDays: 7 });
    expect(r.to).toBe('pending_deletion');
    expect(r.deletionDeadline?.toISOString()).toBe('2025-01-08T00:00:00.000Z');
    expect((await t.transitionKey({ env, name, action: 'cancel_deletion' })).key.state).toBe('disabled');
    expect((await t.transitionKey({ env, name, action: 'enable' })).key.deletionDeadline).toBeNull();
  });

  it('refuses to schedule deletion without deletion_allowed', async () => {
    const t = await setup(false);
    await expect(t.transitionKey({ env, name, action: 'schedule_deletion' })).rejects.toMatchObject({ code: 'ERR_INVALID_INPUT' });
    await expect(t.del({ env, name, immediate: true })).rejects.toMatchObject({ code: 'ERR_INVALID_INPUT' });
  });

  it('destroys immediately: blobs erased, HSM objects forgotten, tombstone kept; enable is then refused', async () => {
    const t = await setup();
    await t.del({ env, name, immediate: true });
    const k = await t.keys.getKey(env, name);
    expect(k?.state).toBe('destroyed');
    expect(k?.versions.every((v) => v.wrappedKek === null)).toBe(true);
    expect(t.forgotten.sort()).toEqual(['prod/k/1@t1', 'prod/k/2@t1']);
    await expect(t.transitionKey({ env, name, action: 'enable' })).rejects.toMatchObject({ code: 'ERR_CONFLICT', message: 'cannot enable a key that is destroyed' });
  });

  it('a delete without immediate only schedules deletion (30 days)', async () => {
    const t = await setup();
    const r = await t.del({ env, name, immediate: false });
    expect(r.to).toBe('pending_deletion');
    expect(r.deletionDeadline?.toISOString()).toBe('2025-01-31T00:00:00.000Z');
  });

  it('loses a raced transition with ERR_CONFLICT rather than overwriting it', async () => {
    const t = await setup();
    const stale = t.keys.getKey.bind(t.keys);
    const before = await stale(env, name);
    // Someone else disables the key between our read and our write.
    t.keys.getKey = async () => before;
    await t.keys.setKeyState(env, name, 'disabled', null, new Date());
    await expect(t.transitionKey({ env, name, action: 'compromise' })).rejects.toMatchObject({ code: 'ERR_CONFLICT' });
  });

  it('destroys a version: its blob is gone and its HSM object forgotten', async () => {
    const t = await setup();
    const r = await t.transitionVersion({ env, name, version: 1 as KeyVersion, action: 'destroy' });
    expect(r.key.versions[0]).toMatchObject({ state: 'destroyed', wrappedKek: null });
    expect(t.forgotten).toEqual(['prod/k/1@t1']);
  });
});
