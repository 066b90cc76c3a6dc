/**
 * `keyward encrypt KEY` and `keyward decrypt KEY CIPHERTEXT` - one-shot transit calls. Plaintext
 * comes from --plaintext, --in FILE or stdin; decrypted bytes go to stdout or --out FILE (0600).
 */
import fs from 'node:fs';
import type { Command } from 'commander';
import { readStdin, tokenClient } from '../run/cli-client.js';

function checkContext(b64: string | undefined): string | undefined {
  if (b64 === undefined) return undefined;
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 !== 0) throw new Error('--context must be base64');
  return b64;
}

export function register(program: Command): void {
  program
    .command('encrypt <key>')
    .description('encrypt with a transit key; prints vault:vN:... ciphertext')
    .option('--plaintext <text>', 'plaintext (visible in ps/history: prefer --in or stdin for secrets)')
    .option('--in <file>', 'read the plaintext from a file')
    .option('--context <base64>', 'key-derivation context for derived keys')
    .action(async (key: string, o: { plaintext?: string; in?: string; context?: string }, cmd: Command) => {
      if (o.plaintext !== undefined && o.in !== undefined) throw new Error('give --plaintext or --in, not both');
      const context = checkContext(o.context);
      const plaintext = o.plaintext !== undefined ? Buffer.from(o.plaintext, 'utf8') : o.in !== undefined ? fs.readFileSync(o.in) : await readStdin();
      const client = tokenClient(cmd);
      try {
        const res = await client.transit.encrypt(key, plaintext, context === undefined ? {} : { context });
        process.stdout.write(`${res.ciphertext}\n`);
      } finally {
        plaintext.fill(0);
        client.close();
      }
    });

  program
    .command('decrypt <key> <ciphertext>')
    .description('decrypt transit ciphertext; writes the raw plaintext bytes')
    .option('--out <file>', 'write the plaintext to this file (mode 0600) instead of stdout')
    .option('--context <base64>', 'key-derivation context for derived keys')
    .action(async (key: string, ciphertext: string, o: { out?: string; context?: string }, cmd: Command) => {
      const context = checkContext(o.context);
      const client = tokenClient(cmd);
      try {
        const plaintext = await client.transit.decrypt(key, ciphertext.trim(), context === undefined ? {} : { context });
        if (o.out !== undefined) {
          fs.writeFileSync(o.out, plaintext, { mode: 0o600 });
          fs.chmodSync(o.out, 0o600);
        } else {
          process.stdout.write(plaintext);
        }
        plaintext.fill(0);
      } finally {
        client.close();
      }
    });
}
