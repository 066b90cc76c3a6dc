/**
 * rotateRoot: rotate an environment's root KEK (POST sys/rotate) and run the re-wrap job that moves
 * every key-version blob from the old term to the new one. DESIGN.md §3: no data is touched; only the
 * wrapped key versions change.
 *
 * Steps, each safe to repeat after a crash at any point:
 *   1. generate term+1 in the HSM (find-or-generate), record it `active`, demote the old term to
 *      `retiring`, record the job (root_rotations row);
 *   2. in batches: list blobs still under the old term, `hsm.rewrapKey` each to the new term, store it
 *      with a compare-and-set on (version, old term) per batch (`replaceWrappedKeks`), drop the old cached
 *      handle, persist progress;
 *   3. when none remain: mark the old term `retired` (retired_at);
 *   4. once `retireGraceMs` has passed and still nothing is wrapped under it: destroy it in the HSM
 *      first, then mark it `destroyed` (store last, so a crash leaves a retry, never a lingering key).
 *
 * Invariants:
 * - Every key stays usable throughout: each version names its own root term and both terms are in
 *   the token until step 4; a blob is never replaced unless it is still under the old term.
 * - No version is duplicated or lost: re-wrap only UPDATEs existing rows, keyed by (env, name, version).
 * - One job per environment at a time, across processes: the `root-rotation:<env>` lease. A restart
 *   finds a `retiring` term (or two `active` ones, if it died inside step 1) and resumes.
 * - Starting a rotation while one is still re-wrapping is ERR_CONFLICT.
 */
import crypto from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { KeywardError, conflict } from '../../core/errors.js';
import { versionCacheId } from '../../core/keyring.js';
import type { AuditSink } from '../../core/ports/audit-sink.js';
import type { Clock } from '../../core/ports/clock.js';
import type { Hsm } from '../../core/ports/hsm.js';
import type { KeyStore, RootKeyRecord, RootRotationRecord } from '../../core/ports/key-store.js';
import type { Environment, KeyName, KeyVersion } from '../../core/types.js';

export interface RootRotationOptions {
  /** Blobs re-wrapped per batch (progress is persisted after each). Default 100. */
  readonly batchSize?: number;
  /** Pause after each batch (tests use it to kill the process mid-job). Default 0. */
  readonly batchDelayMs?: number;
  /** How long a retired root stays in the HSM before it is destroyed. Default 24 h. */
  readonly retireGraceMs?: number;
  /** Lease lifetime; renewed after every batch. Default 60 s. */
  readonly leaseTtlMs?: number;
}

export interface RootRotationDeps {
  readonly hsm: Pick<Hsm, 'ensureRootKey' | 'rewrapKey' | 'forgetKey' | 'destroyRootKey'>;
  readonly keys: KeyStore;
  readonly clock: Clock;
  readonly audit: AuditSink;
  /** Identifies this process as a lease holder. */
  readonly holder: string;
  readonly options?: RootRotationOptions;
}

export interface KeyStatus {
  readonly term: number;
  readonly installTime: Date;
  readonly rotation: RootRotationRecord | null;
  readonly rotationState: 'idle' | 'rewrapping' | 'retired' | 'completed';
  readonly terms: readonly RootKeyRecord[];
}

export interface RootRotation {
  /** Step 1; returns the job record. The caller runs `resume` (in the background) to do the rest. */
  start(env: Environment): Promise<RootRotationRecord>;
  /** Steps 2–4 for every unfinished term of `env`. Returns false if another holder has the lease. */
  resume(env: Environment, signal?: AbortSignal): Promise<boolean>;
  status(env: Environment): Promise<KeyStatus>;
}

const leaseName = (env: Environment): string => `root-rotation:${env}`;

/** Terms that still need work: retiring ones, retired-but-not-destroyed ones, and older duplicate actives. */
function unfinished(roots: readonly RootKeyRecord[]): { newest: RootKeyRecord | undefined; old: RootKeyRecord[] } {
  const actives = roots.filter((r) => r.state === 'active').sort((a, b) => a.term - b.term);
  const newest = actives[actives.length - 1];
  const old = roots.filter((r) => r.state === 'retiring' || r.state === 'retired' || (r.state === 'active' && r !== newest));
  return { newest, old: old.sort((a, b) => a.term - b.term) };
}

