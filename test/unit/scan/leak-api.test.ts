/**
 * The server side of `keyward scan --revoke`, in process through the real pipeline (root principal):
 * POST auth/approle/secret-id/revoke-leaked and the sys/incidents API on SQLite.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryHsm } from '../../../hsm-sim/memory-hsm.js';
import { closeDatabase, openDatabase, type SqliteConnection } from '../../../vault/src/adapters/sqlite/database.js';
import { SqliteIdentityStore } from '../../../vault/src/adapters/sqlite/sqlite-identity-store.js';
import { SqliteIncidentStore } from '../../../vault/src/adapters/sqlite/sqlite-incident-store.js';
import { AppRoleService } from '../../../vault/src/auth/approle/approle-service.js';
import type { AuditEvent } from '../../../vault/src/core/ports/audit-sink.js';
import { approleLeakRoutes } from '../../../vault/src/http/routes/auth/approle-leak.js';
import { approleRoutes } from '../../../vault/src/http/routes/auth/approle.js';
import { incidentRoutes } from '../../../vault/src/http/routes/sys/incidents.js';
import { startRootApp, type RootApp } from '../../helpers/app-harness.js';
import { secretId as randomSecretId } from './fixtures.js';

describe('leak response API', () => {
  let db: SqliteConnection;
  let server: RootApp;
  let base: string;
  const audit: AuditEvent[] = [];
  const headers = (env = 'prod'): Record<string, string> => ({ 'x-vault-token': 'root', 'content-type': 'application/json', 'x-vault-namespace': env });
  const post = (path: string, body: unknown, env?: string): Promise<Response> => fetch(`${base}${path}`, { method: 'POST', headers: headers(env), body: JSON.stringify(body) });
  const get = (path: string, env?: string): Promise<Response> => fetch(`${base}${path}`, { headers: headers(env) });

  beforeAll(async () => {
    db = await openDatabase({ file: ':memory:' });
    const clock = { now: () => new Date() };
    const approle = new AppRoleService({
      store: new SqliteIdentityStore(db),
      hsm: new MemoryHsm(),
      tokens: { issue: async () => { throw new Error('not used'); }, revokeSubject: async () => 0 },
      clock,
    });
    await approle.init();
    server = await startRootApp({
      routes: [...approleRoutes({ approle }), ...approleLeakRoutes({ approle }), ...incidentRoutes({ store: new SqliteIncidentStore(db), clock })],
      audit: { record: async (e) => void audit.push(e) },
      subject: 'security-bot',
    });
    base = server.base;
  });

  afterAll(async () => {
    await server.close();
    closeDatabase(db);
  });

  it('when a leaked secret ID is sent to revoke-leaked, then its role is found, it is destroyed, and the audit holds it only hashed', async () => {
    for (const role of ['billing', 'payments']) expect((await post(`/auth/approle/role/${role}`, { token_policies: ['default'] })).status).toBe(204);
    const gen = (await (await post('/auth/approle/role/payments/secret-id', {})).json()) as { data: { secret_id: string; secret_id_accessor: string } };
    const r = await post('/auth/approle/secret-id/revoke-leaked', { secret_id: gen.data.secret_id });
    expect(r.status).toBe(200);
    expect(((await r.json()) as { data: unknown }).data).toEqual({ revoked: true, role_name: 'payments', secret_id_accessor: gen.data.secret_id_accessor });
    expect((await post('/auth/approle/role/payments/secret-id/lookup', { secret_id: gen.data.secret_id })).status).toBe(204);
    const again = (await (await post('/auth/approle/secret-id/revoke-leaked', { secret_id: gen.data.secret_id })).json()) as { data: unknown };
    expect(again.data).toEqual({ revoked: false });
    const entry = audit.find((e) => e.operation === 'auth.approle.secret-id.revoke-leaked' && e.type === 'response');
    expect(entry?.sensitive?.['secret_id']).toBe(gen.data.secret_id); // the sink HMACs `sensitive` values
    expect(JSON.stringify(entry?.details ?? {})).not.toContain(gen.data.secret_id);
  });

  it('when the secret ID belongs to another environment or is malformed, then nothing is revoked', async () => {
    const gen = (await (await post('/auth/approle/role/payments/secret-id', {})).json()) as { data: { secret_id: string } };
    expect(((await (await post('/auth/approle/secret-id/revoke-leaked', { secret_id: gen.data.secret_id }, 'dev')).json()) as { data: unknown }).data).toEqual({ revoked: false });
    expect((await post('/auth/approle/secret-id/revoke-leaked', { secret_id: `${randomSecretId().slice(0, -1)}!` })).status).toBe(400);
    expect((await post('/auth/approle/role/payments/secret-id/lookup', { secret_id: gen.data.secret_id })).status).toBe(200);
  });

  it('when an incident is opened, updated and resolved, then list and read show it in its environment only, with an ordered timeline', async () => {
    const findings = [{ fingerprint: 'ab'.repeat(32), rule: 'keyward-secret-id', file: 'app.env', line: 2 }];
    const created = (await (await post('/sys/incidents', { kind: 'credential-leak', summary: '1 credential', findings })).json()) as { data: { id: string; status: string; actor: string; timeline: unknown[] } };
    expect(created.data).toMatchObject({ status: 'open', actor: 'security-bot' });
    expect(created.data.timeline).toEqual([{ time: expect.any(String), event: 'opened', details: { findings } }]);
    const id = created.data.id;

    await post(`/sys/incidents/${id}`, { event: { event: 'revoked', details: { count: 1 } } });
    const resolved = (await (await post(`/sys/incidents/${id}`, { status: 'resolved', report: '# done' })).json()) as { data: { status: string; report: string; timeline: Array<{ event: string }> } };
    expect(resolved.data.status).toBe('resolved');
    expect(resolved.data.report).toBe('# done');
    expect(resolved.data.timeline.map((e) => e.event)).toEqual(['opened', 'revoked', 'status:resolved']);

    const list = (await (await get('/sys/incidents?kind=credential-leak')).json()) as { data: { incidents: Array<{ id: string; events: number }> } };
    expect(list.data.incidents).toEqual([expect.objectContaining({ id, events: 3 })]);
    expect(((await (await get('/sys/incidents?list=true')).json()) as { data: { keys: string[] } }).data.keys).toEqual([id]);
    expect((await get(`/sys/incidents/${id}`, 'dev')).status).toBe(404);
    expect(((await (await get('/sys/incidents', 'dev')).json()) as { data: { incidents: unknown[] } }).data.incidents).toEqual([]);
    expect((await get('/sys/incidents/not-an-id')).status).toBe(404);
    expect((await post('/sys/incidents', { kind: 'Bad Kind!' })).status).toBe(400);
  });
});
