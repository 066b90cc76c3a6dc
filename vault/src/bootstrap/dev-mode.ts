/**
 * Dev mode (`keyward server --dev`): like `vault server -dev`, but persistent. Builds a full
 * production-shaped configuration inside a data dir: a SoftHSM2 token under <data-dir>/hsm (conf
 * at hsm/softhsm2.conf, user PIN in hsm/pin, 0600), a dev CA at <data-dir>/tls/ca.pem, the store
 * at <data-dir>/keyward.db. Restarting on the same dir keeps everything.
 */
import fs from 'node:fs';
import path from 'node:path';
import { provisionSoftHsmToken } from '../../../hsm-sim/provision.js';
import type { KeywardConfig } from '../config.js';
import { parseConfig } from '../config.js';
import { ensureDevTls } from '../http/tls/dev-ca.js';

export interface DevOptions {
  readonly dataDir: string;
  readonly listen?: string;
  readonly workers?: number;
  readonly logLevel?: string;
}

export const DEV_TOKEN_LABEL = 'keyward-dev';

export async function prepareDevMode(options: DevOptions): Promise<KeywardConfig> {
  const dataDir = path.resolve(options.dataDir);
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const token = await provisionSoftHsmToken({ dir: path.join(dataDir, 'hsm'), label: DEV_TOKEN_LABEL });
  const tlsDir = path.join(dataDir, 'tls');
  const tls = await ensureDevTls(tlsDir);
  // ensureDevTls returns PEMs; the config takes files, which it has written.
  void tls;
  return parseConfig(
    {
      listen: options.listen ?? '127.0.0.1:8200',
      tls: { certFile: path.join(tlsDir, 'server.pem'), keyFile: path.join(tlsDir, 'server-key.pem') },
      storage: { path: path.join(dataDir, 'keyward.db') },
      hsm: { module: token.modulePath, tokenLabel: token.label, pinFile: token.pinFile, softhsmConf: token.confPath },
      environments: ['dev', 'staging', 'prod'],
      defaultEnvironment: 'dev',
      // Dev mode is for a workstation: MFA step-up is not enforced in the dev environment.
      mfaExemptEnvironments: ['dev'],
      workers: options.workers ?? 1,
      log: { level: options.logLevel ?? 'info' },
      dev: { dataDir, rootTokenFile: path.join(dataDir, 'root.token') },
    },
    dataDir,
  );
}
