/** The incident playbooks over fakes (keys, rewrap, tokens, audit) and the SQLite incident store on ':memory:'. */
import { describe, expect, it } from 'vitest';
import { openDatabase } from '../../../vault/src/adapters/sqlite/database.js';
import { SqliteIncidentStore } from '../../../vault/src/adapters/sqlite/sqlite-incident-store.js';
import type { StoredAuditEntry } from '../../../vault/src/audit/types.js';
import type { KeyVersionRecord, TransitKeyRecord } from '../../../vault/src/core/ports/key-store.js';
import type { TokenRecord } from '../../../vault/src/core/ports/token-store.js';
import { parseEnvironment, type KeyName } from '../../../vault/src/core/types.js';
import { makeCredentialLeak } from '../../../vault/src/usecases/incidents/credential-leak.js';
import { makeKeyCompromise, revokeUsers } from '../../../vault/src/usecases/incidents/key-compromise.js';
import type { PlaybookDeps } from '../../../vault/src/usecases/incidents/ports.js';
import { describeJob } from '../../../vault/src/usecases/rewrap/rewrap-job.js';

const env = parseEnvironment('prod');
const hmac = (a: string): string => `hmac-sha256:${Buffer.from(a).toString('hex')}`;

function key(name: string, latest: number, minDec = 1, states: Record<number, string> = {}): TransitKeyRecord {
  const versions = Array.from({ length: latest }, (_, i) => ({ version: i + 1, wrappedKek: Buffer.alloc(1), rootTerm: 1, createdAt: new Date(0), state: states[i + 1] ?? 'active' }) as KeyVersionRecord);
  return { env, name: name as KeyName, type: 'aes256-gcm96', derived: false, state: 'active', config: { minDecryptionVersion: minDec } as never, latestVersion: latest, minAvailableVersion: 1, createdAt: new Date(0), updatedAt: new Date(0), versions, deletionDeadline: null, lastRotatedAt: new Date(0) };
}

function token(accessor: string, subject: string, revoked = false): TokenRecord {
  return { jti: `j-${accessor}`, accessor, subject, authMethod: 'token', role: null, policies: [], env: 'prod', parentJti: null, issuedAt: new Date(0), expiresAt: new Date(Date.now() + 3_600_000), revokedAt: revoked ? new Date() : null, meta: {} };
}

function entry(seq: number, body: Partial<StoredAuditEntry['entry']>): StoredAuditEntry {
  return { seq, prev_hash: '', entry_hash: '', entry: { seq, time: new Date().toISOString(), type: 'response', request_id: `r${seq}`, operation: 'transit.encrypt', path: 'transit/encrypt/payments', env: 'prod', ...body } };
}

