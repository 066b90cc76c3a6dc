/**
 * Assembles the ComplianceReport from the Keyward API with the caller's token: whatever the token
 * may read is reported; a section whose endpoint is missing (404/405) says "not available", one the
 * token may not read says "permission denied" — the report never fails as a whole for one section.
 * The transport is passed in (`ApiGet`), so this module does no I/O of its own and tests feed it
 * fixture responses.
 */
import type {
  AnomalyEvent,
  AuditVerification,
  ComplianceReport,
  DecryptGrant,
  IncidentSummary,
  KeyInventoryRow,
  MfaCoverage,
  RevocationEvent,
  Section,
  SectionStatus,
} from './model.js';

/** GET `path` (below the address, with /v1) in `namespace`; resolves to the decoded JSON body. Errors carry `status`. */
export type ApiGet = (path: string, namespace?: string) => Promise<unknown>;

export interface CollectOptions {
  readonly get: ApiGet;
  readonly address: string;
  readonly environments: readonly string[];
  readonly prodEnvironment?: string;
  readonly since: Date;
  readonly now: Date;
  /** Maximum key age when a key has no auto_rotate_period; default 90 days. */
  readonly defaultMaxKeyAgeDays?: number;
  /** Versions newer than this many days before their key's limit count as "expiring soon"; default 14. */
  readonly expiringWithinDays?: number;
}

export const REVOKE_OPERATIONS = [
  'auth.token.revoke',
  'auth.token.revoke_self',
  'auth.token.revoke_accessor',
  'auth.approle.secret-id.destroy',
  'auth.approle.secret-id-accessor.destroy',
  'auth.approle.secret-id.revoke-leaked',
] as const;

const DAY = 86_400;
type Json = Record<string, unknown>;

const obj = (v: unknown): Json => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown, d = ''): string => (typeof v === 'string' ? v : d);
const num = (v: unknown, d = 0): number => (typeof v === 'number' && Number.isFinite(v) ? v : d);
const dataOf = (body: unknown): Json => obj(obj(body)['data']);

function statusOf(e: unknown): SectionStatus {
  const s = obj(e)['status'];
  if (s === 404 || s === 405) return 'not-available';
  if (s === 403 || s === 401) return 'permission-denied';
  return 'error';
}

function noteFor(status: SectionStatus): string {
  if (status === 'not-available') return 'not available: this Keyward does not offer the endpoint';
  if (status === 'permission-denied') return 'not available: the token may not read this';
  return 'not available: the request failed';
}

const src = (path: string, ns?: string): string => `GET ${path}${ns ? ` (namespace ${ns})` : ''}`;

/** Runs `fill`; on failure returns the section empty with the reason. */
async function section<T>(sources: string[], empty: T, now: () => string, fill: (sources: string[]) => Promise<{ data: T; note?: string }>): Promise<Section<T>> {
  try {
    const r = await fill(sources);
    return { sources, fetchedAt: now(), status: 'ok', data: r.data, ...(r.note ? { note: r.note } : {}) };
  } catch (e) {
    const status = statusOf(e);
    return { sources, fetchedAt: now(), status, note: noteFor(status), data: empty };
  }
}

function inventoryRow(env: string, name: string, d: Json, o: CollectOptions): KeyInventoryRow {
  const versions = Object.entries(obj(d['keys']));
  const created: number[] = [];
  const expiring: number[] = [];
  const expiringWithin = (o.expiringWithinDays ?? 14) * DAY;
  for (const [, info] of versions) {
    // Vault's shape is { "1": <unix seconds> }; a richer shape may carry the creation time.
    const t = typeof info === 'number' ? info : Date.parse(str(obj(info)['creation_time'])) / 1000;
    if (Number.isFinite(t)) created.push(t);
  }
  // Per-version expiry (`version_ttl`) from Keyward's lifecycle read: { "1": { expiration_time } }.
  for (const [v, info] of Object.entries(obj(d['versions']))) {
    const exp = Date.parse(str(obj(info)['expiration_time']));
    if (Number.isFinite(exp) && exp / 1000 - o.now.getTime() / 1000 < expiringWithin) expiring.push(Number(v));
  }
  const period = num(d['auto_rotate_period']);
  const maxAgeDays = period > 0 ? period / DAY : (o.defaultMaxKeyAgeDays ?? 90);
  const newest = created.length > 0 ? Math.max(...created) : null;
  const ageDays = newest === null ? null : Math.floor(((o.now.getTime() / 1000 - newest) / DAY) * 10) / 10;
  return {
    env,
    name,
    versions: versions.length,
    latestVersion: num(d['latest_version']),
    created: created.length > 0 ? new Date(Math.min(...created) * 1000).toISOString() : null,
    lastRotated: newest === null ? null : new Date(newest * 1000).toISOString(),
    ageDays,
    autoRotatePeriodSeconds: period,
    maxAgeDays,
    policyBasis: period > 0 ? 'auto_rotate_period' : 'default-max',
    rotation: ageDays !== null && ageDays > maxAgeDays ? 'overdue' : 'ok',
    expiringVersions: expiring.sort((a, b) => a - b),
  };
}

