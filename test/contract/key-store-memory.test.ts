import { MemoryKeyStore } from '../helpers/memory-key-store.js';
import { describeKeyStoreContract } from './key-store.contract.js';

describeKeyStoreContract('MemoryKeyStore', async () => {
  const store = new MemoryKeyStore();
  return { store, cleanup: () => store.close() };
});
