/**
 * Runs every detector over one text and turns raw matches into Findings (position, fingerprint,
 * redacted prefix). Keyward's own detectors win over provider rules when a provider match lies
 * inside one of theirs (secretlint's private-key rule inside our PEM block), so one leak is one
 * finding. The secret itself is copied into `revocable` only for Keyward credentials, only when the
 * caller asks (for `--revoke`).
 */
import { detectSecretIds } from './detectors/keyward-secret-id.js';
import { detectKeywardTokens } from './detectors/keyward-token.js';
import { detectWrappingTokens } from './detectors/keyward-wrapping-token.js';
import { detectPemPrivateKeys } from './detectors/pem-private-key.js';
import { detectProviderCredentials } from './detectors/provider-rules.js';
import { fingerprintOf, positionOf, redact } from './fingerprint.js';
import type { Finding, FindingSource, RawMatch, RevocableSecrets, ScanOptions } from './types.js';

export const DEFAULT_ISSUERS: readonly string[] = ['keyward'];

export interface ContentOrigin {
  readonly file: string;
  readonly source: FindingSource;
  readonly commit?: string;
}

export async function detectAll(text: string, filePath: string, options: ScanOptions = {}): Promise<RawMatch[]> {
  const builtin = [
    ...detectSecretIds(text),
    ...detectWrappingTokens(text),
    ...detectKeywardTokens(text, options.issuers && options.issuers.length > 0 ? options.issuers : DEFAULT_ISSUERS),
    ...detectPemPrivateKeys(text),
  ];
  const provider = (await detectProviderCredentials(text, filePath)).filter((p) => !builtin.some((b) => p.start >= b.start && p.end <= b.end));
  const seen = new Set<string>();
  return [...builtin, ...provider]
    .sort((a, b) => a.start - b.start || a.rule.localeCompare(b.rule))
    .filter((m) => {
      const k = `${m.rule}\0${m.start}\0${m.end}`;
      return seen.has(k) ? false : (seen.add(k), true);
    });
}

export async function scanText(text: string, origin: ContentOrigin, options: ScanOptions = {}, revocable?: RevocableSecrets): Promise<Finding[]> {
  const matches = await detectAll(text, origin.file, options);
  return matches.map((m) => {
    const { line, column } = positionOf(text, m.start);
    const fingerprint = fingerprintOf(m.secret);
    if (revocable && m.keyward) revocable.set(fingerprint, { kind: m.keyward, secret: m.secret });
    return {
      rule: m.rule,
      file: origin.file,
      line,
      column,
      fingerprint,
      redacted: redact(m.secret),
      severity: m.severity,
      source: origin.source,
      ...(origin.commit ? { commit: origin.commit } : {}),
      ...(m.keyward ? { keyward: m.keyward } : {}),
      ...(m.meta ? { meta: m.meta } : {}),
    };
  });
}
