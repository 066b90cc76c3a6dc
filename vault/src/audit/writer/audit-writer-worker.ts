/**
 * The audit writer thread (see worker-audit-writer.ts): its own better-sqlite3 connection to the
 * data dir's file (WAL, synchronous=FULL, busy_timeout), running the store's append path
 * (createAuditAppender: head read + inserts inside BEGIN IMMEDIATE) for each batch it is sent
 * (canonicalised here, by encoded-entry.ts, once per entry) and answering with the assigned
 * links only after COMMIT returned; and the checkpoint inserts, so the main thread never holds the write lock (nor waits for it) either. Messages are handled one at a
 * time, so batches commit in the order they were posted.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { createAuditAppender } from '../../adapters/sqlite/sqlite-audit-store.js';
import { encodeBatch } from '../encoded-entry.js';
import type { FromWriter, ToWriter, WriterInit } from './audit-writer.js';

const init = workerData as WriterInit;
const port = parentPort;
if (!port) throw new Error('audit writer must run as a worker thread');

// The file exists and is migrated (the main thread opened it first); never create one here.
const db = new Database(init.file, { fileMustExist: true });
db.pragma(`busy_timeout = ${Math.max(0, Math.floor(init.busyTimeoutMs))}`);
// Per connection: every commit of this connection is fsynced (WAL is a property of the file).
db.pragma('synchronous = FULL');
const append = createAuditAppender(db);
const insertCheckpoint = db.prepare('INSERT OR IGNORE INTO audit_checkpoints (seq, entry_hash, time, key_id, signature) VALUES (?, ?, ?, ?, ?)');

port.on('message', (msg: ToWriter) => {
  if (msg.kind === 'close') {
    db.close();
    port.postMessage({ kind: 'closed' } satisfies FromWriter);
    port.close();
    return;
  }
  let reply: FromWriter;
  try {
    if (msg.kind === 'checkpoint') {
      const cp = msg.cp;
      insertCheckpoint.run(cp.seq, cp.entry_hash, cp.time, cp.key_id, cp.signature);
      reply = { kind: 'ack', id: msg.id, links: null };
    } else {
      reply = { kind: 'ack', id: msg.id, links: append(encodeBatch(msg.batch)) };
    }
  } catch (e) {
    const code = e instanceof Database.SqliteError ? e.code : null;
    reply = { kind: 'fail', id: msg.id, sqliteCode: code };
  }
  port.postMessage(reply);
});
