/**
 * Third-party credentials through secretlint's recommended preset (AWS, GCP service-account JSON,
 * GitHub, Slack, npm, SendGrid, Shopify, OpenAI, Anthropic, Linear, 1Password, basic auth in URLs,
 * database connection strings, private keys), plus Stripe keys, which that preset lacks (pattern
 * after gitleaks' `stripe-access-token` rule).
 *
 * secretlint messages quote the secret in their text: only ruleId, messageId, range and the data
 * value (to locate the secret exactly) are read here; the message text is dropped.
 */
import path from 'node:path';
import { lintSource } from '@secretlint/core';
import { creator as recommendedPreset } from '@secretlint/secretlint-rule-preset-recommend';
import type { RawMatch, RuleInfo, Severity } from '../types.js';

const PRESET_ID = '@secretlint/secretlint-rule-preset-recommend';

export const STRIPE_RULE: RuleInfo = {
  id: 'stripe-api-key',
  name: 'Stripe API key',
  description: 'A Stripe secret or restricted API key (sk_/rk_ live, test or prod).',
  severity: 'high',
};

const STRIPE = /(?<![A-Za-z0-9_])(?:sk|rk)_(?:live|test|prod)_[0-9A-Za-z]{10,99}(?![A-Za-z0-9_])/g;

/** Rule ids of secretlint messages: `secretlint/<rule>/<messageId>`, e.g. `secretlint/aws/AWSSecretAccessKey`. */
export function providerRuleId(ruleId: string, messageId: string): string {
  return `secretlint/${ruleId.replace(/^@secretlint\/secretlint-rule-/, '')}/${messageId}`;
}

export function providerRuleInfo(id: string, helpUri?: string): RuleInfo {
  if (id === STRIPE_RULE.id) return STRIPE_RULE;
  const [, rule = '', messageId = ''] = id.split('/');
  return {
    id,
    name: `${rule} ${messageId}`.trim(),
    description: `Third-party credential found by secretlint rule ${rule} (${messageId}).`,
    severity: providerSeverity(rule),
    ...(helpUri ? { helpUri } : {}),
  };
}

function providerSeverity(rule: string): Severity {
  return rule === 'basicauth' || rule === 'database-connection-string' ? 'medium' : 'high';
}

/** The credential a secretlint message points at: its data value, searched from the reported start. */
function locate(content: string, range: readonly [number, number], data: unknown): { start: number; end: number } {
  if (data && typeof data === 'object') {
    for (const [k, v] of Object.entries(data as Record<string, unknown>)) {
      if (k === 'FILE_NAME' || k === 'typeName' || typeof v !== 'string' || v.length < 8) continue;
      const at = content.indexOf(v, Math.max(0, range[0]));
      if (at !== -1 && at <= range[1] + v.length + 256) return { start: at, end: at + v.length };
    }
  }
  return { start: range[0], end: Math.max(range[0] + 1, range[1]) };
}

export async function detectProviderCredentials(content: string, filePath: string): Promise<RawMatch[]> {
  const out: RawMatch[] = [];
  const result = await lintSource({
    // `ext` drives file-type rules (GCP service-account JSON); secretlint does not derive it.
    source: { filePath, ext: path.extname(filePath), content, contentType: 'text' },
    options: {
      config: {
        rules: [
          {
            id: PRESET_ID,
            rule: recommendedPreset,
            rules: [
              // Access key IDs too (off by default in secretlint); account IDs are not secrets.
              { id: '@secretlint/secretlint-rule-aws', options: { enableIDScanRule: true }, allowMessageIds: ['AWSAccountID'] },
            ],
          },
        ],
      },
    },
  });
  for (const m of result.messages) {
    const id = providerRuleId(m.ruleId, m.messageId);
    const { start, end } = locate(content, m.range, m.data);
    out.push({ rule: id, severity: providerRuleInfo(id).severity, start, end, secret: content.slice(start, end) });
  }
  for (const m of content.matchAll(STRIPE)) {
    out.push({ rule: STRIPE_RULE.id, severity: STRIPE_RULE.severity, start: m.index, end: m.index + m[0].length, secret: m[0] });
  }
  return out;
}
