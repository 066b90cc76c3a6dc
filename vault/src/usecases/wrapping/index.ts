/** Response wrapping use cases (Vault `X-Vault-Wrap-TTL`, `sys/wrapping/*`). */
export * from './lookup.js';
export * from './rewrap.js';
export * from './shared.js';
export * from './unwrap.js';
export * from './wire.js';
export * from './wrap-response.js';
export * from './wrapping-token.js';
