/** The KV v2 use cases (Vault's `secret/` engine), one verb per file. */
export * from './delete-latest.js';
export * from './delete-metadata-and-all.js';
export * from './delete-versions.js';
export * from './destroy-versions.js';
export * from './internal-sealer.js';
export * from './kv-config.js';
export * from './list-secrets.js';
export * from './patch-secret.js';
export * from './read-metadata.js';
export * from './read-secret.js';
export * from './shared.js';
export * from './undelete-versions.js';
export * from './wire.js';
export * from './write-metadata.js';
export * from './write-secret.js';
