/**
 * `keyward server --workers N`, worker side: read the configuration the primary resolved (no dev
 * provisioning here: the primary did it), start Keyward with this worker's duties, tell the primary
 * it is listening, drain on SIGTERM/SIGINT.
 *
 * Invariants:
 * - Only worker #1 runs background timers.
 * - The dev root token is only verified and reused here (worker #1 wrote it before any other worker
 *   started; see primary.ts).
 */
import cluster from 'node:cluster';
import { parseConfig, type KeywardConfig } from '../config.js';
import { KeywardError } from '../core/errors.js';
import { startKeyward } from '../main.js';
import { WORKER_CONFIG_ENV, WORKER_ID_ENV, type WorkerMessage } from './protocol.js';

export function isClusterWorker(): boolean {
  return cluster.isWorker && process.env[WORKER_CONFIG_ENV] !== undefined;
}

export async function runWorker(): Promise<void> {
  const raw = process.env[WORKER_CONFIG_ENV];
  const id = Number(process.env[WORKER_ID_ENV] ?? '0');
  if (raw === undefined || !Number.isInteger(id) || id < 1) throw new KeywardError('ERR_INVALID_INPUT', 'not started as a keyward cluster worker');
  const config: KeywardConfig = parseConfig(JSON.parse(raw) as unknown, process.cwd());
  const running = await startKeyward(config, {
    ...(config.dev ? { rootTokenFile: config.dev.rootTokenFile } : {}),
    backgroundJobs: id === 1,
    ...(process.env['KEYWARD_EXPOSE_WORKER_ID'] === '1' ? { workerIdHeader: String(id) } : {}),
  });
  const ready: WorkerMessage = { type: 'keyward-ready', url: running.url, pid: process.pid };
  process.send?.(ready);
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    running.close(10_000).then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
