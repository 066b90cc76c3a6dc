/**
 * An SDK client for interactive CLI commands (secrets, encrypt/decrypt): the context's transport
 * and token. Commands that can log in on their own (run, login) build their own.
 */
import type { Command } from 'commander';
import { cliContext } from '../context.js';
import { createClient, type KeywardClient } from '../../sdk/client.js';

export function tokenClient(cmd: Command): KeywardClient {
  const ctx = cliContext(cmd);
  if (!ctx.token) throw new Error('no token: run `keyward login`, set VAULT_TOKEN or pass --token');
  return createClient({ transport: ctx.transport, auth: { token: ctx.token } });
}

export async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
