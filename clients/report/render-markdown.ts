/**
 * Markdown rendering of the compliance report. Every value from the API is escaped for a table
 * cell (pipes, backslashes, markdown punctuation, and `<>&` as entities, since markdown viewers
 * render raw HTML), so a hostile key or role name cannot break the table or inject markup.
 */
import type { ComplianceReport } from './model.js';
import { SECTION_ORDER, SECTION_TITLES, days, provenanceLine, type SectionKey } from './render-shared.js';

export function mdEscape(value: unknown): string {
  return String(value ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/([\\`*_[\]{}()#+!|~])/g, '\\$1')
    .replace(/\r?\n/g, ' ');
}

function table(head: readonly string[], rows: readonly (readonly unknown[])[]): string {
  if (rows.length === 0) return '_None._\n';
  return [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.map(mdEscape).join(' | ')} |`)].join('\n') + '\n';
}

function body(r: ComplianceReport, key: SectionKey): string {
  switch (key) {
    case 'keyInventory': {
      const overdue = r.keyInventory.data.filter((k) => k.rotation === 'overdue').length;
      return (
        `${r.keyInventory.data.length} key(s); ${overdue} overdue for rotation (limit: auto_rotate_period, else ${r.defaultMaxKeyAgeDays} days).\n\n` +
        table(
          ['Environment', 'Key', 'Versions', 'Created', 'Last rotated', 'Age (days)', 'Auto-rotate period', 'Limit (days)', 'Rotation', 'Expiring versions'],
          r.keyInventory.data.map((k) => [
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
        )
      );
    }
    case 'prodDecrypt':
      return table(['Role', 'Kind', 'Decrypt paths', 'Granting policies', 'MFA'], r.prodDecrypt.data.map((g) => [g.role, g.kind, g.paths.join(', '), g.grantingPolicies.join(', '), g.mfaMethods.join(', ') || 'none']));
    case 'mfaCoverage': {
      const c = r.mfaCoverage.data;
      if (!c) return '_Not available._\n';
      return `${c.withMfa} of ${c.criticalGrants} critical grant(s) require MFA.\n\n` + table(['Role', 'Path', 'Capability'], c.uncovered.map((u) => [u.role, u.path, u.capability]));
    }
    case 'revocations':
      return table(['Time', 'Operation', 'By', 'Environment', 'Path'], r.revocations.data.map((e) => [e.time, e.operation, e.subject, e.env, e.path]));
    case 'anomalies':
      return table(['Time', 'Kind', 'Subject', 'Environment', 'Suspended'], r.anomalies.data.map((a) => [a.time, a.kind, a.subject, a.env, a.suspended ? 'yes' : 'no']));
    case 'incidents':
      return table(['Opened', 'Id', 'Environment', 'Kind', 'Status', 'Summary'], r.incidents.data.map((i) => [i.createdAt, i.id, i.env, i.kind, i.status, i.summary]));
    case 'auditChain': {
      const a = r.auditChain.data;
      if (!a) return '_Not available._\n';
      return a.ok
        ? `**VERIFIED**: ${a.entries} entries, ${a.checkpoints} signed checkpoint(s), last at seq ${a.lastCheckpointSeq ?? 'none'}; ${a.unprotectedEntries} entries not yet under a checkpoint.\n`
        : `**FAILED**: ${mdEscape(a.problem ?? 'unknown problem')} at seq ${a.firstBadSeq ?? '?'} (${a.entries} entries checked).\n`;
    }
  }
}

export function renderMarkdown(r: ComplianceReport): string {
  const out = [
    `# ${mdEscape(r.title)}`,
    '',
    `- Keyward: ${mdEscape(r.address)}`,
    `- Generated: ${r.generatedAt}`,
    `- Period: ${r.period.since} to ${r.period.until}`,
    `- Environments: ${r.environments.map(mdEscape).join(', ')}`,
    '',
  ];
  for (const key of SECTION_ORDER) {
    out.push(`## ${SECTION_TITLES[key]}`, '', `_${mdEscape(provenanceLine(r[key]))}_`, '', body(r, key));
  }
  return `${out.join('\n').trimEnd()}\n`;
}