const CRITICAL = [
  { prefix: 'transit/decrypt/', capability: 'update' },
  { prefix: 'transit/datakey/plaintext/', capability: 'update' },
  { prefix: 'transit/keys/', capability: 'delete' },
];

export async function collectReport(o: CollectOptions): Promise<ComplianceReport> {
  const now = (): string => new Date().toISOString();
  const prod = o.prodEnvironment ?? 'prod';
  const sinceIso = o.since.toISOString();

  const keyInventory = await section<KeyInventoryRow[]>([], [], now, async (sources) => {
    const rows: KeyInventoryRow[] = [];
    const notes: string[] = [];
    for (const env of o.environments) {
      sources.push(src('/v1/transit/keys?list=true', env), src('/v1/transit/keys/:name/lifecycle', env));
      let names: string[] = [];
      try {
        names = arr(dataOf(await o.get('/v1/transit/keys?list=true', env))['keys']).map((k) => str(k)).filter((k) => k !== '');
      } catch (e) {
        // Vault answers an empty list with 404.
        if (statusOf(e) !== 'not-available') {
          notes.push(`${env}: ${noteFor(statusOf(e))}`);
          continue;
        }
      }
      for (const name of names) {
        try {
          // Keyward's lifecycle read adds per-version state and expiry to Vault's key data.
          const path = `/v1/transit/keys/${encodeURIComponent(name)}`;
          const d = await o.get(`${path}/lifecycle`, env).catch((e: unknown) => (statusOf(e) === 'not-available' ? o.get(path, env) : Promise.reject(e)));
          rows.push(inventoryRow(env, name, dataOf(d), o));
        } catch (e) {
          notes.push(`${env}/${name}: ${noteFor(statusOf(e))}`);
        }
      }
    }
    return { data: rows, ...(notes.length > 0 ? { note: notes.join('; ') } : {}) };
  });

  let reviewRows: Json[] | null = null;
  const reviewPath = '/v1/sys/access-review';
  const prodDecrypt = await section<DecryptGrant[]>([src(`${reviewPath}`, prod)], [], now, async () => {
    reviewRows = arr(dataOf(await o.get(reviewPath, prod))['rows']).map(obj);
    const byRole = new Map<string, DecryptGrant>();
    for (const r of reviewRows) {
      if (r['allowed'] !== true || r['capability'] !== 'update' || !str(r['path']).startsWith('transit/decrypt/')) continue;
      const key = `${str(r['kind'])}\0${str(r['role'])}`;
      const g = byRole.get(key) ?? { role: str(r['role']), kind: str(r['kind']), paths: [], grantingPolicies: [], mfaMethods: [] };
      const merge = (a: readonly string[], b: unknown): string[] => [...new Set([...a, ...arr(b).map((x) => str(x))])].filter((x) => x !== '').sort();
      byRole.set(key, { ...g, paths: merge(g.paths, [r['path']]), grantingPolicies: merge(g.grantingPolicies, r['granting_policies']), mfaMethods: merge(g.mfaMethods, r['mfa_methods']) });
    }
    return { data: [...byRole.values()].sort((a, b) => a.role.localeCompare(b.role)) };
  });

  const mfaCoverage = await section<MfaCoverage | null>([src(reviewPath, prod)], null, now, async () => {
    const rows = reviewRows ?? arr(dataOf(await o.get(reviewPath, prod))['rows']).map(obj);
    const critical = rows.filter((r) => r['allowed'] === true && CRITICAL.some((c) => str(r['path']).startsWith(c.prefix) && r['capability'] === c.capability));
    const uncovered = critical.filter((r) => arr(r['mfa_methods']).length === 0).map((r) => ({ role: str(r['role']), path: str(r['path']), capability: str(r['capability']) }));
    return {
      data: { criticalGrants: critical.length, withMfa: critical.length - uncovered.length, uncovered },
      note: `critical paths: ${CRITICAL.map((c) => `${c.capability} on ${c.prefix}*`).join(', ')} in ${prod}`,
    };
  });

  const revocations = await section<RevocationEvent[]>([], [], now, async (sources) => {
    const out: RevocationEvent[] = [];
    for (const op of REVOKE_OPERATIONS) {
      const path = `/v1/sys/audit-log?operation=${encodeURIComponent(op)}&outcome=success&from=${encodeURIComponent(sinceIso)}&limit=1000`;
      sources.push(src(path));
      for (const e of arr(dataOf(await o.get(path))['entries'])) {
        const b = obj(obj(e)['entry']);
        out.push({ time: str(b['time']), operation: str(b['operation']), subject: str(obj(b['identity'])['subject'], '-'), env: str(b['env'], '-'), path: str(b['path']) });
      }
    }
    return { data: out.sort((a, b) => a.time.localeCompare(b.time)) };
  });

  const anomaliesPath = `/v1/sys/anomalies?since=${Math.floor(o.since.getTime() / 1000)}&limit=1000`;
  const anomalies = await section<AnomalyEvent[]>([src(anomaliesPath)], [], now, async () => ({
    data: arr(dataOf(await o.get(anomaliesPath))['alerts']).map((a) => {
      const x = obj(a);
      return { time: str(x['time']), kind: str(x['kind']), subject: str(x['subject']), env: str(x['env']), suspended: x['suspended'] === true };
    }),
  }));

  const incidents = await section<IncidentSummary[]>([], [], now, async (sources) => {
    const out: IncidentSummary[] = [];
    for (const env of o.environments) {
      const path = `/v1/sys/incidents?since=${encodeURIComponent(sinceIso)}&limit=1000`;
      sources.push(src(path, env));
      for (const i of arr(dataOf(await o.get(path, env))['incidents'])) {
        const x = obj(i);
        out.push({ id: str(x['id']), env: str(x['env'], env), kind: str(x['kind']), status: str(x['status']), createdAt: str(x['created_at']), summary: str(x['summary']) });
      }
    }
    return { data: out.sort((a, b) => a.createdAt.localeCompare(b.createdAt)) };
  });

  const auditChain = await section<AuditVerification | null>([src('/v1/sys/audit-log/verify')], null, now, async () => {
    const d = dataOf(await o.get('/v1/sys/audit-log/verify'));
    return {
      data: {
        ok: d['ok'] === true,
        entries: num(d['entries']),
        checkpoints: num(d['checkpoints']),
        lastCheckpointSeq: typeof d['lastCheckpointSeq'] === 'number' ? d['lastCheckpointSeq'] : null,
        unprotectedEntries: num(d['unprotectedEntries']),
        ...(typeof d['problem'] === 'string' ? { problem: d['problem'] } : {}),
        ...(typeof d['firstBadSeq'] === 'number' ? { firstBadSeq: d['firstBadSeq'] } : {}),
      },
    };
  });

  return {
    title: 'Keyward compliance evidence report',
    generatedAt: o.now.toISOString(),
    address: o.address,
    period: { since: sinceIso, until: o.now.toISOString() },
    environments: [...o.environments],
    defaultMaxKeyAgeDays: o.defaultMaxKeyAgeDays ?? 90,
    keyInventory,
    prodDecrypt,
    mfaCoverage,
    revocations,
    anomalies,
    incidents,
    auditChain,
  };
}

/** `30d`, `12h`, `2w`, `90m` or an ISO-8601 time → the start of the period. */
export function parseSince(raw: string, now: Date): Date {
  const m = /^(\d{1,6})([mhdw])$/.exec(raw.trim());
  if (m) {
    const unit = { m: 60, h: 3600, d: DAY, w: 7 * DAY }[m[2] as 'm' | 'h' | 'd' | 'w'];
    return new Date(now.getTime() - Number(m[1]) * unit * 1000);
  }
  const t = Date.parse(raw);
  if (!Number.isFinite(t)) throw new Error('--since must be like 30d, 12h, 2w or an ISO-8601 time');
  return new Date(t);
}
