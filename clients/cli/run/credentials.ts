/**
 * Chooses how a non-interactive CLI command (run, login) authenticates, without ever taking a
 * secret as a command-line value (those show up in `ps` and shell history):
 *   1. a wrapping token (--unwrap-token, or env KEYWARD_UNWRAP_TOKEN)
 *   2. AppRole: role id from --role-id / --role-id-file / KEYWARD_ROLE_ID, secret id from
 *      --secret-id-file / KEYWARD_SECRET_ID
 *   3. the context token (--token, VAULT_TOKEN, token helper file)
 */
import fs from 'node:fs';
import { KeywardError } from '../../../vault/src/core/errors.js';
import type { AuthConfig } from '../../sdk/types.js';

export interface CredentialFlags {
  readonly unwrapToken?: string;
  readonly roleId?: string;
  readonly roleIdFile?: string;
  readonly secretIdFile?: string;
}

/** Env vars holding credentials; `keyward run` strips them from the child's environment. */
export const CREDENTIAL_ENV_VARS = ['KEYWARD_UNWRAP_TOKEN', 'KEYWARD_SECRET_ID', 'KEYWARD_ROLE_ID'] as const;

export function readSecretFile(file: string, what: string): string {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8').trim();
  } catch {
    throw new KeywardError('ERR_INVALID_INPUT', `cannot read ${what} file ${file}`);
  }
  if (!text) throw new KeywardError('ERR_INVALID_INPUT', `${what} file ${file} is empty`);
  return text;
}

export function resolveAuth(flags: CredentialFlags, contextToken: string | undefined, env: NodeJS.ProcessEnv = process.env): AuthConfig {
  const wrapping = flags.unwrapToken ?? env['KEYWARD_UNWRAP_TOKEN'];
  const roleId = flags.roleId ?? (flags.roleIdFile ? readSecretFile(flags.roleIdFile, 'role id') : env['KEYWARD_ROLE_ID']);
  // A wrapped secret ID is paired with a role id delivered another way (secure introduction).
  if (wrapping) return roleId ? { wrappingToken: wrapping, roleId } : { wrappingToken: wrapping };
  const secretId = flags.secretIdFile ? readSecretFile(flags.secretIdFile, 'secret id') : env['KEYWARD_SECRET_ID'];
  if (roleId || secretId) {
    if (!roleId || !secretId) throw new KeywardError('ERR_INVALID_INPUT', 'AppRole needs both a role id and a secret id');
    return { appRole: { roleId, secretId } };
  }
  if (contextToken) return { token: contextToken };
  throw new KeywardError('ERR_PERMISSION_DENIED', 'no credentials: give --unwrap-token, AppRole (KEYWARD_ROLE_ID/KEYWARD_SECRET_ID or --role-id-file/--secret-id-file) or a token');
}
