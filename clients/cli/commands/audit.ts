/**
 * `keyward audit …`: verify the tamper-evident audit trail (offline from export files, or online),
 * tail and search it, and export it to a JSON-lines file that `verify --export` checks offline.
 *   keyward audit verify [--export FILE…] [--public-key FILE]
 *   keyward audit tail [-n N] [--follow]
 *   keyward audit search [--subject S] [--path P] [--operation O] [--outcome O] [--from T] [--to T] [--limit N]
 *   keyward audit export --out FILE [--public-key-out FILE]
 * `verify` exits 1 on any problem (2 on usage/transport errors, from main).
 */
import fs from 'node:fs';
import type { Command } from 'commander';
import { mergeExports, parseExport, writeExportFile, type AuditExport } from '../../../vault/src/audit/export-format.js';
import type { AuditCheckpoint, ChainAnchor, StoredAuditEntry } from '../../../vault/src/audit/types.js';
import { verifyChain, type VerifyResult } from '../../../vault/src/audit/verify.js';
import type { PublicJwk } from '../../../vault/src/core/ports/hsm.js';
import { cliContext, type CliContext } from '../context.js';

interface Envelope<T> {
  readonly data: T;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];

function printResult(r: VerifyResult): void {
  if (r.ok) {
    process.stdout.write(
      `OK: ${r.entries} entries (seq ${r.firstSeq ?? '-'}..${r.lastSeq ?? '-'}), ${r.checkpoints} checkpoints, last checkpoint at seq ${r.lastCheckpointSeq ?? 'none'}` +
        (r.unprotectedEntries > 0 ? `; ${r.unprotectedEntries} entries after it are not yet covered by a checkpoint` : '') +
        '\n',
    );
  } else {
    process.stdout.write(`FAILED: ${r.problem} at seq ${r.firstBadSeq}${r.message ? ` (${r.message})` : ''}\n`);
  }
}

function readJwk(file: string): PublicJwk {
  const raw = JSON.parse(fs.readFileSync(file, 'utf8')) as { keys?: PublicJwk[] } & PublicJwk;
  const jwk = Array.isArray(raw.keys) ? raw.keys[0] : raw;
  if (!jwk || jwk.kty !== 'EC') throw new Error('public key file must hold an EC P-256 JWK (or a JWKS)');
  return jwk;
}

async function fetchPublicKey(ctx: CliContext): Promise<PublicJwk> {
  const res = await ctx.transport.json<Envelope<{ keys: PublicJwk[] }>>({ method: 'GET', path: '/v1/sys/audit-log/public-key', ...(ctx.token ? { token: ctx.token } : {}) });
  const k = res.data.keys[0];
  if (!k) throw new Error('server returned no audit public key');
  return k;
}

function printEntry(e: StoredAuditEntry): void {
  const b = e.entry;
  const who = b.identity ? `${b.identity.subject}(${b.identity.auth_method})` : '-';
  const status = b.status !== undefined ? ` ${b.status}` : '';
  process.stdout.write(`${b.seq}\t${b.time}\t${b.type}\t${who}\t${b.operation}\t${b.path}\t${b.outcome ?? ''}${status}\n`);
}

