/** The transit use cases, one verb per file. */
export * from './create-key.js';
export * from './read-key.js';
export * from './list-keys.js';
export * from './update-key-config.js';
export * from './rotate-key.js';
export * from './trim-key.js';
export * from './delete-key.js';
export * from './encrypt.js';
export * from './decrypt.js';
export * from './rewrap.js';
export * from './generate-data-key.js';
export { MAX_BATCH_ITEMS } from './shared.js';
export * from './wire.js';
