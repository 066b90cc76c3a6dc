/**
 * Secrets for services at startup, end to end: a small service that refuses to start without its
 * secrets starts through `keyward run` (AppRole, and secure introduction with a single-use wrapped
 * secret ID); response wrapping is single-use; and the data dir never holds a secret value.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import nodeVault from 'node-vault';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { startDevServer, type DevServer } from '../helpers/dev-server.js';

const SERVICE = path.resolve(import.meta.dirname, '..', 'fixtures', 'service', 'server.mjs');
const DB_PASSWORD = 'pg-pass-6f1d2c7e-unique';
const API_KEY = 'sk-live-93b0a4c1-unique';

let server: DevServer;
let root: nodeVault.client;
let roleId: string;

const baseEnv = (): NodeJS.ProcessEnv => ({ VAULT_ADDR: server.url, VAULT_CACERT: server.caFile, VAULT_TOKEN: '', KEYWARD_TOKEN_FILE: path.join(server.dataDir, 'no-token') });

beforeAll(async () => {
  server = await startDevServer();
  root = nodeVault({ apiVersion: 'v1', endpoint: server.url, token: server.rootToken, requestOptions: { ca: server.caPem } });
  await root.write('secret/data/payments/db', { data: { password: DB_PASSWORD } });
  await root.write('secret/data/payments/api', { data: { key: API_KEY } });
  await root.addPolicy({ name: 'payments-svc', rules: 'path "secret/data/payments/*" { capabilities = ["read"] }' });
  await root.write('auth/approle/role/payments-svc', { token_policies: ['payments-svc'], token_ttl: '15m' });
  roleId = (await root.getApproleRoleId({ role_name: 'payments-svc' })).data.role_id as string;
});

afterAll(async () => {
  await server?.destroy();
});

describe('keyward run', () => {
  it('when the service starts without the vault, then it refuses to start', () => {
    const res = spawnSync(process.execPath, [SERVICE], { encoding: 'utf8', env: { PATH: process.env['PATH'] } });
    expect(res.status).toBe(1);
    expect(res.stderr).toContain('PAYMENTS_DB_PASSWORD');
  });

  it('when started through keyward run with AppRole credentials, then the service gets its secrets and starts', async () => {
    const secretId = (await root.write('auth/approle/role/payments-svc/secret-id', {})).data.secret_id as string;
    const res = await runCli(['run', '--secret', 'secret/payments/db', '--secret', 'secret/payments/api', '--', process.execPath, SERVICE], {
      env: { ...baseEnv(), KEYWARD_ROLE_ID: roleId, KEYWARD_SECRET_ID: secretId },
    });
    expect(res.stderr).not.toContain(DB_PASSWORD);
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('service ready');
  });

  it('when the vault is unreachable, then keyward run fails closed and the service is not started', async () => {
    const res = await runCli(['run', '--secret', 'secret/payments/db', '--', process.execPath, SERVICE], {
      env: { ...baseEnv(), VAULT_ADDR: 'https://127.0.0.1:1', KEYWARD_ROLE_ID: roleId, KEYWARD_SECRET_ID: 'kwsid_x' },
      timeoutMs: 90_000,
    });
    expect(res.code).not.toBe(0);
    expect(res.stdout).not.toContain('service ready');
  });

  it('when a wrapped secret ID is used for secure introduction, then it starts the service once and is refused the second time', async () => {
    const wrapped = await root.write('auth/approle/role/payments-svc/secret-id', {}, { headers: { 'X-Vault-Wrap-TTL': '5m' } });
    expect(wrapped.data).toBeNull();
    const wrappingToken = wrapped.wrap_info.token as string;
    expect(wrappingToken).toMatch(/^kww_/);
    expect(wrapped.wrap_info.creation_path).toBe('auth/approle/role/payments-svc/secret-id');

    const args = ['run', '--unwrap-token', wrappingToken, '--secret', 'secret/payments/db', '--secret', 'secret/payments/api', '--', process.execPath, SERVICE];
    const first = await runCli(args, { env: { ...baseEnv(), KEYWARD_ROLE_ID: roleId } });
    expect(first.code).toBe(0);
    expect(first.stdout).toContain('service ready');

    const second = await runCli(args, { env: { ...baseEnv(), KEYWARD_ROLE_ID: roleId } });
    expect(second.code).not.toBe(0);
    expect(second.stdout).not.toContain('service ready');

    // The second unwrap attempt is raised as an anomaly (someone may have intercepted the token).
    const anomalies = await root.read('sys/anomalies');
    const kinds = (anomalies.data.alerts ?? anomalies.data.anomalies ?? []).map((a: { kind: string }) => a.kind);
    expect(kinds).toContain('wrapping_reuse');
  });

  it('when the data dir is scanned byte by byte, then no secret value appears in the database, WAL or any other file', async () => {
    const hits: string[] = [];
    const walk = (dir: string): void => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(p);
        else if (entry.isFile()) {
          const bytes = fs.readFileSync(p);
          for (const secret of [DB_PASSWORD, API_KEY]) if (bytes.includes(Buffer.from(secret))) hits.push(`${p}: ${secret.slice(0, 6)}…`);
        }
      }
    };
    walk(server.dataDir);
    expect(hits).toEqual([]);
  });
});
