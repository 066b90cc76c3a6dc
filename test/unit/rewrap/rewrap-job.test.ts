/** The bulk rewrap job's cursor, counts, resume and idempotent start, over in-memory fakes. */
import { describe, expect, it } from 'vitest';
import { KeywardError, decryptionFailed } from '../../../vault/src/core/errors.js';
import type { KeyVersionRecord, TransitKeyRecord } from '../../../vault/src/core/ports/key-store.js';
import { internalKeyName, parseEnvironment, type KeyName } from '../../../vault/src/core/types.js';
import { describeJob, makeRewrapJob } from '../../../vault/src/usecases/rewrap/rewrap-job.js';
import type { RewrapJobRecord, RewrapJobStore } from '../../../vault/src/usecases/rewrap/rewrap-job-store.js';
import type { SealedItem, StoredDataSource } from '../../../vault/src/usecases/rewrap/stored-data.js';

const env = parseEnvironment('dev');
const KV = internalKeyName('_kv');

function keyRecord(latest: number): TransitKeyRecord {
  const versions = Array.from({ length: latest }, (_, i) => ({ version: i + 1, wrappedKek: Buffer.alloc(40), rootTerm: 1, createdAt: new Date(0), state: 'active' }) as KeyVersionRecord);
  return { env, name: KV, type: 'aes256-gcm96', derived: true, state: 'active', config: {} as never, latestVersion: latest, minAvailableVersion: 1, createdAt: new Date(0), updatedAt: new Date(0), versions, deletionDeadline: null, lastRotatedAt: new Date(0) };
}

class MemJobs implements RewrapJobStore {
  row: RewrapJobRecord | null = null;
  saves = 0;
  async getJob() {
    return this.row;
  }
  async startJob(job: RewrapJobRecord) {
    if (this.row?.state === 'running') return { started: false, job: this.row };
    this.row = job;
    return { started: true, job };
  }
  async saveProgress(_e: unknown, k: string, t: number, p: { cursor: string | null; done: number; failed: number }) {
    if (!this.row || this.row.state !== 'running' || this.row.keyName !== k || this.row.targetVersion !== t) return false;
    this.saves++;
    this.row = { ...this.row, ...p };
    return true;
  }
  async finishJob(_e: unknown, k: string, t: number, state: 'done' | 'failed', p: { cursor: string | null; done: number; failed: number; error: string | null }) {
    if (this.row && this.row.state === 'running' && this.row.keyName === k && this.row.targetVersion === t) this.row = { ...this.row, ...p, state, finishedAt: new Date() };
  }
}

/** Rows id 0..n-1 with a key version each; `poison` ids fail to open. */
function memSource(n: number, opts: { poison?: Set<number>; crashAfterReplace?: number } = {}) {
  const rows = Array.from({ length: n }, (_, id) => ({ id, keyVersion: 1, value: `v${id}` }));
  let replaces = 0;
  let crashed = false;
  const source: StoredDataSource & { rows: typeof rows } = {
    rows,
    keyName: KV,
    count: async (_e, below) => rows.filter((r) => r.keyVersion < below).length,
    list: async (_e, below, cursor, limit) => {
      const after = cursor === null ? -1 : (JSON.parse(cursor) as { id: number }).id;
      return rows
        .filter((r) => r.id > after && r.keyVersion < below)
        .slice(0, limit)
        .map((r): SealedItem => ({ cursor: JSON.stringify({ id: r.id }), binding: Buffer.from(String(r.id)), keyVersion: r.keyVersion, sealed: Buffer.from(opts.poison?.has(r.id) ? 'poison' : r.value), ref: {} }));
    },
    replace: async (_e, item, sealed) => {
      const id = Number(item.binding.toString());
      const row = rows[id];
      if (!row || row.keyVersion !== item.keyVersion) return false;
      if (!crashed && opts.crashAfterReplace !== undefined && replaces === opts.crashAfterReplace) {
        crashed = true;
        throw new Error('simulated crash');
      }
      replaces++;
      row.keyVersion = sealed.keyVersion;
      return true;
    },
    used: async () => new Set(rows.map((r) => r.keyVersion)),
  };
  return source;
}

