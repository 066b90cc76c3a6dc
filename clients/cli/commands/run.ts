/**
 * `keyward run [--env E] --secret PATH[:PREFIX]... [auth] [--fallback-cache F --fallback-key-file K]
 *  [--watch N] [--on-change restart|signal:SIG] -- cmd args...`
 *
 * Fetches the secrets, maps them to environment variables (rule in ../run/env-mapping.ts:
 * secret/payments/db + field password -> PAYMENTS_DB_PASSWORD), then runs the command with the
 * merged environment (secrets override inherited variables; KEYWARD_SECRET_ID and friends are
 * removed), forwarding SIGINT/SIGTERM/SIGHUP and exiting with the child's status.
 *
 * Fails closed: if the secrets cannot be fetched, or two fields collide, the command is never
 * started and we exit 1. Only with --fallback-cache, and only when the vault is unreachable, it
 * starts from the encrypted last-known-good cache with a loud warning.
 */
import crypto from 'node:crypto';
import os from 'node:os';
import type { Command } from 'commander';
import { cliContext } from '../context.js';
import { createClient, type KeywardClient } from '../../sdk/client.js';
import { CREDENTIAL_ENV_VARS, resolveAuth } from '../run/credentials.js';
import { mapSecretsToEnv, parseSecretSpec, type SecretSpec } from '../run/env-mapping.js';
import { keyFileTooOpen, readKeyFile } from '../run/fallback-cache.js';
import { fetchSecrets, type FallbackConfig } from '../run/secret-source.js';
import { ChildSupervisor } from '../run/supervisor.js';

interface RunFlags {
  env?: string;
  secret: string[];
  unwrapToken?: string;
  roleIdFile?: string;
  secretIdFile?: string;
  fallbackCache?: string;
  fallbackKeyFile?: string;
  watch?: string;
  onChange: string;
}

type OnChange = { kind: 'restart' } | { kind: 'signal'; signal: NodeJS.Signals };

function parseOnChange(v: string): OnChange {
  if (v === 'restart') return { kind: 'restart' };
  const m = /^signal:(SIG[A-Z0-9]+)$/.exec(v);
  if (m && m[1] !== undefined && m[1] in os.constants.signals) return { kind: 'signal', signal: m[1] as NodeJS.Signals };
  throw new Error(`--on-change must be restart or signal:SIGNAME (got ${v})`);
}

const collect = (v: string, prev: string[]): string[] => [...prev, v];
const fingerprint = (env: Record<string, string>): string =>
  crypto
    .createHash('sha256')
    .update(JSON.stringify(Object.entries(env).sort(([a], [b]) => (a < b ? -1 : 1))))
    .digest('hex');

function warn(msg: string): void {
  process.stderr.write(`keyward run: ${msg}\n`);
}

function childEnv(secretEnv: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of CREDENTIAL_ENV_VARS) delete env[k];
  return { ...env, ...secretEnv };
}

