/** Text pieces the renderers share: section titles, provenance lines and status words. */
import type { ComplianceReport, Provenance } from './model.js';

export const SECTION_TITLES = {
  keyInventory: 'Key inventory and rotation',
  prodDecrypt: 'Roles that can decrypt in production',
  mfaCoverage: 'MFA coverage of critical paths',
  revocations: 'Credentials revoked in the period',
  anomalies: 'Anomalies in the period',
  incidents: 'Incidents in the period',
  auditChain: 'Audit chain verification',
} as const satisfies Record<keyof Omit<ComplianceReport, 'title' | 'generatedAt' | 'address' | 'period' | 'environments' | 'defaultMaxKeyAgeDays'>, string>;

export type SectionKey = keyof typeof SECTION_TITLES;
export const SECTION_ORDER: readonly SectionKey[] = ['keyInventory', 'prodDecrypt', 'mfaCoverage', 'revocations', 'anomalies', 'incidents', 'auditChain'];

export function provenanceLine(p: Provenance): string {
  return `Source: ${p.sources.join('; ')}. Fetched ${p.fetchedAt}.${p.status === 'ok' ? '' : ` Status: ${p.status}.`}${p.note ? ` ${p.note}.` : ''}`;
}

export function days(n: number): string {
  return Number.isInteger(n) ? `${n}` : n.toFixed(1);
}

export interface SectionTable {
  readonly head: readonly string[];
  readonly rows: ReadonlyArray<readonly unknown[]>;
}

/** The key inventory as a table (both renderers); column 8 is the rotation status. */
export function keyInventoryTable(r: ComplianceReport): SectionTable {
  return {
    head: ['Environment', 'Key', 'Versions', 'Created', 'Last rotated', 'Age (days)', 'Auto-rotate period', 'Limit (days)', 'Rotation', 'Expiring versions'],
    rows: r.keyInventory.data.map((k) => [
      k.env,
      k.name,
      k.versions,
      k.created ?? '-',
      k.lastRotated ?? '-',
      k.ageDays === null ? '-' : days(k.ageDays),
      k.autoRotatePeriodSeconds > 0 ? `${k.autoRotatePeriodSeconds}s` : 'none',
      `${days(k.maxAgeDays)}${k.policyBasis === 'default-max' ? ' (default)' : ''}`,
      k.rotation.toUpperCase(),
      k.expiringVersions.length > 0 ? k.expiringVersions.join(', ') : '-',
    ]),
  };
}

export const overdueKeys = (r: ComplianceReport): number => r.keyInventory.data.filter((k) => k.rotation === 'overdue').length;

/** The sections that are a plain table, identical in every format. */
export function listSectionTable(key: 'prodDecrypt' | 'revocations' | 'anomalies' | 'incidents', r: ComplianceReport): SectionTable {
  switch (key) {
    case 'prodDecrypt':
      return { head: ['Role', 'Kind', 'Decrypt paths', 'Granting policies', 'MFA'], rows: r.prodDecrypt.data.map((g) => [g.role, g.kind, g.paths.join(', '), g.grantingPolicies.join(', '), g.mfaMethods.join(', ') || 'none']) };
    case 'revocations':
      return { head: ['Time', 'Operation', 'By', 'Environment', 'Path'], rows: r.revocations.data.map((e) => [e.time, e.operation, e.subject, e.env, e.path]) };
    case 'anomalies':
      return { head: ['Time', 'Kind', 'Subject', 'Environment', 'Suspended'], rows: r.anomalies.data.map((a) => [a.time, a.kind, a.subject, a.env, a.suspended ? 'yes' : 'no']) };
    case 'incidents':
      return { head: ['Opened', 'Id', 'Environment', 'Kind', 'Status', 'Summary'], rows: r.incidents.data.map((i) => [i.createdAt, i.id, i.env, i.kind, i.status, i.summary]) };
  }
}

export const MFA_UNCOVERED_HEAD: readonly string[] = ['Role', 'Path', 'Capability'];
