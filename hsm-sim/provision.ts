/**
 * SoftHSM2 token provisioning for dev mode and tests: a private token directory, its softhsm2.conf,
 * and a token initialised with `softhsm2-util`, with the PINs in 0600 files beside it.
 *
 * Invariants:
 * - Idempotent: if the conf already lists a token with this label, it is reused (PINs are read
 *   from the existing files; a given PIN must match what was written).
 * - PINs are random unless given, never printed, and passed to softhsm2-util only through argv of a
 *   short-lived child (SoftHSM offers no stdin/file option for --init-token).
 * - SOFTHSM2_CONF is set only in the child's environment, never in this process.
 */
import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface ProvisionOptions {
  /** Directory that will hold softhsm2.conf, tokens/, pin and so-pin. */
  readonly dir: string;
  readonly label: string;
  readonly userPin?: string;
  readonly soPin?: string;
  /** Override the module search (tests, unusual installs). */
  readonly modulePath?: string;
}

export interface ProvisionedToken {
  readonly confPath: string;
  readonly label: string;
  readonly pinFile: string;
  readonly pin: string;
  readonly modulePath: string;
}

const MODULE_CANDIDATES = [
  '/usr/lib/softhsm/libsofthsm2.so',
  '/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so',
  '/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so',
  '/usr/local/lib/softhsm/libsofthsm2.so',
  '/usr/lib64/pkcs11/libsofthsm2.so',
  '/usr/lib/pkcs11/libsofthsm2.so',
];

/** Locate libsofthsm2.so in the usual Debian (and a few other) paths; throws if none exists. */
export function findSoftHsmModule(): string {
  const found = MODULE_CANDIDATES.find((candidate) => fs.existsSync(candidate));
  if (!found) throw new Error(`libsofthsm2.so not found (looked in ${MODULE_CANDIDATES.join(', ')}); install softhsm2`);
  return found;
}

/** SoftHSM pads labels to 32 bytes and refuses longer ones. */
const LABEL_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$/;

export async function provisionSoftHsmToken(options: ProvisionOptions): Promise<ProvisionedToken> {
  if (!LABEL_RE.test(options.label)) throw new Error('invalid token label (1-32 chars of A-Z a-z 0-9 _ . -)');
  const dir = path.resolve(options.dir);
  const tokenDir = path.join(dir, 'tokens');
  const confPath = path.join(dir, 'softhsm2.conf');
  const pinFile = path.join(dir, 'pin');
  const soPinFile = path.join(dir, 'so-pin');
  const modulePath = options.modulePath ?? findSoftHsmModule();

  fs.mkdirSync(tokenDir, { recursive: true, mode: 0o700 });
  fs.chmodSync(dir, 0o700);
  writeConf(confPath, tokenDir);
  const env = { ...process.env, SOFTHSM2_CONF: confPath };

  const pin = readOrCreatePin(pinFile, options.userPin);
  const soPin = readOrCreatePin(soPinFile, options.soPin);

  if (!(await tokenExists(env, options.label))) {
    try {
      await run('softhsm2-util', ['--init-token', '--free', '--label', options.label, '--pin', pin, '--so-pin', soPin], { env });
    } catch (e) {
      // The child's stderr could echo its argv in some versions: report the exit only.
      const code = (e as { code?: unknown }).code;
      throw new Error(`softhsm2-util --init-token failed (exit ${String(code)})`);
    }
  }
  return { confPath, label: options.label, pinFile, pin, modulePath };
}

function writeConf(confPath: string, tokenDir: string): void {
  const conf = [
    '# Written by keyward (hsm-sim/provision.ts); see softhsm.conf at the repository root.',
    `directories.tokendir = ${tokenDir}`,
    'objectstore.backend = file',
    'log.level = ERROR',
    'slots.removable = false',
    '',
  ].join('\n');
  const existing = fs.existsSync(confPath) ? fs.readFileSync(confPath, 'utf8') : undefined;
  if (existing !== conf) fs.writeFileSync(confPath, conf, { mode: 0o600 });
}

function readOrCreatePin(file: string, given: string | undefined): string {
  if (fs.existsSync(file)) {
    const stored = fs.readFileSync(file, 'utf8').trim();
    if (given !== undefined && given !== stored) throw new Error(`${path.basename(file)} file exists with a different PIN`);
    fs.chmodSync(file, 0o600);
    return stored;
  }
  const pin = given ?? crypto.randomBytes(24).toString('base64url');
  if (pin.length < 4 || pin.length > 255) throw new Error('PIN must be 4-255 characters');
  fs.writeFileSync(file, `${pin}\n`, { mode: 0o600, flag: 'wx' });
  return pin;
}

/** Does the token dir of this conf already hold an initialised token with this label? */
async function tokenExists(env: NodeJS.ProcessEnv, label: string): Promise<boolean> {
  const { stdout } = await run('softhsm2-util', ['--show-slots'], { env });
  // softhsm2-util prints one "Label: <label>" line per initialised token.
  return stdout.split('\n').some((line) => {
    const m = /^\s*Label:\s*(.*?)\s*$/.exec(line);
    return m?.[1] === label;
  });
}
