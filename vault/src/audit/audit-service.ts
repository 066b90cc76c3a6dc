/**
 * The audit trail's administrative operations, as the HTTP routes and `main` use them: device
 * management (Vault's sys/audit), sys/audit-hash, search, live verification, export and archive.
 *
 * Invariants:
 * - archive writes and fsyncs the export file BEFORE deleting rows, refuses to archive a segment
 *   that does not verify (evidence is never moved out of sight silently), signs a checkpoint at the
 *   archive's last entry so the file is self-protecting, and leaves an anchor so the remaining
 *   chain still verifies.
 */
import type { Clock } from '../core/ports/clock.js';
import { KeywardError, conflict, invalidInput } from '../core/errors.js';
import type { AuditQuery, AuditStore, DeviceConfig } from './audit-store.js';
import type { AuditPublicKey, Checkpointer } from './checkpointer.js';
import type { DeviceRegistry, VaultDeviceList } from './devices/device-registry.js';
import { normaliseDevicePath } from './devices/device-registry.js';
import { writeExportFile, type AuditExport } from './export-format.js';
import type { AuditHasher } from './hasher.js';
import type { AuditCheckpoint, StoredAuditEntry } from './types.js';
import { verifyChain, type VerifyResult } from './verify.js';

const PAGE = 5000;
export const MAX_QUERY_LIMIT = 1000;

export interface ExportPage {
  readonly anchor: { seq: number; entry_hash: string } | null;
  readonly entries: StoredAuditEntry[];
  readonly checkpoints: AuditCheckpoint[];
  /** Pass as from_seq to continue; null when the page reached the head. */
  readonly next_seq: number | null;
}

export class AuditService {
  constructor(
    private readonly store: AuditStore,
    private readonly devices: DeviceRegistry,
    private readonly hasher: AuditHasher,
    private readonly checkpointer: Checkpointer,
    private readonly clock: Clock,
  ) {}

  listDevices(): Promise<VaultDeviceList> {
    return this.devices.list();
  }

  async enableDevice(rawPath: string, input: { type: string; description?: string; options?: Record<string, string>; local?: boolean }): Promise<void> {
    const config: DeviceConfig = { path: normaliseDevicePath(rawPath), type: input.type, description: input.description ?? '', options: { ...(input.options ?? {}) }, local: input.local ?? false };
    await this.devices.enable(config);
  }

  async disableDevice(rawPath: string): Promise<void> {
    await this.devices.disable(normaliseDevicePath(rawPath));
  }

  /** Vault's sys/audit-hash: the HMAC an entry would carry for `input`, for an enabled device path. */
  async auditHash(rawPath: string, input: string): Promise<string> {
    const path = normaliseDevicePath(rawPath);
    if (!(await this.devices.has(path))) throw invalidInput(`unknown audit device ${path}`);
    return this.hasher.hash(input);
  }

  query(q: Omit<AuditQuery, 'limit'> & { limit?: number }): Promise<StoredAuditEntry[]> {
    const limit = q.limit ?? 100;
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_QUERY_LIMIT) throw invalidInput(`limit must be 1..${MAX_QUERY_LIMIT}`);
    return this.store.query({ ...q, limit });
  }

  publicKey(): AuditPublicKey {
    return this.checkpointer.publicKey();
  }

  private async readRange(fromSeq: number, toSeq: number): Promise<StoredAuditEntry[]> {
    const out: StoredAuditEntry[] = [];
    let from = fromSeq;
    for (;;) {
      const page = await this.store.readEntries(from, toSeq, PAGE);
      out.push(...page.entries);
      if (page.entries.length < PAGE || page.lastRowSeq === null) return out;
      from = page.lastRowSeq + 1;
    }
  }

  /** Verify the whole live chain (entries since the anchor, every checkpoint since it). */
  async verify(): Promise<VerifyResult> {
    const anchor = await this.store.anchor();
    const fromSeq = anchor ? anchor.seq + 1 : 0;
    const entries = await this.readRange(fromSeq, Number.MAX_SAFE_INTEGER);
    const checkpoints = await this.store.listCheckpoints(anchor ? anchor.seq : 0, Number.MAX_SAFE_INTEGER);
    return verifyChain({ entries, checkpoints, publicKey: this.publicKey(), anchor });
  }

  /** One page of the chain in order, with the checkpoints inside the page (for `keyward audit export`). */
  async exportPage(fromSeq: number, limit: number): Promise<ExportPage> {
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_QUERY_LIMIT) throw invalidInput(`limit must be 1..${MAX_QUERY_LIMIT}`);
    const anchor = await this.store.anchor();
    const start = Math.max(fromSeq, anchor ? anchor.seq + 1 : 0);
    const page = await this.store.readEntries(start, Number.MAX_SAFE_INTEGER, limit);
    const entries = page.entries;
    const last = entries[entries.length - 1];
    const checkpoints = last ? await this.store.listCheckpoints(start, page.lastRowSeq ?? last.seq) : [];
    const head = await this.store.head();
    const more = page.lastRowSeq !== null && head !== null && page.lastRowSeq < head.seq;
    return { anchor: anchor && fromSeq <= anchor.seq + 1 ? anchor : null, entries, checkpoints, next_seq: more && page.lastRowSeq !== null ? page.lastRowSeq + 1 : null };
  }

  /** Sign the head now (e.g. before an export), returning the checkpoint or null if nothing is new. */
  checkpointNow(): Promise<AuditCheckpoint | null> {
    return this.checkpointer.checkpointHead();
  }

  /**
   * Move entries with seq < beforeSeq to `file` (JSON lines) and delete them from the database,
   * keeping an anchor. Returns how many entries were archived.
   */
  async archive(beforeSeq: number, file: string): Promise<{ archived: number; anchor: { seq: number; entry_hash: string } | null }> {
    const anchor = await this.store.anchor();
    const head = await this.store.head();
    if (!head) return { archived: 0, anchor };
    const from = anchor ? anchor.seq + 1 : 1;
    const to = Math.min(beforeSeq - 1, head.seq);
    if (to < from) return { archived: 0, anchor };
    const entries = await this.readRange(from, to);
    const last = entries[entries.length - 1];
    if (!last) return { archived: 0, anchor };
    let checkpoints = await this.store.listCheckpoints(from, to);
    const check = verifyChain({ entries, checkpoints, publicKey: this.publicKey(), anchor });
    if (!check.ok) throw conflict(`audit chain does not verify (${check.problem} at seq ${check.firstBadSeq}); not archiving`);
    if (!checkpoints.some((c) => c.seq === last.seq)) {
      await this.checkpointer.sign(last.seq, last.entry_hash);
      checkpoints = await this.store.listCheckpoints(from, to);
    }
    const x: AuditExport = { anchor, publicKey: this.publicKey(), entries, checkpoints };
    try {
      writeExportFile(file, x, this.clock.now());
    } catch (e) {
      throw new KeywardError('ERR_CONFLICT', 'cannot write the archive file (it must not exist yet)', { cause: e });
    }
    const newAnchor = { seq: last.seq, entry_hash: last.entry_hash };
    const archived = await this.store.archiveThrough(newAnchor);
    return { archived, anchor: newAnchor };
  }
}
