import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { err, ok, startFakeVault, type FakeVault } from '../sdk/fake-vault.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const TSX = path.join(ROOT, 'node_modules/.bin/tsx');
const MAIN = path.join(ROOT, 'clients/cli/main.ts');
const SERVICE = path.join(ROOT, 'test/fixtures/service/server.mjs');

let dir: string;
let vault: FakeVault;
let secretsServed: Record<string, Record<string, string>>;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kw-run-'));
  secretsServed = { 'payments/db': { password: 'pw-1' }, 'payments/api': { key: 'api-1' } };
  vault = await startFakeVault((req) => {
    if (req.path === '/v1/auth/approle/login') return { status: 200, body: { auth: { client_token: 'svc-token', accessor: 'a', policies: ['p'], lease_duration: 3600 } } };
    const rel = req.path.replace('/v1/secret/data/', '');
    const data = secretsServed[rel];
    return data ? ok({ data, metadata: { version: 1 } }) : err(404, 'not found');
  });
});
afterAll(async () => {
  await vault.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

function startKeyward(args: string[], env: Record<string, string> = {}, address = vault.address) {
  const child = spawn(TSX, [MAIN, ...args], {
    cwd: dir,
    env: { PATH: process.env['PATH'] ?? '', HOME: dir, KEYWARD_TOKEN_FILE: path.join(dir, 'token'), VAULT_ADDR: address, ...env },
  });
  const out = { stdout: '', stderr: '' };
  child.stdout.on('data', (c: Buffer) => (out.stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out.stderr += c.toString()));
  const result = new Promise<RunResult>((resolve) => child.on('exit', (code) => resolve({ code, ...out })));
  return { child, out, result };
}

const keyward = (args: string[], env: Record<string, string> = {}, address = vault.address): Promise<RunResult> => startKeyward(args, env, address).result;

async function until(cond: () => boolean, timeoutMs: number): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 50));
  }
}

const SECRETS = ['--secret', 'secret/payments/db', '--secret', 'secret/payments/api'];

describe('keyward run (against a fake vault)', () => {
  it('when the secrets are fetched, then the service starts with PAYMENTS_DB_PASSWORD and PAYMENTS_API_KEY', async () => {
    const r = await keyward(['run', ...SECRETS, '--', 'node', SERVICE], { VAULT_TOKEN: 't' });
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('service ready');
    expect(r.code).toBe(0);
  });

  it('when AppRole credentials come from env, then the child gets the secrets but not KEYWARD_SECRET_ID', async () => {
    const probe = 'process.stdout.write(JSON.stringify({pw: process.env.PAYMENTS_DB_PASSWORD, sid: process.env.KEYWARD_SECRET_ID ?? null}))';
    const r = await keyward(['run', ...SECRETS, '--', 'node', '-e', probe], { KEYWARD_ROLE_ID: 'r', KEYWARD_SECRET_ID: 's' });
    expect(JSON.parse(r.stdout)).toEqual({ pw: 'pw-1', sid: null });
    expect(vault.requests.some((q) => q.path === '/v1/auth/approle/login')).toBe(true);
  });

  it('when the child exits with a code, then keyward run exits with the same code', async () => {
    const r = await keyward(['run', ...SECRETS, '--', 'node', '-e', 'process.exit(7)'], { VAULT_TOKEN: 't' });
    expect(r.code).toBe(7);
  });

  it('when the vault is unreachable and there is no cache, then the command is not started and the exit is non-zero', async () => {
    const r = await keyward(['run', ...SECRETS, '--', 'node', SERVICE], { VAULT_TOKEN: 't' }, 'http://127.0.0.1:1');
    expect(r.code).toBe(1);
    expect(r.stdout).not.toContain('service ready');
    expect(r.stderr).toContain('not starting the command');
  });

  it('when two fields collide, then the command is not started', async () => {
    secretsServed['a-b'] = { c: '1' };
    secretsServed['a'] = { 'b-c': '2' };
    const r = await keyward(['run', '--secret', 'secret/a-b', '--secret', 'secret/a', '--', 'node', SERVICE], { VAULT_TOKEN: 't' });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('A_B_C');
    expect(r.stdout).not.toContain('service');
  });

  it('when the vault becomes unreachable after a cached run, then the service starts from the fallback cache with a loud warning', async () => {
    const keyFile = path.join(dir, 'cache.key');
    const cache = path.join(dir, 'cache.bin');
    fs.writeFileSync(keyFile, crypto.randomBytes(32).toString('hex'), { mode: 0o600 });
    const fb = ['--fallback-cache', cache, '--fallback-key-file', keyFile];
    const first = await keyward(['run', ...SECRETS, ...fb, '--', 'node', SERVICE], { VAULT_TOKEN: 't' });
    expect(first.code).toBe(0);
    expect(fs.statSync(cache).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(cache).includes(Buffer.from('pw-1'))).toBe(false);
    const second = await keyward(['run', ...SECRETS, ...fb, '--', 'node', SERVICE], { VAULT_TOKEN: 't' }, 'http://127.0.0.1:1');
    expect(second.code).toBe(0);
    expect(second.stdout).toContain('service ready');
    expect(second.stderr).toContain('VAULT UNREACHABLE');
  });

  it('when the fallback key file is missing, then nothing is started and no key is generated', async () => {
    const keyFile = path.join(dir, 'no.key');
    const r = await keyward(['run', ...SECRETS, '--fallback-cache', path.join(dir, 'c2.bin'), '--fallback-key-file', keyFile, '--', 'node', SERVICE], { VAULT_TOKEN: 't' });
    expect(r.code).not.toBe(0);
    expect(r.stdout).not.toContain('service');
    expect(fs.existsSync(keyFile)).toBe(false);
  });

  it('when --watch sees a changed secret, then the child is restarted with the new value; SIGTERM is forwarded', async () => {
    secretsServed['payments/db'] = { password: 'pw-1' };
    const probe = "process.stdout.write('pw=' + process.env.PAYMENTS_DB_PASSWORD + '\\n'); setInterval(() => {}, 1000); process.on('SIGTERM', () => process.exit(0));";
    const run = startKeyward(['run', ...SECRETS, '--watch', '1', '--', 'node', '-e', probe], { VAULT_TOKEN: 't' });
    await until(() => run.out.stdout.includes('pw=pw-1'), 8000);
    secretsServed['payments/db'] = { password: 'pw-2' };
    await until(() => run.out.stdout.includes('pw=pw-2'), 8000);
    expect(run.out.stderr).toContain('secrets changed; restarting');
    run.child.kill('SIGTERM');
    const r = await run.result;
    expect(r.code).toBe(0);
  }, 30_000);
});
