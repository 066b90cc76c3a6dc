/**
 * The audit writer thread: batches commit off the event loop with the chain continued from the
 * database head; a thread that cannot open the file or dies with a batch outstanding fails that
 * batch (fail closed), and the next batch runs on a fresh thread.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Worker } from 'node:worker_threads';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { closeDatabase, openDatabase, type SqliteConnection } from '../../vault/src/adapters/sqlite/database.js';
import type { UnsealedBody } from '../../vault/src/audit/entry-builder.js';
import { WorkerAuditWriter } from '../../vault/src/audit/writer/worker-audit-writer.js';

const logger = pino({ level: 'silent' });
const body = (i: number): UnsealedBody => ({ time: new Date(0).toISOString(), type: 'request', request_id: `r-${i}`, operation: 'op', path: 'p' });

describe('audit writer thread', () => {
  let dir: string;
  let file: string;
  let db: SqliteConnection;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyward-writer-'));
    file = path.join(dir, 'k.db');
    db = await openDatabase({ file });
  });
  afterEach(() => {
    closeDatabase(db);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('when the database file cannot be opened, then the batch rejects', async () => {
    const writer = new WorkerAuditWriter({ file: path.join(dir, 'missing.db'), busyTimeoutMs: 50 }, logger);
    await expect(writer.append([body(1)])).rejects.toMatchObject({ code: 'ERR_INTERNAL' });
    await writer.close();
  });

  it('when the thread dies with a batch outstanding, then that batch rejects and the next one commits on a new thread', async () => {
    const writer = new WorkerAuditWriter({ file, busyTimeoutMs: 1000 }, logger);
    const first = await writer.append([body(1), body(2)]);
    expect(first.map((e) => e.seq)).toEqual([1, 2]);
    // Visible to another connection once acknowledged: committed.
    expect(db.prepare('SELECT count(*) AS n FROM audit_entries').get()).toEqual({ n: 2 });

    const pending = writer.append([body(3)]);
    const thread = (writer as unknown as { worker: Worker }).worker;
    await thread.terminate();
    await expect(pending).rejects.toMatchObject({ code: 'ERR_INTERNAL' });

    const rows = (db.prepare('SELECT count(*) AS n FROM audit_entries').get() as { n: number }).n;
    const next = await writer.append([body(4)]);
    expect(next[0]?.seq).toBe(rows + 1);
    const stored = db.prepare('SELECT prev_hash FROM audit_entries WHERE seq = ?').get(rows + 1) as { prev_hash: string };
    const prev = db.prepare('SELECT entry_hash FROM audit_entries WHERE seq = ?').get(rows) as { entry_hash: string };
    expect(stored.prev_hash).toBe(prev.entry_hash);
    expect(writer.transactions).toBeGreaterThanOrEqual(2);
    await writer.close();
  });
});
