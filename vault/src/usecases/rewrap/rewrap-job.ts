/**
 * The bulk rewrap job: re-seal everything Keyward stores under older versions of a reserved key
 * (`_kv`, `_wrap`) to the key's latest version, in batches, in the background, resumable.
 *
 * Steps, each safe to repeat after a crash at any point:
 *   1. `start`: optionally rotate the key; record the job (target = latest version, total = items
 *      below it) unless one is already running in the environment — then that one is returned
 *      (idempotent start);
 *   2. `resume`: under the `rewrap:<env>` store lease, list the next batch after the persisted cursor,
 *      re-seal each item and compare-and-set it into the store, then persist cursor + counts together;
 *   3. when a batch comes back empty: mark the job done (or failed if the key vanished).
 *
 * Invariants:
 * - No stored value is lost or duplicated: re-sealing only UPDATEs the row it read, and only if the
 *   row is still under the key version it was listed with (compare-and-set); the binding is kept.
 * - One job per environment across processes: the job row (compare-and-set start) plus the lease for
 *   the worker; a dead holder's lease runs out and the next process resumes from the cursor.
 * - An item that cannot be opened (tampered, destroyed version) is counted `failed` and skipped, never
 *   rewritten; a device or store failure stops the batch without moving the cursor (retried later).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { KeywardError, conflict, invalidInput } from '../../core/errors.js';
import type { Clock } from '../../core/ports/clock.js';
import type { KeyStore, KeyVersionRecord, TransitKeyRecord } from '../../core/ports/key-store.js';
import type { Environment, KeyName } from '../../core/types.js';
import type { Reseal } from './reseal.js';
import type { RewrapJobRecord, RewrapJobStore } from './rewrap-job-store.js';
import type { StoredDataSource } from './stored-data.js';

export interface RewrapJobOptions {
  /** Default batch size when the caller names none. Default 100. */
  readonly batchSize?: number;
  /** Pause after each batch (tests use it to kill the process mid-job). Default 0. */
  readonly batchDelayMs?: number;
  /** Store lease lifetime, renewed after each batch. Default 10 s. */
  readonly leaseTtlMs?: number;
  /** Re-seals in flight within one batch. Default 8. */
  readonly concurrency?: number;
}

export interface RewrapJobDeps {
  readonly keys: Pick<KeyStore, 'getKey' | 'acquireLease' | 'releaseLease'>;
  readonly jobs: RewrapJobStore;
  readonly sources: readonly StoredDataSource[];
  readonly reseal: Reseal;
  /** Rotates the named (reserved) key; used by `start({ rotate: true })`. */
  readonly rotateKey: (input: { env: Environment; name: KeyName }) => Promise<TransitKeyRecord>;
  readonly clock: Clock;
  readonly holder: string;
  readonly options?: RewrapJobOptions;
  readonly logger?: { warn(obj: object, msg: string): void };
}

export interface RewrapStatus {
  readonly state: 'idle' | 'running' | 'done' | 'failed';
  readonly key: string | null;
  readonly targetVersion: number | null;
  readonly total: number;
  readonly done: number;
  readonly failed: number;
  readonly startedAt: Date | null;
  readonly updatedAt: Date | null;
  readonly finishedAt: Date | null;
  readonly ratePerSecond: number;
  readonly etaSeconds: number | null;
  readonly error: string | null;
}

export interface StartRewrapInput {
  readonly env: Environment;
  readonly key: KeyName;
  readonly batchSize?: number;
  readonly rotate?: boolean;
}

export interface RewrapJob {
  /** Records (or returns the running) job; the caller runs `resume` in the background. */
  start(input: StartRewrapInput): Promise<{ readonly started: boolean; readonly job: RewrapJobRecord }>;
  /** Works the environment's running job to the end. False if the job is not ours to run (lease). */
  resume(env: Environment, signal?: AbortSignal): Promise<boolean>;
  status(env: Environment): Promise<RewrapStatus>;
}