export function makeRootRotation(deps: RootRotationDeps): RootRotation {
  const o = deps.options ?? {};
  const batchSize = o.batchSize ?? 100;
  const batchDelayMs = o.batchDelayMs ?? 0;
  const graceMs = o.retireGraceMs ?? 24 * 3600_000;
  const leaseTtlMs = o.leaseTtlMs ?? 60_000;
  const { keys, hsm, clock } = deps;
  // One job per environment inside this process too (the lease keys on the holder, which is shared).
  const inFlight = new Map<Environment, Promise<boolean>>();

  const audit = (env: Environment, operation: string, details: Record<string, unknown>): Promise<void> =>
    deps.audit.record({
      type: 'lifecycle',
      time: new Date(),
      requestId: `lifecycle-${crypto.randomUUID()}`,
      env,
      operation,
      path: 'sys/rotate',
      identity: { subject: 'keyward-scheduler', authMethod: 'internal' },
      details,
    });

  const withLease = async <T>(env: Environment, fn: () => Promise<T>): Promise<T | undefined> => {
    if (!(await keys.acquireLease(leaseName(env), deps.holder, clock.now(), leaseTtlMs))) return undefined;
    try {
      return await fn();
    } finally {
      await keys.releaseLease(leaseName(env), deps.holder).catch(() => undefined);
    }
  };

  async function ensureJobRecord(env: Environment, from: number, to: number): Promise<RootRotationRecord> {
    const existing = await keys.getRootRotation(env);
    if (existing && existing.fromTerm === from) return existing;
    const record: RootRotationRecord = { env, fromTerm: from, toTerm: to, total: await keys.countVersionsWrappedUnder(env, from), done: 0, startedAt: clock.now(), finishedAt: null };
    await keys.putRootRotation(record);
    return record;
  }

  async function rewrapTerm(env: Environment, from: RootKeyRecord, to: number, signal?: AbortSignal): Promise<boolean> {
    let job = await ensureJobRecord(env, from.term, to);
    for (;;) {
      if (signal?.aborted) return false;
      const batch = await keys.listVersionsWrappedUnder(env, from.term, batchSize);
      if (batch.length === 0) break;
      let moved = 0;
      const rewrapped: Array<{ name: KeyName; version: KeyVersion; wrappedKek: Buffer }> = [];
      for (const b of batch) {
        const oldCacheId = versionCacheId(env, b.name, b.version, from.term);
        rewrapped.push({ name: b.name, version: b.version, wrappedKek: Buffer.from(await hsm.rewrapKey({ cacheId: oldCacheId, root: { env, term: from.term }, wrappedKek: b.wrappedKek }, { env, term: to })) });
      }
      // Compare-and-set of the whole batch in one transaction; a blob re-wrapped meanwhile by someone
      // else is simply not replaced (its CAS fails), never duplicated.
      const replaced = await keys.replaceWrappedKeks(env, from.term, to, rewrapped);
      for (const [i, ok] of replaced.entries()) {
        const item = rewrapped[i];
        if (!ok || !item) continue;
        moved++;
        await hsm.forgetKey(versionCacheId(env, item.name, item.version, from.term));
      }
      job = { ...job, done: job.done + moved };
      await keys.putRootRotation(job);
      if (!(await keys.acquireLease(leaseName(env), deps.holder, clock.now(), leaseTtlMs))) {
        throw new KeywardError('ERR_CONFLICT', 'root rotation lease lost to another process');
      }
      if (batchDelayMs > 0) await sleep(batchDelayMs);
    }
    if (from.state !== 'retired') {
      await keys.setRootState(env, from.term, 'retired', clock.now());
      await keys.putRootRotation({ ...job, finishedAt: clock.now() });
      await audit(env, 'lifecycle.root.retired', { from_term: from.term, to_term: to, rewrapped: job.done });
    }
    return true;
  }

  async function maybeDestroy(env: Environment, term: number): Promise<void> {
    const current = (await keys.listRoots(env)).find((r) => r.term === term);
    if (!current || current.state !== 'retired' || !current.retiredAt) return;
    if (current.retiredAt.getTime() + graceMs > clock.now().getTime()) return;
    if ((await keys.countVersionsWrappedUnder(env, term)) > 0) return; // a straggler: the next pass re-wraps it
    await audit(env, 'lifecycle.root.destroy', { term });
    await hsm.destroyRootKey({ env, term });
    await keys.setRootState(env, term, 'destroyed', clock.now());
  }

  async function resumeOnce(env: Environment, signal?: AbortSignal): Promise<boolean> {
      const ran = await withLease(env, async () => {
        const { newest, old } = unfinished(await keys.listRoots(env));
        if (!newest) return true;
        for (const r of old) {
          // Finish step 1 if a crash left two active terms.
          if (r.state === 'active') await keys.setRootState(env, r.term, 'retiring', clock.now());
          const from = r.state === 'active' ? { ...r, state: 'retiring' as const } : r;
          if (!(await rewrapTerm(env, from, newest.term, signal))) return true;
          await maybeDestroy(env, r.term);
        }
        return true;
      });
      return ran !== undefined;
    }

  return {
    async start(env) {
      const started = await withLease(env, async () => {
        const roots = await keys.listRoots(env);
        const { newest, old } = unfinished(roots);
        if (!newest) throw new KeywardError('ERR_SEALED', 'environment has no active root key');
        if (old.some((r) => r.state !== 'retired')) throw conflict('a root key rotation is already in progress');
        const to = Math.max(...roots.map((r) => r.term)) + 1;
        await audit(env, 'lifecycle.root.rotate', { from_term: newest.term, to_term: to });
        await hsm.ensureRootKey({ env, term: to });
        await keys.putRoot(env, to, 'active', clock.now());
        await keys.setRootState(env, newest.term, 'retiring', clock.now());
        return ensureJobRecord(env, newest.term, to);
      });
      if (!started) throw conflict('a root key rotation is already running');
      return started;
    },

    resume(env, signal) {
      const existing = inFlight.get(env);
      if (existing) return existing;
      const job = resumeOnce(env, signal).finally(() => inFlight.delete(env));
      inFlight.set(env, job);
      return job;
    },

    async status(env) {
      const terms = await keys.listRoots(env);
      const { newest, old } = unfinished(terms);
      if (!newest) throw new KeywardError('ERR_SEALED', 'environment has no active root key');
      const rotation = await keys.getRootRotation(env);
      const rotationState = old.some((r) => r.state !== 'retired') ? 'rewrapping' : old.length > 0 ? 'retired' : rotation ? 'completed' : 'idle';
      return { term: newest.term, installTime: newest.installedAt, rotation, rotationState, terms };
    },
  };
}
