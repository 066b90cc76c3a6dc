import type { Migration } from '../database.js';

// Reserved so the migrations folder is never empty; real schema starts at 001.
export const migration: Migration = { id: 0, name: 'init', up: 'SELECT 1;' };
