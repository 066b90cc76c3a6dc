/**
 * Resolves where and as whom a CLI command talks: flags first, then VAULT_ADDR, VAULT_TOKEN,
 * VAULT_CACERT, VAULT_NAMESPACE, then the token helper file (~/.keyward-token, 0600, written by
 * `keyward login`), then the dev server's files under ./.keyward-dev. Never prints the token.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Command } from 'commander';
import { HttpTransport } from '../sdk/http-client.js';

export interface CliContext {
  readonly transport: HttpTransport;
  readonly token: string | undefined;
  readonly address: string;
  readonly namespace: string | undefined;
}

export const TOKEN_HELPER_FILE = process.env['KEYWARD_TOKEN_FILE'] ?? path.join(os.homedir(), '.keyward-token');
const DEV_DIR = '.keyward-dev';

function readIfExists(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
}

export function writeTokenHelper(token: string): void {
  fs.writeFileSync(TOKEN_HELPER_FILE, `${token}\n`, { mode: 0o600 });
  fs.chmodSync(TOKEN_HELPER_FILE, 0o600);
}

/**
 * Step-up MFA credentials (`method:code`) sent as X-Vault-MFA with every request of this command:
 * from `--mfa` (repeatable), KEYWARD_MFA, or a `--mfa-prompt METHOD` answered on the terminal.
 */
let mfaCredentials: string[] = [];

export function setMfaCredentials(credentials: readonly string[]): void {
  mfaCredentials = credentials.filter((c) => /^[A-Za-z0-9_.-]+:\S+$/.test(c));
}

export function cliContext(cmd: Command): CliContext {
  const opts = cmd.optsWithGlobals<{ address?: string; token?: string; caCert?: string; namespace?: string }>();
  const address = opts.address ?? process.env['VAULT_ADDR'] ?? 'https://127.0.0.1:8200';
  const caFile = opts.caCert ?? process.env['VAULT_CACERT'] ?? (fs.existsSync(path.join(DEV_DIR, 'tls', 'ca.pem')) ? path.join(DEV_DIR, 'tls', 'ca.pem') : undefined);
  const namespace = opts.namespace ?? process.env['VAULT_NAMESPACE'] ?? undefined;
  const token = opts.token ?? process.env['VAULT_TOKEN'] ?? readIfExists(TOKEN_HELPER_FILE) ?? readIfExists(path.join(DEV_DIR, 'root.token'));
  const transport = new HttpTransport({
    address,
    ...(caFile ? { caFile } : {}),
    ...(namespace ? { namespace } : {}),
    ...(mfaCredentials.length > 0 ? { headers: { 'X-Vault-MFA': mfaCredentials.join(', ') } } : {}),
  });
  return { transport, token, address, namespace };
}
