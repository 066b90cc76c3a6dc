/**
 * Micro-benchmark: seal+open round trips per second through Pkcs11Hsm on a throwaway SoftHSM2
 * token, sequential and with N in flight. Run: npx tsx test/bench/hsm-micro.ts [seconds] [inflight]
 * Not a test: figures depend on the machine and on what else runs.
 */
import crypto from 'node:crypto';
import { openPkcs11Hsm } from '../../vault/src/adapters/pkcs11/index.js';
import { parseEnvironment } from '../../vault/src/core/types.js';
import { createThrowawayToken } from '../helpers/throwaway-token.js';

const seconds = Number(process.argv[2] ?? 3);
const inflight = Number(process.argv[3] ?? 8);

const token = await createThrowawayToken();
const hsm = await openPkcs11Hsm({
  modulePath: token.modulePath,
  tokenLabel: token.label,
  pin: token.pin,
  softhsmConf: token.confPath,
  sessionPoolSize: Math.max(4, inflight),
});
try {
  const root = { env: parseEnvironment('bench'), term: 1 };
  await hsm.ensureRootKey(root);
  const key = { cacheId: 'bench/k/1@t1', root, wrappedKek: await hsm.generateWrappedKey(root) };
  const dek = crypto.randomBytes(32);
  const aad = Buffer.from('env=bench;key=k;v=1');

  async function loop(deadline: number): Promise<number> {
    let n = 0;
    while (Date.now() < deadline) {
      const sealed = await hsm.seal(key, dek, aad);
      await hsm.open(key, sealed, aad);
      n += 1;
    }
    return n;
  }

  await loop(Date.now() + 300); // warm-up: key version loaded, random buffer filled
  for (const lanes of [1, inflight]) {
    const start = performance.now();
    const counts = await Promise.all(Array.from({ length: lanes }, () => loop(Date.now() + seconds * 1000)));
    const elapsed = (performance.now() - start) / 1000;
    const total = counts.reduce((a, b) => a + b, 0);
    console.log(`${lanes} in flight: ${(total / elapsed).toFixed(0)} seal+open/s (${((2 * total) / elapsed).toFixed(0)} ops/s)`);
  }
} finally {
  await hsm.close();
  token.cleanup();
}