export function register(program: Command): void {
  const audit = program.command('audit').description('verify, search and export the tamper-evident audit trail');

  audit
    .command('verify')
    .description('verify the hash chain and signed checkpoints (offline with --export, else on the server)')
    .option('--export <file>', 'export file to verify (repeat, oldest first)', collect, [] as string[])
    .option('--public-key <file>', 'checkpoint public key (JWK or JWKS) obtained out of band')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { export: string[]; publicKey?: string; json?: boolean }, cmd: Command) => {
      let result: VerifyResult;
      if (opts.export.length > 0) {
        const merged = mergeExports(opts.export.map((f) => parseExport(fs.readFileSync(f, 'utf8'))));
        let publicKey: PublicJwk | null = opts.publicKey ? readJwk(opts.publicKey) : null;
        if (!publicKey) {
          publicKey = merged.publicKey;
          if (!publicKey) throw new Error('no public key: pass --public-key');
          process.stderr.write('warning: using the public key embedded in the export; pass --public-key for an independent check\n');
        }
        result = verifyChain({ entries: merged.entries, checkpoints: merged.checkpoints, publicKey, anchor: merged.anchor });
      } else {
        const ctx = cliContext(cmd);
        result = (await ctx.transport.json<Envelope<VerifyResult>>({ method: 'GET', path: '/v1/sys/audit-log/verify', ...(ctx.token ? { token: ctx.token } : {}) })).data;
        ctx.transport.close();
      }
      if (opts.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      else printResult(result);
      if (!result.ok) process.exitCode = 1;
    });

  audit
    .command('tail')
    .description('show the newest entries')
    .option('-n, --lines <n>', 'how many entries', '20')
    .option('-f, --follow', 'keep printing new entries')
    .option('--json', 'print stored entries as JSON lines')
    .action(async (opts: { lines: string; follow?: boolean; json?: boolean }, cmd: Command) => {
      const ctx = cliContext(cmd);
      const n = Math.min(1000, Math.max(1, Number.parseInt(opts.lines, 10) || 20));
      const get = async (query: string) =>
        (await ctx.transport.json<Envelope<{ entries: StoredAuditEntry[] }>>({ method: 'GET', path: `/v1/sys/audit-log?${query}`, ...(ctx.token ? { token: ctx.token } : {}) })).data.entries;
      const show = (e: StoredAuditEntry) => (opts.json ? process.stdout.write(`${JSON.stringify(e)}\n`) : printEntry(e));
      const newest = await get(`limit=${n}`);
      const ordered = [...newest].reverse();
      ordered.forEach(show);
      if (!opts.follow) return ctx.transport.close();
      let last = ordered[ordered.length - 1]?.seq ?? 0;
      for (;;) {
        await new Promise((r) => setTimeout(r, 1000));
        const fresh = [...(await get(`after_seq=${last}&limit=1000`))].reverse();
        fresh.forEach(show);
        last = fresh[fresh.length - 1]?.seq ?? last;
      }
    });

  audit
    .command('search')
    .description('search entries (newest first)')
    .option('--subject <subject>')
    .option('--path <path>', "exact ACL path, or a prefix ending in '*'")
    .option('--operation <op>')
    .option('--outcome <outcome>', 'success | denied | error | unauthenticated')
    .option('--from <time>', 'ISO-8601 time or epoch ms')
    .option('--to <time>', 'ISO-8601 time or epoch ms')
    .option('--limit <n>', 'at most 1000', '100')
    .option('--json', 'print stored entries as JSON lines')
    .action(async (opts: Record<string, string | boolean | undefined>, cmd: Command) => {
      const ctx = cliContext(cmd);
      const params = new URLSearchParams();
      for (const k of ['subject', 'path', 'operation', 'outcome', 'from', 'to', 'limit']) {
        const v = opts[k];
        if (typeof v === 'string') params.set(k, v);
      }
      const res = await ctx.transport.json<Envelope<{ entries: StoredAuditEntry[] }>>({ method: 'GET', path: `/v1/sys/audit-log?${params.toString()}`, ...(ctx.token ? { token: ctx.token } : {}) });
      for (const e of res.data.entries) opts['json'] ? process.stdout.write(`${JSON.stringify(e)}\n`) : printEntry(e);
      ctx.transport.close();
    });

  audit
    .command('export')
    .description('export the live chain (with checkpoints) to a JSON-lines file for offline verification')
    .requiredOption('--out <file>', 'file to create (must not exist)')
    .option('--public-key-out <file>', 'also write the checkpoint public key (JWK)')
    .action(async (opts: { out: string; publicKeyOut?: string }, cmd: Command) => {
      const ctx = cliContext(cmd);
      const tokenOpt = ctx.token ? { token: ctx.token } : {};
      const publicKey = await fetchPublicKey(ctx);
      const entries: StoredAuditEntry[] = [];
      const checkpoints: AuditCheckpoint[] = [];
      let anchor: ChainAnchor | null = null;
      let from = 0;
      for (let first = true; ; first = false) {
        const page = (
          await ctx.transport.json<Envelope<{ anchor: ChainAnchor | null; entries: StoredAuditEntry[]; checkpoints: AuditCheckpoint[]; next_seq: number | null }>>({
            method: 'GET',
            path: `/v1/sys/audit-log/export?from_seq=${from}&limit=1000`,
            ...tokenOpt,
          })
        ).data;
        if (first) anchor = page.anchor;
        entries.push(...page.entries);
        checkpoints.push(...page.checkpoints);
        if (page.next_seq === null) break;
        from = page.next_seq;
      }
      const x: AuditExport = { anchor, publicKey, entries, checkpoints };
      writeExportFile(opts.out, x, new Date());
      if (opts.publicKeyOut) fs.writeFileSync(opts.publicKeyOut, `${JSON.stringify(publicKey, null, 2)}\n`, { mode: 0o644 });
      const check = verifyChain({ entries, checkpoints, publicKey, anchor });
      process.stdout.write(`exported ${entries.length} entries and ${checkpoints.length} checkpoints to ${opts.out}\n`);
      if (check.unprotectedEntries > 0) process.stdout.write(`note: ${check.unprotectedEntries} newest entries are not yet covered by a checkpoint\n`);
      ctx.transport.close();
    });
}
