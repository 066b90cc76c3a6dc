/**
 * Micro-benchmark: the per-request token revocation read (SqliteTokenStore) on a WAL file, alone and
 * while another connection (as the audit writer thread does) commits to the same file constantly.
 * Run: npx tsx test/bench/token-read-micro.ts [seconds-per-case]
 * Not a test: prints us/op of main-thread CPU (from /proc, tight loop) and wall; figures depend on
 * the machine. The "other file" case separates CPU contention from the WAL effect of commits to the
 * same file (a reader's page cache is reset whenever the WAL changed since its last read).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { openDatabase } from '../../vault/src/adapters/sqlite/database.js';
import { SqliteTokenStore } from '../../vault/src/adapters/sqlite/sqlite-token-store.js';

const seconds = Number(process.argv[2] ?? 1);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kw-token-micro-'));
const file = path.join(dir, 'keyward.db');
const db = await openDatabase({ file });
db.exec('CREATE TABLE IF NOT EXISTS bench_churn (id INTEGER PRIMARY KEY, body BLOB NOT NULL)');
const store = new SqliteTokenStore(db);

const jtis: string[] = [];
const now = Date.now();
for (let i = 0; i < 2000; i += 1) {
  const jti = crypto.randomBytes(16).toString('base64url');
  jtis.push(jti);
  await store.recordIssued({
    jti,
    accessor: `kwa_${crypto.randomBytes(16).toString('base64url')}`,
    subject: `app-${i}`,
    authMethod: 'approle',
    role: 'bench',
    policies: ['transit-encrypt', 'transit-decrypt'],
    env: 'bench',
    parentJti: null,
    issuedAt: new Date(now),
    expiresAt: new Date(now + 3_600_000),
    revokedAt: null,
    meta: { bound_cidrs: '10.0.0.0/8' },
  });
}
const hot = jtis[1234] ?? '';

const wide = db.prepare(
  'SELECT jti, accessor, subject, auth_method, role, policies, env, parent_jti, issued_at, expires_at, revoked_at, revoke_reason, num_uses, meta FROM tokens WHERE jti = ?',
);
const narrow = db.prepare('SELECT revoked_at, num_uses FROM tokens WHERE jti = ?');
const status = db.prepare('SELECT revoked_at IS NOT NULL FROM tokens WHERE jti = ?').pluck();
const narrowRaw = db.prepare('SELECT revoked_at, num_uses FROM tokens WHERE jti = ?').raw(true);
const row = wide.get(hot) as Record<string, string>;

/** CPU time of the main thread so far, in us (utime+stime of /proc/self/task/<pid>/stat). */
function mainCpuUs(): number {
  const stat = fs.readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1e6) / 100;
}

function print(label: string, start: bigint, end: bigint, cpu0: number, n: number): void {
  const wall = Number(end - start) / 1000 / n;
  const cpu = (mainCpuUs() - cpu0) / n;
  console.log(`  ${label.padEnd(46)} cpu ${cpu.toFixed(2).padStart(6)} us/op   wall ${wall.toFixed(2).padStart(6)} us/op`);
}

function time(label: string, fn: () => unknown): void {
  for (let i = 0; i < 2000; i += 1) fn();
  let n = 0;
  const cpu0 = mainCpuUs();
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(Math.round(seconds * 1e9));
  let t = start;
  while (t < deadline) {
    for (let i = 0; i < 200; i += 1) fn();
    n += 200;
    t = process.hrtime.bigint();
  }
  print(label, start, t, cpu0, n);
}

async function timeAsync(label: string, fn: () => Promise<unknown>): Promise<void> {
  for (let i = 0; i < 2000; i += 1) await fn();
  let n = 0;
  const cpu0 = mainCpuUs();
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(Math.round(seconds * 1e9));
  let t = start;
  while (t < deadline) {
    for (let i = 0; i < 200; i += 1) await fn();
    n += 200;
    t = process.hrtime.bigint();
  }
  print(label, start, t, cpu0, n);
}

async function cases(): Promise<void> {
  await timeAsync('store.getByJti (full record)', () => store.getByJti(hot));
  await timeAsync('store.tokenStatus (per-request read now)', () => store.tokenStatus(hot));
  time('wide SELECT .get (no parse)', () => wide.get(hot));
  time('narrow SELECT revoked_at,num_uses .get', () => narrow.get(hot));
  time('narrow SELECT .raw().get', () => narrowRaw.get(hot));
  time('SELECT revoked_at IS NOT NULL .pluck().get', () => status.get(hot));
  time('JSON.parse policies+meta only', () => [JSON.parse(row['policies'] ?? '[]'), JSON.parse(row['meta'] ?? '{}')]);
}

console.log(`quiet file (no other writer), ${seconds}s per case`);
await cases();

// A second connection committing constantly, like the audit writer thread.
const betterSqlite = createRequire(import.meta.url).resolve('better-sqlite3');
const churnCode = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.mod);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('busy_timeout = 10000');
db.pragma('synchronous = ' + workerData.sync);
const ins = db.prepare('INSERT INTO bench_churn (body) VALUES (?)');
const body = Buffer.alloc(600, 7);
let stop = false; let commits = 0;
parentPort.on('message', () => { stop = true; });
function loop() { for (let i = 0; i < 20 && !stop; i++) { ins.run(body); commits++; } if (stop) { db.close(); parentPort.postMessage(commits); } else setImmediate(loop); }
loop();
`;
const otherFile = path.join(dir, 'other.db');
const other = await openDatabase({ file: otherFile });
other.exec('CREATE TABLE IF NOT EXISTS bench_churn (id INTEGER PRIMARY KEY, body BLOB NOT NULL)');
other.close();
for (const [sync, target] of [['FULL', file], ['OFF', file], ['OFF', otherFile]] as const) {
  const worker = new Worker(churnCode, { eval: true, workerData: { mod: betterSqlite, file: target, sync } });
  await new Promise((r) => setTimeout(r, 200));
  const t0 = Date.now();
  console.log(`with a second connection committing in a loop to ${target === file ? 'the SAME' : 'ANOTHER'} file (synchronous=${sync})`);
  await cases();
  const commits = await new Promise<number>((resolve) => {
    worker.once('message', resolve);
    worker.postMessage('stop');
  });
  console.log(`  (other connection: ${Math.round(commits / ((Date.now() - t0) / 1000))} commits/s)`);
  await worker.terminate();
}

db.close();
fs.rmSync(dir, { recursive: true, force: true });
