/**
 * Keyward tokens: compact JWS whose header says ES256 with a `kid` (Keyward's signer always writes
 * {alg:'ES256', typ:'JWT', kid}, jwt-signer.ts) and whose payload `iss` is one of the configured
 * issuers. Decoded WITHOUT verifying — a leaked token is a leak whether or not its signature still
 * verifies — but the signature must be 64 bytes (raw r||s, RFC 7518 §3.4), which filters JWTs of
 * other shapes. Reports `exp`, `sub` and `env`, never the token.
 */
import type { RawMatch, RuleInfo } from '../types.js';

export const TOKEN_RULE: RuleInfo = {
  id: 'keyward-token',
  name: 'Keyward token',
  description: 'A Keyward access token (ES256 JWT issued by this Keyward). It authenticates as its subject until it expires or is revoked.',
  severity: 'critical',
};

const JWS = /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{10,2048}\.eyJ[A-Za-z0-9_-]{10,8192}\.[A-Za-z0-9_-]{86}(?![A-Za-z0-9_.-])/g;

function decodePart(part: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

export function detectKeywardTokens(text: string, issuers: readonly string[]): RawMatch[] {
  if (!text.includes('eyJ')) return [];
  const out: RawMatch[] = [];
  for (const m of text.matchAll(JWS)) {
    const [h = '', p = ''] = m[0].split('.');
    const header = decodePart(h);
    const payload = decodePart(p);
    if (!header || !payload) continue;
    if (header['alg'] !== 'ES256' || typeof header['kid'] !== 'string') continue;
    if (typeof payload['iss'] !== 'string' || !issuers.includes(payload['iss'])) continue;
    const meta: Record<string, string | number> = {};
    if (typeof payload['exp'] === 'number') meta['exp'] = new Date(payload['exp'] * 1000).toISOString();
    if (typeof payload['sub'] === 'string') meta['sub'] = payload['sub'];
    if (typeof payload['env'] === 'string') meta['env'] = payload['env'];
    out.push({ rule: TOKEN_RULE.id, severity: TOKEN_RULE.severity, start: m.index, end: m.index + m[0].length, secret: m[0], keyward: 'token', meta });
  }
  return out;
}
