import { describe, expect, it } from 'vitest';
import { collectReport, parseSince, renderHtml, renderJson, renderMarkdown, type ComplianceReport } from '../../../clients/report/index.js';
import { HOSTILE, NOW, fixtureApi } from './fixture-api.js';

async function build(overrides: Record<string, unknown> = {}): Promise<ComplianceReport> {
  return collectReport({ get: fixtureApi(overrides).get, address: 'https://vault.example:8200', environments: ['dev', 'staging', 'prod'], since: parseSince('30d', NOW), now: NOW });
}

describe('compliance report: collection', () => {
  it('when keys are read, then age, last rotation and overdue status follow auto_rotate_period or the 90-day default', async () => {
    const r = await build();
    const byName = Object.fromEntries(r.keyInventory.data.map((k) => [k.name, k]));
    expect(byName['payments']).toMatchObject({ env: 'prod', versions: 2, latestVersion: 2, created: '2025-01-01T00:00:00.000Z', lastRotated: '2025-05-01T00:00:00.000Z', maxAgeDays: 30, policyBasis: 'auto_rotate_period', rotation: 'overdue' });
    expect(byName['payments']?.ageDays).toBeCloseTo(60.5, 1);
    expect(byName['fresh']).toMatchObject({ env: 'dev', maxAgeDays: 90, policyBasis: 'default-max', rotation: 'ok' });
    expect(r.keyInventory.status).toBe('ok'); // staging's empty list (404) is no error
  });

  it('when the lifecycle read shows a version expiring within 14 days, then the inventory lists it as expiring', async () => {
    const soon = new Date(NOW.getTime() + 3 * 86_400_000).toISOString();
    const later = new Date(NOW.getTime() + 60 * 86_400_000).toISOString();
    const r = await build({
      'prod /v1/transit/keys/payments/lifecycle': {
        data: {
          name: 'payments',
          keys: { '1': Date.parse('2025-01-01T00:00:00Z') / 1000, '2': Date.parse('2025-05-01T00:00:00Z') / 1000 },
          latest_version: 2,
          auto_rotate_period: 2_592_000,
          versions: { '1': { state: 'active', expiration_time: soon }, '2': { state: 'active', expiration_time: later } },
        },
      },
    });
    const payments = r.keyInventory.data.find((k) => k.name === 'payments');
    expect(payments?.expiringVersions).toEqual([1]);
    expect(r.keyInventory.sources.some((s) => s.includes('/lifecycle'))).toBe(true);
  });

  it('when the access review is read, then prod decrypt grants are grouped per role and MFA coverage counts critical grants', async () => {
    const r = await build();
    expect(r.prodDecrypt.data.map((g) => [g.role, g.mfaMethods])).toEqual([['oncall', ['totp']], ['payments-api', []]]);
    expect(r.mfaCoverage.data).toEqual({ criticalGrants: 3, withMfa: 2, uncovered: [{ role: 'payments-api', path: 'transit/decrypt/payments', capability: 'update' }] });
  });

  it('when the period has revocations, anomalies and incidents, then each appears with its source', async () => {
    const r = await build();
    expect(r.revocations.data).toEqual([{ time: '2025-06-15T10:00:00Z', operation: 'auth.token.revoke', subject: 'security-bot', env: 'prod', path: 'auth/token/revoke' }]);
    expect(r.revocations.sources.some((s) => s.includes('operation=auth.approle.secret-id.revoke-leaked'))).toBe(true);
    expect(r.anomalies.data).toHaveLength(1);
    expect(r.anomalies.sources[0]).toContain(`since=${Math.floor(parseSince('30d', NOW).getTime() / 1000)}`);
    expect(r.incidents.data.map((i) => i.kind)).toEqual(['credential-leak']);
    expect(r.auditChain.data).toMatchObject({ ok: true, entries: 120 });
  });

  it('when an endpoint is missing or forbidden, then its section says so and the rest of the report stands', async () => {
    const r = await build({ incidents: 404, 'audit-log': 403, '- /v1/sys/audit-log/verify': 500 });
    expect(r.incidents).toMatchObject({ status: 'not-available', data: [] });
    expect(r.incidents.note).toMatch(/not available/);
    expect(r.revocations.status).toBe('permission-denied');
    expect(r.auditChain).toMatchObject({ status: 'error', data: null });
    expect(r.keyInventory.data.length).toBe(3);
    expect(renderMarkdown(r)).toContain('not available: this Keyward does not offer the endpoint');
  });

  it('parses --since as a duration or a time', () => {
    expect(parseSince('30d', NOW).toISOString()).toBe('2025-05-31T12:00:00.000Z');
    expect(parseSince('12h', NOW).toISOString()).toBe('2025-06-30T00:00:00.000Z');
    expect(parseSince('2025-01-01T00:00:00Z', NOW).toISOString()).toBe('2025-01-01T00:00:00.000Z');
    expect(() => parseSince('soon', NOW)).toThrow();
  });
});

describe('compliance report: rendering', () => {
  it('markdown: every section names its source and fetch time, and hostile names cannot break tables or inject HTML', async () => {
    const md = renderMarkdown(await build());
    for (const title of ['Key inventory and rotation', 'Roles that can decrypt in production', 'MFA coverage of critical paths', 'Credentials revoked in the period', 'Anomalies in the period', 'Incidents in the period', 'Audit chain verification']) {
      expect(md).toContain(`## ${title}`);
    }
    expect(md.match(/Source: GET /g)?.length).toBe(7);
    expect(md).not.toContain('<script>');
    expect(md).toContain('&lt;script&gt;');
    const hostileRow = md.split('\n').find((l) => l.includes('&lt;script&gt;') && l.includes('| prod |'));
    // 10 columns → 11 unescaped pipes; the name's own pipe is escaped.
    expect(hostileRow?.replace(/\\\|/g, '').split('|').length).toBe(12);
    expect(md).toContain('OVERDUE');
    expect(md).toContain('**VERIFIED**: 120 entries');
  });

  it('html: one self-contained page, content escaped, no script or external resource', async () => {
    const html = renderHtml(await build());
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).toContain('<style>');
    expect(html).not.toMatch(/<script|<link|src=|href=/i);
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;|`x`');
    expect(html).toContain("default-src 'none'");
    expect(html).toContain('class="bad"'); // the overdue key's row
  });

  it('json: the model with a format version; no secret-looking values (audit HMACs are not copied)', async () => {
    const parsed = JSON.parse(renderJson(await build())) as Record<string, unknown>;
    expect(parsed['format_version']).toBe(1);
    expect(Object.keys(parsed)).toEqual(expect.arrayContaining(['keyInventory', 'prodDecrypt', 'mfaCoverage', 'revocations', 'anomalies', 'incidents', 'auditChain']));
    expect(JSON.stringify(parsed)).not.toContain('hmac-sha256');
  });
});