export const MAX_REWRAP_BATCH = 10_000;
const ITEM_ERRORS = new Set(['ERR_DECRYPTION_FAILED', 'ERR_CONFLICT', 'ERR_INVALID_INPUT']);
const leaseName = (env: Environment): string => `rewrap:${env}`;

/** Progress figures for the API: rate over the job's life so far, ETA from the remaining items. */
export function describeJob(job: RewrapJobRecord | null): RewrapStatus {
  if (!job) {
    return { state: 'idle', key: null, targetVersion: null, total: 0, done: 0, failed: 0, startedAt: null, updatedAt: null, finishedAt: null, ratePerSecond: 0, etaSeconds: null, error: null };
  }
  const elapsed = ((job.finishedAt ?? job.updatedAt).getTime() - job.startedAt.getTime()) / 1000;
  const handled = job.done + job.failed;
  const rate = elapsed > 0 ? handled / elapsed : 0;
  const remaining = Math.max(0, job.total - handled);
  const eta = job.state !== 'running' ? 0 : rate > 0 ? Math.ceil(remaining / rate) : null;
  return {
    state: job.state,
    key: job.keyName,
    targetVersion: job.targetVersion,
    total: job.total,
    done: job.done,
    failed: job.failed,
    startedAt: job.startedAt,
    updatedAt: job.updatedAt,
    finishedAt: job.finishedAt,
    ratePerSecond: Math.round(rate * 10) / 10,
    etaSeconds: eta,
    error: job.error,
  };
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

export function makeRewrapJob(deps: RewrapJobDeps): RewrapJob {
  const o = deps.options ?? {};
  const defaultBatch = o.batchSize ?? 100;
  const batchDelayMs = o.batchDelayMs ?? 0;
  const leaseTtlMs = o.leaseTtlMs ?? 10_000;
  const concurrency = o.concurrency ?? 8;
  const { keys, jobs, clock } = deps;
  const inFlight = new Map<Environment, Promise<boolean>>();

  const sourceFor = (name: string): StoredDataSource => {
    const s = deps.sources.find((x) => x.keyName === name);
    if (!s) throw invalidInput('only reserved keys with stored data can be rewrapped by the server (`_kv`, `_wrap`); use `keyward rewrap` for client-held ciphertexts');
    return s;
  };

  /** One batch; returns false when nothing is left. */
  async function runBatch(job: RewrapJobRecord, source: StoredDataSource): Promise<{ more: boolean; job: RewrapJobRecord }> {
    const key = await keys.getKey(job.env, source.keyName);
    const target: KeyVersionRecord | undefined = key?.versions.find((v) => v.version === job.targetVersion);
    if (!key || !target || target.state !== 'active' || target.wrappedKek === null) {
      const error = !key ? 'the key no longer exists' : 'the target key version is no longer active';
      await jobs.finishJob(job.env, job.keyName, job.targetVersion, 'failed', { cursor: job.cursor, done: job.done, failed: job.failed, error }, clock.now());
      return { more: false, job: { ...job, state: 'failed', error } };
    }
    const items = await source.list(job.env, job.targetVersion, job.cursor, job.batchSize);
    if (items.length === 0) {
      // Items re-sealed in a batch whose progress a crash lost are no longer listed; count them as done.
      const done = Math.min(job.total, Math.max(job.done, job.total - job.failed));
      await jobs.finishJob(job.env, job.keyName, job.targetVersion, 'done', { cursor: job.cursor, done, failed: job.failed, error: null }, clock.now());
      return { more: false, job: { ...job, done, state: 'done' } };
    }
    const outcomes = await mapLimit(items, concurrency, async (item): Promise<'moved' | 'gone' | 'failed'> => {
      try {
        const sealed = await deps.reseal(key, target, item.binding, item.sealed);
        return (await source.replace(job.env, item, sealed)) ? 'moved' : 'gone';
      } catch (e) {
        if (e instanceof KeywardError && ITEM_ERRORS.has(e.code)) return 'failed';
        throw e;
      }
    });
    const last = items[items.length - 1];
    // 'gone' (changed meanwhile: rewritten, destroyed, consumed) counts as handled: nothing of it is left under an old version.
    const progress = {
      cursor: last ? last.cursor : job.cursor,
      done: job.done + outcomes.filter((x) => x !== 'failed').length,
      failed: job.failed + outcomes.filter((x) => x === 'failed').length,
    };
    if (!(await jobs.saveProgress(job.env, job.keyName, job.targetVersion, progress, clock.now()))) {
      return { more: false, job }; // the job was finished or replaced elsewhere
    }
    return { more: true, job: { ...job, ...progress } };
  }

  async function work(env: Environment, signal?: AbortSignal): Promise<boolean> {
    let job = await jobs.getJob(env);
    while (job && job.state === 'running') {
      if (signal?.aborted) return false;
      if (!(await keys.acquireLease(leaseName(env), deps.holder, clock.now(), leaseTtlMs))) {
        // Another process holds it (or a dead one did): wait for it to finish or its lease to run out.
        await sleep(Math.max(100, Math.floor(leaseTtlMs / 3)), undefined, signal ? { signal } : undefined).catch(() => undefined);
        job = await jobs.getJob(env);
        continue;
      }
      try {
        const source = sourceFor(job.keyName);
        for (;;) {
          if (signal?.aborted) return false;
          const r = await runBatch(job, source);
          job = r.job;
          if (!r.more) break;
          if (!(await keys.acquireLease(leaseName(env), deps.holder, clock.now(), leaseTtlMs))) break;
          if (batchDelayMs > 0) await sleep(batchDelayMs, undefined, signal ? { signal } : undefined).catch(() => undefined);
        }
      } catch (e) {
        // HSM or store trouble: the cursor did not move; retry the batch after a pause.
        deps.logger?.warn({ err: e, env }, 'rewrap batch failed; retrying');
        await sleep(1000, undefined, signal ? { signal } : undefined).catch(() => undefined);
      } finally {
        await keys.releaseLease(leaseName(env), deps.holder).catch(() => undefined);
      }
      job = await jobs.getJob(env);
    }
    return true;
  }

  return {
    async start({ env, key: keyName, batchSize, rotate }) {
      const source = sourceFor(keyName);
      const size = batchSize ?? defaultBatch;
      if (!Number.isSafeInteger(size) || size < 1 || size > MAX_REWRAP_BATCH) throw invalidInput(`batch_size must be 1..${MAX_REWRAP_BATCH}`);
      const running = await jobs.getJob(env);
      if (running && running.state === 'running') {
        if (running.keyName !== keyName) throw conflict(`a rewrap job for ${running.keyName} is already running in this environment`);
        return { started: false, job: running };
      }
      let key = await keys.getKey(env, keyName);
      if (rotate && key) key = await deps.rotateKey({ env, name: keyName });
      const now = clock.now();
      const target = key?.latestVersion ?? 0;
      const total = key ? await source.count(env, target) : 0;
      const job: RewrapJobRecord = {
        env,
        keyName,
        state: key ? 'running' : 'done',
        targetVersion: target,
        batchSize: size,
        cursor: null,
        total,
        done: 0,
        failed: 0,
        error: null,
        startedAt: now,
        updatedAt: now,
        finishedAt: key ? null : now,
      };
      return jobs.startJob(job);
    },

    resume(env, signal) {
      const existing = inFlight.get(env);
      if (existing) return existing;
      const run = work(env, signal)
        .catch((e: unknown) => {
          deps.logger?.warn({ err: e, env }, 'rewrap batch failed; the job stays running and is retried');
          return false;
        })
        .finally(() => inFlight.delete(env));
      inFlight.set(env, run);
      return run;
    },

    async status(env) {
      return describeJob(await jobs.getJob(env));
    },
  };
}
