/** Fixture API: canned Keyward responses keyed by "namespace path", as `ApiGet` sees them. */
import type { ApiGet } from '../../../clients/report/collect.js';

export const NOW = new Date('2025-06-30T12:00:00Z');
const sec = (iso: string): number => Date.parse(iso) / 1000;

export const HOSTILE = '<script>alert(1)</script>|`x`';

class HttpError extends Error {
  constructor(readonly status: number) {
    super(`HTTP ${status}`);
  }
}

export function fixtureApi(overrides: Record<string, unknown | number> = {}): { get: ApiGet; calls: string[] } {
  const responses: Record<string, unknown> = {
    'dev /v1/transit/keys?list=true': { data: { keys: ['fresh'] } },
    'dev /v1/transit/keys/fresh': { data: { name: 'fresh', keys: { '1': sec('2025-06-20T00:00:00Z') }, latest_version: 1, auto_rotate_period: 0 } },
    'prod /v1/transit/keys?list=true': { data: { keys: ['payments', HOSTILE] } },
    'prod /v1/transit/keys/payments': {
      data: { name: 'payments', keys: { '1': sec('2025-01-01T00:00:00Z'), '2': sec('2025-05-01T00:00:00Z') }, latest_version: 2, auto_rotate_period: 30 * 86400 },
    },
    [`prod /v1/transit/keys/${encodeURIComponent(HOSTILE)}`]: { data: { name: HOSTILE, keys: { '1': sec('2025-06-29T00:00:00Z') }, latest_version: 1, auto_rotate_period: 0 } },
    'staging /v1/transit/keys?list=true': 404,
    'prod /v1/sys/access-review': {
      data: {
        environment: 'prod',
        rows: [
          { kind: 'approle', role: 'payments-api', path: 'transit/decrypt/payments', capability: 'update', allowed: true, granting_policies: ['payments'], mfa_methods: [] },
          { kind: 'jwt', role: 'oncall', path: 'transit/decrypt/payments', capability: 'update', allowed: true, granting_policies: ['break-glass'], mfa_methods: ['totp'] },
          { kind: 'approle', role: 'payments-api', path: 'transit/encrypt/payments', capability: 'update', allowed: true, granting_policies: ['payments'], mfa_methods: [] },
          { kind: 'jwt', role: 'admin', path: 'transit/keys/payments', capability: 'delete', allowed: true, granting_policies: ['admin'], mfa_methods: ['totp'] },
        ],
      },
    },
    '- /v1/sys/audit-log/verify': { data: { ok: true, entries: 120, checkpoints: 3, lastCheckpointSeq: 100, unprotectedEntries: 20 } },
    '- /v1/sys/anomalies': { data: { alerts: [{ time: '2025-06-10T03:00:00Z', kind: 'unusual-hour', subject: 'approle/prod/payments-api', env: 'prod', suspended: false }] } },
  };
  const calls: string[] = [];
  const get: ApiGet = async (path, ns) => {
    calls.push(`${ns ?? '-'} ${path}`);
    const bare = path.split('?')[0] ?? path;
    const keys = [`${ns ?? '-'} ${path}`, `${ns ?? '-'} ${bare}`];
    for (const k of keys) {
      const v = k in overrides ? overrides[k] : responses[k];
      if (v === undefined) continue;
      if (typeof v === 'number') throw new HttpError(v);
      return v;
    }
    if (bare === '/v1/sys/audit-log') {
      const op = new URL(`http://x${path}`).searchParams.get('operation');
      if ('audit-log' in overrides && typeof overrides['audit-log'] === 'number') throw new HttpError(overrides['audit-log']);
      return { data: { entries: op === 'auth.token.revoke' ? [{ seq: 9, entry: { time: '2025-06-15T10:00:00Z', operation: 'auth.token.revoke', path: 'auth/token/revoke', env: 'prod', identity: { subject: 'security-bot' }, sensitive: { token: 'hmac-sha256:abc' } } }] : [] } };
    }
    if (bare === '/v1/sys/incidents') {
      if ('incidents' in overrides && typeof overrides['incidents'] === 'number') throw new HttpError(overrides['incidents']);
      return { data: { incidents: ns === 'prod' ? [{ id: '6f1c1a52-0000-4000-8000-000000000001', env: 'prod', kind: 'credential-leak', status: 'open', created_at: '2025-06-20T08:00:00Z', summary: `leak in ${HOSTILE}` }] : [] } };
    }
    throw new HttpError(404);
  };
  return { get, calls };
}
