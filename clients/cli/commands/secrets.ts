/**
 * `keyward secrets get|put|list|delete|history` - KV v2 secrets at mount `secret`, like
 * `vault kv`. Values for `put` come from `k=v`, `k=@file` or `k=-` (stdin, once), so secrets need
 * not appear on the command line. Nothing here logs a value; `get` prints what was asked for.
 */
import fs from 'node:fs';
import type { Command } from 'commander';
import { readStdin, tokenClient } from '../run/cli-client.js';
import type { KeywardClient } from '../../sdk/client.js';
import type { KvVersionMetadata } from '../../sdk/types.js';

type Format = 'json' | 'table';

function parseFormat(v: string | undefined): Format {
  if (v === undefined || v === 'table') return 'table';
  if (v === 'json') return 'json';
  throw new Error('--format must be json or table');
}

function table(rows: ReadonlyArray<readonly [string, string]>): string {
  const w = Math.max(3, ...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `${k.padEnd(w)}    ${v}`).join('\n') + '\n';
}

const show = (v: unknown): string => (typeof v === 'string' ? v : JSON.stringify(v));
const metaRows = (m: KvVersionMetadata): Array<[string, string]> => [
  ['version', String(m.version)],
  ['created_time', m.createdTime ?? 'n/a'],
  ['deletion_time', m.deletionTime ?? 'n/a'],
  ['destroyed', String(m.destroyed)],
];

/** Parse `k=v`, `k=@file`, `k=-` into a data object; `-` may be used once. */
export async function parsePairs(pairs: readonly string[], stdin: () => Promise<Buffer> = readStdin): Promise<Record<string, string>> {
  const data: Record<string, string> = {};
  let stdinUsed = false;
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    // Never echo the argument: a mistyped pair may be a secret value.
    if (eq <= 0) throw new Error('expected key=value (or key=@file, key=-)');
    const key = pair.slice(0, eq);
    const raw = pair.slice(eq + 1);
    if (raw === '-') {
      if (stdinUsed) throw new Error('only one value can come from stdin');
      stdinUsed = true;
      data[key] = (await stdin()).toString('utf8').replace(/\r?\n$/, '');
    } else if (raw.startsWith('@')) {
      data[key] = fs.readFileSync(raw.slice(1), 'utf8');
    } else {
      data[key] = raw;
    }
  }
  return data;
}

async function withClient<T>(cmd: Command, fn: (c: KeywardClient) => Promise<T>): Promise<T> {
  const client = tokenClient(cmd);
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}

export function register(program: Command): void {
  const secrets = program.command('secrets').description('read and write KV v2 secrets (mount "secret")');

  secrets
    .command('get <path>')
    .option('--field <name>', 'print only this field (no trailing newline)')
    .option('--version <n>', 'read this version')
    .option('--format <fmt>', 'json | table', 'table')
    .action(async (path: string, o: { field?: string; version?: string; format?: string }, cmd: Command) => {
      const format = parseFormat(o.format);
      const version = o.version === undefined ? undefined : Number(o.version);
      if (version !== undefined && !Number.isInteger(version)) throw new Error('--version must be an integer');
      const s = await withClient(cmd, (c) => c.secrets.read(path, version === undefined ? {} : { version }));
      if (o.field !== undefined) {
        if (!(o.field in s.data)) throw new Error(`no field "${o.field}" at ${path}`);
        process.stdout.write(format === 'json' ? JSON.stringify(s.data[o.field]) : show(s.data[o.field]));
        return;
      }
      if (format === 'json') {
        process.stdout.write(JSON.stringify({ data: s.data, metadata: s.metadata }, null, 2) + '\n');
        return;
      }
      process.stdout.write('====== Metadata ======\n' + table(metaRows(s.metadata)) + '\n====== Data ======\n' + table(Object.entries(s.data).map(([k, v]) => [k, show(v)] as const)));
    });

  secrets
    .command('put <path> <pairs...>')
    .description('write a new version: key=value, key=@file, key=- (stdin)')
    .option('--cas <n>', 'check-and-set: write only if the current version is n (0 = only if absent)')
    .action(async (path: string, pairs: string[], o: { cas?: string }, cmd: Command) => {
      const cas = o.cas === undefined ? undefined : Number(o.cas);
      if (cas !== undefined && !(Number.isInteger(cas) && cas >= 0)) throw new Error('--cas must be a non-negative integer');
      const data = await parsePairs(pairs);
      const meta = await withClient(cmd, (c) => c.secrets.write(path, data, cas === undefined ? {} : { cas }));
      process.stdout.write(table(metaRows(meta)));
    });

  secrets
    .command('list <path>')
    .action(async (path: string, _o: unknown, cmd: Command) => {
      const keys = await withClient(cmd, (c) => c.secrets.list(path));
      process.stdout.write(keys.map((k) => `${k}\n`).join(''));
    });

  secrets
    .command('delete <path>')
    .description('soft-delete the latest version')
    .action(async (path: string, _o: unknown, cmd: Command) => {
      await withClient(cmd, (c) => c.secrets.delete(path));
      process.stdout.write(`Deleted the latest version of ${path}\n`);
    });

  secrets
    .command('history <path>')
    .option('--format <fmt>', 'json | table', 'table')
    .action(async (path: string, o: { format?: string }, cmd: Command) => {
      const format = parseFormat(o.format);
      const versions = await withClient(cmd, (c) => c.secrets.history(path));
      if (format === 'json') {
        process.stdout.write(JSON.stringify(versions, null, 2) + '\n');
        return;
      }
      const rows = [['version', 'created_time', 'deletion_time', 'destroyed'], ...versions.map((v) => [String(v.version), v.createdTime ?? 'n/a', v.deletionTime ?? 'n/a', String(v.destroyed)])];
      const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
      process.stdout.write(rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n') + '\n');
    });
}
