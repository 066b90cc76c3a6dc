import { MemoryTokenStore } from '../helpers/memory-token-store.js';
import { tokenStoreContract } from './token-store.contract.js';

tokenStoreContract('MemoryTokenStore', async () => ({ store: new MemoryTokenStore(), cleanup: async () => {} }));
