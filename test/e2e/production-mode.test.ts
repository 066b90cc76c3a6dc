/**
 * Production mode end to end: `keyward server --config file.json` with an operator-provisioned
 * token, PIN file and TLS certificate; the first root token comes from `keyward operator
 * generate-root` (audited), not from starting the server; a PIN file others can read is refused.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpTransport } from '../../clients/sdk/http-client.js';
import { provisionSoftHsmToken } from '../../hsm-sim/provision.js';
import { ensureDevTls } from '../../vault/src/http/tls/dev-ca.js';
import { CLI_ENTRY, runCli } from '../helpers/cli.js';
import { freePort } from '../soak/child-server.js';

let dir: string;
let configFile: string;
let pinFile: string;
let port: number;
let caPem: string;
let child: ChildProcess | null = null;

function startServer(): { proc: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const proc = spawn(process.execPath, ['--import', 'tsx', CLI_ENTRY, 'server', '--config', configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return { proc, output: () => out, exited };
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyward-prod-'));
  const token = await provisionSoftHsmToken({ dir: path.join(dir, 'hsm'), label: 'keyward-prod-e2e' });
  pinFile = token.pinFile;
  const tls = ensureDevTls(path.join(dir, 'tls'));
  caPem = tls.caPem;
  port = await freePort();
  configFile = path.join(dir, 'keyward.json');
  fs.writeFileSync(
    configFile,
    JSON.stringify({
      listen: `127.0.0.1:${port}`,
      tls: { certFile: 'tls/server.pem', keyFile: 'tls/server-key.pem' },
      storage: { path: 'data/keyward.db' },
      hsm: { module: token.modulePath, tokenLabel: token.label, pinFile: path.relative(dir, token.pinFile), softhsmConf: path.relative(dir, token.confPath) },
      environments: ['staging', 'prod'],
      defaultEnvironment: 'prod',
      auth: { issuer: 'https://keyward.test', audience: 'keyward', defaultTtlSeconds: 600, maxTtlSeconds: 86400 },
      log: { level: 'warn' },
    }),
  );
});

afterAll(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('production mode', () => {
  it('when an operator generates a root token and starts the server from the config, then it serves HTTPS with that token and stops cleanly on SIGTERM', async () => {
    const tokenFile = path.join(dir, 'root.token');
    const gen = await runCli(['operator', 'generate-root', '--config', configFile, '--ttl', '15m', '--out', tokenFile]);
    expect(gen.stderr).toBe('');
    expect(gen.code).toBe(0);
    expect(gen.stdout).toContain('accessor kwa_');
    expect(fs.statSync(tokenFile).mode & 0o777).toBe(0o600);
    const rootToken = fs.readFileSync(tokenFile, 'utf8').trim();

    const server = startServer();
    child = server.proc;
    const http = new HttpTransport({ address: `https://127.0.0.1:${port}`, caPem, timeoutMs: 3000 });
    try {
      const deadline = Date.now() + 60_000;
      for (;;) {
        const ok = await http.request({ method: 'GET', path: '/v1/sys/health' }).then((r) => r.status === 200, () => false);
        if (ok) break;
        if (Date.now() > deadline) throw new Error(`server did not start: ${server.output()}`);
        await new Promise((r) => setTimeout(r, 250));
      }
      // No dev banner and no root token printed by the server itself.
      expect(server.output()).not.toContain('Root token');
      await http.json({ method: 'POST', path: '/v1/transit/keys/payments', token: rootToken });
      const enc = await http.json<{ data: { ciphertext: string } }>({ method: 'POST', path: '/v1/transit/encrypt/payments', token: rootToken, body: { plaintext: 'aGk=' } });
      expect(enc.data.ciphertext).toMatch(/^vault:v1:/);
      // The token was generated for the default environment's issuer and is refused with a bogus one.
      expect((await http.request({ method: 'GET', path: '/v1/auth/token/lookup-self', token: `${rootToken}x` })).status).toBe(403);
      // The generation is in the audit trail.
      const log = await http.json<{ data: { entries: unknown[] } }>({ method: 'GET', path: '/v1/sys/audit-log?operation=operator.generate_root', token: rootToken });
      expect(log.data.entries.length).toBeGreaterThanOrEqual(2);
      expect(JSON.stringify(log.data.entries)).toContain('operator.generate_root');
      expect(JSON.stringify(log.data.entries)).not.toContain(rootToken);
    } finally {
      http.close();
      server.proc.kill('SIGTERM');
      expect(await server.exited).toBe(0);
    }
  });

  it('when the PIN file can be read by others, then the server refuses to start and says how to fix it', async () => {
    fs.chmodSync(pinFile, 0o644);
    try {
      const server = startServer();
      child = server.proc;
      const code = await server.exited;
      expect(code).not.toBe(0);
      expect(server.output()).toContain('chmod 600');
      expect(server.output()).not.toContain(fs.readFileSync(pinFile, 'utf8').trim());
    } finally {
      fs.chmodSync(pinFile, 0o600);
    }
  });
});
