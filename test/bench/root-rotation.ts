/**
 * Root-KEK re-wrap throughput on SoftHSM2 + SQLite (synchronous=FULL): N key-version blobs under
 * term 1, then a full rotation to term 2 in batches. Prints blobs/s per batch size.
 * Run: `npx tsx test/bench/root-rotation.ts [N]` (default 2000).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openPkcs11Hsm } from '../../vault/src/adapters/pkcs11/index.js';
import { closeDatabase, openDatabase } from '../../vault/src/adapters/sqlite/database.js';
import { SqliteKeyStore } from '../../vault/src/adapters/sqlite/sqlite-key-store.js';
import { systemClock } from '../../vault/src/core/ports/clock.js';
import { DEFAULT_KEY_CONFIG } from '../../vault/src/core/ports/key-store.js';
import { parseEnvironment, parseKeyName } from '../../vault/src/core/types.js';
import { makeRootRotation } from '../../vault/src/usecases/lifecycle/rotate-root.js';
import { createThrowawayToken } from '../helpers/throwaway-token.js';

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 2000);
  const token = await createThrowawayToken();
  const hsm = await openPkcs11Hsm({ modulePath: token.modulePath, tokenLabel: token.label, pin: token.pin, softhsmConf: token.confPath });
  const env = parseEnvironment('prod');
  try {
    for (const batchSize of [100, 500]) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keyward-rot-'));
      const db = await openDatabase({ file: path.join(dir, 'k.db') });
      const keys = new SqliteKeyStore(db);
      const term = batchSize === 100 ? 1 : 11;
      await hsm.ensureRootKey({ env, term });
      await keys.putRoot(env, term, 'active', new Date());
      for (let k = 0; k < n / 10; k++) {
        const name = parseKeyName(`k${k}`);
        await keys.createKey({ env, name, type: 'aes256-gcm96', derived: false, config: DEFAULT_KEY_CONFIG, firstVersion: { wrappedKek: Buffer.from(await hsm.generateWrappedKey({ env, term })), rootTerm: term }, createdAt: new Date() });
        for (let v = 1; v < 10; v++) await keys.appendKeyVersion(env, name, Buffer.from(await hsm.generateWrappedKey({ env, term })), term, new Date());
      }
      const rotation = makeRootRotation({ hsm, keys, clock: systemClock, audit: { record: async () => {} }, holder: 'bench', options: { batchSize, retireGraceMs: 0 } });
      const t0 = performance.now();
      await rotation.start(env);
      await rotation.resume(env);
      const seconds = (performance.now() - t0) / 1000;
      console.log(`batch ${batchSize}: ${n} blobs re-wrapped in ${seconds.toFixed(2)} s = ${Math.round(n / seconds)} blobs/s`);
      closeDatabase(db);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  } finally {
    await hsm.close();
    token.cleanup();
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
