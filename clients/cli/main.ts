#!/usr/bin/env node
/**
 * `keyward` CLI entry point. Each command group lives in ./commands/<group>.ts and exports
 * `register(program)`; groups are discovered from that folder so features add a file, not an edit.
 * Only the group of the command being run is loaded (a file is named after its command), so
 * `keyward run` does not pay for the server, scanner or report modules at every service start;
 * help and unknown commands load them all.
 * Like Vault's CLI it reads VAULT_ADDR, VAULT_TOKEN, VAULT_CACERT and VAULT_NAMESPACE (flags win).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import readline from 'node:readline/promises';
import { Command } from 'commander';
import { setMfaCredentials } from './context.js';

async function main(): Promise<void> {
  const program = new Command();
  program
    .name('keyward')
    .description('Keyward: an HSM-backed envelope-encryption vault that speaks Vault\'s API')
    .option('--address <url>', 'vault address (env VAULT_ADDR)')
    .option('--token <token>', 'token (env VAULT_TOKEN; default: the token helper file)')
    .option('--ca-cert <file>', 'CA certificate to trust (env VAULT_CACERT)')
    .option('--namespace <env>', 'environment (env VAULT_NAMESPACE)')
    .option('--mfa <method:code>', 'step-up MFA credential sent as X-Vault-MFA (repeatable; env KEYWARD_MFA)', (v: string, prev: string[]) => [...prev, v], [])
    .option('--mfa-prompt <method>', 'prompt on the terminal for a TOTP code of this MFA method (step-up)')
    .showHelpAfterError()
    .hook('preAction', async (cmd) => {
      const o = cmd.opts<{ mfa: string[]; mfaPrompt?: string }>();
      const fromEnv = (process.env['KEYWARD_MFA'] ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
      const prompted = o.mfaPrompt ? [`${o.mfaPrompt}:${await promptLine(`TOTP code for ${o.mfaPrompt}: `)}`] : [];
      setMfaCredentials([...o.mfa, ...fromEnv, ...prompted]);
    });
  const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'commands');
  const files = fs.readdirSync(dir).filter((f) => /^[a-z-]+\.(js|ts)$/.test(f) && !f.endsWith('.d.ts')).sort();
  const wanted = commandFile(process.argv.slice(2));
  const only = wanted ? files.filter((f) => f.replace(/\.(js|ts)$/, '') === wanted) : [];
  for (const file of only.length === 1 ? only : files) {
    const mod = (await import(pathToFileURL(path.join(dir, file)).href)) as { register?: (p: Command) => void };
    mod.register?.(program);
  }
  await program.parseAsync(process.argv);
}

/** One line from the terminal (the prompt goes to stderr so stdout stays clean for pipes). */
async function promptLine(question: string): Promise<string> {
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr, terminal: process.stdin.isTTY === true });
  try {
    return (await rl.question(question)).trim();
  } finally {
    rl.close();
  }
}

/** Global options that take a value (so their value is not mistaken for the command). */
const GLOBAL_WITH_VALUE = new Set(['--address', '--token', '--ca-cert', '--namespace', '--mfa', '--mfa-prompt']);
/** Commands registered by a file of another name. */
const COMMAND_FILE: Readonly<Record<string, string>> = { encrypt: 'transit', decrypt: 'transit' };

function commandFile(args: readonly string[]): string | null {
  for (let i = 0; i < args.length; i++) {
    const a = args[i] as string;
    if (GLOBAL_WITH_VALUE.has(a)) {
      i += 1;
      continue;
    }
    if (a.startsWith('-')) continue;
    return COMMAND_FILE[a] ?? a;
  }
  return null;
}

main().catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`Error: ${message}\n`);
  process.exitCode = process.exitCode && process.exitCode !== 0 ? process.exitCode : 2;
});
