/**
 * The audit trail against a real SQLite file and the in-memory HSM: tampering in the database and
 * in export files is detected with the right first bad seq, archives verify across files, the sink
 * fails closed, secrets never reach disk, and group commit batches writes.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryHsm } from '../../hsm-sim/memory-hsm.js';
import { closeDatabase, openDatabase, type SqliteConnection } from '../../vault/src/adapters/sqlite/database.js';
import { computeEntryHash } from '../../vault/src/audit/chain.js';
import { canonicalJson } from '../../vault/src/audit/canonical-json.js';
import { exportLines, mergeExports, parseExport, writeExportFile } from '../../vault/src/audit/export-format.js';
import { createAuditTrail, type AuditModule } from '../../vault/src/audit/index.js';
import type { AuditEntryBody } from '../../vault/src/audit/types.js';
import { verifyChain } from '../../vault/src/audit/verify.js';
import type { AuditEvent } from '../../vault/src/core/ports/audit-sink.js';
import { KeywardError } from '../../vault/src/core/errors.js';

const logger = pino({ level: 'silent' });

function event(i: number, extra: Partial<AuditEvent> = {}): AuditEvent {
  return {
    type: i % 2 === 0 ? 'request' : 'response',
    time: new Date(),
    requestId: `req-${i}`,
    env: 'prod',
    identity: { subject: `svc-${i % 3}`, authMethod: 'approle', role: 'payments', accessor: `accessor-${i % 3}`, policies: ['payments'] },
    sourceAddress: '127.0.0.1',
    operation: 'transit.encrypt',
    path: `transit/encrypt/k${i % 4}`,
    keyName: `k${i % 4}`,
    keyVersion: 1,
    decision: { allowed: true, grantingPolicies: ['payments'], reason: 'allowed' },
    ...(i % 2 === 1 ? { outcome: 'success' as const, status: 200, durationMs: 1.5 } : {}),
    ...extra,
  };
}

describe('audit trail on SQLite', () => {
  let dir: string;
  let dbFile: string;
  let db: SqliteConnection;
  let hsm: MemoryHsm;
  let audit: AuditModule;

  async function recordN(n: number, from = 0): Promise<void> {
    for (let i = from; i < from + n; i++) await audit.sink.record(event(i));
  }

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyward-audit-'));
    dbFile = path.join(dir, 'keyward.db');
    db = await openDatabase({ file: dbFile });
    hsm = new MemoryHsm();
    // Checkpoints only on demand, so each test places them where it wants.
    audit = createAuditTrail({ db, hsm, logger, checkpointEvery: 1e9, checkpointIntervalMs: 0, groupCommitMs: 1 });
    await audit.start();
  });

  afterEach(async () => {
    await audit.stop().catch(() => undefined);
    closeDatabase(db);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  describe('tampering in the database', () => {
    beforeEach(async () => {
      await recordN(10);
      await audit.service.checkpointNow();
      await recordN(10, 10);
      await audit.service.checkpointNow();
      await recordN(10, 20);
      await audit.service.checkpointNow();
      await recordN(5, 30);
    });

    it('when nothing was touched, then verify is ok and the 5 entries after the last checkpoint are unprotected', async () => {
      expect(await audit.service.verify()).toMatchObject({ ok: true, entries: 35, lastCheckpointSeq: 30, unprotectedEntries: 5 });
    });

    it('when a row body is edited, then verify reports modified at its seq', async () => {
      db.prepare("UPDATE audit_entries SET body = replace(body, '\"outcome\":\"success\"', '\"outcome\":\"denied\"') WHERE seq = 8").run();
      expect(await audit.service.verify()).toMatchObject({ ok: false, problem: 'modified', firstBadSeq: 8 });
    });

    it('when a row is deleted, then verify reports removed at its seq', async () => {
      db.prepare('DELETE FROM audit_entries WHERE seq = 12').run();
      expect(await audit.service.verify()).toMatchObject({ ok: false, problem: 'removed', firstBadSeq: 12 });
    });

    it('when two rows swap places, then verify reports reordered', async () => {
      const swap = db.transaction(() => {
        db.prepare('UPDATE audit_entries SET seq = -15 WHERE seq = 15').run();
        db.prepare('UPDATE audit_entries SET seq = 15 WHERE seq = 16').run();
        db.prepare('UPDATE audit_entries SET seq = 16 WHERE seq = -15').run();
      });
      swap();
      expect(await audit.service.verify()).toMatchObject({ ok: false, problem: 'reordered', firstBadSeq: 15 });
    });

    it('when a forged row is inserted in the middle (later rows renumbered), then verify reports inserted', async () => {
      const prev = db.prepare('SELECT entry_hash FROM audit_entries WHERE seq = 19').get() as { entry_hash: string };
      const forged: AuditEntryBody = { seq: 20, time: new Date().toISOString(), type: 'request', request_id: 'forged', operation: 'transit.decrypt', path: 'transit/decrypt/k1' };
      const shift = db.transaction(() => {
        db.prepare('UPDATE audit_entries SET seq = seq + 1000 WHERE seq >= 20').run();
        db.prepare('UPDATE audit_entries SET seq = seq - 999 WHERE seq >= 1000').run();
        db.prepare("INSERT INTO audit_entries (seq, time_ms, type, request_id, path, operation, body, prev_hash, entry_hash) VALUES (20, 0, 'request', 'forged', 'p', 'o', ?, ?, ?)").run(
          canonicalJson(forged as never),
          prev.entry_hash,
          computeEntryHash(prev.entry_hash, forged),
        );
      });
      shift();
      expect(await audit.service.verify()).toMatchObject({ ok: false, problem: 'inserted', firstBadSeq: 20 });
    });

    it('when entries after the last checkpoint are cut off, then verify reports truncation', async () => {
      db.prepare('DELETE FROM audit_entries WHERE seq > 27').run();
      expect(await audit.service.verify()).toMatchObject({ ok: false, problem: 'truncated-after-checkpoint', firstBadSeq: 28 });
    });

    it('when a checkpoint row is altered, then verify reports a bad signature', async () => {
      db.prepare("UPDATE audit_checkpoints SET time = '2000-01-01T00:00:00.000Z' WHERE seq = 20").run();
      expect(await audit.service.verify()).toMatchObject({ ok: false, problem: 'bad-checkpoint-signature', firstBadSeq: 20 });
    });
  });

  describe('tampering in export files', () => {
    let lines: string[];
    const publicKey = () => audit.service.publicKey();

    beforeEach(async () => {
      await recordN(20);
      await audit.service.checkpointNow();
      const page = await audit.service.exportPage(0, 1000);
      lines = exportLines({ anchor: page.anchor, publicKey: publicKey(), entries: page.entries, checkpoints: page.checkpoints }, new Date());
    });

    const verifyLines = (ls: string[]) => {
      const x = parseExport(ls.join('\n'));
      return verifyChain({ entries: x.entries, checkpoints: x.checkpoints, publicKey: publicKey(), anchor: x.anchor });
    };

    it('when the export is untouched, then it verifies offline', () => {
      expect(verifyLines(lines)).toMatchObject({ ok: true, entries: 20, lastCheckpointSeq: 20 });
    });

    it('when a line is edited, deleted, swapped or duplicated, then verify names the first bad seq', () => {
      const edited = [...lines];
      edited[5] = edited[5]!.replace('"transit/encrypt/k0"', '"transit/encrypt/k9"').replace('"transit/encrypt/k1"', '"transit/encrypt/k9"').replace('"transit/encrypt/k2"', '"transit/encrypt/k9"').replace('"transit/encrypt/k3"', '"transit/encrypt/k9"');
      expect(verifyLines(edited)).toMatchObject({ problem: 'modified', firstBadSeq: 5 });

      const deleted = lines.filter((_, i) => i !== 7);
      expect(verifyLines(deleted)).toMatchObject({ problem: 'removed', firstBadSeq: 7 });

      const swapped = [...lines];
      [swapped[3], swapped[4]] = [swapped[4]!, swapped[3]!];
      expect(verifyLines(swapped)).toMatchObject({ problem: 'reordered', firstBadSeq: 3 });

      const duplicated = [...lines];
      duplicated.splice(10, 0, lines[9]!.replace('"status":200', '"status":201'));
      expect(verifyLines(duplicated)).toMatchObject({ ok: false, problem: 'inserted', firstBadSeq: 9 });
    });

    it('when the export is signed by another key, then verify reports a bad checkpoint signature', async () => {
      const x = parseExport(lines.join('\n'));
      const other = await new MemoryHsm().ensureSigningKey('x');
      expect(verifyChain({ entries: x.entries, checkpoints: x.checkpoints, publicKey: other, anchor: x.anchor })).toMatchObject({ ok: false, problem: 'bad-checkpoint-signature' });
    });
  });

  it('when old entries are archived twice, then the DB and the files verify, alone and across files', async () => {
    await recordN(30);
    const a = path.join(dir, 'a.jsonl');
    const b = path.join(dir, 'b.jsonl');
    expect(await audit.service.archive(11, a)).toMatchObject({ archived: 10, anchor: { seq: 10 } });
    await recordN(10, 30);
    expect(await audit.service.archive(31, b)).toMatchObject({ archived: 20, anchor: { seq: 30 } });
    expect(db.prepare('SELECT count(*) AS n FROM audit_entries').get()).toEqual({ n: 10 });
    expect(await audit.service.verify()).toMatchObject({ ok: true, entries: 10, firstSeq: 31 });

    const pk = audit.service.publicKey();
    const fa = parseExport(fs.readFileSync(a, 'utf8'));
    const fb = parseExport(fs.readFileSync(b, 'utf8'));
    const both = mergeExports([fa, fb]);
    expect(verifyChain({ ...both, publicKey: pk })).toMatchObject({ ok: true, entries: 30, firstSeq: 1, lastSeq: 30, lastCheckpointSeq: 30 });
    // Skipping a file is a gap.
    const skip = mergeExports([fa, { ...fb, entries: fb.entries.slice(0, 0) }]);
    expect(verifyChain({ ...skip, publicKey: pk })).toMatchObject({ ok: false, problem: 'truncated-after-checkpoint' });
    // Files plus the live remainder form one chain.
    await audit.service.checkpointNow();
    const live = await audit.service.exportPage(0, 1000);
    const all = mergeExports([fa, fb, { anchor: live.anchor, publicKey: pk, entries: live.entries, checkpoints: live.checkpoints }]);
    expect(verifyChain({ ...all, publicKey: pk })).toMatchObject({ ok: true, entries: 40, unprotectedEntries: 0 });
    // Archiving again into an existing file is refused and deletes nothing.
    await expect(audit.service.archive(100, a)).rejects.toMatchObject({ code: 'ERR_CONFLICT' });
    expect(db.prepare('SELECT count(*) AS n FROM audit_entries').get()).toEqual({ n: 10 });
  });

  it('when another connection holds the write lock beyond busy_timeout, then record fails closed with ERR_AUDIT_UNAVAILABLE', async () => {
    // The writer thread has its own connection: give it the short busy_timeout too.
    await audit.stop();
    audit = createAuditTrail({ db, hsm, logger, checkpointEvery: 1e9, checkpointIntervalMs: 0, writerBusyTimeoutMs: 50 });
    await audit.start();
    await recordN(3);
    db.pragma('busy_timeout = 50');
    const other = new Database(dbFile);
    other.pragma('busy_timeout = 50');
    other.exec('BEGIN EXCLUSIVE');
    try {
      const results = await Promise.allSettled([audit.sink.record(event(3)), audit.sink.record(event(4))]);
      for (const r of results) {
        expect(r.status).toBe('rejected');
        const err = (r as PromiseRejectedResult).reason as KeywardError;
        expect(err).toBeInstanceOf(KeywardError);
        expect(err.code).toBe('ERR_AUDIT_UNAVAILABLE');
        expect(err.message).toBe('audit log unavailable');
        expect(err.retryAfterSeconds).toBe(1);
      }
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    await audit.sink.record(event(5));
    expect(await audit.service.verify()).toMatchObject({ ok: true, entries: 4 });
    expect(audit.sink.stats().failedBatches).toBe(1);
  });

  it('when the HSM is gone, then record fails closed', async () => {
    await hsm.close();
    await expect(audit.sink.record(event(1))).rejects.toMatchObject({ code: 'ERR_AUDIT_UNAVAILABLE' });
    expect(db.prepare('SELECT count(*) AS n FROM audit_entries').get()).toEqual({ n: 0 });
  });

  it('when sensitive values are recorded, then neither the DB, its WAL nor the device file contains them', async () => {
    const devFile = path.join(dir, 'audit.log');
    await audit.service.enableDevice('file', { type: 'file', options: { file_path: devFile } });
    const secrets = ['PLAINTEXT-7f3a9c-very-secret', 'hvs.TOKEN-91b2-secret', 'secret-id-55e1-abc', 'vault:v1:CIPHERTEXT-c0ffee'];
    await audit.sink.record(event(1, { identity: { subject: 'svc', authMethod: 'approle', accessor: secrets[1]! }, sensitive: { plaintext: secrets[0]!, secret_id: secrets[2]! }, details: { ciphertext: secrets[3]!, nested: { client_token: secrets[1]! }, count: 2 } }));
    await recordN(5);
    const expected = await audit.service.auditHash('file', secrets[0]!);
    await audit.stop();
    const files = [dbFile, `${dbFile}-wal`, devFile].filter((f) => fs.existsSync(f));
    expect(files).toContain(devFile);
    const all = Buffer.concat(files.map((f) => fs.readFileSync(f)));
    for (const s of secrets) expect(all.includes(Buffer.from(s)), `secret ${s.slice(0, 6)}… leaked`).toBe(false);
    // …and what is there is the HMAC investigators can match.
    const device = fs.readFileSync(devFile, 'utf8');
    expect(device).toContain(expected);
    const first = JSON.parse(device.split('\n')[0]!) as Record<string, unknown>;
    expect(first).toMatchObject({ type: 'response', error: '', seq: 1, request: { id: 'req-1', namespace: { id: 'prod' } }, auth: { accessor: expect.stringMatching(/^hmac-sha256:[0-9a-f]{64}$/) } });
    expect(typeof first['hash']).toBe('string');
  });

  it('when 500 records arrive together, then all resolve in fewer transactions and the chain verifies', async () => {
    const before = audit.sink.stats().storeTransactions;
    const t0 = performance.now();
    await Promise.all(Array.from({ length: 500 }, (_, i) => audit.sink.record(event(i, { sensitive: { plaintext: `p-${i}` } }))));
    const ms = performance.now() - t0;
    const txs = audit.sink.stats().storeTransactions - before;
    expect(txs).toBeGreaterThan(0);
    expect(txs).toBeLessThan(50);
    await audit.service.checkpointNow();
    expect(await audit.service.verify()).toMatchObject({ ok: true, entries: 500, unprotectedEntries: 0 });
    const seqs = (db.prepare('SELECT seq FROM audit_entries ORDER BY seq').all() as Array<{ seq: number }>).map((r) => r.seq);
    expect(seqs).toEqual(Array.from({ length: 500 }, (_, i) => i + 1));
    console.log(`group commit: 500 records in ${txs} transactions, ${ms.toFixed(1)} ms`);
  });

  it('when two trails share the database file (two workers), then they extend one chain', async () => {
    const db2 = await openDatabase({ file: dbFile });
    const audit2 = createAuditTrail({ db: db2, hsm, logger, checkpointEvery: 1e9, checkpointIntervalMs: 0 });
    try {
      await Promise.all([...Array.from({ length: 50 }, (_, i) => audit.sink.record(event(i))), ...Array.from({ length: 50 }, (_, i) => audit2.sink.record(event(100 + i)))]);
      await audit2.service.checkpointNow();
      expect(await audit.service.verify()).toMatchObject({ ok: true, entries: 100, lastCheckpointSeq: 100 });
    } finally {
      await audit2.stop();
      closeDatabase(db2);
    }
  });

  it('when a socket device listens, then it receives the lines; when a fail_closed device fails, then record fails', async () => {
    const received: string[] = [];
    const server = net.createServer((s) => s.on('data', (d) => received.push(d.toString('utf8'))));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as net.AddressInfo).port;
    try {
      await audit.service.enableDevice('sock', { type: 'socket', options: { address: `127.0.0.1:${port}`, socket_type: 'tcp' } });
      await recordN(3);
      await new Promise((r) => setTimeout(r, 100));
      const lines = received.join('').trim().split('\n');
      expect(lines.map((l) => (JSON.parse(l) as { seq: number }).seq)).toEqual([1, 2, 3]);
      expect(await audit.service.listDevices()).toMatchObject({ 'sock/': { type: 'socket', path: 'sock/', local: false, options: { address: `127.0.0.1:${port}` } } });

      // A device that cannot deliver and is marked fail_closed fails the request (the DB entry stays).
      // Enabling probes the device (as Vault dials a socket device), so it dies after being enabled.
      const dead = net.createServer((s) => s.destroy());
      await new Promise<void>((r) => dead.listen(0, '127.0.0.1', () => r()));
      const deadPort = (dead.address() as net.AddressInfo).port;
      await audit.service.enableDevice('strict', { type: 'socket', options: { address: `127.0.0.1:${deadPort}`, fail_closed: 'true' } });
      await new Promise<void>((r) => dead.close(() => r()));
      await expect(audit.sink.record(event(9))).rejects.toMatchObject({ code: 'ERR_AUDIT_UNAVAILABLE' });
      expect(audit.sink.stats().devices['strict/']?.failures).toBeGreaterThan(0);
      await audit.service.disableDevice('strict');
      await audit.sink.record(event(10));
      // An unreachable device is refused when enabled.
      await expect(audit.service.enableDevice('never', { type: 'socket', options: { address: `127.0.0.1:${deadPort}` } })).rejects.toMatchObject({ code: 'ERR_INVALID_INPUT' });
      expect(Object.keys(await audit.service.listDevices())).toEqual(['sock/']);
    } finally {
      await audit.devices.close();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });
});
