/**
 * `keyward server --dev | --config FILE`: runs the vault in this process. SIGTERM/SIGINT drain
 * in-flight requests, close HSM sessions and checkpoint the WAL before exiting.
 */
import type { Command } from 'commander';
import { loadConfigFile } from '../../../vault/src/config.js';
import { prepareDevMode } from '../../../vault/src/bootstrap/dev-mode.js';
import { startKeyward } from '../../../vault/src/main.js';

export function register(program: Command): void {
  program
    .command('server')
    .description('run the Keyward server (--dev for a persistent local dev server)')
    .option('--dev', 'dev mode: SoftHSM2 token, dev CA and store under --data-dir')
    .option('--config <file>', 'production configuration file (JSON)')
    .option('--listen <host:port>', 'listen address (dev mode)', '127.0.0.1:8200')
    .option('--data-dir <dir>', 'data directory (dev mode)', '.keyward-dev')
    .option('--log-level <level>', 'log level', 'info')
    .action(async (opts: { dev?: boolean; config?: string; listen: string; dataDir: string; logLevel: string }) => {
      if (!opts.dev && !opts.config) throw new Error('either --dev or --config FILE is required');
      const config = opts.dev ? await prepareDevMode({ dataDir: opts.dataDir, listen: opts.listen, logLevel: opts.logLevel }) : loadConfigFile(opts.config as string);
      const rootTokenFile = config.dev?.rootTokenFile;
      const running = await startKeyward(config, rootTokenFile ? { rootTokenFile } : {});
      if (config.dev) {
        const out = process.stdout;
        out.write('\nKeyward dev server is running (HTTPS, SoftHSM2-backed, persistent).\n\n');
        out.write(`    export VAULT_ADDR='${running.url}'\n`);
        out.write(`    export VAULT_CACERT='${config.dev.dataDir}/tls/ca.pem'\n`);
        out.write(`    export VAULT_TOKEN=$(cat '${config.dev.rootTokenFile}')\n\n`);
        if (running.rootToken) out.write(`Root token: ${running.rootToken}\n\n`);
        out.write(`HSM token config: ${config.hsm.softhsmConf ?? ''} (PIN in ${config.hsm.pinFile})\n`);
      }
      let stopping = false;
      const stop = (signal: string): void => {
        if (stopping) return;
        stopping = true;
        process.stderr.write(`received ${signal}, draining…\n`);
        running.close(10_000).then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.on('SIGTERM', () => stop('SIGTERM'));
      process.on('SIGINT', () => stop('SIGINT'));
    });
}
