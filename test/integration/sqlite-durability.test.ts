/**
 * SQLite durability and multi-process safety of SqliteKeyStore + the migration runner, with real OS
 * processes (test/fixtures/sqlite/*-child.ts run under `node --import tsx`) sharing one database file.
 * What SIGKILL proves: an acknowledged write survives the death of its process (WAL + commit before
 * the promise resolves). It does not simulate power loss; synchronous=FULL is what covers that.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { closeDatabase, openDatabase } from '../../vault/src/adapters/sqlite/database.js';
import { SqliteKeyStore } from '../../vault/src/adapters/sqlite/sqlite-key-store.js';
import { DEFAULT_KEY_CONFIG } from '../../vault/src/core/ports/key-store.js';
import { parseEnvironment, parseKeyName } from '../../vault/src/core/types.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const fixtures = path.join(repoRoot, 'test/fixtures/sqlite');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'keyward-durability-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

const env = parseEnvironment('prod');
const name = parseKeyName('shared');

interface Child {
  readonly proc: ChildProcessWithoutNullStreams;
  readonly lines: string[];
  /** Resolves with the first line (already seen or future) that satisfies `pred`. */
  waitFor(pred: (line: string) => boolean): Promise<string>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
}

function start(script: string, args: string[]): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', path.join(fixtures, script), ...args], { cwd: repoRoot, stdio: 'pipe' });
  const lines: string[] = [];
  const waiters: Array<{ pred: (l: string) => boolean; resolve: (l: string) => void }> = [];
  let stderr = '';
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  readline.createInterface({ input: proc.stdout }).on('line', (line) => {
    lines.push(line);
    for (const w of [...waiters]) {
      if (w.pred(line)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    proc.on('exit', (code, signal) => resolve({ code, signal, stderr })),
  );
  return {
    proc,
    lines,
    exited,
    waitFor: (pred) => {
      const seen = lines.find(pred);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise<string>((resolve, reject) => {
        waiters.push({ pred, resolve });
        void exited.then((x) => reject(new Error(`child exited (${x.code ?? x.signal}) before the awaited line: ${x.stderr}`)));
      });
    },
  };
}

/** Starts children, waits until each has said "ready", then releases them all at once. */
async function startTogether(script: string, argsList: string[][]): Promise<Child[]> {
  const children = argsList.map((args) => start(script, args));
  await Promise.all(children.map((c) => c.waitFor((l) => l === 'ready')));
  for (const c of children) c.proc.stdin.write('go\n');
  return children;
}

async function createSharedKey(file: string): Promise<void> {
  const db = await openDatabase({ file });
  const store = new SqliteKeyStore(db);
  const created = await store.createKey({
    env,
    name,
    type: 'aes256-gcm96',
    derived: false,
    config: DEFAULT_KEY_CONFIG,
    firstVersion: { wrappedKek: Buffer.alloc(32, 1), rootTerm: 1 },
    createdAt: new Date(),
  });
  expect(created).toBe(true);
  closeDatabase(db);
}

function acked(lines: string[]): Array<{ version: number; hex: string }> {
  return lines
    .filter((l) => l.startsWith('acked '))
    .map((l) => {
      const [, version, hex] = l.split(' ');
      return { version: Number(version), hex: hex ?? '' };
    });
}

function readVersions(file: string): { latest: number; rows: Array<{ version: number; wrapped_kek: Buffer }> } {
  // A plain connection, read only: what is on disk, not what a store object believes.
  const db = new Database(file, { readonly: true });
  try {
    const key = db.prepare('SELECT latest_version AS latest FROM transit_keys WHERE env = ? AND name = ?').get(env, name) as { latest: number };
    const rows = db.prepare('SELECT version, wrapped_kek FROM transit_key_versions WHERE env = ? AND name = ? ORDER BY version').all(env, name) as Array<{
      version: number;
      wrapped_kek: Buffer;
    }>;
    return { latest: key.latest, rows };
  } finally {
    db.close();
  }
}

describe('SQLite durability across processes', () => {
  it('when two processes each append 100 versions to one key concurrently, then versions 2..201 each exist exactly once', async () => {
    const file = path.join(tmp, 'race.db');
    await createSharedKey(file);
    const children = await startTogether('append-child.ts', [
      [file, env, name, '100'],
      [file, env, name, '100'],
    ]);
    const exits = await Promise.all(children.map((c) => c.exited));
    for (const x of exits) expect(x, x.stderr).toMatchObject({ code: 0 });

    const ackedAll = children.flatMap((c) => acked(c.lines));
    expect(ackedAll.map((a) => a.version).sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, i) => i + 2));
    const { latest, rows } = readVersions(file);
    expect(latest).toBe(201);
    expect(rows.map((r) => r.version)).toEqual(Array.from({ length: 201 }, (_, i) => i + 1));
    // Each version holds the blob of the process that was told it got that version.
    const onDisk = new Map(rows.map((r) => [r.version, r.wrapped_kek.toString('hex')]));
    for (const a of ackedAll) expect(onDisk.get(a.version)).toBe(a.hex);
    // The two runs overlapped in time, so the appends really contended for the lock. (Which process
    // wins each append is up to SQLite's busy handler; one may well win most of them.)
    const [a, b] = children.map((c) => {
      const stamp = (tag: string): number => Number(c.lines.find((l) => l.startsWith(`${tag} `))?.split(' ')[1]);
      return { start: stamp('start'), end: stamp('end') };
    });
    if (!a || !b) throw new Error('missing children');
    expect(a.start < b.end && b.start < a.end, JSON.stringify({ a, b })).toBe(true);
  });

  it.each([20, 150])('when a writer is killed with SIGKILL right after printing "acked %i", then every acked version is on disk after reopening', async (killAfter) => {
    const file = path.join(tmp, `kill-${killAfter}.db`);
    await createSharedKey(file);
    const [child] = await startTogether('append-child.ts', [[file, env, name, '0']]);
    if (!child) throw new Error('no child');
    await child.waitFor((l) => l.startsWith(`acked ${killAfter} `));
    child.proc.kill('SIGKILL');
    const exit = await child.exited;
    expect(exit.signal).toBe('SIGKILL');

    const ackedVersions = acked(child.lines);
    expect(ackedVersions.length).toBeGreaterThanOrEqual(killAfter - 1);
    // Reopen through the normal path (recovers the WAL), then check what is there.
    const db = await openDatabase({ file });
    const store = new SqliteKeyStore(db);
    const key = await store.getKey(env, name);
    closeDatabase(db);
    if (!key) throw new Error('key lost');
    const onDisk = new Map(key.versions.map((v) => [v.version as number, v.wrappedKek?.toString('hex')]));
    for (const a of ackedVersions) expect(onDisk.get(a.version), `acked version ${a.version}`).toBe(a.hex);
    // No gaps and no half-written version: latest matches the rows, whatever the kill interrupted.
    expect(key.versions.map((v) => v.version)).toEqual(Array.from({ length: key.latestVersion }, (_, i) => i + 1));
    expect(key.latestVersion).toBeGreaterThanOrEqual(Math.max(...ackedVersions.map((a) => a.version)));
  });

  it('when three processes open a fresh file at the same moment, then each migration is applied exactly once and all succeed', async () => {
    for (let round = 0; round < 4; round++) {
      const file = path.join(tmp, `fresh-${round}`, 'keyward.db');
      const children = await startTogether('open-child.ts', [[file], [file], [file]]);
      const exits = await Promise.all(children.map((c) => c.exited));
      for (const x of exits) expect(x, x.stderr).toMatchObject({ code: 0 });
      for (const c of children) expect(c.lines).toContain('opened');

      const db = await openDatabase({ file });
      const ids = (db.prepare('SELECT id FROM schema_migrations ORDER BY id').all() as Array<{ id: number }>).map((r) => r.id);
      expect(ids).toContain(1);
      expect(new Set(ids).size).toBe(ids.length);
      const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>).map((r) => r.name);
      expect(tables).toEqual(expect.arrayContaining(['transit_keys', 'transit_key_versions', 'root_keys']));
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      closeDatabase(db);
    }
  });
});
