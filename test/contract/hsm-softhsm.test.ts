import { afterAll, beforeAll } from 'vitest';
import { openPkcs11Hsm } from '../../vault/src/adapters/pkcs11/index.js';
import { createThrowawayToken, type ThrowawayToken } from '../helpers/throwaway-token.js';
import { describeHsmContract } from './hsm.contract.js';

let token: ThrowawayToken;
beforeAll(async () => {
  token = await createThrowawayToken();
});
afterAll(() => token?.cleanup());

describeHsmContract('Pkcs11Hsm on SoftHSM2', async () => {
  const hsm = await openPkcs11Hsm({
    modulePath: token.modulePath,
    tokenLabel: token.label,
    pin: token.pin,
    softhsmConf: token.confPath,
  });
  return { hsm, cleanup: () => hsm.close() };
});
