/**
 * `keyward mfa enroll --method NAME`: enrols the current token's identity in a TOTP method
 * (POST /v1/sys/mfa/method/totp/:name/generate) and shows the otpauth:// URL once, with a terminal
 * QR code to scan. `keyward mfa method create NAME --issuer …` configures a method (admin).
 * The URL carries the TOTP secret: it goes to stdout only, never to a file or log.
 */
import type { Command } from 'commander';
import qrcode from 'qrcode-terminal';
import { cliContext } from '../context.js';
import type { RequestOptions } from '../../sdk/http-client.js';

async function api<T>(cmd: Command, opts: Omit<RequestOptions, 'token'>): Promise<T> {
  const ctx = cliContext(cmd);
  if (!ctx.token) throw new Error('no token: run `keyward login`, set VAULT_TOKEN or pass --token');
  try {
    return await ctx.transport.json<T>({ ...opts, token: ctx.token });
  } finally {
    ctx.transport.close();
  }
}

const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

function methodPath(name: string): string {
  if (!NAME_RE.test(name)) throw new Error('invalid MFA method name');
  return `/v1/sys/mfa/method/totp/${encodeURIComponent(name)}`;
}

export function register(program: Command): void {
  const mfa = program.command('mfa').description('step-up MFA (TOTP)');

  mfa
    .command('enroll')
    .description('enrol the current identity in a TOTP method; prints the otpauth URL and a QR code once')
    .requiredOption('--method <name>', 'TOTP method name')
    .option('--no-qr', 'print the URL only')
    .action(async (o: { method: string; qr: boolean }, cmd: Command) => {
      const r = await api<{ data?: { url?: string } | null; warnings?: string[] | null }>(cmd, { method: 'POST', path: `${methodPath(o.method)}/generate` });
      const url = r.data?.url;
      if (!url) {
        process.stderr.write(`${(r.warnings ?? ['already enrolled']).join('\n')}\n`);
        process.exitCode = 1;
        return;
      }
      process.stdout.write(`Scan this with your authenticator app (shown once):\n${url}\n`);
      if (o.qr) qrcode.generate(url, { small: true }, (art) => process.stdout.write(`${art}\n`));
      process.stdout.write(`Then send codes as: X-Vault-MFA: ${o.method}:<code>\n`);
    });

  const method = mfa.command('method').description('manage TOTP methods (admin)');
  method
    .command('create <name>')
    .description('create or update a TOTP method')
    .requiredOption('--issuer <issuer>', 'issuer shown in authenticator apps')
    .option('--period <seconds>', 'time step', '30')
    .option('--digits <n>', '6 or 8', '6')
    .option('--algorithm <alg>', 'SHA1, SHA256 or SHA512', 'SHA1')
    .option('--skew <n>', 'periods of clock skew allowed (0 or 1)', '1')
    .option('--max-validation-attempts <n>', 'failures before lockout', '5')
    .action(async (name: string, o: { issuer: string; period: string; digits: string; algorithm: string; skew: string; maxValidationAttempts: string }, cmd: Command) => {
      const r = await api<{ data: { method_id: string } }>(cmd, {
        method: 'POST',
        path: methodPath(name),
        body: { issuer: o.issuer, period: o.period, digits: o.digits, algorithm: o.algorithm, skew: o.skew, max_validation_attempts: o.maxValidationAttempts },
      });
      process.stdout.write(`${JSON.stringify(r.data, null, 2)}\n`);
    });
}