async function world() {
  const incidents = new SqliteIncidentStore(await openDatabase({ file: ':memory:' }));
  const state = { key: key('payments', 3), kv: key('_kv', 1), rotations: 0, compromised: [] as number[], config: [] as number[], revoked: [] as string[], used: new Set([1]) };
  const tokens = [token('kwa_user', 'alice'), token('kwa_other', 'alice'), token('kwa_me', 'root'), token('kwa_old', 'alice', true)];
  const audit: StoredAuditEntry[] = [
    entry(1, { identity: { subject: 'alice', auth_method: 'token', accessor: hmac('kwa_user') }, key_name: 'payments' }),
    entry(2, { identity: { subject: 'root', auth_method: 'token', accessor: hmac('kwa_me') }, key_name: 'payments' }),
    entry(3, { identity: { subject: 'alice', auth_method: 'token', accessor: hmac('kwa_old') }, key_name: 'payments' }),
    entry(4, { identity: { subject: 'bob', auth_method: 'token', accessor: hmac('kwa_bob') }, key_name: 'orders' }),
  ];
  const base: PlaybookDeps = {
    incidents,
    audit: { query: async (q) => audit.filter((e) => (q.afterSeq === undefined || e.seq > q.afterSeq) && (q.subject === undefined || e.entry.identity?.subject === q.subject)) },
    hashAccessor: async (a) => hmac(a),
    tokens: {
      listBySubject: async (s) => tokens.filter((t) => t.subject === s),
      lookupAccessor: async (a) => tokens.find((t) => t.accessor === a) ?? null,
      revokeAccessor: async (a) => (state.revoked.push(a), 1),
      revokeSubject: async (s) => (state.revoked.push(`subject:${s}`), 2),
    },
    clock: { now: () => new Date() },
    newId: () => crypto.randomUUID(),
  };
  const keyOf = (n: KeyName) => (n === '_kv' ? state.kv : n === 'payments' ? state.key : null);
  const kc = makeKeyCompromise({
    ...base,
    rewrapWaitMs: 50,
    keyOps: {
      keys: { getKey: async (_e, n) => keyOf(n) },
      compromiseVersion: async (_e, n, v) => {
        state.compromised.push(v);
        const k = keyOf(n) as TransitKeyRecord;
        const next = key(k.name, k.latestVersion, k.config.minDecryptionVersion, Object.fromEntries([...state.compromised].map((x) => [x, 'compromised'])));
        if (n === '_kv') state.kv = next;
        else state.key = next;
      },
      rotateKey: async ({ name }) => {
        state.rotations++;
        const k = keyOf(name) as TransitKeyRecord;
        const next = key(k.name, k.latestVersion + 1, k.config.minDecryptionVersion);
        if (name === '_kv') state.kv = next;
        else state.key = next;
        return next;
      },
      updateKeyConfig: async ({ name, patch }) => {
        state.config.push(patch.minDecryptionVersion ?? 0);
        const k = keyOf(name) as TransitKeyRecord;
        const next = key(k.name, k.latestVersion, patch.minDecryptionVersion ?? 1);
        if (name === '_kv') state.kv = next;
        else state.key = next;
        return next;
      },
    },
    rewrap: {
      job: {
        start: async () => ({ started: true, job: { env, keyName: '_kv', state: 'running', targetVersion: 2, batchSize: 1, cursor: null, total: 1, done: 0, failed: 0, error: null, startedAt: new Date(), updatedAt: new Date(), finishedAt: null } }),
        status: async () => describeJob({ env, keyName: '_kv', state: state.used.has(1) ? 'running' : 'done', targetVersion: 2, batchSize: 1, cursor: null, total: 1, done: 1, failed: 0, error: null, startedAt: new Date(), updatedAt: new Date(), finishedAt: null }),
      },
      runInBackground: () => undefined,
      usedVersions: async () => state.used,
    },
  });
  const cl = makeCredentialLeak({ ...base, approle: { listSecretIdAccessors: async () => ['s1', 's2'], destroyAccessor: async () => true } });
  return { state, kc, cl, incidents };
}

const me = { subject: 'root', accessor: 'kwa_me' };

