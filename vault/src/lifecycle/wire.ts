/**
 * Composition of the key lifecycle for main.ts: use cases, the scheduler, the root-rotation job and
 * its boot-time resume, the route groups and the health extras. main.ts calls `wireLifecycle` once
 * and registers what it returns; nothing here reads the environment except `lifecycleOptionsFromEnv`,
 * which main.ts calls with `process.env`.
 */
import type { SqliteConnection } from '../adapters/sqlite/database.js';
import type { AuditSink } from '../core/ports/audit-sink.js';
import type { Clock } from '../core/ports/clock.js';
import type { Hsm } from '../core/ports/hsm.js';
import type { KeyStore } from '../core/ports/key-store.js';
import type { Environment } from '../core/types.js';
import type { RouteSpec } from '../http/route-spec.js';
import { rootRotationRoutes } from '../http/routes/sys/rotate.js';
import { storageRoutes } from '../http/routes/sys/storage.js';
import type { TransitRouteDeps } from '../http/routes/transit/index.js';
import { makeExpiringVersions, type UsedVersions } from '../usecases/lifecycle/key-maintenance.js';
import { makeDeleteKeyLifecycle, makeTransitionKey, makeTransitionVersion } from '../usecases/lifecycle/key-transitions.js';
import { makeRootRotation, type RootRotation } from '../usecases/lifecycle/rotate-root.js';
import { snapshotDatabase } from './backup.js';
import { DEFAULT_TICK_MS, LifecycleScheduler } from './scheduler.js';

export interface LifecycleOptions {
  /** Scheduler tick; default 60 s (±10 % jitter). 0 disables the scheduler. */
  readonly tickMs?: number;
  /** `expiry_warning`: how far ahead expiring versions are reported; default 7 days. */
  readonly expiryWarningMs?: number;
  /** `root_retire_grace`: how long a retired root stays in the HSM; default 24 h. */
  readonly rootRetireGraceMs?: number;
  readonly rotationBatchSize?: number;
  /** Tests only: pause between re-wrap batches. */
  readonly rotationBatchDelayMs?: number;
  /**
   * Root-rotation lease lifetime (renewed after every batch); default 15 s. After a crash the next
   * process resumes the job once the dead holder's lease has run out.
   */
  readonly rotationLeaseMs?: number;
}

export interface LifecycleWiring {
  readonly transitLifecycle: NonNullable<TransitRouteDeps['lifecycle']>;
  readonly routes: RouteSpec[];
  readonly healthExtras: () => Promise<Record<string, unknown>>;
  readonly rootRotation: RootRotation;
  readonly scheduler: LifecycleScheduler | null;
  /** Resume unfinished root rotations (boot) and start the scheduler. */
  start(): void;
  stop(): Promise<void>;
}

export interface LifecycleWireDeps {
  readonly hsm: Hsm;
  readonly keys: KeyStore;
  readonly clock: Clock;
  readonly audit: AuditSink;
  readonly db: SqliteConnection;
  readonly environments: readonly Environment[];
  readonly logger: { warn(obj: object, msg: string): void; info(obj: object, msg: string): void };
  readonly usedVersions?: UsedVersions;
  readonly options?: LifecycleOptions;
}

const DAY_MS = 86_400_000;

function num(raw: string | undefined): number | undefined {
  if (raw === undefined || !/^\d{1,12}$/.test(raw.trim())) return undefined;
  return Number(raw.trim());
}