function harness(source: StoredDataSource, latest = 2) {
  const jobs = new MemJobs();
  let key = keyRecord(latest);
  const leases = new Map<string, string>();
  const job = makeRewrapJob({
    keys: {
      getKey: async (_e, name: KeyName) => (name === KV ? key : null),
      acquireLease: async (name, holder) => {
        const h = leases.get(name);
        if (h !== undefined && h !== holder) return false;
        leases.set(name, holder);
        return true;
      },
      releaseLease: async (name, holder) => {
        if (leases.get(name) === holder) leases.delete(name);
      },
    },
    jobs,
    sources: [source],
    reseal: async (_k, target, _b, envelope) => {
      if (envelope.toString() === 'poison') throw decryptionFailed();
      return { envelope, keyVersion: target.version, rootTerm: 1 };
    },
    rotateKey: async () => {
      key = keyRecord(key.latestVersion + 1);
      return key;
    },
    clock: { now: () => new Date() },
    holder: 'me',
  });
  return { jobs, job, leases, key: () => key };
}

describe('rewrap job', () => {
  it('re-seals every item below the target in batches and persists the cursor after each batch', async () => {
    const src = memSource(23);
    const h = harness(src);
    const r = await h.job.start({ env, key: KV, batchSize: 5 });
    expect(r).toMatchObject({ started: true, job: { total: 23, targetVersion: 2, state: 'running' } });
    await h.job.resume(env);
    expect(h.jobs.row).toMatchObject({ state: 'done', total: 23, done: 23, failed: 0 });
    expect(h.jobs.saves).toBe(5);
    expect(src.rows.every((x) => x.keyVersion === 2)).toBe(true);
  });

  it('counts an item that does not open as failed, skips it, and does not loop on it', async () => {
    const src = memSource(10, { poison: new Set([3, 7]) });
    const h = harness(src);
    await h.job.start({ env, key: KV, batchSize: 4 });
    await h.job.resume(env);
    expect(h.jobs.row).toMatchObject({ state: 'done', done: 8, failed: 2 });
    expect(src.rows.filter((x) => x.keyVersion === 1).map((x) => x.id)).toEqual([3, 7]);
  });

  it('resumes after a crash mid-batch from the persisted cursor and ends with everything done once', async () => {
    const src = memSource(20, { crashAfterReplace: 7 });
    const h = harness(src);
    await h.job.start({ env, key: KV, batchSize: 5 });
    // The "crash": a batch throws half-way; the job stays running with the cursor of the last full batch.
    const crashed = h.job.resume(env, AbortSignal.timeout(200));
    await crashed;
    expect(h.jobs.row?.state).toBe('running');
    expect(h.jobs.row?.cursor).toBe(JSON.stringify({ id: 4 }));
    const fresh = harness(src);
    fresh.jobs.row = h.jobs.row;
    await fresh.job.resume(env);
    expect(fresh.jobs.row).toMatchObject({ state: 'done', total: 20, done: 20, failed: 0 });
    expect(src.rows.every((x) => x.keyVersion === 2)).toBe(true);
  });

  it('returns the running job instead of starting a second one, and never rotates then', async () => {
    const h = harness(memSource(3));
    await h.job.start({ env, key: KV });
    const again = await h.job.start({ env, key: KV, rotate: true });
    expect(again.started).toBe(false);
    expect(h.key().latestVersion).toBe(2);
  });

  it('rotates first when asked and targets the new latest version', async () => {
    const h = harness(memSource(3), 1);
    const r = await h.job.start({ env, key: KV, rotate: true });
    expect(r.job).toMatchObject({ targetVersion: 2, total: 3 });
  });

  it('waits while another process holds the lease', async () => {
    const h = harness(memSource(3));
    await h.job.start({ env, key: KV });
    h.leases.set('rewrap:dev', 'someone-else');
    await h.job.resume(env, AbortSignal.timeout(300));
    expect(h.jobs.row).toMatchObject({ state: 'running', done: 0 });
  });

  it('refuses customer keys and bad batch sizes', async () => {
    const h = harness(memSource(1));
    await expect(h.job.start({ env, key: internalKeyName('_other'), batchSize: 1 })).rejects.toBeInstanceOf(KeywardError);
    await expect(h.job.start({ env, key: KV, batchSize: 0 })).rejects.toMatchObject({ code: 'ERR_INVALID_INPUT' });
  });

  it('reports rate and ETA from the persisted counts', () => {
    const t0 = new Date('2026-01-01T00:00:00Z');
    const s = describeJob({ env, keyName: '_kv', state: 'running', targetVersion: 2, batchSize: 10, cursor: null, total: 100, done: 40, failed: 0, error: null, startedAt: t0, updatedAt: new Date(t0.getTime() + 20_000), finishedAt: null });
    expect(s).toMatchObject({ ratePerSecond: 2, etaSeconds: 30 });
    expect(describeJob(null).state).toBe('idle');
  });
});