describe('key-compromise playbook', () => {
  it('compromises the named version, rotates once across re-runs, and leaves min_decryption_version to the operator for customer keys', async () => {
    const w = await world();
    const a = await w.kc({ env, key: 'payments', version: 2, actor: me });
    const b = await w.kc({ env, key: 'payments', version: 2, actor: me });
    expect(b.incident.id).toBe(a.incident.id);
    expect(b.created).toBe(false);
    expect(w.state.compromised).toEqual([2]);
    expect(w.state.rotations).toBe(1);
    expect(w.state.config).toEqual([]);
    expect(a.report.next_steps.some((s) => s.includes('--raise-min-decryption'))).toBe(true);
    const c = await w.kc({ env, key: 'payments', version: 2, raiseMinDecryption: true, actor: me });
    expect(c.incident.id).toBe(a.incident.id);
    expect(w.state.config).toEqual([3]);
  });

  it('without a version, compromises every version up to the latest at the first run', async () => {
    const w = await world();
    await w.kc({ env, key: 'payments', actor: me });
    expect(w.state.compromised).toEqual([1, 2, 3]);
    expect(w.state.key.latestVersion).toBe(4);
  });

  it('for _kv, raises min_decryption_version only once stored data no longer uses the old versions', async () => {
    const w = await world();
    const first = await w.kc({ env, key: '_kv', actor: me });
    expect(w.state.config).toEqual([]);
    expect(first.report.next_steps.join('\n')).toContain('rewrap is running');
    w.state.used = new Set([2]);
    const second = await w.kc({ env, key: '_kv', actor: me });
    expect(second.incident.id).toBe(first.incident.id);
    expect(w.state.config).toEqual([2]);
    expect(w.state.rotations).toBe(1);
  });

  it('revokes the live tokens whose HMAC-ed accessor used the key, never the caller, never twice', async () => {
    const w = await world();
    const since = new Date(Date.now() - 60_000);
    const r = await w.kc({ env, key: 'payments', version: 1, revokeTokensSince: since, actor: me });
    expect(w.state.revoked).toEqual(['kwa_user']);
    const ev = r.incident.timeline.find((e) => e.event.startsWith('tokens.revoked'));
    expect(ev?.details).toMatchObject({ revoked_accessors: ['kwa_user'], skipped_own_token: true });
    await w.kc({ env, key: 'payments', version: 1, revokeTokensSince: since, actor: me });
    expect(w.state.revoked).toEqual(['kwa_user']);
  });

  it('refuses an unknown key or version', async () => {
    const w = await world();
    await expect(w.kc({ env, key: 'nope', actor: me })).rejects.toMatchObject({ code: 'ERR_INVALID_INPUT' });
    await expect(w.kc({ env, key: 'payments', version: 9, actor: me })).rejects.toMatchObject({ code: 'ERR_INVALID_INPUT' });
  });
});

describe('revokeUsers', () => {
  it('matches only live tokens of the audited subjects', async () => {
    const w = await world();
    void w;
    const revoked: string[] = [];
    const r = await revokeUsers(
      {
        tokens: { listBySubject: async () => [token('kwa_x', 's'), token('kwa_y', 's', true)], lookupAccessor: async () => null, revokeAccessor: async (a) => (revoked.push(a), 1), revokeSubject: async () => 0 },
        hashAccessor: async (a) => hmac(a),
        clock: { now: () => new Date() },
      },
      [{ subject: 's', accessor: hmac('kwa_x') }, { subject: 's', accessor: hmac('kwa_y') }, undefined],
      { subject: 'root', accessor: null },
    );
    expect(r).toMatchObject({ count: 1, accessors: ['kwa_x'] });
    expect(revoked).toEqual(['kwa_x']);
  });
});

describe('credential-leak playbook', () => {
  it('destroys the role secret IDs, revokes its subject, lists its activity, and returns the same incident on a re-run', async () => {
    const w = await world();
    const r = await w.cl({ env, role: 'orders', actor: me });
    expect(w.state.revoked).toEqual(['subject:approle/prod/orders']);
    expect(r.incident.timeline.find((e) => e.event === 'credentials.revoked')?.details).toMatchObject({ secret_ids_destroyed: 2, tokens_revoked: 2 });
    const again = await w.cl({ env, role: 'orders', actor: me });
    expect(again.incident.id).toBe(r.incident.id);
  });

  it('for an accessor, lists only that token\'s requests and suggests rotating the keys it used', async () => {
    const w = await world();
    const r = await w.cl({ env, accessor: 'kwa_user', actor: me });
    expect(w.state.revoked).toEqual(['kwa_user']);
    expect(r.report.findings['requests']).toBe(1);
    expect(r.report.audit_timeline.map((t) => t.seq)).toEqual([1]);
  });

  it('refuses both or neither target', async () => {
    const w = await world();
    await expect(w.cl({ env, actor: me })).rejects.toMatchObject({ code: 'ERR_INVALID_INPUT' });
    await expect(w.cl({ env, role: 'a', accessor: 'b', actor: me })).rejects.toMatchObject({ code: 'ERR_INVALID_INPUT' });
  });
});
