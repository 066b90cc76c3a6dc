/**
 * provision-cli: `node dist/hsm-sim/provision-cli.js --dir <dir> --label <label>` provisions (or
 * reuses) a SoftHSM2 token and prints the conf path. The PIN stays in <dir>/pin (0600) and is never
 * printed.
 */
import { parseArgs } from 'node:util';
import { provisionSoftHsmToken } from './provision.js';

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { dir: { type: 'string' }, label: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help || !values.dir || !values.label) {
    process.stderr.write('usage: provision-cli --dir <dir> --label <label>\n');
    process.exitCode = values.help ? 0 : 2;
    return;
  }
  const token = await provisionSoftHsmToken({ dir: values.dir, label: values.label });
  process.stdout.write(`${token.confPath}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`provision failed: ${e instanceof Error ? e.message : 'unknown error'}\n`);
  process.exitCode = 1;
});
