/**
 * createAuditTrail: the audit module's composition, for main.ts.
 *
 *   const audit = createAuditTrail({ db, hsm, clock, logger });
 *   await audit.start();                    // ensures the HMAC + ES256 keys, loads devices, starts the checkpoint timer
 *   buildApp({ audit: audit.sink, routes: [...auditRoutes({ audit: audit.service }), ...] })
 *   await audit.stop();                     // commits what is queued, signs a final checkpoint, closes devices
 *
 * `sink.record` waits for start() (it is safe to call early), so no entry is written unkeyed.
 */
import type { Logger } from 'pino';
import type { SqliteConnection } from '../adapters/sqlite/database.js';
import { SqliteAuditStore } from '../adapters/sqlite/sqlite-audit-store.js';
import { systemClock, type Clock } from '../core/ports/clock.js';
import type { AuditEvent } from '../core/ports/audit-sink.js';
import type { Hsm } from '../core/ports/hsm.js';
import { AuditService } from './audit-service.js';
import type { AuditStore } from './audit-store.js';
import { AuditTrail, auditUnavailable, type AuditTrailStats } from './audit-trail.js';
import { Checkpointer } from './checkpointer.js';
import { DeviceRegistry, type DeviceStats } from './devices/device-registry.js';
import { AuditHasher } from './hasher.js';
import { InProcessAuditWriter, type AuditWriter } from './writer/audit-writer.js';
import { WorkerAuditWriter } from './writer/worker-audit-writer.js';
import type { AuditCheckpoint, StoredAuditEntry } from './types.js';

export interface CreateAuditTrailOptions {
  readonly db: SqliteConnection;
  readonly hsm: Hsm;
  readonly clock?: Clock;
  readonly logger: Logger;
  /** Sign a checkpoint every N entries (default 1000). */
  readonly checkpointEvery?: number;
  /** …and every T ms when new entries exist (default 60 000; 0 disables the timer). */
  readonly checkpointIntervalMs?: number;
  /**
   * Extra group-commit window when the writer is idle (default 0: adaptive — commit on the next
   * turn when idle, coalesce while a commit is in flight).
   */
  readonly groupCommitMs?: number;
  /**
   * Where batches are committed: 'worker' (default for a database file: a worker thread with its
   * own connection, off the event loop) or 'in-process' (the given connection; always used for
   * ':memory:', which another connection cannot open).
   */
  readonly writer?: 'worker' | 'in-process';
  /** busy_timeout of the writer thread's connection (default: the given connection's). */
  readonly writerBusyTimeoutMs?: number;
  readonly maxBatch?: number;
  /** How often a process re-reads the device table (default 1000 ms). */
  readonly deviceRefreshMs?: number;
}

/** The sink as the pipeline sees it, plus test/ops helpers. */
export interface AuditSinkHandle {
  record(event: AuditEvent): Promise<void>;
  append(event: AuditEvent): Promise<StoredAuditEntry>;
  stats(): AuditTrailStats & { readonly checkpoints: number; readonly storeTransactions: number; readonly devices: Record<string, DeviceStats> };
}

export interface AuditModule {
  readonly sink: AuditSinkHandle;
  readonly service: AuditService;
  readonly devices: DeviceRegistry;
  readonly store: AuditStore;
  /** The trail's HMAC hasher, for callers that must match values as the trail stores them. */
  readonly hasher: AuditHasher;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createAuditTrail(options: CreateAuditTrailOptions): AuditModule {
  const clock = options.clock ?? systemClock;
  const store = new SqliteAuditStore(options.db);
  const hasher = new AuditHasher(options.hsm);
  const devices = new DeviceRegistry(store, options.logger, options.deviceRefreshMs ?? 1000);
  const writer: AuditWriter =
    options.writer === 'in-process' || options.db.memory
      ? new InProcessAuditWriter(store)
      : new WorkerAuditWriter({ file: options.db.name, busyTimeoutMs: options.writerBusyTimeoutMs ?? Number(options.db.pragma('busy_timeout', { simple: true })) }, options.logger);
  const checkpointStore = { head: () => store.head(), lastCheckpoint: () => store.lastCheckpoint(), insertCheckpoint: (cp: AuditCheckpoint) => writer.insertCheckpoint(cp) };
  const checkpointer = new Checkpointer(checkpointStore, options.hsm, clock, options.logger, options.checkpointEvery ?? 1000, options.checkpointIntervalMs ?? 60_000);
  const trail = new AuditTrail(writer, hasher, devices, checkpointer, options.logger, {
    ...(options.groupCommitMs !== undefined ? { groupCommitMs: options.groupCommitMs } : {}),
    ...(options.maxBatch !== undefined ? { maxBatch: options.maxBatch } : {}),
  });
  const service = new AuditService(store, devices, hasher, checkpointer, clock);

  let started: Promise<void> | null = null;
  /** Set once start() succeeded: from then on a record goes straight to the trail (no extra await). */
  let isStarted = false;
  const start = (): Promise<void> => {
    started ??= (async () => {
      await hasher.ensureKey();
      await checkpointer.start();
      await devices.refresh();
      isStarted = true;
    })();
    return started;
  };
  const ready = async (): Promise<void> => {
    try {
      await start();
    } catch (e) {
      started = null; // let a later call retry once the HSM is back
      throw auditUnavailable(e);
    }
  };

  const sink: AuditSinkHandle = {
    record: (event) => (isStarted ? trail.record(event) : ready().then(() => trail.record(event))),
    append: async (event) => {
      await ready();
      return trail.append(event);
    },
    stats: () => ({ ...trail.stats(), checkpoints: checkpointer.count, storeTransactions: writer.transactions, devices: devices.deviceStats() }),
  };

  return {
    sink,
    service,
    devices,
    store,
    hasher,
    start,
    stop: async () => {
      await trail.stop();
      if (started) {
        await checkpointer.checkpointHead().catch(() => undefined);
        await checkpointer.stop();
      }
      // Last: the final checkpoint is written by the writer thread too.
      await writer.close();
      await devices.close();
    },
  };
}

export { AuditTrail } from './audit-trail.js';
export { AuditService } from './audit-service.js';
export { verifyChain, type VerifyResult, type VerifyProblem } from './verify.js';
export * from './types.js';
