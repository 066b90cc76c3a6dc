/**
 * AuditTrail: the fail-closed AuditSink.
 *
 * `record(event)` HMACs the event's sensitive values in the HSM, queues the body and resolves only
 * after the batch holding it committed (BEGIN IMMEDIATE, synchronous=FULL, by the AuditWriter —
 * normally a worker thread, so the commit does not block the event loop): durable before the
 * pipeline acts.
 *
 * Adaptive group commit: when no batch is being committed, what is queued goes to the writer on
 * the next turn of the event loop (setImmediate: the records of one tick share a transaction; an
 * optional `groupCommitMs` > 0 waits that long instead); while a batch is being committed, new
 * records queue and all of them (up to `maxBatch`) form the next batch when the commit is
 * acknowledged. One batch is in flight at a time, so batches commit in order and the queue is the
 * only place records wait.
 *
 * If the HSM or the write fails, every waiter of that batch rejects with ERR_AUDIT_UNAVAILABLE
 * (retry after 1 s) and the pipeline answers 503 without performing the operation.
 *
 * After commit: devices receive the lines (waiters also wait for them when a device is marked
 * fail_closed), and the checkpointer is told the new head.
 */
import type { Logger } from 'pino';
import { KeywardError } from '../core/errors.js';
import type { AuditEvent, AuditSink } from '../core/ports/audit-sink.js';
import type { Checkpointer } from './checkpointer.js';
import type { DeviceRegistry } from './devices/device-registry.js';
import { sealedFromLinks, type BatchLinks } from './encoded-entry.js';
import { prepareEntry, type PreparedEntry, type UnsealedBody } from './entry-builder.js';
import type { AuditHasher } from './hasher.js';
import type { StoredAuditEntry } from './types.js';
import type { AuditWriter } from './writer/audit-writer.js';

export const auditUnavailable = (cause?: unknown): KeywardError =>
  new KeywardError('ERR_AUDIT_UNAVAILABLE', 'audit log unavailable', { retryAfterSeconds: 1, ...(cause !== undefined ? { cause } : {}) });

/** The audit operation of `DELETE sys/audit/:path` (routes/sys/audit-devices.ts). */
export const DEVICE_DISABLE_OPERATION = 'sys.audit.disable';

/** A caller that needs its own outcome: `append` (wants its entry) or a device-disable record. */
interface Waiter {
  readonly index: number;
  resolve(entry: StoredAuditEntry): void;
  reject(err: KeywardError): void;
}

/**
 * The records that will be committed together (at most maxBatch). Plain `record` callers share
 * one promise per group (created on first use, so a group with no such caller has none to leave
 * unhandled); callers whose outcome can differ from the group's (see commit) get a Waiter.
 */
class Group {
  readonly entries: UnsealedBody[] = [];
  readonly timeMs: number[] = [];
  readonly waiters: Waiter[] = [];
  private shared: Promise<void> | null = null;
  private settle: { resolve(): void; reject(e: KeywardError): void } | null = null;

  add(p: PreparedEntry): void {
    this.entries.push(p.body);
    this.timeMs.push(p.timeMs);
  }

  sharedPromise(): Promise<void> {
    this.shared ??= new Promise<void>((resolve, reject) => (this.settle = { resolve, reject }));
    return this.shared;
  }

  resolveShared(): void {
    this.settle?.resolve();
  }

  rejectShared(err: KeywardError): void {
    this.settle?.reject(err);
  }
}

export interface AuditTrailStats {
  readonly entries: number;
  readonly transactions: number;
  readonly failedBatches: number;
  readonly pending: number;
}

export interface AuditTrailOptions {
  readonly groupCommitMs?: number;
  readonly maxBatch?: number;
}

export class AuditTrail implements AuditSink {
  /** Groups waiting to be sent, oldest first; only the last one takes new records. */
  private queue: Group[] = [];
  private timer: NodeJS.Timeout | NodeJS.Immediate | null = null;
  /** The batch the writer is committing (at most one). */
  private committing: Promise<void> | null = null;
  private stopped = false;
  private entries = 0;
  private transactions = 0;
  private failedBatches = 0;
  private pendingCount = 0;
  private readonly groupCommitMs: number;
  private readonly maxBatch: number;
  private readonly inFlight = new Set<Promise<unknown>>();
  private readonly flushNow = (): void => void this.flush();

  constructor(
    private readonly writer: AuditWriter,
    private readonly hasher: AuditHasher,
    private readonly devices: DeviceRegistry,
    private readonly checkpointer: Checkpointer,
    private readonly logger: Logger,
    options: AuditTrailOptions = {},
  ) {
    this.groupCommitMs = Math.max(0, options.groupCommitMs ?? 0);
    this.maxBatch = Math.max(1, options.maxBatch ?? 1000);
  }