export function register(program: Command): void {
  program
    .command('run')
    .description('run a command with secrets from the vault in its environment')
    .option('--env <environment>', 'environment (namespace) to read from; same as the global --namespace')
    .option('--secret <path[:PREFIX]>', 'KV secret to expose (repeatable); fields become PREFIX_FIELD', collect, [])
    .option('--unwrap-token <token>', 'wrapping token holding credentials (env KEYWARD_UNWRAP_TOKEN)')
    .option('--role-id-file <file>', 'AppRole role id file (or env KEYWARD_ROLE_ID)')
    .option('--secret-id-file <file>', 'AppRole secret id file (or env KEYWARD_SECRET_ID)')
    .option('--fallback-cache <file>', 'encrypted last-known-good cache, used only when the vault is unreachable')
    .option('--fallback-key-file <file>', '32-byte key for the fallback cache (never generated for you)')
    .option('--watch <seconds>', 're-fetch every N seconds and act on changes')
    .option('--on-change <action>', 'restart | signal:SIGHUP', 'restart')
    .argument('<command...>', 'command to run, after --')
    .action(async (command: string[], flags: RunFlags, cmd: Command) => {
      if (flags.secret.length === 0) throw new Error('give at least one --secret PATH');
      const specs: SecretSpec[] = flags.secret.map(parseSecretSpec);
      const onChange = parseOnChange(flags.onChange);
      const watchSeconds = flags.watch === undefined ? undefined : Number(flags.watch);
      if (watchSeconds !== undefined && !(Number.isFinite(watchSeconds) && watchSeconds >= 1)) throw new Error('--watch must be a number of seconds >= 1');
      if ((flags.fallbackCache === undefined) !== (flags.fallbackKeyFile === undefined)) throw new Error('--fallback-cache and --fallback-key-file go together');

      // --env is the global --namespace under a name that reads well here.
      const root = cmd.parent ?? cmd;
      const globalNs = root.opts<{ namespace?: string }>().namespace;
      if (flags.env !== undefined) {
        if (globalNs !== undefined && globalNs !== flags.env) throw new Error('--env and --namespace disagree');
        root.setOptionValue('namespace', flags.env);
      }
      const ctx = cliContext(cmd);
      const auth = resolveAuth({ ...(flags.unwrapToken ? { unwrapToken: flags.unwrapToken } : {}), ...(flags.roleIdFile ? { roleIdFile: flags.roleIdFile } : {}), ...(flags.secretIdFile ? { secretIdFile: flags.secretIdFile } : {}) }, ctx.token);

      let fallback: FallbackConfig | undefined;
      if (flags.fallbackCache && flags.fallbackKeyFile) {
        // Read the key before talking to the vault: a missing key must stop us, not a later write.
        fallback = { file: flags.fallbackCache, cacheKey: readKeyFile(flags.fallbackKeyFile), namespace: ctx.namespace ?? null };
        if (keyFileTooOpen(flags.fallbackKeyFile)) warn(`WARNING: ${flags.fallbackKeyFile} is readable by group/others; chmod 600 it`);
      }

      const client: KeywardClient = createClient({ transport: ctx.transport, auth, retries: { max: 3, baseDelayMs: 200, maxDelayMs: 2_000 } });
      let secretEnv: Record<string, string>;
      try {
        const outcome = await fetchSecrets(client, specs, fallback);
        secretEnv = mapSecretsToEnv(specs, outcome.values);
        if (outcome.source === 'cache') {
          warn('');
          warn('!!! WARNING: VAULT UNREACHABLE - STARTING FROM THE FALLBACK CACHE !!!');
          warn(`!!! secrets are as of ${outcome.cachedAt ?? 'unknown'}; revocations since then are NOT applied !!!`);
          warn('');
        }
      } catch (err) {
        client.close();
        const code = (err as { code?: unknown }).code;
        warn(`cannot fetch secrets, not starting the command: ${err instanceof Error ? err.message : String(err)}${typeof code === 'string' ? ` (${code})` : ''}`);
        process.exit(1);
      }

      const [program_, ...args] = command;
      const child = new ChildSupervisor(program_ as string, args);
      child.start(childEnv(secretEnv));

      let timer: NodeJS.Timeout | undefined;
      if (watchSeconds !== undefined) {
        let current = fingerprint(secretEnv);
        let busy = false;
        timer = setInterval(() => {
          if (busy) return;
          busy = true;
          void (async () => {
            try {
              const outcome = await fetchSecrets(client, specs, fallback);
              if (outcome.source === 'cache') return; // nothing new to learn from our own cache
              const next = mapSecretsToEnv(specs, outcome.values);
              const fp = fingerprint(next);
              if (fp === current) return;
              current = fp;
              if (onChange.kind === 'restart') {
                warn('secrets changed; restarting the command');
                await child.restart(childEnv(next));
              } else {
                // The running process keeps its environment; the signal tells it to reload by itself.
                warn(`secrets changed; sending ${onChange.signal}`);
                child.signal(onChange.signal);
              }
            } catch (err) {
              warn(`watch: re-fetch failed, keeping the current secrets: ${err instanceof Error ? err.message : String(err)}`);
            } finally {
              busy = false;
            }
          })();
        }, watchSeconds * 1000);
      }

      const status = await child.exited;
      if (timer) clearInterval(timer);
      child.dispose();
      client.close();
      process.exit(status);
    });
}
