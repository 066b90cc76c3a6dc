import { MemoryHsm } from '../../hsm-sim/memory-hsm.js';
import { describeHsmContract } from './hsm.contract.js';

describeHsmContract('MemoryHsm', async () => {
  const hsm = new MemoryHsm();
  return { hsm, cleanup: () => hsm.close() };
});
