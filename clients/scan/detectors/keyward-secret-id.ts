/**
 * Keyward AppRole secret IDs (`kwsid_` + 32 base62 + 6-char CRC-32 checksum). Candidates come from
 * the approle module's own pattern and are confirmed with its own checksum check, so the scanner
 * and login agree on what a secret ID is, and look-alikes (wrong checksum, wrong prefix, random
 * base62) are not reported.
 */
import { SECRET_ID_PATTERN, isValidSecretIdFormat } from '../../../vault/src/auth/approle/secret-id-format.js';
import type { RawMatch, RuleInfo } from '../types.js';

export const SECRET_ID_RULE: RuleInfo = {
  id: 'keyward-secret-id',
  name: 'Keyward AppRole secret ID',
  description: 'A Keyward AppRole secret ID (kwsid_…, checksum verified). Anyone holding it and the role ID can log in as the service.',
  severity: 'critical',
};

export function detectSecretIds(text: string): RawMatch[] {
  if (!text.includes('kwsid_')) return [];
  const out: RawMatch[] = [];
  for (const m of text.matchAll(new RegExp(SECRET_ID_PATTERN.source, 'g'))) {
    if (!isValidSecretIdFormat(m[0])) continue;
    out.push({ rule: SECRET_ID_RULE.id, severity: SECRET_ID_RULE.severity, start: m.index, end: m.index + m[0].length, secret: m[0], keyward: 'secret-id' });
  }
  return out;
}
