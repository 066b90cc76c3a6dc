import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { err, ok, startFakeVault, type FakeVault } from '../sdk/fake-vault.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const TSX = path.join(ROOT, 'node_modules/.bin/tsx');
const MAIN = path.join(ROOT, 'clients/cli/main.ts');

let dir: string;
let vault: FakeVault;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kw-cli-'));
  vault = await startFakeVault((req) => {
    if (req.path === '/v1/auth/approle/login') return { status: 200, body: { auth: { client_token: 'issued-token-xyz', accessor: 'acc-123', token_policies: ['payments-read', 'default'], lease_duration: 3600 } } };
    if (req.path === '/v1/secret/data/app/db' && req.method === 'POST') return ok({ version: 3, created_time: '2024-01-01T00:00:00Z', deletion_time: '', destroyed: false });
    if (req.path === '/v1/secret/data/app/db') return ok({ data: { password: 'pw', user: 'svc' }, metadata: { version: 3 } });
    if (req.path === '/v1/transit/encrypt/payments') return ok({ ciphertext: 'vault:v1:Y2lwaGVy', key_version: 1 });
    if (req.path === '/v1/transit/decrypt/payments') return ok({ plaintext: Buffer.from([1, 2, 3]).toString('base64') });
    return err(404, 'not found');
  });
});
afterAll(async () => {
  await vault.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

function keyward(args: string[], stdin = '', env: Record<string, string> = { VAULT_TOKEN: 't' }): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(TSX, [MAIN, ...args], { cwd: dir, env: { PATH: process.env['PATH'] ?? '', HOME: dir, KEYWARD_TOKEN_FILE: path.join(dir, 'token'), VAULT_ADDR: vault.address, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

describe('keyward secrets / encrypt / decrypt / login', () => {
  it('when putting values from k=v, @file and stdin with --cas, then the KV v2 body carries them all', async () => {
    fs.writeFileSync(path.join(dir, 'cert.pem'), 'PEM DATA\n');
    const r = await keyward(['secrets', 'put', 'secret/app/db', 'user=svc', `cert=@${path.join(dir, 'cert.pem')}`, 'password=-', '--cas', '2'], 'from-stdin\n');
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const post = vault.requests.filter((q) => q.method === 'POST' && q.path === '/v1/secret/data/app/db').at(-1)!;
    expect(post.body).toEqual({ data: { user: 'svc', cert: 'PEM DATA\n', password: 'from-stdin' }, options: { cas: 2 } });
    expect(r.stdout).toMatch(/version\s+3/);
  });

  it('when getting one field, then only its value is printed', async () => {
    const r = await keyward(['secrets', 'get', 'secret/app/db', '--field', 'password']);
    expect(r.stdout).toBe('pw');
    const j = await keyward(['secrets', 'get', 'secret/app/db', '--format', 'json', '--version', '3']);
    expect(JSON.parse(j.stdout).data).toEqual({ password: 'pw', user: 'svc' });
    expect(vault.requests.at(-1)!.url).toBe('/v1/secret/data/app/db?version=3');
  });

  it('when encrypting from stdin and decrypting to a file, then the transit calls carry base64 and the file is 0600', async () => {
    const e = await keyward(['encrypt', 'payments', '--context', 'dGVuYW50'], 'hello');
    expect(e.stdout.trim()).toBe('vault:v1:Y2lwaGVy');
    expect(vault.requests.at(-1)!.body).toEqual({ plaintext: Buffer.from('hello').toString('base64'), context: 'dGVuYW50' });
    const out = path.join(dir, 'plain.bin');
    const d = await keyward(['decrypt', 'payments', 'vault:v1:Y2lwaGVy', '--out', out]);
    expect(d.code).toBe(0);
    expect(fs.readFileSync(out)).toEqual(Buffer.from([1, 2, 3]));
    expect(fs.statSync(out).mode & 0o777).toBe(0o600);
  });

  it('when logging in with AppRole, then the token goes to the helper file (0600) and only accessor and policies are printed', async () => {
    const sidFile = path.join(dir, 'sid');
    fs.writeFileSync(sidFile, 'secret-id-value\n');
    const r = await keyward(['login', '--method', 'approle', '--role-id', 'rid', '--secret-id-file', sidFile, '--mfa', 'totp:123456'], '', {});
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('accessor: acc-123');
    expect(r.stdout).toContain('policies: payments-read, default');
    expect(r.stdout + r.stderr).not.toContain('issued-token-xyz');
    const tokenFile = path.join(dir, 'token');
    expect(fs.readFileSync(tokenFile, 'utf8').trim()).toBe('issued-token-xyz');
    expect(fs.statSync(tokenFile).mode & 0o777).toBe(0o600);
    const login = vault.requests.filter((q) => q.path === '/v1/auth/approle/login').at(-1)!;
    expect(login.body).toEqual({ role_id: 'rid', secret_id: 'secret-id-value' });
    expect(login.headers['x-vault-mfa']).toBe('totp:123456');
    const p = await keyward(['login', '--method', 'approle', '--role-id', 'rid', '--secret-id-file', sidFile, '--print-token'], '', {});
    expect(p.stdout).toContain('token: issued-token-xyz');
  });
});
