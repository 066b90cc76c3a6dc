import type { Migration } from '../database.js';

// Vault's num_uses: how many uses a token has made, taken atomically per request.
export const migration: Migration = {
  id: 11,
  name: 'token-uses',
  up: `ALTER TABLE tokens ADD COLUMN uses_made INTEGER NOT NULL DEFAULT 0;`,
};
