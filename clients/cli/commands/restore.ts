/**
 * `keyward restore --from FILE --data-dir DIR [--force]`: offline restore (the server must be stopped)
 * of a snapshot written by `keyward backup` into DIR/keyward.db (or `--db FILE`). Verifies the
 * snapshot's integrity and that this build knows its schema; keeps a replaced store beside it.
 */
import path from 'node:path';
import type { Command } from 'commander';
import { knownSchemaVersion, restoreDatabase } from '../../../vault/src/lifecycle/backup.js';

export function register(program: Command): void {
  program
    .command('restore')
    .description('restore a store snapshot (offline: stop the server first)')
    .requiredOption('--from <file>', 'snapshot written by `keyward backup`')
    .option('--data-dir <dir>', 'dev data directory (restores into <dir>/keyward.db)')
    .option('--db <file>', 'store file to restore into (production layout)')
    .option('--force', 'replace an existing store (kept as <file>.pre-restore-<time>)')
    .action((o: { from: string; dataDir?: string; db?: string; force?: boolean }) => {
      if (!o.dataDir && !o.db) throw new Error('give --data-dir DIR or --db FILE');
      const target = o.db ?? path.join(o.dataDir as string, 'keyward.db');
      const r = restoreDatabase({ from: o.from, target, knownSchemaVersion: knownSchemaVersion(), force: o.force === true });
      process.stdout.write(`Restored ${o.from} into ${target} (schema ${r.schemaVersion}, sha256 ${r.sha256})\n`);
      if (r.keptPrevious) process.stdout.write(`The previous store was kept as ${r.keptPrevious}\n`);
    });
}
