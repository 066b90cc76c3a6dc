/**
 * Parses Vault's step-up MFA header: `X-Vault-MFA: <method name>:<passcode>`. Several methods may be
 * given as repeated headers (which Node joins with ", ") or comma-separated. Entries without a colon
 * or with an empty name are ignored; the passcode is never logged.
 */
export interface MfaCredential {
  readonly method: string;
  readonly passcode: string;
}

export function parseMfaHeader(header: string | readonly string[] | undefined): MfaCredential[] {
  if (header === undefined) return [];
  const raw = typeof header === 'string' ? [header] : [...header];
  const out: MfaCredential[] = [];
  for (const part of raw.flatMap((h) => h.split(','))) {
    const entry = part.trim();
    const colon = entry.indexOf(':');
    if (colon <= 0) continue;
    out.push({ method: entry.slice(0, colon).trim(), passcode: entry.slice(colon + 1).trim() });
    if (out.length >= 8) break; // bounded work per request
  }
  return out;
}
