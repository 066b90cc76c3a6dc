/**
 * `keyward login --method approle|jwt|token` - authenticate and store the token in the token
 * helper file (0600, see ../context.ts) for later commands. Prints the accessor and policies
 * only; the token itself only with --print-token.
 *
 * Step-up MFA: `--mfa method:code` (repeatable) is sent as Vault's X-Vault-MFA header on the login
 * request; the server decides whether the method satisfies a policy's mfa_methods.
 * Secrets are read from files (--secret-id-file, --jwt-file) or env (KEYWARD_SECRET_ID), never
 * taken as flag values.
 */
import type { Command } from 'commander';
import { cliContext, writeTokenHelper, TOKEN_HELPER_FILE } from '../context.js';
import { createClient } from '../../sdk/client.js';
import type { AuthConfig } from '../../sdk/types.js';
import { readSecretFile } from '../run/credentials.js';

interface LoginFlags {
  method: string;
  roleId?: string;
  roleIdFile?: string;
  secretIdFile?: string;
  role?: string;
  jwtFile?: string;
  mount?: string;
  mfa: string[];
  printToken?: boolean;
}

const collect = (v: string, prev: string[]): string[] => [...prev, v];

function authFor(flags: LoginFlags, contextToken: string | undefined): AuthConfig {
  switch (flags.method) {
    case 'approle': {
      const roleId = flags.roleId ?? (flags.roleIdFile ? readSecretFile(flags.roleIdFile, 'role id') : process.env['KEYWARD_ROLE_ID']);
      const secretId = flags.secretIdFile ? readSecretFile(flags.secretIdFile, 'secret id') : process.env['KEYWARD_SECRET_ID'];
      if (!roleId || !secretId) throw new Error('approle needs --role-id/--role-id-file (or KEYWARD_ROLE_ID) and --secret-id-file (or KEYWARD_SECRET_ID)');
      return { appRole: { roleId, secretId, ...(flags.mount ? { mount: flags.mount } : {}) } };
    }
    case 'jwt':
      if (!flags.role || !flags.jwtFile) throw new Error('jwt needs --role and --jwt-file');
      return { jwt: { role: flags.role, jwtFile: flags.jwtFile, ...(flags.mount ? { mount: flags.mount } : {}) } };
    case 'token':
      if (!contextToken) throw new Error('token method needs --token or VAULT_TOKEN');
      return { token: contextToken };
    default:
      throw new Error('--method must be approle, jwt or token');
  }
}

export function register(program: Command): void {
  program
    .command('login')
    .description('log in and store the token for later commands')
    .option('--method <method>', 'approle | jwt | token', 'token')
    .option('--role-id <id>', 'AppRole role id (not a secret)')
    .option('--role-id-file <file>', 'AppRole role id from a file')
    .option('--secret-id-file <file>', 'AppRole secret id from a file (or env KEYWARD_SECRET_ID)')
    .option('--role <role>', 'JWT role')
    .option('--jwt-file <file>', 'file holding the JWT')
    .option('--mount <path>', 'auth mount (default approle / jwt)')
    .option('--mfa <method:code>', 'step-up MFA credential sent with the login (repeatable)', collect, [])
    .option('--print-token', 'also print the token (it is a secret)')
    .action(async (flags: LoginFlags, cmd: Command) => {
      for (const m of flags.mfa) if (!/^[^:\s]+:\S+$/.test(m)) throw new Error('--mfa must be method:code');
      const ctx = cliContext(cmd);
      const client = createClient({ transport: ctx.transport, auth: authFor(flags, ctx.token), mfa: flags.mfa });
      try {
        const info = await client.login();
        const token = client.token();
        if (!token) throw new Error('login returned no token');
        writeTokenHelper(token);
        const lines = [`accessor: ${info.accessor ?? 'n/a'}`, `policies: ${info.policies.join(', ') || '(none)'}`];
        if (info.leaseDurationSeconds > 0) lines.push(`ttl: ${info.leaseDurationSeconds}s`);
        lines.push(`token stored in ${TOKEN_HELPER_FILE}`);
        if (flags.printToken) lines.push(`token: ${token}`);
        process.stdout.write(lines.join('\n') + '\n');
      } finally {
        client.close();
      }
    });
}
