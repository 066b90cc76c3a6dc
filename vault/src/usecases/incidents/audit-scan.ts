/**
 * Reading the audit trail for a playbook: page through entries (oldest first) matching a store-side
 * query and a local filter, up to a cap, and shape them into timeline rows for the report. Audit
 * entries hold no secrets (accessors are HMAC-ed), so rows can go into the report as they are.
 */
import type { AuditQuery } from '../../audit/audit-store.js';
import type { StoredAuditEntry } from '../../audit/types.js';
import type { AuditSearch } from './ports.js';

export const MAX_SCANNED_ENTRIES = 50_000;
const PAGE = 1000;

export async function scanAudit(
  audit: AuditSearch,
  q: Omit<AuditQuery, 'limit' | 'ascending' | 'afterSeq'>,
  keep: (e: StoredAuditEntry) => boolean,
  max = MAX_SCANNED_ENTRIES,
): Promise<{ entries: StoredAuditEntry[]; truncated: boolean }> {
  const out: StoredAuditEntry[] = [];
  let afterSeq: number | undefined;
  let scanned = 0;
  for (;;) {
    const page = await audit.query({ ...q, ascending: true, limit: PAGE, ...(afterSeq !== undefined ? { afterSeq } : {}) });
    for (const e of page) if (keep(e)) out.push(e);
    scanned += page.length;
    const last = page[page.length - 1];
    if (page.length < PAGE || !last) return { entries: out, truncated: false };
    if (scanned >= max) return { entries: out, truncated: true };
    afterSeq = last.seq;
  }
}

export interface TimelineRow {
  readonly seq: number;
  readonly time: string;
  readonly type: string;
  readonly operation: string;
  readonly path: string;
  readonly subject: string | null;
  readonly accessor: string | null;
  readonly key_name: string | null;
  readonly key_version: number | null;
  readonly outcome: string | null;
  readonly status: number | null;
}

export function timelineRow(e: StoredAuditEntry): TimelineRow {
  const b = e.entry;
  return {
    seq: e.seq,
    time: b.time,
    type: b.type,
    operation: b.operation,
    path: b.path,
    subject: b.identity?.subject ?? null,
    accessor: b.identity?.accessor ?? null,
    key_name: b.key_name ?? null,
    key_version: b.key_version ?? null,
    outcome: b.outcome ?? null,
    status: b.status ?? null,
  };
}

/** The newest `n` rows (a report shows the most recent activity when there is a lot). */
export function newest<T>(rows: readonly T[], n: number): T[] {
  return rows.length <= n ? [...rows] : rows.slice(rows.length - n);
}
