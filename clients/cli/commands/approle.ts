/**
 * `keyward approle …` helpers over Vault's AppRole API:
 *   role-id ROLE        prints the role's role_id (not secret)
 *   secret-id ROLE      generates a secret ID and prints it and its accessor — shown once; store it now
 *   login               logs in with --role-id and a secret ID read from stdin or $KEYWARD_SECRET_ID
 *                       (never from argv, which other users can read in the process list)
 */
import fs from 'node:fs';
import type { Command } from 'commander';
import { cliContext } from '../context.js';
import type { RequestOptions } from '../../sdk/http-client.js';

async function api<T>(cmd: Command, opts: Omit<RequestOptions, 'token'>, needToken = true): Promise<T> {
  const ctx = cliContext(cmd);
  if (needToken && !ctx.token) throw new Error('no token: run `keyward login`, set VAULT_TOKEN or pass --token');
  try {
    return await ctx.transport.json<T>({ ...opts, ...(needToken && ctx.token ? { token: ctx.token } : {}) });
  } finally {
    ctx.transport.close();
  }
}

const ROLE_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
function rolePath(role: string): string {
  if (!ROLE_RE.test(role)) throw new Error('invalid role name');
  return `/v1/auth/approle/role/${encodeURIComponent(role)}`;
}

export function register(program: Command): void {
  const approle = program.command('approle').description('AppRole helpers for services');

  approle
    .command('role-id <role>')
    .description("print the role's role_id")
    .action(async (role: string, _o: unknown, cmd: Command) => {
      const r = await api<{ data: { role_id: string } }>(cmd, { method: 'GET', path: `${rolePath(role)}/role-id` });
      process.stdout.write(`${r.data.role_id}\n`);
    });

  approle
    .command('secret-id <role>')
    .description('generate a secret ID (printed once, with its accessor)')
    .option('--ttl <duration>', 'lifetime, e.g. 24h (at most the role secret_id_ttl)')
    .option('--num-uses <n>', 'number of logins allowed (0 = role default/unlimited)')
    .option('--cidr <list>', 'comma-separated CIDR blocks allowed to log in with it')
    .option('--json', 'print JSON')
    .action(async (role: string, o: { ttl?: string; numUses?: string; cidr?: string; json?: boolean }, cmd: Command) => {
      const r = await api<{ data: { secret_id: string; secret_id_accessor: string; secret_id_ttl: number; secret_id_num_uses: number } }>(cmd, {
        method: 'POST',
        path: `${rolePath(role)}/secret-id`,
        body: { ...(o.ttl ? { ttl: o.ttl } : {}), ...(o.numUses ? { num_uses: o.numUses } : {}), ...(o.cidr ? { cidr_list: o.cidr } : {}) },
      });
      if (o.json) {
        process.stdout.write(`${JSON.stringify(r.data, null, 2)}\n`);
        return;
      }
      process.stdout.write(
        `secret_id           ${r.data.secret_id}\nsecret_id_accessor  ${r.data.secret_id_accessor}\nsecret_id_ttl       ${r.data.secret_id_ttl}\nsecret_id_num_uses  ${r.data.secret_id_num_uses}\n`,
      );
      process.stderr.write('The secret ID is shown only now; Keyward keeps only a keyed hash of it.\n');
    });

  approle
    .command('login')
    .description('log in with a role ID and a secret ID (from $KEYWARD_SECRET_ID or stdin); prints the token')
    .requiredOption('--role-id <id>', 'role ID')
    .action(async (o: { roleId: string }, cmd: Command) => {
      const secretId = (process.env['KEYWARD_SECRET_ID'] ?? fs.readFileSync(0, 'utf8')).trim();
      const r = await api<{ auth: { client_token: string } }>(cmd, { method: 'POST', path: '/v1/auth/approle/login', body: { role_id: o.roleId, secret_id: secretId } }, false);
      process.stdout.write(`${r.auth.client_token}\n`);
    });
}
