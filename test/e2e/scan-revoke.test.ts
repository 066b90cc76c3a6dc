/**
 * `keyward scan --revoke` against a real dev server: leaked Keyward credentials found in a
 * directory are revoked through the API and a credential-leak incident is recorded.
 * The revoke-leaked and sys/incidents routes are mounted by main.ts's owner; until they are, this
 * test checks that the CLI says "cannot revoke" / "incident NOT recorded" and exits 2, and that the
 * token (whose revoke route is mounted) is revoked all the same.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpTransport, KeywardApiError } from '../../clients/sdk/http-client.js';
import { runCli } from '../helpers/cli.js';
import { startDevServer, type DevServer } from '../helpers/dev-server.js';

let server: DevServer;
let api: HttpTransport;
let dir: string;

beforeAll(async () => {
  server = await startDevServer();
  api = new HttpTransport({ address: server.url, caPem: server.caPem, namespace: 'dev' });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyward-scan-e2e-'));
});

afterAll(async () => {
  api?.close();
  fs.rmSync(dir, { recursive: true, force: true });
  await server?.destroy();
});

const statusOf = async (p: Promise<unknown>): Promise<number> => {
  try {
    await p;
    return 200;
  } catch (e) {
    return e instanceof KeywardApiError ? e.status : -1;
  }
};

describe('keyward scan --revoke', () => {
  it('when a directory holds a live token and secret ID, then they are revoked and an incident is recorded (or the CLI says why not)', async () => {
    const root = server.rootToken;
    await api.json({ method: 'POST', path: '/v1/auth/approle/role/leaky', body: { token_policies: ['default'] }, token: root });
    const sid = (await api.json<{ data: { secret_id: string } }>({ method: 'POST', path: '/v1/auth/approle/role/leaky/secret-id', body: {}, token: root })).data.secret_id;
    const leakedToken = (await api.json<{ auth: { client_token: string } }>({ method: 'POST', path: '/v1/auth/token/create', body: { policies: ['default'], ttl: '1h' }, token: root })).auth.client_token;
    expect(await statusOf(api.json({ method: 'GET', path: '/v1/auth/token/lookup-self', token: leakedToken }))).toBe(200);
    fs.writeFileSync(path.join(dir, 'deploy.env'), `SECRET_ID=${sid}\nVAULT_TOKEN=${leakedToken}\n`);

    const r = await runCli(['scan', dir, '--revoke', '--format', 'json'], {
      env: { VAULT_ADDR: server.url, VAULT_CACERT: server.caFile, VAULT_TOKEN: root, VAULT_NAMESPACE: '' },
    });
    const out = JSON.parse(r.stdout) as { findings: Array<{ rule: string }> };
    expect(out.findings.map((f) => f.rule).sort()).toEqual(['keyward-secret-id', 'keyward-token']);
    expect(r.stdout + r.stderr).not.toContain(sid);
    expect(r.stdout + r.stderr).not.toContain(leakedToken);

    // The token: revoked through auth/token/revoke.
    expect(r.stderr).toMatch(/revoke token sha256:[0-9a-f]{16}: revoked/);
    expect(await statusOf(api.json({ method: 'GET', path: '/v1/auth/token/lookup-self', token: leakedToken }))).toBe(403);

    const leakRouteMounted = (await statusOf(api.json({ method: 'POST', path: '/v1/auth/approle/secret-id/revoke-leaked', body: { secret_id: 'kwsid_x' }, token: root }))) !== 404;
    const lookup = (): Promise<number> => statusOf(api.json({ method: 'POST', path: '/v1/auth/approle/role/leaky/secret-id/lookup', body: { secret_id: sid }, token: root }).then((b) => (b === undefined ? Promise.reject(new KeywardApiError({ kind: 'http', status: 204, errors: [] })) : b)));
    if (leakRouteMounted) {
      expect(r.stderr).toMatch(/revoke secret-id sha256:[0-9a-f]{16}: revoked/);
      expect(await lookup()).toBe(204);
      expect(r.stderr).toMatch(/incident recorded: [0-9a-f-]{36}/);
      expect(r.code).toBe(1);
    } else {
      expect(r.stderr).toMatch(/revoke secret-id sha256:[0-9a-f]{16}: cannot-revoke/);
      expect(await lookup()).toBe(200);
      expect(r.stderr).toContain('incident NOT recorded: this Keyward has no sys/incidents endpoint');
      expect(r.code).toBe(2);
    }
  });

  it('when `keyward report` runs against the server, then every section is present and says where its data came from', async () => {
    const root = server.rootToken;
    await api.json({ method: 'POST', path: '/v1/transit/keys/report-key', body: {}, token: root });
    const out = path.join(dir, 'report.html');
    const r = await runCli(['report', '--format', 'html', '--output', out, '--since', '7d'], {
      env: { VAULT_ADDR: server.url, VAULT_CACERT: server.caFile, VAULT_TOKEN: root, VAULT_NAMESPACE: '' },
    });
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const html = fs.readFileSync(out, 'utf8');
    expect(html).toContain('report-key');
    expect(html.match(/Source: GET /g)?.length).toBe(7);
    expect(html).not.toContain(root);
    const md = await runCli(['report', '--format', 'json'], { env: { VAULT_ADDR: server.url, VAULT_CACERT: server.caFile, VAULT_TOKEN: root, VAULT_NAMESPACE: '' } });
    const report = JSON.parse(md.stdout) as { keyInventory: { data: Array<{ name: string; env: string; rotation: string }> }; auditChain: { status: string; data: { ok: boolean } | null } };
    expect(report.keyInventory.data).toContainEqual(expect.objectContaining({ name: 'report-key', env: 'dev', rotation: 'ok' }));
    expect(report.auditChain.status).toBe('ok');
    expect(report.auditChain.data?.ok).toBe(true);
  });
});