  record(event: AuditEvent): Promise<void> {
    if (this.stopped) return Promise.reject(auditUnavailable());
    let prepared: PreparedEntry | Promise<PreparedEntry>;
    try {
      prepared = prepareEntry(event, this.hasher);
    } catch (e) {
      return Promise.reject(this.prepareFailed(e));
    }
    if (prepared instanceof Promise || event.operation === DEVICE_DISABLE_OPERATION) return this.append(event, prepared).then(() => undefined);
    const group = this.enqueue(prepared);
    return group.sharedPromise();
  }

  /** Like record, but returns the stored entry (seq, hashes): for tests and the admin API. */
  async append(event: AuditEvent, already?: PreparedEntry | Promise<PreparedEntry>): Promise<StoredAuditEntry> {
    if (this.stopped) throw auditUnavailable();
    let prepared: PreparedEntry;
    try {
      prepared = await (already ?? prepareEntry(event, this.hasher));
    } catch (e) {
      throw this.prepareFailed(e);
    }
    if (this.stopped) throw auditUnavailable();
    return new Promise<StoredAuditEntry>((resolve, reject) => {
      const group = this.enqueue(prepared);
      group.waiters.push({ index: group.entries.length - 1, resolve, reject });
    });
  }

  private prepareFailed(e: unknown): KeywardError {
    // No HMAC, no entry: the HSM's failure closes the audit trail too.
    this.logger.error({ code: e instanceof KeywardError ? e.code : 'error' }, 'audit entry could not be prepared');
    return auditUnavailable(e);
  }

  private enqueue(p: PreparedEntry): Group {
    let group = this.queue[this.queue.length - 1];
    if (!group || group.entries.length >= this.maxBatch) {
      group = new Group();
      this.queue.push(group);
    }
    group.add(p);
    this.pendingCount++;
    this.schedule();
    return group;
  }

  /** Idle writer: flush on the next turn (or after the window); busy writer: the ack flushes. */
  private schedule(): void {
    if (this.timer || this.committing) return;
    this.timer = this.groupCommitMs === 0 ? setImmediate(this.flushNow) : setTimeout(this.flushNow, this.groupCommitMs);
  }

  private clearTimer(): void {
    if (!this.timer) return;
    clearTimeout(this.timer as NodeJS.Timeout);
    clearImmediate(this.timer as NodeJS.Immediate);
    this.timer = null;
  }

  /** Send what is queued now (after the batch in flight, if any); resolves when its waiters are settled. */
  async flush(): Promise<void> {
    this.clearTimer();
    if (this.committing) await this.committing.catch(() => undefined);
    this.clearTimer();
    if (this.queue.length === 0 || this.committing) return;
    const batch = this.queue.shift() as Group;
    this.pendingCount -= batch.entries.length;
    let written!: () => void;
    this.committing = new Promise<void>((resolve) => (written = resolve));
    const p = this.commit(batch, () => {
      this.committing = null;
      written();
      if (this.queue.length > 0) this.schedule();
    });
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
    return p;
  }

  private async commit(batch: Group, written: () => void): Promise<void> {
    let links: BatchLinks;
    try {
      links = await this.writer.appendBatch({ bodies: batch.entries, timeMs: batch.timeMs });
    } catch (e) {
      written();
      this.failedBatches++;
      this.logger.error({ code: e instanceof KeywardError ? e.code : 'error', entries: batch.entries.length }, 'audit write failed; failing closed');
      const err = auditUnavailable(e);
      batch.rejectShared(err);
      for (const w of batch.waiters) w.reject(err);
      return;
    }
    written();
    this.transactions++;
    this.entries += batch.entries.length;
    this.checkpointer.onCommitted(links.firstSeq + batch.entries.length - 1);
    // Stored entries are materialised only for whoever reads them (devices, append callers).
    let sealed: StoredAuditEntry[] | null = null;
    const sealedOf = (): StoredAuditEntry[] => (sealed ??= sealedFromLinks(batch.entries, links));
    const mustDeliver = this.devices.hasFailClosed;
    const delivery = this.devices.deliver(sealedOf).catch(() => false);
    if (mustDeliver) {
      const ok = await delivery;
      if (!ok) {
        // Disabling an audit device stays possible while a fail_closed device is down (else a broken
        // device could never be removed through the API): it is durable in the chain all the same.
        // (Device-disable records always have a Waiter.)
        const err = auditUnavailable();
        batch.rejectShared(err);
        for (const w of batch.waiters) {
          if (batch.entries[w.index]?.operation === DEVICE_DISABLE_OPERATION) w.resolve(sealedOf()[w.index] as StoredAuditEntry);
          else w.reject(err);
        }
        return;
      }
    }
    batch.resolveShared();
    if (batch.waiters.length > 0) {
      const all = sealedOf();
      for (const w of batch.waiters) w.resolve(all[w.index] as StoredAuditEntry);
    }
  }

  stats(): AuditTrailStats {
    return { entries: this.entries, transactions: this.transactions, failedBatches: this.failedBatches, pending: this.pendingCount };
  }

  /** Stop accepting records, commit what is queued and wait for it. */
  async stop(): Promise<void> {
    this.stopped = true;
    while (this.queue.length > 0 || this.committing) await this.flush();
    await Promise.all([...this.inFlight]);
  }
}
