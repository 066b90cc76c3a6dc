/**
 * Starts a real Keyward dev server in this test process: a throwaway data dir with its own
 * SoftHSM2 token, dev CA and SQLite file, HTTPS on 127.0.0.1 with a free port, and an SDK transport
 * that trusts the dev CA (closed with the server). One per test file (vitest forks pool: the PKCS#11
 * library state is per process).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { HttpTransport } from '../../clients/sdk/http-client.js';
import { prepareDevMode } from '../../vault/src/bootstrap/dev-mode.js';
import type { KeywardConfig } from '../../vault/src/config.js';
import { startKeyward, type RunningKeyward, type StartOptions } from '../../vault/src/main.js';

export interface DevServer {
  readonly url: string;
  readonly caPem: string;
  readonly caFile: string;
  readonly rootToken: string;
  readonly dataDir: string;
  readonly config: KeywardConfig;
  readonly running: RunningKeyward;
  /** An SDK transport to `url` trusting the dev CA (no namespace, no token); closed by stop(). */
  readonly http: HttpTransport;
  /** Stop the server (keeps the data dir, so a restart on it can be tested). */
  stop(): Promise<void>;
  /** Stop and delete the data dir. */
  destroy(): Promise<void>;
}

export interface DevServerOptions {
  readonly dataDir?: string;
  readonly listen?: string;
  /** Wrap the real SoftHSM2 adapter (e.g. in a FaultyHsm) before the circuit breaker. */
  readonly wrapHsm?: StartOptions['wrapHsm'];
  /** Circuit-breaker tuning (shorter timeouts and cool-downs keep fault tests fast). */
  readonly breaker?: StartOptions['breaker'];
}

export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'keyward-test-'));
  const config = await prepareDevMode({ dataDir, listen: options.listen ?? '127.0.0.1:0', logLevel: 'silent' });
  const rootTokenFile = config.dev?.rootTokenFile ?? path.join(dataDir, 'root.token');
  const running = await startKeyward(config, {
    rootTokenFile,
    logger: pino({ level: 'silent' }),
    ...(options.wrapHsm ? { wrapHsm: options.wrapHsm } : {}),
    ...(options.breaker ? { breaker: options.breaker } : {}),
  });
  const caFile = path.join(dataDir, 'tls', 'ca.pem');
  const caPem = fs.readFileSync(caFile, 'utf8');
  const http = new HttpTransport({ address: running.url, caPem });
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    http.close();
    await running.close(2_000);
  };
  return {
    url: running.url,
    caPem,
    caFile,
    rootToken: running.rootToken ?? fs.readFileSync(rootTokenFile, 'utf8').trim(),
    dataDir,
    config,
    running,
    http,
    stop,
    destroy: async () => {
      await stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
