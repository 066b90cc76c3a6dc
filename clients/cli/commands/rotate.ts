/**
 * `keyward rotate --root [--wait]`: rotate the root KEK of the current environment (POST sys/rotate,
 * needs sudo) and, with --wait (default), follow the re-wrap job via sys/key-status until it is done.
 *
 * `keyward rotate --rewrap [--key _kv] [--rotate] [--batch-size N]`: start the bulk rewrap of stored
 * data (POST sys/rewrap; `--rotate` rotates the reserved key first, which needs sudo) and follow it
 * with a single-line progress bar and ETA (polling GET sys/rewrap).
 */
import type { Command } from 'commander';
import { cliContext } from '../context.js';

interface RewrapStatus {
  state: string;
  key: string | null;
  target_version: number | null;
  total: number;
  done: number;
  failed: number;
  rate_per_second: number;
  eta_seconds: number | null;
}

/** One line, redrawn with \r on a terminal; plain lines otherwise (logs, CI). */
export function renderProgress(s: RewrapStatus, width = 30): string {
  const handled = s.done + s.failed;
  const frac = s.total > 0 ? Math.min(1, handled / s.total) : 1;
  const filled = Math.round(frac * width);
  const eta = s.eta_seconds === null ? '?' : `${s.eta_seconds}s`;
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${handled}/${s.total} ${(frac * 100).toFixed(0)}% ${s.rate_per_second}/s ETA ${eta}${s.failed > 0 ? ` (${s.failed} failed)` : ''}`;
}

interface KeyStatus {
  term: number;
  rotation: { state: string; from_term?: number; to_term?: number; total?: number; done?: number };
}

export function register(program: Command): void {
  program
    .command('rotate')
    .description('rotate the environment\'s root key in the HSM and re-wrap every key version')
    .option('--root', 'rotate the root KEK')
    .option('--rewrap', 're-seal stored data under the latest version of a reserved key (bulk rewrap job)')
    .option('--key <name>', 'with --rewrap: the reserved key (_kv or _wrap)', '_kv')
    .option('--rotate', 'with --rewrap: rotate the reserved key first (sudo)')
    .option('--batch-size <n>', 'with --rewrap: items per batch')
    .option('--no-wait', 'do not follow the job')
    .option('--poll-ms <n>', 'progress poll interval', '1000')
    .action(async (o: { root?: boolean; rewrap?: boolean; key: string; rotate?: boolean; batchSize?: string; wait: boolean; pollMs: string }, cmd: Command) => {
      if (!o.root && !o.rewrap) throw new Error('give --root or --rewrap (transit keys rotate with `transit/keys/:name/rotate`)');
      const ctx = cliContext(cmd);
      const auth = ctx.token ? { token: ctx.token } : {};
      if (o.rewrap) {
        try {
          const body = { key: o.key, ...(o.rotate ? { rotate: true } : {}), ...(o.batchSize ? { batch_size: Number(o.batchSize) } : {}) };
          const started = await ctx.transport.json<{ data: RewrapStatus & { started: boolean } }>({ method: 'POST', path: '/v1/sys/rewrap', body, ...auth });
          const d = started.data;
          process.stdout.write(`${d.started ? 'Rewrap started' : 'Rewrap already running'}: ${d.key} → v${d.target_version}, ${d.total} stored values below it\n`);
          if (!o.wait) return;
          const pollMs = Math.max(100, Number(o.pollMs) || 1000);
          const tty = process.stdout.isTTY === true;
          let s: RewrapStatus = d;
          for (;;) {
            s = (await ctx.transport.json<{ data: RewrapStatus }>({ method: 'GET', path: '/v1/sys/rewrap', ...auth })).data;
            process.stdout.write(tty ? `\r${renderProgress(s)}` : `${renderProgress(s)}\n`);
            if (s.state !== 'running') break;
            await new Promise((res) => setTimeout(res, pollMs));
          }
          if (tty) process.stdout.write('\n');
          process.stdout.write(`Rewrap ${s.state}: ${s.done} re-sealed, ${s.failed} failed\n`);
          if (s.state !== 'done' || s.failed > 0) process.exitCode = 1;
        } finally {
          ctx.transport.close();
        }
        return;
      }
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
