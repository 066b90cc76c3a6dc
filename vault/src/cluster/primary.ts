/**
 * `keyward server --workers N` (node:cluster), primary side. The primary never opens the HSM or the
 * store: it forks N workers that each run startKeyward (own PKCS#11 load/C_Initialize/C_Login and own
 * SQLite connection — DESIGN.md §3, PKCS11-NOTES pitfall 13) and share the listening socket through
 * cluster's round-robin scheduling.
 *
 * Invariants:
 * - Workers start one after another: worker #1 creates whatever is missing (roots, signing keys, the
 *   dev root token file) before any other worker starts, so nothing is created twice.
 * - Only worker #1 runs background timers (`backgroundJobs`).
 * - UV_THREADPOOL_SIZE is put in the workers' environment, so it holds before their first libuv job.
 * - SIGTERM/SIGINT: forwarded to every worker; the primary exits once all have drained (or after
 *   the grace period, when it kills the rest).
 * - A worker that dies while the server is not stopping is replaced (same id, same duties).
 */
import cluster, { type Worker } from 'node:cluster';
import type { KeywardConfig } from '../config.js';
import { WORKER_CONFIG_ENV, WORKER_ID_ENV, type WorkerMessage } from './protocol.js';

export interface PrimaryOptions {
  readonly workers: number;
  /** Exposed to tests through X-Keyward-Worker when set. */
  readonly exposeWorkerId?: boolean;
  readonly graceMs?: number;
  readonly log?: (line: string) => void;
}

export interface RunningPrimary {
  readonly url: string;
  readonly workerPids: () => number[];
  stop(): Promise<void>;
}

export async function runPrimary(config: KeywardConfig, options: PrimaryOptions): Promise<RunningPrimary> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const graceMs = options.graceMs ?? 15_000;
  const baseEnv: Record<string, string> = {
    [WORKER_CONFIG_ENV]: JSON.stringify(config),
    ...(config.performance.uvThreadpoolSize > 0 ? { UV_THREADPOOL_SIZE: String(config.performance.uvThreadpoolSize) } : {}),
    ...(options.exposeWorkerId ? { KEYWARD_EXPOSE_WORKER_ID: '1' } : {}),
  };
  const workers = new Map<number, Worker>();
  let stopping = false;
  let url = '';

  const fork = (id: number): Promise<string> =>
    new Promise((resolve, reject) => {
      const worker = cluster.fork({ ...baseEnv, [WORKER_ID_ENV]: String(id) });
      workers.set(id, worker);
      let ready = false;
      worker.on('message', (msg: WorkerMessage) => {
        if (msg?.type === 'keyward-ready') {
          ready = true;
          resolve(msg.url);
        }
      });
      worker.on('exit', (code, signal) => {
        if (workers.get(id) === worker) workers.delete(id);
        if (!ready) {
          reject(new Error(`worker ${id} exited before it was ready (${signal ?? `code ${code}`})`));
          return;
        }
        if (stopping) return;
        log(`worker ${id} (pid ${worker.process.pid}) died (${signal ?? `code ${code}`}); starting a replacement`);
        fork(id).catch((e: unknown) => log(`worker ${id} could not be restarted: ${e instanceof Error ? e.message : String(e)}`));
      });
    });

  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    const exits = [...workers.values()].map(
      (w) =>
        new Promise<void>((resolve) => {
          if (w.isDead()) return resolve();
          w.once('exit', () => resolve());
          w.process.kill('SIGTERM');
        }),
    );
    const timer = setTimeout(() => {
      for (const w of workers.values()) if (!w.isDead()) w.process.kill('SIGKILL');
    }, graceMs);
    await Promise.all(exits);
    clearTimeout(timer);
  };

  try {
    for (let id = 1; id <= options.workers; id += 1) {
      const workerUrl = await fork(id);
      if (id === 1) url = workerUrl;
    }
  } catch (e) {
    await stop();
    throw e;
  }
  return { url, workerPids: () => [...workers.values()].map((w) => w.process.pid ?? 0), stop };
}
