/**
 * `keyward policy write|read|list|delete|history|diff|lint`. Writes send the file's text as is (HCL or
 * JSON, Vault's `sys/policies/acl`); `diff NAME --from N --to M` asks the server for a stored
 * version diff, `diff FILE_A FILE_B` compares two local files with the policy engine itself.
 * `lint` exits 1 when the server reports a high-severity finding, so CI can gate on it.
 */
import fs from 'node:fs';
import type { Command } from 'commander';
import { jsHclDecoder } from '../../../vault/src/adapters/hcl/js-hcl-decoder.js';
import { diffPolicies, formatPolicyDiff, type PolicyDiff } from '../../../vault/src/authz/diff.js';
import { parsePolicyText } from '../../../vault/src/authz/policy.js';
import { cliContext } from '../context.js';
import type { RequestOptions } from '../../sdk/http-client.js';

const enc = encodeURIComponent;

async function api<T>(cmd: Command, opts: Omit<RequestOptions, 'token'>, env?: string): Promise<T> {
  const ctx = cliContext(cmd);
  if (!ctx.token) throw new Error('no token: run `keyward login`, set VAULT_TOKEN or pass --token');
  try {
    return await ctx.transport.json<T>({ ...opts, token: ctx.token, ...(env ? { headers: { 'x-vault-namespace': env } } : {}) });
  } finally {
    ctx.transport.close();
  }
}

const readText = (file: string): string => (file === '-' ? fs.readFileSync(0, 'utf8') : fs.readFileSync(file, 'utf8'));

export function register(program: Command): void {
  const policy = program.command('policy').description('manage ACL policies of an environment');

  policy.command('write <name> <file>').description('create or update a policy from an HCL or JSON file ("-" = stdin)').action(async (name: string, file: string, _o, cmd: Command) => {
    await api(cmd, { method: 'PUT', path: `/v1/sys/policies/acl/${enc(name)}`, body: { policy: readText(file) } });
    process.stdout.write(`Success! Uploaded policy: ${name}\n`);
  });

  policy.command('read <name>').description('print a policy as stored').action(async (name: string, _o, cmd: Command) => {
    const r = await api<{ data: { policy: string } }>(cmd, { method: 'GET', path: `/v1/sys/policies/acl/${enc(name)}` });
    process.stdout.write(r.data.policy.endsWith('\n') ? r.data.policy : `${r.data.policy}\n`);
  });

  policy.command('list').description('list policy names').action(async (_o, cmd: Command) => {
    const r = await api<{ data: { keys: string[] } }>(cmd, { method: 'LIST', path: '/v1/sys/policies/acl' });
    process.stdout.write(r.data.keys.map((k) => `${k}\n`).join(''));
  });

  policy.command('delete <name>').description('delete a policy (its history is kept)').action(async (name: string, _o, cmd: Command) => {
    await api(cmd, { method: 'DELETE', path: `/v1/sys/policies/acl/${enc(name)}` });
    process.stdout.write(`Success! Deleted policy: ${name}\n`);
  });

  policy.command('history <name>').description('list a policy\'s versions').action(async (name: string, _o, cmd: Command) => {
    const r = await api<{ data: { versions: Array<{ version: number; created_time: string | null; author: string; deleted: boolean }> } }>(cmd, {
      method: 'GET',
      path: `/v1/sys/policies/acl/${enc(name)}/history`,
    });
    process.stdout.write('VERSION  CREATED                   AUTHOR  DELETED\n');
    for (const v of r.data.versions) process.stdout.write(`${String(v.version).padEnd(8)} ${(v.created_time ?? '-').padEnd(25)} ${v.author}  ${v.deleted}\n`);
  });

  policy
    .command('diff <a> [b]')
    .description('diff two stored versions (NAME --from N --to M) or two local files (FILE_A FILE_B)')
    .option('--from <n>', 'older version')
    .option('--to <n>', 'newer version')
    .action(async (a: string, b: string | undefined, o: { from?: string; to?: string }, cmd: Command) => {
      let diff: PolicyDiff;
      if (b === undefined) {
        if (o.from === undefined || o.to === undefined) throw new Error('give NAME --from N --to M, or two files');
        const r = await api<{ data: PolicyDiff }>(cmd, { method: 'GET', path: `/v1/sys/policies/acl/${enc(a)}/diff?from=${enc(o.from)}&to=${enc(o.to)}` });
        diff = r.data;
      } else {
        diff = diffPolicies(parsePolicyText(readText(a), jsHclDecoder), parsePolicyText(readText(b), jsHclDecoder));
      }
      process.stdout.write(diff.changed ? `${formatPolicyDiff(diff)}\n` : 'no changes\n');
    });

  policy
    .command('lint')
    .description('check the environment\'s policies and roles; exit 1 on a high-severity finding')
    .option('--env <env>', 'environment to lint (default: the namespace)')
    .action(async (o: { env?: string }, cmd: Command) => {
      const r = await api<{ data: { high: number; findings: Array<{ severity: string; rule: string; message: string }> } }>(cmd, { method: 'GET', path: '/v1/sys/policies/lint' }, o.env);
      for (const f of r.data.findings) process.stdout.write(`${f.severity.toUpperCase().padEnd(6)} ${f.rule}: ${f.message}\n`);
      if (r.data.findings.length === 0) process.stdout.write('no findings\n');
      if (r.data.high > 0) process.exitCode = 1;
    });
}
