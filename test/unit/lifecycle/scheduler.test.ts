/**
 * The lifecycle scheduler and the root rotation job over MemoryHsm and SQLite (two connections on one
 * file stand for two Keyward processes sharing a store).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryHsm } from '../../../hsm-sim/memory-hsm.js';
import { closeDatabase, openDatabase, type SqliteConnection } from '../../../vault/src/adapters/sqlite/database.js';
import { SqliteKeyStore } from '../../../vault/src/adapters/sqlite/sqlite-key-store.js';
import type { AuditEvent } from '../../../vault/src/core/ports/audit-sink.js';
import { DEFAULT_KEY_CONFIG, type KeyConfig } from '../../../vault/src/core/ports/key-store.js';
import { parseEnvironment, parseKeyName } from '../../../vault/src/core/types.js';
import { LifecycleScheduler } from '../../../vault/src/lifecycle/scheduler.js';
import { makeExpiringVersions } from '../../../vault/src/usecases/lifecycle/key-maintenance.js';
import { makeRootRotation } from '../../../vault/src/usecases/lifecycle/rotate-root.js';
import { makeTransitUseCases } from '../../../vault/src/usecases/transit/wire.js';

const env = parseEnvironment('prod');
const HOUR = 3600_000;
let dir: string;
let dbs: SqliteConnection[];
let now: Date;
const clock = { now: () => now };
const events: AuditEvent[] = [];
const audit = { record: async (e: AuditEvent) => void events.push(e) };

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyward-sched-'));
  dbs = [];
  now = new Date('2025-01-01T00:00:00Z');
  events.length = 0;
});
afterEach(() => {
  for (const db of dbs) closeDatabase(db);
  fs.rmSync(dir, { recursive: true, force: true });
});

async function store(): Promise<SqliteKeyStore> {
  const db = await openDatabase({ file: path.join(dir, 'keyward.db') });
  dbs.push(db);
  return new SqliteKeyStore(db);
}

async function setup(hsm: MemoryHsm, keys: SqliteKeyStore, config: Partial<KeyConfig>, name = 'k'): Promise<void> {
  if (!(await keys.getActiveRoot(env))) {
    await hsm.ensureRootKey({ env, term: 1 });
    await keys.putRoot(env, 1, 'active', now);
  }
  const wrappedKek = Buffer.from(await hsm.generateWrappedKey({ env, term: 1 }));
  await keys.createKey({ env, name: parseKeyName(name), type: 'aes256-gcm96', derived: false, config: { ...DEFAULT_KEY_CONFIG, ...config }, firstVersion: { wrappedKek, rootTerm: 1 }, createdAt: now });
}

function scheduler(hsm: MemoryHsm, keys: SqliteKeyStore, holder: string, usedVersions?: (e: unknown, n: unknown) => Promise<Set<number>>): LifecycleScheduler {
  return new LifecycleScheduler(
    { keys, clock, environments: [env], maintenance: { hsm, audit, expiryLeadMs: 120_000, ...(usedVersions ? { usedVersions } : {}) } },
    { intervalMs: 60_000, holder },
  );
}

describe('scheduled rotation', () => {
  it('when two schedulers on one store tick concurrently, then a due key is rotated exactly once', async () => {
    const hsm = new MemoryHsm();
    const [a, b] = [await store(), await store()];
    await setup(hsm, a, { autoRotatePeriodSeconds: 3600 });
    const sa = scheduler(hsm, a, 'A');
    const sb = scheduler(hsm, b, 'B');
    now = new Date(now.getTime() + HOUR);
    for (let i = 0; i < 5; i++) await Promise.all([sa.tick(), sb.tick()]);
    expect((await a.getKey(env, parseKeyName('k')))?.latestVersion).toBe(2);
    // Even when the lease has lapsed and the other process takes over, the period guard holds.
    now = new Date(now.getTime() + 10 * 60_000);
    await Promise.all([sb.tick(), sa.tick()]);
    expect((await b.getKey(env, parseKeyName('k')))?.latestVersion).toBe(2);
    now = new Date(now.getTime() + HOUR);
    await Promise.all([sa.tick(), sb.tick()]);
    expect((await b.getKey(env, parseKeyName('k')))?.latestVersion).toBe(3);
    expect(events.filter((e) => e.type === 'lifecycle' && e.operation === 'lifecycle.rotate')).toHaveLength(2);
  });

  it('when the lease is held by another live process, then this scheduler does nothing', async () => {
    const hsm = new MemoryHsm();
    const keys = await store();
    await setup(hsm, keys, { autoRotatePeriodSeconds: 3600 });
    await keys.acquireLease('lifecycle-scheduler', 'someone-else', now, 10 * HOUR);
    now = new Date(now.getTime() + 2 * HOUR);
    const r = await scheduler(hsm, keys, 'me').tick();
    expect(r.ran).toBe(false);
    expect((await keys.getKey(env, parseKeyName('k')))?.latestVersion).toBe(1);
  });

  it('when the latest version is about to expire, then the key is rotated before it does; warnings list it first', async () => {
    const hsm = new MemoryHsm();
    const keys = await store();
    await setup(hsm, keys, { versionTtlSeconds: 24 * 3600 });
    const expiring = makeExpiringVersions({ keys, environments: [env] });
    now = new Date(now.getTime() + 20 * HOUR);
    expect((await expiring(now, 7 * 24 * HOUR)).map((v) => [v.key, v.version, v.expired])).toEqual([['k', 1, false]]);
    await scheduler(hsm, keys, 'me').tick();
    expect((await keys.getKey(env, parseKeyName('k')))?.latestVersion).toBe(1);
    now = new Date(now.getTime() + 4 * HOUR - 60_000); // one minute before expiry, inside the lead
    await scheduler(hsm, keys, 'me').tick();
    expect((await keys.getKey(env, parseKeyName('k')))?.latestVersion).toBe(2);
  });
});

describe('retention (max_versions)', () => {
  async function keyWith(n: number, config: Partial<KeyConfig>) {
    const hsm = new MemoryHsm();
    const keys = await store();
    await setup(hsm, keys, config);
    const transit = makeTransitUseCases({ hsm, keys, clock });
    for (let i = 1; i < n; i++) await transit.rotateKey({ env, name: parseKeyName('k') });
    return { hsm, keys };
  }

  it('when no SecretStore answers, then versions at or above min_decryption_version are kept', async () => {
    const { hsm, keys } = await keyWith(5, { maxVersions: 2 });
    await scheduler(hsm, keys, 'me').tick();
    expect((await keys.getKey(env, parseKeyName('k')))?.minAvailableVersion).toBe(1);
    await keys.updateKeyConfig(env, parseKeyName('k'), { minDecryptionVersion: 3 }, now);
    await scheduler(hsm, keys, 'me').tick();
    expect((await keys.getKey(env, parseKeyName('k')))?.minAvailableVersion).toBe(3);
  });

  it('when stored data still uses a version, then it is not trimmed; once unused, it is', async () => {
    const { hsm, keys } = await keyWith(5, { maxVersions: 2 });
    let used = new Set([2]);
    const s = scheduler(hsm, keys, 'me', async () => used);
    await s.tick();
    expect((await keys.getKey(env, parseKeyName('k')))?.minAvailableVersion).toBe(2);
    used = new Set([5]);
    await s.tick();
    const k = await keys.getKey(env, parseKeyName('k'));
    expect(k?.minAvailableVersion).toBe(4);
    expect(k?.config.minDecryptionVersion).toBe(4);
  });
});

describe('deletion sweep', () => {
  it('when the deadline has passed, then the key is destroyed and a lifecycle audit entry written', async () => {
    const hsm = new MemoryHsm();
    const keys = await store();
    await setup(hsm, keys, { deletionAllowed: true });
    await keys.transitionKeyState(env, parseKeyName('k'), ['active'], 'pending_deletion', new Date(now.getTime() + 7 * 24 * HOUR), now);
    const s = scheduler(hsm, keys, 'me');
    await s.tick();
    expect((await keys.getKey(env, parseKeyName('k')))?.state).toBe('pending_deletion');
    now = new Date(now.getTime() + 7 * 24 * HOUR);
    const r = await s.tick();
    expect(r.actions).toEqual([{ env, key: 'k', action: 'destroyed' }]);
    expect((await keys.getKey(env, parseKeyName('k')))?.state).toBe('destroyed');
    expect(events.some((e) => e.type === 'lifecycle' && e.operation === 'lifecycle.destroy')).toBe(true);
  });
});

describe('root rotation job', () => {
  it('re-wraps every version, keeps every ciphertext readable, retires then destroys the old root', async () => {
    const hsm = new MemoryHsm();
    const keys = await store();
    await setup(hsm, keys, {}, 'a');
    await setup(hsm, keys, {}, 'b');
    const transit = makeTransitUseCases({ hsm, keys, clock });
    const cts: Array<[string, string]> = [];
    for (const n of ['a', 'b']) {
      for (let i = 0; i < 3; i++) {
        await transit.rotateKey({ env, name: parseKeyName(n) });
        const r = await transit.encrypt({ env, name: parseKeyName(n), items: [{ plaintext: Buffer.from(`${n}${i}`).toString('base64') }], mayCreate: false });
        cts.push([n, (r.items[0] as { ciphertext: string }).ciphertext]);
      }
    }
    const rr = makeRootRotation({ hsm, keys, clock, audit, holder: 'me', options: { batchSize: 3, retireGraceMs: HOUR } });
    const job = await rr.start(env);
    expect(job).toMatchObject({ fromTerm: 1, toTerm: 2, total: 8 });
    await expect(rr.start(env)).rejects.toMatchObject({ code: 'ERR_CONFLICT' });
    expect((await rr.status(env)).rotationState).toBe('rewrapping');
    await rr.resume(env);
    const s = await rr.status(env);
    expect(s).toMatchObject({ term: 2, rotationState: 'retired', rotation: { done: 8, total: 8 } });
    expect(await keys.countVersionsWrappedUnder(env, 1)).toBe(0);
    for (const [n, ciphertext] of cts) {
      const r = await transit.decrypt({ env, name: parseKeyName(n), items: [{ ciphertext }] });
      expect(r.items[0]?.ok).toBe(true);
    }
    now = new Date(now.getTime() + HOUR);
    await rr.resume(env);
    expect((await keys.listRoots(env)).map((r) => [r.term, r.state])).toEqual([[1, 'destroyed'], [2, 'active']]);
    expect(await hsm.hasRootKey({ env, term: 1 })).toBe(false);
    expect((await rr.status(env)).rotationState).toBe('completed');
  });
});
