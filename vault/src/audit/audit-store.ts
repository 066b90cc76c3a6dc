/**
 * The storage port of the audit trail. The SQLite adapter implements it today; a PostgreSQL one
 * must keep the same rule: `appendBatch` reads the chain head and inserts the batch in ONE write
 * transaction, so several processes sharing the database extend one chain without forks.
 */
import type { AuditCheckpoint, ChainAnchor, StoredAuditEntry } from './types.js';

export interface ChainHead {
  readonly seq: number;
  readonly hash: string;
}

/** Pure: given the head read inside the transaction, number and chain the batch. */
export type ChainSealer = (head: ChainHead | null) => StoredAuditEntry[];

export interface AuditQuery {
  readonly fromMs?: number;
  readonly toMs?: number;
  readonly subject?: string;
  /** Exact path, or a prefix when it ends with '*'. */
  readonly path?: string;
  readonly operation?: string;
  readonly outcome?: string;
  readonly afterSeq?: number;
  readonly beforeSeq?: number;
  readonly limit: number;
  /** Default newest first. */
  readonly ascending?: boolean;
}

export interface EntryPage {
  readonly entries: StoredAuditEntry[];
  readonly lastRowSeq: number | null;
}

export interface DeviceConfig {
  readonly path: string;
  readonly type: string;
  readonly description: string;
  readonly options: Readonly<Record<string, string>>;
  readonly local: boolean;
}

export interface AuditStore {
  appendBatch(seal: ChainSealer): Promise<StoredAuditEntry[]>;
  head(): Promise<ChainHead | null>;
  anchor(): Promise<ChainAnchor | null>;
  /** Entries by storage position (seq column) in [fromSeq, toSeq]; `lastRowSeq` continues paging. */
  readEntries(fromSeq: number, toSeq: number, limit: number): Promise<EntryPage>;
  query(q: AuditQuery): Promise<StoredAuditEntry[]>;
  lastCheckpoint(): Promise<AuditCheckpoint | null>;
  /** Idempotent per seq (another process may have signed the same head). */
  insertCheckpoint(cp: AuditCheckpoint): Promise<void>;
  listCheckpoints(fromSeq: number, toSeq: number): Promise<AuditCheckpoint[]>;
  /** Delete entries with seq <= anchor.seq and record the anchor, atomically. */
  archiveThrough(anchor: ChainAnchor): Promise<number>;
  listDevices(): Promise<DeviceConfig[]>;
  putDevice(device: DeviceConfig): Promise<void>;
  deleteDevice(path: string): Promise<boolean>;
  /** Write transactions committed by appendBatch in this process (group-commit measure). */
  readonly transactions: number;
}
