/**
 * `keyward report [--format md|json|html] [--since 30d] [--output FILE] [--env ENV]…`: the compliance
 * evidence report (key rotation, prod decrypt access, MFA coverage, revocations, anomalies,
 * incidents, audit chain), assembled from the API with the caller's token. Sections the token cannot
 * read, or this Keyward does not offer, say so instead of failing the report. Never prints secrets.
 */
import fs from 'node:fs';
import type { Command } from 'commander';
import { collectReport, parseSince, renderReport, type ReportFormat } from '../../report/index.js';
import { cliContext } from '../context.js';

const collect = (value: string, previous: string[]): string[] => [...previous, value];

export function register(program: Command): void {
  program
    .command('report')
    .description('compliance evidence report: key rotation, prod decrypt access, MFA coverage, revocations, anomalies, incidents, audit chain')
    .option('--format <format>', 'md | json | html', 'md')
    .option('--since <period>', 'start of the period: 30d, 12h, 2w or an ISO-8601 time', '30d')
    .option('--output <file>', 'write the report to a file instead of stdout')
    .option('--env <env>', 'environment to include (repeatable; default dev, staging, prod)', collect, [])
    .option('--prod-env <env>', 'the production environment', 'prod')
    .action(async (flags: { format: string; since: string; output?: string; env: string[]; prodEnv: string }, cmd: Command) => {
      if (!['md', 'json', 'html'].includes(flags.format)) throw new Error('--format must be md, json or html');
      const ctx = cliContext(cmd);
      const now = new Date();
      const report = await collectReport({
        get: (path, namespace) =>
          ctx.transport.json({ method: 'GET', path, ...(ctx.token ? { token: ctx.token } : {}), ...(namespace ? { headers: { 'x-vault-namespace': namespace } } : {}) }),
        address: ctx.address,
        environments: flags.env.length > 0 ? flags.env : ['dev', 'staging', 'prod'],
        prodEnvironment: flags.prodEnv,
        since: parseSince(flags.since, now),
        now,
      });
      const text = renderReport(report, flags.format as ReportFormat);
      if (flags.output) fs.writeFileSync(flags.output, text, { mode: 0o644 });
      else process.stdout.write(text);
      ctx.transport.close();
    });
}
