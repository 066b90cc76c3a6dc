/**
 * `keyward rotate --root [--wait]`: rotate the root KEK of the current environment (POST sys/rotate,
 * needs sudo) and, with --wait (default), follow the re-wrap job via sys/key-status until it is done.
 */
import type { Command } from 'commander';
import { cliContext } from '../context.js';

interface KeyStatus {
  term: number;
  rotation: { state: string; from_term?: number; to_term?: number; total?: number; done?: number };
}

export function register(program: Command): void {
  program
    .command('rotate')
    .description('rotate the environment\'s root key in the HSM and re-wrap every key version')
    .option('--root', 'rotate the root KEK (the only kind this command rotates)')
    .option('--no-wait', 'do not follow the re-wrap job')
    .option('--poll-ms <n>', 'progress poll interval', '1000')
    .action(async (o: { root?: boolean; wait: boolean; pollMs: string }, cmd: Command) => {
      if (!o.root) throw new Error('only --root is supported (transit keys rotate with `transit/keys/:name/rotate`)');
      const ctx = cliContext(cmd);
      const auth = ctx.token ? { token: ctx.token } : {};
      try {
        const started = await ctx.transport.json<{ data: { term: number; from_term: number; total: number } }>({ method: 'POST', path: '/v1/sys/rotate', body: {}, ...auth });
        process.stdout.write(`Root key rotated: term ${started.data.from_term} → ${started.data.term}; ${started.data.total} key versions to re-wrap\n`);
        if (!o.wait) return;
        const pollMs = Math.max(100, Number(o.pollMs) || 1000);
        for (;;) {
          const s = await ctx.transport.json<{ data: KeyStatus }>({ method: 'GET', path: '/v1/sys/key-status', ...auth });
          const r = s.data.rotation;
          process.stdout.write(`  ${r.state}: ${r.done ?? 0}/${r.total ?? 0}\n`);
          if (r.state !== 'rewrapping') break;
          await new Promise((res) => setTimeout(res, pollMs));
        }
        process.stdout.write('Re-wrap complete; the old root is retired and will be destroyed after the grace period.\n');
      } finally {
        ctx.transport.close();
      }
    });
}
