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
import { buildBody, type UnsealedBody } from './entry-builder.js';
import type { AuditHasher } from './hasher.js';
import type { StoredAuditEntry } from './types.js';
import type { AuditWriter } from './writer/audit-writer.js';

export const auditUnavailable = (cause?: unknown): KeywardError =>
  new KeywardError('ERR_AUDIT_UNAVAILABLE', 'audit log unavailable', { retryAfterSeconds: 1, ...(cause !== undefined ? { cause } : {}) });

/** The audit operation of `DELETE sys/audit/:path` (routes/sys/audit-devices.ts). */
export const DEVICE_DISABLE_OPERATION = 'sys.audit.disable';

interface Waiter {
  readonly body: UnsealedBody;
  resolve(entry: StoredAuditEntry): void;
  reject(err: KeywardError): void;
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
  private pending: Waiter[] = [];
  private timer: NodeJS.Timeout | NodeJS.Immediate | null = null;
  /** The batch the writer is committing (at most one). */
  private committing: Promise<void> | null = null;
  private stopped = false;
  private entries = 0;
  private transactions = 0;
  private failedBatches = 0;
  private readonly groupCommitMs: number;
  private readonly maxBatch: number;
  private readonly inFlight = new Set<Promise<unknown>>();

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

  async record(event: AuditEvent): Promise<void> {
    await this.append(event);
  }

  /** Like record, but returns the stored entry (seq, hashes): for tests and the admin API. */
  async append(event: AuditEvent): Promise<StoredAuditEntry> {
    if (this.stopped) throw auditUnavailable();
    let body: UnsealedBody;
    try {
      body = await buildBody(event, this.hasher);
    } catch (e) {
      // No HMAC, no entry: the HSM's failure closes the audit trail too.
      this.logger.error({ code: e instanceof KeywardError ? e.code : 'error' }, 'audit entry could not be prepared');
      throw auditUnavailable(e);
    }
    if (this.stopped) throw auditUnavailable();
    return new Promise<StoredAuditEntry>((resolve, reject) => {
      this.pending.push({ body, resolve, reject });
      this.schedule();
    });
  }

  /** Idle writer: flush on the next turn (or after the window); busy writer: the ack flushes. */
  private schedule(): void {
    if (this.timer || this.committing) return;
    this.timer = this.groupCommitMs === 0 ? setImmediate(() => void this.flush()) : setTimeout(() => void this.flush(), this.groupCommitMs);
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
    if (this.pending.length === 0 || this.committing) return;
    const batch = this.pending.splice(0, this.maxBatch);
    let written!: () => void;
    this.committing = new Promise<void>((resolve) => (written = resolve));
    const p = this.commit(batch, () => {
      this.committing = null;
      written();
      if (this.pending.length > 0) this.schedule();
    });
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p));
    return p;
  }

  private async commit(batch: Waiter[], written: () => void): Promise<void> {
    let sealed: StoredAuditEntry[];
    try {
      sealed = await this.writer.append(batch.map((w) => w.body));
    } catch (e) {
      written();
      this.failedBatches++;
      this.logger.error({ code: e instanceof KeywardError ? e.code : 'error', entries: batch.length }, 'audit write failed; failing closed');
      const err = auditUnavailable(e);
      for (const w of batch) w.reject(err);
      return;
    }
    written();
    this.transactions++;
    this.entries += sealed.length;
    const last = sealed[sealed.length - 1];
    if (last) this.checkpointer.onCommitted(last.seq);
    const mustDeliver = this.devices.hasFailClosed;
    const delivery = this.devices.deliver(sealed).catch(() => false);
    if (mustDeliver) {
      const ok = await delivery;
      if (!ok) {
        // Disabling an audit device stays possible while a fail_closed device is down (else a broken
        // device could never be removed through the API): it is durable in the chain all the same.
        const err = auditUnavailable();
        sealed.forEach((s, i) => (batch[i]?.body.operation === DEVICE_DISABLE_OPERATION ? batch[i]?.resolve(s) : batch[i]?.reject(err)));
        return;
      }
    }
    sealed.forEach((s, i) => batch[i]?.resolve(s));
  }

  stats(): AuditTrailStats {
    return { entries: this.entries, transactions: this.transactions, failedBatches: this.failedBatches, pending: this.pending.length };
  }

  /** Stop accepting records, commit what is queued and wait for it. */
  async stop(): Promise<void> {
    this.stopped = true;
    while (this.pending.length > 0 || this.committing) await this.flush();
    await Promise.all([...this.inFlight]);
  }
}
