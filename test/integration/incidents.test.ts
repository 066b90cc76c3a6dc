/**
 * Incident playbooks through a real dev server (SoftHSM2, SQLite, HTTPS): key compromise of a customer
 * key and of the internal `_kv` key, credential leak by AppRole role and by token accessor, plus the
 * `keyward rewrap` and `keyward incident` CLI commands against the same server.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { startDevServer, type DevServer } from '../helpers/dev-server.js';

let server: DevServer;
const b64 = (s: string): string => Buffer.from(s).toString('base64');

async function call(method: 'GET' | 'POST', p: string, body?: unknown, token?: string | null): Promise<{ status: number; json: any }> {
  const r = await server.http.request({ method, path: `/v1${p}`, ...(token === null ? {} : { token: token ?? server.rootToken }), ...(body !== undefined ? { body } : {}) });
  return { status: r.status, json: r.body ? JSON.parse(r.body) : undefined };
}

async function tokenWith(policy: string, hcl: string): Promise<{ token: string; accessor: string }> {
  await call('POST', `/sys/policies/acl/${policy}`, { policy: hcl });
  const t = await call('POST', '/auth/token/create', { policies: [policy] });
  return { token: t.json.auth.client_token, accessor: t.json.auth.accessor };
}

const cliEnv = () => ({ VAULT_ADDR: server.url, VAULT_TOKEN: server.rootToken, VAULT_CACERT: server.caFile, VAULT_NAMESPACE: 'dev' });

beforeAll(async () => {
  server = await startDevServer();
}, 120_000);

afterAll(async () => {
  await server?.destroy();
});

describe('key-compromise playbook', () => {
  it('when a customer key version is compromised, then encrypt uses the new version, decrypt of the old ciphertext is refused but rewrap works, the users since the time are revoked, and a re-run returns the same incident', async () => {
    const since = new Date(Date.now() - 1000).toISOString();
    await call('POST', '/transit/keys/payments');
    const user = await tokenWith('payments-user', 'path "transit/encrypt/payments" { capabilities = ["update"] }\npath "auth/token/lookup-self" { capabilities = ["read"] }');
    const bystander = await tokenWith('bystander', 'path "auth/token/lookup-self" { capabilities = ["read"] }');
    const ct1 = (await call('POST', '/transit/encrypt/payments', { plaintext: b64('card-1') }, user.token)).json.data.ciphertext as string;
    expect(ct1).toMatch(/^vault:v1:/);

    const r = await call('POST', '/sys/incidents/key-compromise', { key: 'payments', version: 1, revoke_tokens_since: since });
    expect(r.status).toBe(200);
    const d = r.json.data;
    expect(d.created).toBe(true);
    expect(d.incident.kind).toBe('key-compromise');
    expect(d.incident.timeline.map((e: { event: string }) => e.event)).toEqual(expect.arrayContaining(['opened', 'versions.compromised', 'key.rotated', 'stored_data.none', `tokens.revoked:${since}`]));
    expect(d.report.next_steps.join('\n')).toContain('keyward --namespace dev rewrap --key payments');
    expect(d.report.next_steps.join('\n')).toContain('--raise-min-decryption');
    expect(d.report.audit_timeline.some((t: { operation: string; key_name: string }) => t.operation === 'transit.encrypt' && t.key_name === 'payments')).toBe(true);
    expect(d.report_markdown).toContain('## Audit timeline');

    expect((await call('POST', '/transit/encrypt/payments', { plaintext: b64('card-2') })).json.data.ciphertext).toMatch(/^vault:v2:/);
    const dec = await call('POST', '/transit/decrypt/payments', { ciphertext: ct1 });
    expect(dec.status).toBeGreaterThanOrEqual(400);
    const rw = await call('POST', '/transit/rewrap/payments', { ciphertext: ct1 });
    expect(rw.status).toBe(200);
    expect(rw.json.data.ciphertext).toMatch(/^vault:v2:/);
    expect(Buffer.from((await call('POST', '/transit/decrypt/payments', { ciphertext: rw.json.data.ciphertext })).json.data.plaintext, 'base64').toString()).toBe('card-1');

    expect((await call('GET', '/auth/token/lookup-self', undefined, user.token)).status).toBe(403);
    expect((await call('GET', '/auth/token/lookup-self', undefined, bystander.token)).status).toBe(200);
    expect((await call('GET', '/auth/token/lookup-self')).status).toBe(200);

    const again = await call('POST', '/sys/incidents/key-compromise', { key: 'payments', version: 1, revoke_tokens_since: since });
    expect(again.json.data.created).toBe(false);
    expect(again.json.data.incident.id).toBe(d.incident.id);
    expect((await call('GET', '/transit/keys/payments')).json.data.latest_version).toBe(2);
    expect(again.json.data.incident.timeline.filter((e: { event: string }) => e.event === 'key.rotated')).toHaveLength(1);

    const raised = await call('POST', '/sys/incidents/key-compromise', { key: 'payments', version: 1, raise_min_decryption: true });
    expect(raised.json.data.incident.id).toBe(d.incident.id);
    expect((await call('GET', '/transit/keys/payments')).json.data.min_decryption_version).toBe(2);
  });

  it('when _kv is compromised, then stored secrets are rewrapped to the new version, still read back, and min_decryption_version rises', async () => {
    for (let i = 0; i < 12; i++) await call('POST', `/secret/data/ic/s${i}`, { data: { v: `value-${i}` } });
    const r = await call('POST', '/sys/incidents/key-compromise', { key: '_kv' });
    expect(r.status).toBe(200);
    const events = r.json.data.incident.timeline.map((e: { event: string }) => e.event);
    expect(events).toEqual(expect.arrayContaining(['versions.compromised', 'key.rotated', 'stored_data.rewrap_started', 'stored_data.rewrapped', 'min_decryption.raised']));
    const raised = r.json.data.incident.timeline.find((e: { event: string }) => e.event === 'min_decryption.raised');
    expect(raised.details.min_decryption_version).toBe(2);
    for (let i = 0; i < 12; i++) expect((await call('GET', `/secret/data/ic/s${i}`)).json.data.data).toEqual({ v: `value-${i}` });
    expect((await call('GET', '/sys/rewrap')).json.data).toMatchObject({ state: 'done', key: '_kv', target_version: 2 });
  });

  it('when the caller lacks sudo, then the playbook is refused', async () => {
    const t = await tokenWith('incident-reader', 'path "sys/incidents/*" { capabilities = ["update", "read"] }');
    expect((await call('POST', '/sys/incidents/key-compromise', { key: 'payments' }, t.token)).status).toBe(403);
  });
});

describe('credential-leak playbook', () => {
  it('when an AppRole role leaks, then its secret IDs and tokens stop working and the report suggests rotating the keys it decrypted with', async () => {
    await call('POST', '/transit/keys/orders');
    await call('POST', '/sys/policies/acl/orders-svc', { policy: 'path "transit/*" { capabilities = ["update"] }\npath "auth/token/lookup-self" { capabilities = ["read"] }' });
    await call('POST', '/auth/approle/role/orders', { token_policies: ['orders-svc'] });
    const roleId = (await call('GET', '/auth/approle/role/orders/role-id')).json.data.role_id as string;
    const secretId = (await call('POST', '/auth/approle/role/orders/secret-id')).json.data.secret_id as string;
    const spare = (await call('POST', '/auth/approle/role/orders/secret-id')).json.data.secret_id as string;
    const login = await call('POST', '/auth/approle/login', { role_id: roleId, secret_id: secretId }, null);
    const svc = login.json.auth.client_token as string;
    const ct = (await call('POST', '/transit/encrypt/orders', { plaintext: b64('o-1') }, svc)).json.data.ciphertext;
    expect((await call('POST', '/transit/decrypt/orders', { ciphertext: ct }, svc)).status).toBe(200);

    const r = await call('POST', '/sys/incidents/credential-leak', { role: 'orders', days: 1 });
    expect(r.status).toBe(200);
    const d = r.json.data;
    expect(d.incident.kind).toBe('credential-leak');
    const revoked = d.incident.timeline.find((e: { event: string }) => e.event === 'credentials.revoked');
    expect(revoked.details).toMatchObject({ secret_ids_destroyed: 2, tokens_revoked: 1 });
    expect(d.report.findings.keys_used_for_decryption).toEqual(['orders']);
    expect(d.report.next_steps.join('\n')).toContain('incident key-compromise --key orders');
    expect(d.report.audit_timeline.length).toBeGreaterThan(0);

    expect((await call('GET', '/auth/token/lookup-self', undefined, svc)).status).toBe(403);
    expect((await call('POST', '/auth/approle/login', { role_id: roleId, secret_id: spare }, null)).status).toBe(400);

    const again = await call('POST', '/sys/incidents/credential-leak', { role: 'orders', days: 1 });
    expect(again.json.data).toMatchObject({ created: false, incident: { id: d.incident.id } });
  });

  it('when one token leaks, then it and its children are revoked and only its own requests are listed', async () => {
    const leaked = await tokenWith('leaky', 'path "auth/token/*" { capabilities = ["create", "read", "update"] }');
    const sibling = await tokenWith('leaky-sibling', 'path "auth/token/*" { capabilities = ["read"] }');
    const child = (await call('POST', '/auth/token/create', { policies: ['leaky'] }, leaked.token)).json.auth.client_token as string;
    await call('GET', '/auth/token/lookup-self', undefined, leaked.token);
    const r = await call('POST', '/sys/incidents/credential-leak', { accessor: leaked.accessor });
    expect(r.status).toBe(200);
    expect((await call('GET', '/auth/token/lookup-self', undefined, leaked.token)).status).toBe(403);
    expect((await call('GET', '/auth/token/lookup-self', undefined, child)).status).toBe(403);
    expect((await call('GET', '/auth/token/lookup-self', undefined, sibling.token)).status).toBe(200);
    expect(r.json.data.report.findings.requests).toBeGreaterThanOrEqual(2);
  });
});

describe('CLI', () => {
  it('when `keyward rewrap` runs over a file of 1,000 ciphertexts, then every line comes back under the latest version in order, and failures are reported by line', async () => {
    await call('POST', '/transit/keys/bulk');
    const items = Array.from({ length: 1000 }, (_, i) => ({ plaintext: b64(`item-${i}`) }));
    const cts: string[] = (await call('POST', '/transit/encrypt/bulk', { batch_input: items })).json.data.batch_results.map((x: { ciphertext: string }) => x.ciphertext);
    await call('POST', '/transit/keys/bulk/rotate');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyward-rewrap-cli-'));
    const lines = [...cts];
    lines[500] = 'vault:v1:bm90LWEtY2lwaGVydGV4dA==';
    fs.writeFileSync(path.join(dir, 'in.txt'), `${lines.join('\n')}\n`);
    const res = await runCli(['rewrap', '--key', 'bulk', '--in', path.join(dir, 'in.txt'), '--out', path.join(dir, 'out.txt'), '--batch', '100', '--concurrency', '4'], { env: cliEnv() });
    expect(res.code).toBe(1);
    expect(res.stderr).toContain('line 501:');
    const out = fs.readFileSync(path.join(dir, 'out.txt'), 'utf8').split('\n').slice(0, -1);
    expect(out).toHaveLength(1000);
    expect(out[500]).toBe(lines[500]);
    const good = out.filter((_, i) => i !== 500);
    expect(good.every((c) => c.startsWith('vault:v2:'))).toBe(true);
    const dec = await call('POST', '/transit/decrypt/bulk', { batch_input: good.map((ciphertext) => ({ ciphertext })) });
    const texts = dec.json.data.batch_results.map((x: { plaintext: string }) => Buffer.from(x.plaintext, 'base64').toString());
    expect(texts).toEqual(Array.from({ length: 1000 }, (_, i) => `item-${i}`).filter((_, i) => i !== 500));
    fs.rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it('when `keyward incident list` and `show` run, then the playbook incidents and their reports come back', async () => {
    const list = await runCli(['incident', 'list', '--format', 'json'], { env: cliEnv() });
    expect(list.code).toBe(0);
    const incidents = JSON.parse(list.stdout) as Array<{ id: string; kind: string }>;
    const kc = incidents.find((i) => i.kind === 'key-compromise');
    expect(kc).toBeDefined();
    const show = await runCli(['incident', 'show', kc?.id ?? '', '--env', 'dev'], { env: cliEnv() });
    expect(show.code).toBe(0);
    expect(show.stdout).toContain('# Incident');
    expect(show.stdout).toContain('## Audit timeline');
    const json = await runCli(['incident', 'credential-leak', '--role', 'orders', '--days', '1', '--format', 'json'], { env: cliEnv() });
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ created: false, report: { kind: 'credential-leak' } });
  }, 120_000);
});
