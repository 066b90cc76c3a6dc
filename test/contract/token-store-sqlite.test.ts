import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { closeDatabase, openDatabase, type SqliteConnection } from '../../vault/src/adapters/sqlite/database.js';
import { SqliteTokenStore } from '../../vault/src/adapters/sqlite/sqlite-token-store.js';
import { tokenStoreContract } from './token-store.contract.js';

tokenStoreContract('SqliteTokenStore', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kw-token-store-'));
  const file = path.join(dir, 'keyward.db');
  const connections: SqliteConnection[] = [await openDatabase({ file })];
  return {
    store: new SqliteTokenStore(connections[0] as SqliteConnection),
    reopen: async () => {
      const db = await openDatabase({ file });
      connections.push(db);
      return new SqliteTokenStore(db);
    },
    cleanup: async () => {
      for (const db of connections) closeDatabase(db);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
});
