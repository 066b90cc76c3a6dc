/**
 * WorkerAuditWriter: audit batches are committed by a worker thread (audit-writer-worker.ts) with
 * its own connection to the same SQLite file, so the synchronous BEGIN IMMEDIATE … COMMIT and its
 * WAL fsync run off the event loop. The main thread keeps everything that needs the HSM (HMACs,
 * checkpoint signatures); the worker only numbers, chains, inserts and commits.
 *
 * Invariants:
 * - `appendBatch` resolves after the worker acknowledged the COMMIT (durable), with the links
 *   (first seq, prev hash, entry hashes) the worker assigned; the worker canonicalises the bodies
 *   (encoded-entry.ts) and answers with hashes only, so the main thread rebuilds nothing unless a
 *   device or an `append` caller reads the stored entries.
 * - Fail closed: a failed commit rejects that batch; a worker that errors or exits rejects every
 *   batch it had not acknowledged (their commit state is unknown, so the caller must not act on
 *   them), and the next `append` starts a fresh worker.
 * - The worker keeps the process alive only while a batch is outstanding.
 */
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { Logger } from 'pino';
import { KeywardError } from '../../core/errors.js';
import { translateSqliteError } from '../../adapters/sqlite/sqlite-errors.js';
import type { BatchLinks, BodyBatch } from '../encoded-entry.js';
import type { UnsealedBody } from '../entry-builder.js';
import type { AuditCheckpoint, StoredAuditEntry } from '../types.js';
import { appendBodiesVia, type AuditWriter, type FromWriter, type ToWriter, type WriterInit } from './audit-writer.js';

interface Outstanding {
  resolve(links: BatchLinks | null): void;
  reject(err: KeywardError): void;
}

/**
 * How to start the worker script next to this module: the compiled .js under dist; from sources
 * (vitest, `node --import tsx`), the .ts through a small bootstrap that registers tsx's ESM loader
 * in the thread first (Node 20 does not apply `--import` hooks to a worker's entry module).
 */
function workerStart(init: WriterInit): { script: string | URL; options: WorkerOptions } {
  const js = new URL('./audit-writer-worker.js', import.meta.url);
  if (fs.existsSync(fileURLToPath(js))) return { script: js, options: { workerData: init } };
  const tsxApi = pathToFileURL(tsxEsmApiPath()).href;
  const target = new URL('./audit-writer-worker.ts', import.meta.url).href;
  const bootstrap = `const { workerData } = require('node:worker_threads');
import(workerData.tsxApi).then((m) => { (m.register ?? m.default.register)(); return import(workerData.target); });`;
  return { script: bootstrap, options: { eval: true, workerData: { ...init, tsxApi, target } } };
}

/** tsx's `tsx/esm/api` as an ESM import would resolve it (require.resolve picks the CJS build). */
function tsxEsmApiPath(): string {
  const req = createRequire(import.meta.url);
  const pkgFile = req.resolve('tsx/package.json');
  const pkg = JSON.parse(fs.readFileSync(pkgFile, 'utf8')) as { exports?: Record<string, { import?: { default?: string } | string }> };
  const entry = pkg.exports?.['./esm/api']?.import;
  const rel = typeof entry === 'string' ? entry : entry?.default;
  return rel ? path.join(path.dirname(pkgFile), rel) : req.resolve('tsx/esm/api');
}

function storageFailure(sqliteCode: string | null): KeywardError {
  if (sqliteCode === null) return new KeywardError('ERR_INTERNAL', 'appendAuditBatch: storage error');
  // Rebuild the driver's error from its code so classification stays in one place (sqlite-errors.ts).
  return translateSqliteError(new Database.SqliteError('audit writer', sqliteCode), 'appendAuditBatch');
}

export class WorkerAuditWriter implements AuditWriter {
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly outstanding = new Map<number, Outstanding>();
  private txCount = 0;
  private closing = false;

  constructor(
    private readonly init: WriterInit,
    private readonly logger: Logger,
  ) {}

  get transactions(): number {
    return this.txCount;
  }

  append(bodies: readonly UnsealedBody[]): Promise<StoredAuditEntry[]> {
    return appendBodiesVia(this, bodies);
  }

  async appendBatch(batch: BodyBatch): Promise<BatchLinks> {
    const links = await this.send({ kind: 'append', id: this.nextId++, batch });
    // Cannot happen with this worker; never hand out entries whose links are unknown.
    if (!links || links.hashes.length !== batch.bodies.length) throw new KeywardError('ERR_INTERNAL', 'audit writer answered a short batch');
    return links;
  }

  async insertCheckpoint(cp: AuditCheckpoint): Promise<void> {
    await this.send({ kind: 'checkpoint', id: this.nextId++, cp });
  }

  private send(message: Extract<ToWriter, { id: number }>): Promise<BatchLinks | null> {
    if (this.closing) return Promise.reject(new KeywardError('ERR_INTERNAL', 'audit writer closed'));
    let worker: Worker;
    try {
      worker = this.worker ?? this.spawn();
    } catch (e) {
      return Promise.reject(new KeywardError('ERR_INTERNAL', 'audit writer could not start', { cause: e }));
    }
    return new Promise<BatchLinks | null>((resolve, reject) => {
      this.outstanding.set(message.id, { resolve, reject });
      worker.ref();
      worker.postMessage(message);
    });
  }

  private spawn(): Worker {
    const { script, options } = workerStart(this.init);
    const worker = new Worker(script, options);
    worker.unref();
    worker.on('message', (msg: FromWriter) => this.onMessage(worker, msg));
    worker.on('error', (err) => this.onDeath(worker, err));
    worker.on('messageerror', (err) => this.onDeath(worker, err));
    worker.on('exit', (code) => this.onDeath(worker, new Error(`audit writer exited (${code})`)));
    this.worker = worker;
    return worker;
  }

  private onMessage(worker: Worker, msg: FromWriter): void {
    if (msg.kind === 'closed') return;
    const o = this.outstanding.get(msg.id);
    if (!o) return;
    this.outstanding.delete(msg.id);
    if (this.outstanding.size === 0) worker.unref();
    if (msg.kind === 'fail') {
      o.reject(storageFailure(msg.sqliteCode));
      return;
    }
    if (msg.links) this.txCount++; // audit batches only, like the store's count
    o.resolve(msg.links);
  }

  private onDeath(worker: Worker, err: unknown): void {
    if (this.worker !== worker) return;
    this.worker = null;
    void worker.terminate().catch(() => undefined);
    if (this.outstanding.size > 0 && !this.closing) this.logger.error({ outstanding: this.outstanding.size }, 'audit writer thread failed; failing its batches closed');
    const e = new KeywardError('ERR_INTERNAL', 'audit writer thread failed', { cause: err });
    const waiting = [...this.outstanding.values()];
    this.outstanding.clear();
    for (const o of waiting) o.reject(e);
  }

  /** Stop the thread after the batches already posted (callers drain first). */
  async close(): Promise<void> {
    this.closing = true;
    const worker = this.worker;
    if (!worker) return;
    worker.ref();
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage({ kind: 'close' } satisfies ToWriter);
    const timer = setTimeout(() => void worker.terminate().catch(() => undefined), 5000);
    await exited;
    clearTimeout(timer);
  }
}
