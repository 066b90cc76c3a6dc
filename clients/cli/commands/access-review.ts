/**
 * `keyward access-review [--path P] [--format json|csv] [--capability C] [--all]`: who (which roles)
 * can do what on P — or on every key and secret of the environment — as the server's JSON rows or
 * its CSV, written to stdout unchanged.
 */
import type { Command } from 'commander';
import { cliContext } from '../context.js';

export function register(program: Command): void {
  program
    .command('access-review')
    .description('which roles can do what on a path (or every key and secret) in this environment')
    .option('--path <path>', 'ACL path, e.g. transit/decrypt/payments')
    .option('--format <format>', 'json or csv', 'json')
    .option('--capability <cap>', 'only this capability (e.g. update)')
    .option('--all', 'include denied rows')
    .action(async (o: { path?: string; format: string; capability?: string; all?: boolean }, cmd: Command) => {
      if (o.format !== 'json' && o.format !== 'csv') throw new Error('--format must be json or csv');
      const ctx = cliContext(cmd);
      if (!ctx.token) throw new Error('no token: run `keyward login`, set VAULT_TOKEN or pass --token');
      const q = new URLSearchParams({ format: o.format });
      if (o.path) q.set('path', o.path);
      if (o.capability) q.set('capability', o.capability);
      if (o.all) q.set('all', 'true');
      try {
        const path = `/v1/sys/access-review?${q.toString()}`;
        if (o.format === 'csv') {
          const res = await ctx.transport.request({ method: 'GET', path, token: ctx.token });
          if (res.status >= 400) await ctx.transport.json({ method: 'GET', path, token: ctx.token }); // throws the API error
          process.stdout.write(res.body);
        } else {
          const r = await ctx.transport.json<{ data: { rows: unknown[] } }>({ method: 'GET', path, token: ctx.token });
          process.stdout.write(`${JSON.stringify(r.data.rows, null, 2)}\n`);
        }
      } finally {
        ctx.transport.close();
      }
    });
}
