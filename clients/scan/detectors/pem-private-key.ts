/**
 * PEM private keys: `-----BEGIN (RSA |EC |ENCRYPTED |OPENSSH )?PRIVATE KEY-----`. The match (and so
 * the fingerprint) runs to the matching END line when there is one, so the same key pasted twice
 * has one fingerprint; public keys and certificates never match. Also finds keys embedded in JSON
 * strings (`\n` escapes), as in cloud credential files.
 */
import type { RawMatch, RuleInfo } from '../types.js';

export const PEM_RULE: RuleInfo = {
  id: 'pem-private-key',
  name: 'PEM private key',
  description: 'A PEM-encoded private key (RSA, EC, PKCS#8, encrypted PKCS#8 or OpenSSH).',
  severity: 'critical',
};

const BEGIN = /-----BEGIN (RSA |EC |ENCRYPTED |OPENSSH )?PRIVATE KEY-----/g;
const MAX_BLOCK = 64 * 1024;

export function detectPemPrivateKeys(text: string): RawMatch[] {
  if (!text.includes('PRIVATE KEY-----')) return [];
  const out: RawMatch[] = [];
  for (const m of text.matchAll(BEGIN)) {
    const endMarker = `-----END ${m[1] ?? ''}PRIVATE KEY-----`;
    const endAt = text.indexOf(endMarker, m.index + m[0].length);
    const end = endAt !== -1 && endAt - m.index < MAX_BLOCK ? endAt + endMarker.length : m.index + m[0].length;
    out.push({ rule: PEM_RULE.id, severity: PEM_RULE.severity, start: m.index, end, secret: text.slice(m.index, end) });
  }
  return out;
}
