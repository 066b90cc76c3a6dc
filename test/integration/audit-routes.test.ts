/**
 * The sys/audit* routes through the real pipeline (root principal), with the audit trail as the
 * pipeline's sink, and `keyward audit verify --export` on the CLI.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryHsm } from '../../hsm-sim/memory-hsm.js';
import { closeDatabase, openDatabase, type SqliteConnection } from '../../vault/src/adapters/sqlite/database.js';
import { createAuditTrail, type AuditModule } from '../../vault/src/audit/index.js';
import { auditRoutes } from '../../vault/src/http/routes/sys/audit-routes.js';
import { startRootApp, type RootApp } from '../helpers/app-harness.js';

describe('sys/audit* over HTTP', () => {
  let dir: string;
  let db: SqliteConnection;
  let audit: AuditModule;
  let server: RootApp;
  let base: string;
  const headers = { 'x-vault-token': 'root', 'content-type': 'application/json' };

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyward-audit-http-'));
    db = await openDatabase({ file: path.join(dir, 'k.db') });
    audit = createAuditTrail({ db, hsm: new MemoryHsm(), logger: pino({ level: 'silent' }), checkpointEvery: 5, checkpointIntervalMs: 0 });
    await audit.start();
    server = await startRootApp({ routes: auditRoutes({ audit: audit.service }), audit: audit.sink });
    base = server.base;
  });

  afterAll(async () => {
    await server.close();
    await audit.stop();
    closeDatabase(db);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('when a file device is enabled, listed, hashed against and disabled, then Vault shapes come back and every call is in the log', async () => {
    const file = path.join(dir, 'audit.log');
    expect((await fetch(`${base}/sys/audit/file`, { method: 'PUT', headers, body: JSON.stringify({ type: 'file', options: { file_path: file } }) })).status).toBe(204);
    expect((await fetch(`${base}/sys/audit/file`, { method: 'PUT', headers, body: JSON.stringify({ type: 'file', options: { file_path: file } }) })).status).toBe(400);
    expect((await fetch(`${base}/sys/audit/bad`, { method: 'POST', headers, body: JSON.stringify({ type: 'syslog' }) })).status).toBe(400);
    const list = (await (await fetch(`${base}/sys/audit`, { headers })).json()) as { data: Record<string, unknown> };
    expect(list.data).toEqual({ 'file/': { type: 'file', description: '', options: { file_path: file }, path: 'file/', local: false } });
    const hash = (await (await fetch(`${base}/sys/audit-hash/file`, { method: 'POST', headers, body: JSON.stringify({ input: 'my-secret-value' }) })).json()) as { data: { hash: string } };
    expect(hash.data.hash).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);
    expect((await fetch(`${base}/sys/audit-hash/nope`, { method: 'POST', headers, body: JSON.stringify({ input: 'x' }) })).status).toBe(400);

    const search = (await (await fetch(`${base}/sys/audit-log?operation=sys.audit-hash&limit=10`, { headers })).json()) as { data: { entries: Array<{ seq: number; entry: { type: string; sensitive?: Record<string, string> } }> } };
    const responses = search.data.entries.filter((e) => e.entry.type === 'response');
    expect(responses[responses.length - 1]?.entry.sensitive?.['input']).toBe(hash.data.hash);
    expect(search.data.entries[0]!.seq).toBeGreaterThan(search.data.entries[1]!.seq);
    expect(fs.readFileSync(file, 'utf8')).not.toContain('my-secret-value');
    expect((await fetch(`${base}/sys/audit-log?limit=5000`, { headers })).status).toBe(400);

    expect((await fetch(`${base}/sys/audit/file`, { method: 'DELETE', headers })).status).toBe(204);
    const verify = (await (await fetch(`${base}/sys/audit-log/verify`, { headers })).json()) as { data: { ok: boolean; entries: number } };
    expect(verify.data.ok).toBe(true);
    expect(verify.data.entries).toBeGreaterThan(10);
  });

  it('when the chain is exported and checked with the CLI, then verify exits 0, and 1 after an edit', async () => {
    await audit.service.checkpointNow();
    const pk = (await (await fetch(`${base}/sys/audit-log/public-key`, { headers })).json()) as { data: { keys: unknown[] } };
    const pkFile = path.join(dir, 'pk.json');
    fs.writeFileSync(pkFile, JSON.stringify(pk.data));
    const exportFile = path.join(dir, 'x.jsonl');
    const cli = path.resolve('clients/cli/main.ts');
    // Async: the server under test runs in this process, so the CLI must not block its event loop.
    const run = (args: string[]) =>
      new Promise<{ code: number; out: string }>((resolve) => {
        execFile('npx', ['tsx', cli, ...args], { encoding: 'utf8', env: { ...process.env, VAULT_ADDR: base.replace(/\/v1$/, ''), VAULT_TOKEN: 'root' } }, (err, stdout) => {
          resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: stdout });
        });
      });
    const exp = await run(['audit', 'export', '--out', exportFile]);
    expect(exp.code).toBe(0);
    const ok = await run(['audit', 'verify', '--export', exportFile, '--public-key', pkFile]);
    expect(ok.out).toMatch(/^OK: /);
    expect(ok.code).toBe(0);
    const lines = fs.readFileSync(exportFile, 'utf8').split('\n');
    lines[3] = lines[3]!.replace('"request_id":"', '"request_id":"forged-');
    fs.writeFileSync(exportFile, lines.join('\n'));
    const bad = await run(['audit', 'verify', '--export', exportFile, '--public-key', pkFile]);
    expect(bad.out).toMatch(/FAILED: modified at seq 3/);
    expect(bad.code).toBe(1);
    const online = await run(['audit', 'verify']);
    expect(online.code).toBe(0);
  });
});
