/**
 * `keyward token create|lookup|revoke|capabilities`, over Vault's auth/token and sys/capabilities
 * endpoints. A created token is printed once, on stdout, for the caller to store; nothing else
 * prints a token.
 */
import type { Command } from 'commander';
import { cliContext } from '../context.js';
import type { RequestOptions } from '../../sdk/http-client.js';

async function api<T>(cmd: Command, opts: Omit<RequestOptions, 'token'>): Promise<T> {
  const ctx = cliContext(cmd);
  if (!ctx.token) throw new Error('no token: run `keyward login`, set VAULT_TOKEN or pass --token');
  try {
    return await ctx.transport.json<T>({ ...opts, token: ctx.token });
  } finally {
    ctx.transport.close();
  }
}

const collect = (v: string, acc: string[]): string[] => [...acc, ...v.split(',').filter((p) => p !== '')];
const print = (data: unknown): void => void process.stdout.write(`${JSON.stringify(data, null, 2)}\n`);

export function register(program: Command): void {
  const token = program.command('token').description('create, inspect and revoke tokens');

  token
    .command('create')
    .description('create a child token of the current token')
    .option('--policy <name>', 'policy (repeatable)', collect, [] as string[])
    .option('--ttl <duration>', 'lifetime, e.g. 1h')
    .option('--display-name <name>', 'display name')
    .option('--orphan', 'no parent (needs sudo)')
    .action(async (o: { policy: string[]; ttl?: string; displayName?: string; orphan?: boolean }, cmd: Command) => {
      const r = await api<{ auth: Record<string, unknown> }>(cmd, {
        method: 'POST',
        path: o.orphan ? '/v1/auth/token/create-orphan' : '/v1/auth/token/create',
        body: { ...(o.policy.length > 0 ? { policies: o.policy } : {}), ...(o.ttl ? { ttl: o.ttl } : {}), ...(o.displayName ? { display_name: o.displayName } : {}) },
      });
      print(r.auth);
    });

  token
    .command('lookup [token]')
    .description('show a token (default: the current one)')
    .option('--accessor <accessor>', 'look up by accessor instead')
    .action(async (t: string | undefined, o: { accessor?: string }, cmd: Command) => {
      const r = o.accessor
        ? await api<{ data: unknown }>(cmd, { method: 'POST', path: '/v1/auth/token/lookup-accessor', body: { accessor: o.accessor } })
        : t
          ? await api<{ data: unknown }>(cmd, { method: 'POST', path: '/v1/auth/token/lookup', body: { token: t } })
          : await api<{ data: unknown }>(cmd, { method: 'GET', path: '/v1/auth/token/lookup-self' });
      print(r.data);
    });

  token
    .command('revoke [token]')
    .description('revoke a token and its children')
    .option('--self', 'revoke the current token')
    .option('--accessor <accessor>', 'revoke by accessor')
    .action(async (t: string | undefined, o: { self?: boolean; accessor?: string }, cmd: Command) => {
      if (o.self) await api(cmd, { method: 'POST', path: '/v1/auth/token/revoke-self' });
      else if (o.accessor) await api(cmd, { method: 'POST', path: '/v1/auth/token/revoke-accessor', body: { accessor: o.accessor } });
      else if (t) await api(cmd, { method: 'POST', path: '/v1/auth/token/revoke', body: { token: t } });
      else throw new Error('give a token, --accessor or --self');
      process.stdout.write('Success! Revoked token (if it existed)\n');
    });

  token
    .command('capabilities <a> [b]')
    .description('capabilities on PATH of the current token, or of TOKEN (as `vault token capabilities [TOKEN] PATH`)')
    .action(async (a: string, b: string | undefined, _o, cmd: Command) => {
      const [tok, path] = b === undefined ? [undefined, a] : [a, b];
      const r = await api<{ data: Record<string, string[]> }>(cmd, {
        method: 'POST',
        path: tok ? '/v1/sys/capabilities' : '/v1/sys/capabilities-self',
        body: tok ? { token: tok, paths: [path] } : { paths: [path] },
      });
      process.stdout.write(`${(r.data[path.replace(/^\/+/, '')] ?? r.data['capabilities'] ?? []).join(', ')}\n`);
    });
}
