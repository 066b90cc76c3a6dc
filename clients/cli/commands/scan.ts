/**
 * `keyward scan [paths…]`: find leaked credentials — Keyward secret IDs, wrapping tokens and tokens,
 * PEM private keys and third-party keys — in the work tree, the staged files or the whole history.
 *   keyward scan [paths…] [--git-history] [--staged] [--format text|json|sarif] [--output FILE]
 *                [--issuer ISS]… [--revoke] [--install-pre-commit]
 * Exit 1 when anything is found, 0 when clean, 2 on error (main.ts). Output never holds a secret.
 * `--revoke` sends each Keyward credential found to Keyward (only there) to revoke it, then records
 * a `credential-leak` incident with fingerprints, rules and files — never the secrets.
 */
import fs from 'node:fs';
import type { Command } from 'commander';
import { KeywardApiError } from '../../sdk/http-client.js';
import {
  formatScan,
  installPreCommitHook,
  scanGitHistory,
  scanStaged,
  scanWorktree,
  type Finding,
  type KeywardKind,
  type ScanFormat,
  type ScanResult,
} from '../../scan/index.js';
import { cliContext, type CliContext } from '../context.js';

interface ScanFlags {
  gitHistory?: boolean;
  staged?: boolean;
  format: string;
  output?: string;
  issuer: string[];
  revoke?: boolean;
  installPreCommit?: boolean;
}

const collect = (value: string, previous: string[]): string[] => [...previous, value];
const DEFAULT_ENVIRONMENTS = ['dev', 'staging', 'prod'];

export type RevocationOutcome = 'revoked' | 'not-found' | 'cannot-revoke' | 'failed';

export interface Revocation {
  readonly fingerprint: string;
  readonly kind: KeywardKind;
  readonly outcome: RevocationOutcome;
  readonly detail: string;
}

function tokenClaims(token: string): { env?: string } {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as { env?: unknown };
    return typeof payload.env === 'string' ? { env: payload.env } : {};
  } catch {
    return {};
  }
}

const unavailable = (e: unknown): boolean => e instanceof KeywardApiError && (e.status === 404 || e.status === 405);
const why = (e: unknown): string => (e instanceof KeywardApiError ? `${e.code} (HTTP ${e.status}${e.requestId ? `, request ${e.requestId}` : ''})` : e instanceof Error ? e.name : 'error');

async function revokeOne(ctx: CliContext, fingerprint: string, kind: KeywardKind, secret: string): Promise<Revocation> {
  const auth = ctx.token ? { token: ctx.token } : {};
  const base = { fingerprint, kind };
  try {
    if (kind === 'secret-id') {
      // The keyed hash binds env + role, so the server searches the roles of one environment per call.
      const envs = ctx.namespace ? [ctx.namespace] : DEFAULT_ENVIRONMENTS;
      for (const env of envs) {
        const res = await ctx.transport.json<{ data?: { revoked?: boolean; role_name?: string; secret_id_accessor?: string } }>({
          method: 'POST',
          path: '/v1/auth/approle/secret-id/revoke-leaked',
          body: { secret_id: secret },
          headers: { 'x-vault-namespace': env },
          ...auth,
        });
        if (res.data?.revoked) return { ...base, outcome: 'revoked', detail: `destroyed secret ID ${res.data.secret_id_accessor ?? ''} of role ${env}/${res.data.role_name ?? '?'}` };
      }
      return { ...base, outcome: 'not-found', detail: `no live secret ID matched in ${envs.join(', ')} (already destroyed or expired)` };
    }
    if (kind === 'token') {
      const env = tokenClaims(secret).env;
      await ctx.transport.json({ method: 'POST', path: '/v1/auth/token/revoke', body: { token: secret }, ...(env && env !== '*' ? { headers: { 'x-vault-namespace': env } } : {}), ...auth });
      // Keyward answers 204 whether or not the token was live (no oracle): 'revoked' means it is not usable now.
      return { ...base, outcome: 'revoked', detail: 'revocation accepted (the token is no longer usable)' };
    }
    await ctx.transport.json({ method: 'POST', path: '/v1/sys/wrapping/revoke', body: { token: secret }, ...auth });
    return { ...base, outcome: 'revoked', detail: 'wrapping token revoked' };
  } catch (e) {
    if (unavailable(e)) return { ...base, outcome: 'cannot-revoke', detail: 'cannot revoke: this Keyward has no endpoint for it' };
    return { ...base, outcome: 'failed', detail: why(e) };
  }
}

