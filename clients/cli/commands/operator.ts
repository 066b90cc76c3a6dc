/**
 * `keyward operator generate-root --config FILE [--ttl 1h] [--out FILE]`: issue a root token for a
 * production server (see vault/src/bootstrap/generate-root.ts). With --out the token is written to
 * a 0600 file and only its accessor is printed; otherwise the token goes to stdout, once.
 */
import fs from 'node:fs';
import type { Command } from 'commander';
import { pino } from 'pino';
import { generateRootToken } from '../../../vault/src/bootstrap/generate-root.js';
import { loadConfigFile } from '../../../vault/src/config.js';
import { parseDurationSeconds } from '../../../vault/src/http/schema.js';

export function register(program: Command): void {
  const operator = program.command('operator').description('operator tasks run against the server configuration');
  operator
    .command('generate-root')
    .description('issue a short-lived root token (audited); revoke it once policies and roles exist')
    .requiredOption('--config <file>', 'the server configuration file')
    .option('--ttl <duration>', 'lifetime of the root token', '1h')
    .option('--out <file>', 'write the token to this file (mode 0600) instead of stdout')
    .action(async (opts: { config: string; ttl: string; out?: string }) => {
      const ttlSeconds = parseDurationSeconds(opts.ttl);
      if (ttlSeconds <= 0) throw new Error('--ttl must be positive');
      const config = loadConfigFile(opts.config);
      const issued = await generateRootToken(config, { ttlSeconds, logger: pino({ level: 'warn' }, process.stderr) });
      if (opts.out) {
        fs.writeFileSync(opts.out, `${issued.token}\n`, { mode: 0o600 });
        fs.chmodSync(opts.out, 0o600);
        process.stdout.write(`Root token written to ${opts.out} (accessor ${issued.accessor}, expires ${issued.expiresAt.toISOString()})\n`);
      } else {
        process.stdout.write(`Root token: ${issued.token}\nAccessor: ${issued.accessor}\nExpires: ${issued.expiresAt.toISOString()}\n`);
      }
    });
}
