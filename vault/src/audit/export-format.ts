/**
 * The audit export file (JSON lines), written by `archive` and `keyward audit export`, read by
 * `keyward audit verify --export`:
 *   {"kind":"keyward-audit-export","version":1,"anchor":{seq,entry_hash}|null,"public_key":{…},"exported_at":…}
 *   {"kind":"entry","seq":N,"prev_hash":…,"entry_hash":…,"entry":{…}}      (in chain order)
 *   {"kind":"checkpoint","seq":N,"entry_hash":…,"time":…,"key_id":…,"signature":…}
 * The anchor says where the file's chain starts (null = genesis). Several files in order verify as
 * one chain: the first file's anchor applies, checkpoints are merged. The embedded public key is a
 * convenience: a verifier should prefer a key obtained out of band (`--public-key`).
 */
import fs from 'node:fs';
import type { PublicJwk } from '../core/ports/hsm.js';
import type { AuditCheckpoint, ChainAnchor, StoredAuditEntry } from './types.js';

export const EXPORT_KIND = 'keyward-audit-export';

export interface AuditExport {
  readonly anchor: ChainAnchor | null;
  readonly publicKey: PublicJwk | null;
  readonly entries: StoredAuditEntry[];
  readonly checkpoints: AuditCheckpoint[];
}

export function exportLines(x: AuditExport, exportedAt: Date): string[] {
  return [
    JSON.stringify({ kind: EXPORT_KIND, version: 1, anchor: x.anchor, public_key: x.publicKey, exported_at: exportedAt.toISOString() }),
    ...x.entries.map((e) => JSON.stringify({ kind: 'entry', seq: e.seq, prev_hash: e.prev_hash, entry_hash: e.entry_hash, entry: e.entry })),
    ...x.checkpoints.map((c) => JSON.stringify({ kind: 'checkpoint', seq: c.seq, entry_hash: c.entry_hash, time: c.time, key_id: c.key_id, signature: c.signature })),
  ];
}

/** Write durably (fsync) with mode 0600; the caller deletes archived rows only after this returns. */
export function writeExportFile(file: string, x: AuditExport, exportedAt: Date): void {
  const fd = fs.openSync(file, 'wx', 0o600);
  try {
    fs.writeSync(fd, `${exportLines(x, exportedAt).join('\n')}\n`);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

export function parseExport(text: string): AuditExport {
  let anchor: ChainAnchor | null = null;
  let publicKey: PublicJwk | null = null;
  const entries: StoredAuditEntry[] = [];
  const checkpoints: AuditCheckpoint[] = [];
  let sawHeader = false;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]?.trim();
    if (!line) continue;
    let obj: Record<string, unknown>;
    try {
      obj = JSON.parse(line) as Record<string, unknown>;
    } catch {
      throw new Error(`line ${i + 1}: not JSON`);
    }
    if (obj['kind'] === EXPORT_KIND) {
      if (sawHeader) throw new Error(`line ${i + 1}: second header`);
      sawHeader = true;
      anchor = (obj['anchor'] as ChainAnchor | null) ?? null;
      publicKey = (obj['public_key'] as PublicJwk | null) ?? null;
    } else if (obj['kind'] === 'entry') {
      entries.push({ seq: obj['seq'] as number, prev_hash: obj['prev_hash'] as string, entry_hash: obj['entry_hash'] as string, entry: obj['entry'] as StoredAuditEntry['entry'] });
    } else if (obj['kind'] === 'checkpoint') {
      checkpoints.push({ seq: obj['seq'] as number, entry_hash: obj['entry_hash'] as string, time: obj['time'] as string, key_id: obj['key_id'] as string, signature: obj['signature'] as string });
    } else {
      throw new Error(`line ${i + 1}: unknown record kind`);
    }
  }
  if (!sawHeader) throw new Error('missing export header');
  return { anchor, publicKey, entries, checkpoints };
}

/** Several exports in chain order → one: first anchor, concatenated entries, merged checkpoints. */
export function mergeExports(parts: readonly AuditExport[]): AuditExport {
  const byCp = new Map<string, AuditCheckpoint>();
  for (const p of parts) for (const c of p.checkpoints) byCp.set(`${c.seq}:${c.signature}`, c);
  return {
    anchor: parts[0]?.anchor ?? null,
    publicKey: parts.find((p) => p.publicKey)?.publicKey ?? null,
    entries: parts.flatMap((p) => p.entries),
    checkpoints: [...byCp.values()].sort((a, b) => a.seq - b.seq),
  };
}