function incidentBody(result: ScanResult, revocations: readonly Revocation[]): Record<string, unknown> {
  const findings = result.findings.map((f: Finding) => ({
    fingerprint: f.fingerprint,
    rule: f.rule,
    file: f.file,
    line: f.line,
    source: f.source,
    ...(f.commit ? { commit: f.commit } : {}),
  }));
  const revoked = revocations.filter((r) => r.outcome === 'revoked').length;
  return {
    kind: 'credential-leak',
    summary: `keyward scan found ${result.findings.length} credential(s); ${revoked} Keyward credential(s) revoked`,
    findings,
    details: { revocations: revocations.map((r) => ({ fingerprint: r.fingerprint, kind: r.kind, outcome: r.outcome, detail: r.detail })) },
  };
}

async function revokeAll(ctx: CliContext, result: ScanResult): Promise<void> {
  const revocations: Revocation[] = [];
  for (const [fingerprint, { kind, secret }] of result.revocable) revocations.push(await revokeOne(ctx, fingerprint, kind, secret));
  for (const r of revocations) process.stderr.write(`revoke ${r.kind} sha256:${r.fingerprint.slice(0, 16)}: ${r.outcome}: ${r.detail}\n`);
  if (result.revocable.size === 0) process.stderr.write('revoke: no Keyward credentials among the findings\n');
  try {
    const res = await ctx.transport.json<{ data?: { id?: string } }>({ method: 'POST', path: '/v1/sys/incidents', body: incidentBody(result, revocations), ...(ctx.token ? { token: ctx.token } : {}) });
    process.stderr.write(`incident recorded: ${res.data?.id ?? '(no id returned)'}\n`);
  } catch (e) {
    process.stderr.write(`incident NOT recorded: ${unavailable(e) ? 'this Keyward has no sys/incidents endpoint' : why(e)}\n`);
    process.exitCode = 2;
  }
  if (revocations.some((r) => r.outcome === 'failed')) process.exitCode = 2;
}

export function register(program: Command): void {
  program
    .command('scan')
    .description('find leaked credentials (Keyward secret IDs, tokens, wrapping tokens, private keys, cloud keys) in files or git history')
    .argument('[paths...]', 'files or directories (default: .)')
    .option('--git-history', 'scan every blob reachable from any ref (reports the commit that introduced it)')
    .option('--staged', 'scan the staged contents (what the next commit would contain)')
    .option('--format <format>', 'text | json | sarif', 'text')
    .option('--output <file>', 'write the report to a file instead of stdout')
    .option('--issuer <iss>', 'accepted `iss` of Keyward tokens (repeatable; default keyward)', collect, [])
    .option('--revoke', 'revoke the Keyward credentials found and record a credential-leak incident')
    .option('--install-pre-commit', 'install a git pre-commit hook that runs `keyward scan --staged`')
    .action(async (paths: string[], flags: ScanFlags, cmd: Command) => {
      if (flags.installPreCommit) {
        const r = await installPreCommitHook(paths[0] ?? '.');
        process.stdout.write(`installed ${r.hookPath}${r.chained ? ` (runs the previous hook first: ${r.chained})` : ''}\n`);
        return;
      }
      if (!['text', 'json', 'sarif'].includes(flags.format)) throw new Error('--format must be text, json or sarif');
      if (flags.gitHistory && flags.staged) throw new Error('--git-history and --staged are exclusive');
      const options = { issuers: flags.issuer.length > 0 ? flags.issuer : ['keyward'], retainKeywardSecrets: flags.revoke === true };
      const result = flags.gitHistory
        ? await scanGitHistory(paths[0] ?? '.', options)
        : flags.staged
          ? await scanStaged(paths[0] ?? '.', options)
          : await scanWorktree(paths, options);
      const report = formatScan(result, flags.format as ScanFormat);
      if (flags.output) fs.writeFileSync(flags.output, report, { mode: 0o644 });
      else process.stdout.write(report);
      process.exitCode = result.findings.length > 0 ? 1 : 0;
      if (flags.revoke && result.findings.length > 0) {
        const ctx = cliContext(cmd);
        try {
          await revokeAll(ctx, result);
        } finally {
          ctx.transport.close();
        }
      }
    });
}
