/**
 * `keyward backup --out FILE`: asks the running server for a consistent online snapshot of its store
 * (POST /v1/sys/storage/backup, needs sudo) and writes it to FILE (0600) after checking its SHA-256.
 * The snapshot holds wrapped key material only: pair it with a backup of the HSM token taken at the
 * same time, or it cannot be used (see vault/src/lifecycle/NOTES.md).
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import type { Command } from 'commander';
import { cliContext } from '../context.js';

interface BackupData {
  format: string;
  schema_version: number;
  created_at: string;
  sha256: string;
  size: number;
  snapshot: string;
}

export function register(program: Command): void {
  program
    .command('backup')
    .description('write a consistent snapshot of the server\'s store to a file (needs sudo on sys/storage/backup)')
    .requiredOption('--out <file>', 'where to write the snapshot (mode 0600)')
    .action(async (o: { out: string }, cmd: Command) => {
      const ctx = cliContext(cmd);
      try {
        const res = await ctx.transport.json<{ data: BackupData }>({ method: 'POST', path: '/v1/sys/storage/backup', body: {}, ...(ctx.token ? { token: ctx.token } : {}), timeoutMs: 300_000 });
        const bytes = Buffer.from(res.data.snapshot, 'base64');
        const sha256 = crypto.createHash('sha256').update(bytes).digest('hex');
        if (sha256 !== res.data.sha256 || bytes.length !== res.data.size) throw new Error('the snapshot arrived damaged (checksum mismatch); nothing written');
        fs.writeFileSync(o.out, bytes, { mode: 0o600 });
        fs.chmodSync(o.out, 0o600);
        process.stdout.write(`Backup written to ${o.out} (${bytes.length} bytes, schema ${res.data.schema_version}, sha256 ${sha256})\n`);
        process.stdout.write('Remember: it is useless without a backup of the HSM token taken at the same time.\n');
      } finally {
        ctx.transport.close();
      }
    });
}
