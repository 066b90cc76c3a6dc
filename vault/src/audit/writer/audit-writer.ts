/**
 * AuditWriter: where the audit trail's batches are made durable. Two implementations:
 * - `WorkerAuditWriter` (worker-audit-writer.ts): a worker thread with its own SQLite connection to
 *   the same file, so BEGIN IMMEDIATE … COMMIT (WAL fsync) never blocks the event loop;
 * - `InProcessAuditWriter`: the store's connection on the calling thread (in-memory databases,
 *   which a second connection cannot share).
 *
 * Invariant (both): `append` resolves only after the batch committed with synchronous=FULL, with
 * the seqs and hashes assigned from the head read inside that transaction; it rejects if the
 * batch may not have committed.
 */
import type { SqliteAuditStore } from '../../adapters/sqlite/sqlite-audit-store.js';
import { bodyBatch, encodeBatch, sealedFromLinks, type BatchLinks, type BodyBatch } from '../encoded-entry.js';
import type { UnsealedBody } from '../entry-builder.js';
import type { AuditCheckpoint, StoredAuditEntry } from '../types.js';

export interface AuditWriter {
  /** Bodies from anywhere → sealed entries (the trail uses appendBatch). */
  append(bodies: readonly UnsealedBody[]): Promise<StoredAuditEntry[]>;
  /** The hot path: a batch (encoded-entry.ts) → the links assigned; encoding happens in the writer. */
  appendBatch(batch: BodyBatch): Promise<BatchLinks>;
  /** Idempotent per seq, like AuditStore.insertCheckpoint (a write: it belongs with the writer). */
  insertCheckpoint(cp: AuditCheckpoint): Promise<void>;
  /** Write transactions committed by this writer. */
  readonly transactions: number;
  close(): Promise<void>;
}

export class InProcessAuditWriter implements AuditWriter {
  constructor(private readonly store: SqliteAuditStore) {}

  append(bodies: readonly UnsealedBody[]): Promise<StoredAuditEntry[]> {
    return appendBodiesVia(this, bodies);
  }

  appendBatch(batch: BodyBatch): Promise<BatchLinks> {
    return this.store.appendRows(encodeBatch(batch));
  }

  insertCheckpoint(cp: AuditCheckpoint): Promise<void> {
    return this.store.insertCheckpoint(cp);
  }

  get transactions(): number {
    return this.store.transactions;
  }

  async close(): Promise<void> {
    // the connection belongs to the caller
  }
}

/** Bodies through a writer's row path (shared by both implementations). */
export async function appendBodiesVia(writer: Pick<AuditWriter, 'appendBatch'>, bodies: readonly UnsealedBody[]): Promise<StoredAuditEntry[]> {
  return sealedFromLinks(bodies, await writer.appendBatch(bodyBatch(bodies)));
}

/** Worker protocol (structured clone over the worker's port). */
export interface WriterInit {
  readonly file: string;
  readonly busyTimeoutMs: number;
}
export type ToWriter =
  | { readonly kind: 'append'; readonly id: number; readonly batch: BodyBatch }
  | { readonly kind: 'checkpoint'; readonly id: number; readonly cp: AuditCheckpoint }
  | { readonly kind: 'close' };
/** links: null for a checkpoint. */
export type FromWriter =
  | { readonly kind: 'ack'; readonly id: number; readonly links: BatchLinks | null }
  | { readonly kind: 'fail'; readonly id: number; readonly sqliteCode: string | null }
  | { readonly kind: 'closed' };
