/**
 * Keyward response-wrapping tokens (`kww_` prefix). The wrapping module owns the format; until it
 * exports a validator, this detector checks the shape only (prefix + 24–256 URL-safe characters,
 * bounded by non-token characters) — the `kww_` prefix is specific enough that a shape match is
 * worth reporting. Pass `ScanOptions.isValidWrappingToken` to confirm candidates with the real check.
 */
import type { RawMatch, RuleInfo } from '../types.js';

export const WRAPPING_TOKEN_RULE: RuleInfo = {
  id: 'keyward-wrapping-token',
  name: 'Keyward response-wrapping token',
  description: 'A Keyward response-wrapping token (kww_…). Whoever unwraps it first receives the wrapped secret.',
  severity: 'high',
};

const CANDIDATE = /(?<![A-Za-z0-9_-])kww_[A-Za-z0-9_-]{24,256}(?![A-Za-z0-9_-])/g;

export function defaultWrappingTokenCheck(value: string): boolean {
  return /^kww_[A-Za-z0-9_-]{24,256}$/.test(value);
}

export function detectWrappingTokens(text: string, isValid: (value: string) => boolean = defaultWrappingTokenCheck): RawMatch[] {
  if (!text.includes('kww_')) return [];
  const out: RawMatch[] = [];
  for (const m of text.matchAll(CANDIDATE)) {
    if (!isValid(m[0])) continue;
    out.push({ rule: WRAPPING_TOKEN_RULE.id, severity: WRAPPING_TOKEN_RULE.severity, start: m.index, end: m.index + m[0].length, secret: m[0], keyward: 'wrapping-token' });
  }
  return out;
}
