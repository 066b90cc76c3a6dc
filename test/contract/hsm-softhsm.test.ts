import { afterAll, beforeAll, expect, it } from 'vitest';
import { openPkcs11Hsm } from '../../vault/src/adapters/pkcs11/index.js';
import { createThrowawayToken, type ThrowawayToken } from '../helpers/throwaway-token.js';
import { describeHsmContract } from './hsm.contract.js';

let token: ThrowawayToken;
beforeAll(async () => {
  token = await createThrowawayToken();
});
afterAll(() => token?.cleanup());

// The same contract in both call modes (config performance.hsmCallMode): synchronous calls on the
// event loop and *Async calls on the libuv threadpool must be indistinguishable through the port.
for (const callMode of ['sync', 'async'] as const) {
  describeHsmContract(`Pkcs11Hsm on SoftHSM2 (${callMode} calls)`, async () => {
    const hsm = await openPkcs11Hsm({
      modulePath: token.modulePath,
      tokenLabel: token.label,
      pin: token.pin,
      softhsmConf: token.confPath,
      callMode,
    });
    expect(hsm.callMode).toBe(callMode);
    return { hsm, cleanup: () => hsm.close() };
  });
}

it('when the call mode is auto on SoftHSM2, then it resolves to sync', async () => {
  const hsm = await openPkcs11Hsm({ modulePath: token.modulePath, tokenLabel: token.label, pin: token.pin, softhsmConf: token.confPath });
  try {
    expect(hsm.callMode).toBe('sync');
  } finally {
    await hsm.close();
  }
});
