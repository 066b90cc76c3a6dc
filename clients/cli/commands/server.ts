/**
 * `keyward server --dev | --config FILE [--workers N]`: runs the vault. With one worker (and no
 * threadpool size to apply) it runs in this process; otherwise this process becomes a node:cluster
 * primary that never opens the HSM and forks workers (vault/src/cluster). SIGTERM/SIGINT drain
 * in-flight requests, close HSM sessions and checkpoint the WAL before exiting.
 *
 * UV_THREADPOOL_SIZE (config `performance.uvThreadpoolSize`): libuv reads it once, when its pool
 * first starts, and by the time a command runs the module loader may already have used the pool. So
 * it is never set in-process: when the configured size is not already in the environment, the server
 * runs as a cluster (1+ workers) whose workers get it in their environment from birth (a re-exec).
 */
import type { Command } from 'commander';
import { loadConfigFile, parseConfig, type KeywardConfig } from '../../../vault/src/config.js';
import { prepareDevMode } from '../../../vault/src/bootstrap/dev-mode.js';
import { startKeyward } from '../../../vault/src/main.js';
import { runPrimary } from '../../../vault/src/cluster/primary.js';
import { isClusterWorker, runWorker } from '../../../vault/src/cluster/worker.js';

interface ServerOpts {
  dev?: boolean;
  config?: string;
  listen: string;
  dataDir: string;
  logLevel: string;
  workers?: string;
  performance?: string;
}

export function register(program: Command): void {
  program
    .command('server')
    .description('run the Keyward server (--dev for a persistent local dev server)')
    .option('--dev', 'dev mode: SoftHSM2 token, dev CA and store under --data-dir')
    .option('--config <file>', 'production configuration file (JSON)')
    .option('--listen <host:port>', 'listen address (dev mode)', '127.0.0.1:8200')
    .option('--data-dir <dir>', 'data directory (dev mode)', '.keyward-dev')
    .option('--log-level <level>', 'log level', 'info')
    .option('--workers <n>', 'worker processes sharing the listener (default: config `workers`, 1)')
    .option('--performance <json>', 'override config `performance` levers, e.g. \'{"keyRecordCacheTtlMs":0}\'')
    .action(async (opts: ServerOpts) => {
      if (isClusterWorker()) {
        await runWorker();
        return;
      }
      if (!opts.dev && !opts.config) throw new Error('either --dev or --config FILE is required');
      let config = opts.dev ? await prepareDevMode({ dataDir: opts.dataDir, listen: opts.listen, logLevel: opts.logLevel }) : loadConfigFile(opts.config as string);
      config = withOverrides(config, opts);
      const threadpool = config.performance.uvThreadpoolSize;
      const needsReexec = threadpool > 0 && process.env['UV_THREADPOOL_SIZE'] !== String(threadpool);
      if (config.workers > 1 || needsReexec) {
        const primary = await runPrimary(config, { workers: config.workers, exposeWorkerId: process.env['KEYWARD_EXPOSE_WORKER_ID'] === '1' });
        banner(config, primary.url, null);
        process.stdout.write(`Workers: ${config.workers} (pids ${primary.workerPids().join(', ')})\n`);
        onStopSignal(() => primary.stop());
        return;
      }
      const rootTokenFile = config.dev?.rootTokenFile;
      const running = await startKeyward(config, rootTokenFile ? { rootTokenFile } : {});
      banner(config, running.url, running.rootToken);
      onStopSignal(() => running.close(10_000));
    });
}

function withOverrides(config: KeywardConfig, opts: ServerOpts): KeywardConfig {
  if (opts.workers === undefined && opts.performance === undefined) return config;
  let performance: unknown = config.performance;
  if (opts.performance !== undefined) {
    const patch = JSON.parse(opts.performance) as Record<string, unknown>;
    performance = { ...config.performance, ...patch };
  }
  const workers = opts.workers === undefined ? config.workers : Number(opts.workers);
  return parseConfig({ ...config, workers, performance }, process.cwd());
}

function banner(config: KeywardConfig, url: string, rootToken: string | null): void {
  if (!config.dev) return;
  const out = process.stdout;
  out.write('\nKeyward dev server is running (HTTPS, SoftHSM2-backed, persistent).\n\n');
  out.write(`    export VAULT_ADDR='${url}'\n`);
  out.write(`    export VAULT_CACERT='${config.dev.dataDir}/tls/ca.pem'\n`);
  out.write(`    export VAULT_TOKEN=$(cat '${config.dev.rootTokenFile}')\n\n`);
  if (rootToken) out.write(`Root token: ${rootToken}\n\n`);
  out.write(`HSM token config: ${config.hsm.softhsmConf ?? ''} (PIN in ${config.hsm.pinFile})\n`);
}

function onStopSignal(close: () => Promise<void>): void {
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`received ${signal}, draining…\n`);
    close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
