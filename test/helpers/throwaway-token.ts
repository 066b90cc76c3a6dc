/**
 * A SoftHSM2 token for one test file (one process: the PKCS#11 library state is per process, and
 * SoftHSM reads SOFTHSM2_CONF once, at C_Initialize). Random label and PIN in a fresh temp dir.
 * Pass `confPath` to Pkcs11Hsm as `softhsmConf`; do not set SOFTHSM2_CONF globally.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { provisionSoftHsmToken } from '../../hsm-sim/provision.js';

export interface ThrowawayToken {
  readonly confPath: string;
  readonly label: string;
  readonly pin: string;
  readonly modulePath: string;
  readonly dir: string;
  cleanup(): void;
}

export async function createThrowawayToken(): Promise<ThrowawayToken> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyward-token-'));
  const label = `kw-test-${crypto.randomBytes(6).toString('hex')}`;
  const token = await provisionSoftHsmToken({ dir, label });
  return {
    confPath: token.confPath,
    label: token.label,
    pin: token.pin,
    modulePath: token.modulePath,
    dir,
    cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
