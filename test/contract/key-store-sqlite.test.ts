/** Runs the KeyStore contract against SqliteKeyStore on a real database file in a temp dir. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { closeDatabase, openDatabase } from '../../vault/src/adapters/sqlite/database.js';
import { SqliteKeyStore } from '../../vault/src/adapters/sqlite/sqlite-key-store.js';
import { DEFAULT_KEY_CONFIG } from '../../vault/src/core/ports/key-store.js';
import { parseEnvironment, parseKeyName } from '../../vault/src/core/types.js';
import { describeKeyStoreContract } from './key-store.contract.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'keyward-keystore-'));
let n = 0;
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describeKeyStoreContract('SqliteKeyStore', async () => {
  const db = await openDatabase({ file: path.join(root, `store-${++n}.db`) });
  const store = new SqliteKeyStore(db);
  return {
    store,
    cleanup: async () => {
      await store.close();
      closeDatabase(db);
    },
  };
});

describe('SqliteKeyStore specifics', () => {
  it('when the store is closed, then the shared connection stays open for the other adapters', async () => {
    const db = await openDatabase({ file: path.join(root, 'shared.db') });
    const store = new SqliteKeyStore(db);
    await store.close();
    expect(db.open).toBe(true);
    expect(db.prepare('SELECT count(*) AS n FROM transit_keys').get()).toEqual({ n: 0 });
    closeDatabase(db);
  });

  it('when the file is reopened, then keys and versions written before are all there', async () => {
    const file = path.join(root, 'reopen.db');
    const env = parseEnvironment('prod');
    const name = parseKeyName('k');
    let db = await openDatabase({ file });
    let store = new SqliteKeyStore(db);
    const wrappedKek = Buffer.alloc(40, 7);
    await store.createKey({ env, name, type: 'aes256-gcm96', derived: false, config: DEFAULT_KEY_CONFIG, firstVersion: { wrappedKek, rootTerm: 1 }, createdAt: new Date(1) });
    await store.appendKeyVersion(env, name, wrappedKek, 1, new Date(2));
    closeDatabase(db);
    db = await openDatabase({ file });
    store = new SqliteKeyStore(db);
    const got = await store.getKey(env, name);
    expect(got?.versions.map((v) => v.version)).toEqual([1, 2]);
    expect(got?.lastRotatedAt).toEqual(new Date(2));
    closeDatabase(db);
  });

  it('when the connection is read-only, then a write fails with ERR_INTERNAL and a clean message', async () => {
    const file = path.join(root, 'ro.db');
    closeDatabase(await openDatabase({ file }));
    const db = await openDatabase({ file, readonly: true });
    const store = new SqliteKeyStore(db);
    const env = parseEnvironment('prod');
    const p = store.createKey({ env, name: parseKeyName('k'), type: 'aes256-gcm96', derived: false, config: DEFAULT_KEY_CONFIG, firstVersion: { wrappedKek: Buffer.alloc(40), rootTerm: 1 }, createdAt: new Date() });
    await expect(p).rejects.toMatchObject({ code: 'ERR_INTERNAL', message: 'createKey: storage is read-only' });
    closeDatabase(db);
  });
});