/** Operator knobs from the environment (called by main.ts only). */
export function lifecycleOptionsFromEnv(env: NodeJS.ProcessEnv): LifecycleOptions {
  const o: { -readonly [K in keyof LifecycleOptions]: LifecycleOptions[K] } = {};
  const tick = num(env['KEYWARD_LIFECYCLE_TICK_SECONDS']);
  if (tick !== undefined) o.tickMs = tick * 1000;
  const warn = num(env['KEYWARD_EXPIRY_WARNING_SECONDS']);
  if (warn !== undefined) o.expiryWarningMs = warn * 1000;
  const grace = num(env['KEYWARD_ROOT_RETIRE_GRACE_SECONDS']);
  if (grace !== undefined) o.rootRetireGraceMs = grace * 1000;
  const batch = num(env['KEYWARD_ROTATION_BATCH_SIZE']);
  if (batch !== undefined && batch > 0) o.rotationBatchSize = batch;
  const lease = num(env['KEYWARD_ROTATION_LEASE_SECONDS']);
  if (lease !== undefined && lease > 0) o.rotationLeaseMs = lease * 1000;
  const delay = num(env['KEYWARD_TEST_ROTATION_BATCH_DELAY_MS']);
  if (delay !== undefined) o.rotationBatchDelayMs = delay;
  return o;
}

export function wireLifecycle(deps: LifecycleWireDeps): LifecycleWiring {
  const o = deps.options ?? {};
  const { hsm, keys, clock, audit, logger } = deps;
  const tickMs = o.tickMs ?? DEFAULT_TICK_MS;
  const expiryWarningMs = o.expiryWarningMs ?? 7 * DAY_MS;
  const holder = `keyward-${process.pid}-${Math.random().toString(16).slice(2, 10)}`;

  const rootRotation = makeRootRotation({
    hsm,
    keys,
    clock,
    audit,
    holder,
    options: {
      ...(o.rotationBatchSize !== undefined ? { batchSize: o.rotationBatchSize } : {}),
      ...(o.rotationBatchDelayMs !== undefined ? { batchDelayMs: o.rotationBatchDelayMs } : {}),
      retireGraceMs: o.rootRetireGraceMs ?? 24 * 3600_000,
      leaseTtlMs: o.rotationLeaseMs ?? 15_000,
    },
  });

  const abort = new AbortController();
  const jobs = new Set<Promise<unknown>>();
  const runInBackground = (env: Environment): void => {
    const job = rootRotation
      .resume(env, abort.signal)
      .catch((e: unknown) => logger.warn({ err: e, env }, 'root rotation job failed; the scheduler will resume it'))
      .finally(() => jobs.delete(job));
    jobs.add(job);
  };

  const transitionKey = makeTransitionKey({ hsm, keys, clock });
  const transitLifecycle = {
    transitionKey,
    transitionVersion: makeTransitionVersion({ hsm, keys, clock }),
    deleteKey: makeDeleteKeyLifecycle(transitionKey, { keys }),
  };

  const expiringVersions = makeExpiringVersions({ keys, environments: deps.environments });
  // Health is unauthenticated: it reports counts only, never key names.
  const healthExtras = async (): Promise<Record<string, unknown>> => {
    try {
      const list = await expiringVersions(clock.now(), expiryWarningMs);
      return { key_lifecycle: { expiry_warning_seconds: Math.round(expiryWarningMs / 1000), expiring_versions: list.filter((v) => !v.expired).length, expired_latest_versions: list.filter((v) => v.expired).length } };
    } catch {
      return { key_lifecycle: { error: 'unavailable' } };
    }
  };

  const scheduler =
    tickMs > 0
      ? new LifecycleScheduler(
          {
            keys,
            clock,
            environments: deps.environments,
            rootRotation,
            logger,
            maintenance: { hsm, audit, expiryLeadMs: 2 * tickMs, ...(deps.usedVersions ? { usedVersions: deps.usedVersions } : {}) },
          },
          { intervalMs: tickMs, holder },
        )
      : null;

  return {
    transitLifecycle,
    routes: [...rootRotationRoutes({ rootRotation, runInBackground }), ...storageRoutes({ snapshot: () => snapshotDatabase(deps.db, clock.now()) })],
    healthExtras,
    rootRotation,
    scheduler,
    start() {
      for (const env of deps.environments) runInBackground(env);
      scheduler?.start();
    },
    async stop() {
      abort.abort();
      await scheduler?.stop();
      await Promise.allSettled([...jobs]);
    },
  };
}
