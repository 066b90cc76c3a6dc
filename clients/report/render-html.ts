/**
 * HTML rendering: one self-contained page (inline CSS, no scripts, no external resources) that can
 * be attached to an audit. Every value from the API goes through `htmlEscape`; the page also sets
 * a CSP that forbids scripts, so even a rendering bug could not run code from a hostile key name.
 */
import type { ComplianceReport } from './model.js';
import { SECTION_ORDER, SECTION_TITLES, days, provenanceLine, type SectionKey } from './render-shared.js';

export function htmlEscape(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

const CSS = `body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1200px;color:#1b1f24;padding:0 1rem}
h1{font-size:1.6rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #d0d7de;padding-bottom:.3rem}
table{border-collapse:collapse;width:100%;margin:.5rem 0}th,td{border:1px solid #d0d7de;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}.prov{color:#57606a;font-size:.85rem}.bad{color:#cf222e;font-weight:600}.good{color:#1a7f37;font-weight:600}
.na{color:#9a6700}`;

function table(head: readonly string[], rows: readonly (readonly unknown[])[], badCol?: (row: readonly unknown[]) => boolean): string {
  if (rows.length === 0) return '<p><em>None.</em></p>';
  const th = head.map((h) => `<th>${htmlEscape(h)}</th>`).join('');
  const trs = rows.map((r) => `<tr${badCol?.(r) ? ' class="bad"' : ''}>${r.map((c) => `<td>${htmlEscape(c)}</td>`).join('')}</tr>`).join('\n');
  return `<table><thead><tr>${th}</tr></thead><tbody>\n${trs}\n</tbody></table>`;
}

function body(r: ComplianceReport, key: SectionKey): string {
  switch (key) {
    case 'keyInventory': {
      const overdue = r.keyInventory.data.filter((k) => k.rotation === 'overdue').length;
      return (
        `<p>${r.keyInventory.data.length} key(s); <span class="${overdue > 0 ? 'bad' : 'good'}">${overdue} overdue</span> for rotation (limit: auto_rotate_period, else ${r.defaultMaxKeyAgeDays} days).</p>` +
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
          (row) => row[8] === 'OVERDUE',
        )
      );
    }
    case 'prodDecrypt':
      return table(['Role', 'Kind', 'Decrypt paths', 'Granting policies', 'MFA'], r.prodDecrypt.data.map((g) => [g.role, g.kind, g.paths.join(', '), g.grantingPolicies.join(', '), g.mfaMethods.join(', ') || 'none']));
    case 'mfaCoverage': {
      const c = r.mfaCoverage.data;
      if (!c) return '<p class="na">Not available.</p>';
      return `<p><span class="${c.withMfa === c.criticalGrants ? 'good' : 'bad'}">${c.withMfa} of ${c.criticalGrants}</span> critical grant(s) require MFA.</p>` + table(['Role', 'Path', 'Capability'], c.uncovered.map((u) => [u.role, u.path, u.capability]));
    }
    case 'revocations':
      return table(['Time', 'Operation', 'By', 'Environment', 'Path'], r.revocations.data.map((e) => [e.time, e.operation, e.subject, e.env, e.path]));
    case 'anomalies':
      return table(['Time', 'Kind', 'Subject', 'Environment', 'Suspended'], r.anomalies.data.map((a) => [a.time, a.kind, a.subject, a.env, a.suspended ? 'yes' : 'no']));
    case 'incidents':
      return table(['Opened', 'Id', 'Environment', 'Kind', 'Status', 'Summary'], r.incidents.data.map((i) => [i.createdAt, i.id, i.env, i.kind, i.status, i.summary]));
    case 'auditChain': {
      const a = r.auditChain.data;
      if (!a) return '<p class="na">Not available.</p>';
      return a.ok
        ? `<p class="good">VERIFIED: ${a.entries} entries, ${a.checkpoints} signed checkpoint(s), last at seq ${htmlEscape(a.lastCheckpointSeq ?? 'none')}; ${a.unprotectedEntries} entries not yet under a checkpoint.</p>`
        : `<p class="bad">FAILED: ${htmlEscape(a.problem ?? 'unknown problem')} at seq ${htmlEscape(a.firstBadSeq ?? '?')} (${a.entries} entries checked).</p>`;
    }
  }
}

export function renderHtml(r: ComplianceReport): string {
  const sections = SECTION_ORDER.map(
    (key) => `<section id="${key}"><h2>${htmlEscape(SECTION_TITLES[key])}</h2>\n<p class="prov">${htmlEscape(provenanceLine(r[key]))}</p>\n${body(r, key)}</section>`,
  ).join('\n');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>${htmlEscape(r.title)}</title><style>${CSS}</style></head>
<body><h1>${htmlEscape(r.title)}</h1>
<ul><li>Keyward: ${htmlEscape(r.address)}</li><li>Generated: ${htmlEscape(r.generatedAt)}</li><li>Period: ${htmlEscape(r.period.since)} to ${htmlEscape(r.period.until)}</li><li>Environments: ${htmlEscape(r.environments.join(', '))}</li></ul>
${sections}
</body></html>
`;
}
