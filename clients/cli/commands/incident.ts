/**
 * `keyward incident …`: run the incident playbooks and read incidents.
 *   keyward incident key-compromise --key NAME [--version N] [--revoke-tokens-since TIME] [--raise-min-decryption] [--format md|json]
 *   keyward incident credential-leak (--role NAME | --accessor ACC) [--days N] [--format md|json]
 *   keyward incident list [--status open|resolved] [--kind K]
 *   keyward incident show ID [--format md|json]
 * The environment is the global --namespace (or VAULT_NAMESPACE), e.g. `keyward --namespace prod incident …`;
 * `--env` is accepted here as a shorthand for it. Playbooks need sudo on sys/incidents/<playbook>.
 */
import type { Command } from 'commander';
import { cliContext, type CliContext } from '../context.js';

interface IncidentView {
  id: string;
  kind: string;
  status: string;
  env: string;
  actor: string;
  summary: string;
  created_at: string;
  updated_at: string;
  timeline?: Array<{ time: string; event: string; details: Record<string, unknown> }>;
  report?: string;
  events?: number;
}

interface PlaybookReply {
  data: { incident: IncidentView; created: boolean; report: unknown; report_markdown: string };
}

type Format = 'md' | 'json';

function formatOf(raw: string | undefined): Format {
  if (raw === undefined || raw === 'md' || raw === 'markdown') return 'md';
  if (raw === 'json') return 'json';
  throw new Error('--format must be md or json');
}

/** The CLI context, with `--env` (if given) standing in for the global --namespace. */
function contextFor(cmd: Command, env: string | undefined): CliContext {
  if (env !== undefined) {
    let root: Command = cmd;
    while (root.parent) root = root.parent;
    root.setOptionValue('namespace', env);
  }
  return cliContext(cmd);
}

async function runPlaybook(cmd: Command, env: string | undefined, path: string, body: Record<string, unknown>, format: Format): Promise<void> {
  const ctx = contextFor(cmd, env);
  try {
    const r = await ctx.transport.json<PlaybookReply>({ method: 'POST', path, body, ...(ctx.token ? { token: ctx.token } : {}), timeoutMs: 180_000 });
    const d = r.data;
    if (format === 'json') {
      process.stdout.write(`${JSON.stringify({ incident_id: d.incident.id, created: d.created, report: d.report }, null, 2)}\n`);
    } else {
      process.stderr.write(`${d.created ? 'Opened' : 'Continued'} incident ${d.incident.id}\n`);
      process.stdout.write(d.report_markdown);
    }
  } finally {
    ctx.transport.close();
  }
}

export function register(program: Command): void {
  const incident = program.command('incident').description('incident playbooks (key compromise, credential leak) and incident records');

  incident
    .command('key-compromise')
    .description('mark a key (or version) compromised, rotate it, rewrap stored data, optionally revoke tokens that used it')
    .requiredOption('--key <name>', 'transit key (or reserved key _kv / _wrap)')
    .option('--env <env>', 'environment (namespace)')
    .option('--version <n>', 'only this key version')
    .option('--revoke-tokens-since <time>', 'revoke tokens that used the key since this RFC 3339 time')
    .option('--raise-min-decryption', 'customer keys: raise min_decryption_version now (clients must have rewrapped)')
    .option('--format <format>', 'md or json', 'md')
    .action(async (o: { key: string; env?: string; version?: string; revokeTokensSince?: string; raiseMinDecryption?: boolean; format: string }, cmd: Command) => {
      const body: Record<string, unknown> = { key: o.key };
      if (o.version !== undefined) body['version'] = Number(o.version);
      if (o.revokeTokensSince !== undefined) body['revoke_tokens_since'] = o.revokeTokensSince;
      if (o.raiseMinDecryption) body['raise_min_decryption'] = true;
      await runPlaybook(cmd, o.env, '/v1/sys/incidents/key-compromise', body, formatOf(o.format));
    });

  incident
    .command('credential-leak')
    .description('revoke a leaked AppRole role\'s secret IDs and tokens (or one token by accessor), list what they did, suggest rotations')
    .option('--env <env>', 'environment (namespace)')
    .option('--role <name>', 'AppRole role whose credentials leaked')
    .option('--accessor <accessor>', 'accessor of the leaked token')
    .option('--days <n>', 'how far back to list activity', '7')
    .option('--format <format>', 'md or json', 'md')
    .action(async (o: { env?: string; role?: string; accessor?: string; days: string; format: string }, cmd: Command) => {
      if ((o.role === undefined) === (o.accessor === undefined)) throw new Error('give exactly one of --role or --accessor');
      const body: Record<string, unknown> = { days: Number(o.days) };
      if (o.role !== undefined) body['role'] = o.role;
      if (o.accessor !== undefined) body['accessor'] = o.accessor;
      await runPlaybook(cmd, o.env, '/v1/sys/incidents/credential-leak', body, formatOf(o.format));
    });

  incident
    .command('list')
    .description('incidents of the environment, newest first')
    .option('--env <env>', 'environment (namespace)')
    .option('--status <status>', 'open or resolved')
    .option('--kind <kind>', 'e.g. key-compromise, credential-leak')
    .option('--format <format>', 'md (a table) or json', 'md')
    .action(async (o: { env?: string; status?: string; kind?: string; format: string }, cmd: Command) => {
      const ctx = contextFor(cmd, o.env);
      try {
        const q = new URLSearchParams();
        if (o.status) q.set('status', o.status);
        if (o.kind) q.set('kind', o.kind);
        const r = await ctx.transport.json<{ data: { incidents: IncidentView[] } }>({ method: 'GET', path: `/v1/sys/incidents${q.size > 0 ? `?${q}` : ''}`, ...(ctx.token ? { token: ctx.token } : {}) });
        if (formatOf(o.format) === 'json') {
          process.stdout.write(`${JSON.stringify(r.data.incidents, null, 2)}\n`);
          return;
        }
        process.stdout.write('ID                                    KIND             STATUS    CREATED                   SUMMARY\n');
        for (const i of r.data.incidents) process.stdout.write(`${i.id}  ${i.kind.padEnd(15)}  ${i.status.padEnd(8)}  ${i.created_at}  ${i.summary}\n`);
      } finally {
        ctx.transport.close();
      }
    });

  incident
    .command('show <id>')
    .description('one incident: its report (md) or the record with its timeline (json)')
    .option('--env <env>', 'environment (namespace)')
    .option('--format <format>', 'md or json', 'md')
    .action(async (id: string, o: { env?: string; format: string }, cmd: Command) => {
      const ctx = contextFor(cmd, o.env);
      try {
        const r = await ctx.transport.json<{ data: IncidentView }>({ method: 'GET', path: `/v1/sys/incidents/${encodeURIComponent(id)}`, ...(ctx.token ? { token: ctx.token } : {}) });
        const i = r.data;
        if (formatOf(o.format) === 'json') {
          process.stdout.write(`${JSON.stringify(i, null, 2)}\n`);
          return;
        }
        if (i.report) {
          process.stdout.write(i.report.endsWith('\n') ? i.report : `${i.report}\n`);
          return;
        }
        process.stdout.write(`# Incident ${i.id}: ${i.kind} (${i.status})\n\n${i.summary}\n\n`);
        for (const e of i.timeline ?? []) process.stdout.write(`- ${e.time} ${e.event} ${JSON.stringify(e.details)}\n`);
      } finally {
        ctx.transport.close();
      }
    });
}
