/**
 * Keyward response-wrapping tokens (`kww_` + 43 base62 + 6-char CRC-32 checksum). Candidates come
 * from the wrapping module's own pattern and are confirmed with its own format check, so the
 * scanner and unwrap agree on what a wrapping token is and look-alikes are not reported.
 */
import { WRAPPING_TOKEN_PATTERN, isWrappingTokenFormat } from '../../../vault/src/usecases/wrapping/wrapping-token.js';
import type { RawMatch, RuleInfo } from '../types.js';

export const WRAPPING_TOKEN_RULE: RuleInfo = {
  id: 'keyward-wrapping-token',
  name: 'Keyward response-wrapping token',
  description: 'A Keyward response-wrapping token (kww_…, checksum verified). Whoever unwraps it first receives the wrapped secret.',
  severity: 'high',
};

export function detectWrappingTokens(text: string): RawMatch[] {
  if (!text.includes('kww_')) return [];
  const out: RawMatch[] = [];
  for (const m of text.matchAll(new RegExp(WRAPPING_TOKEN_PATTERN.source, 'g'))) {
    if (!isWrappingTokenFormat(m[0])) continue;
    out.push({ rule: WRAPPING_TOKEN_RULE.id, severity: WRAPPING_TOKEN_RULE.severity, start: m.index, end: m.index + m[0].length, secret: m[0], keyward: 'wrapping-token' });
  }
  return out;
}
