/**
 * Branded domain identifiers, parsed once at the edge (STYLE.md "Names"). A value of a branded type
 * has passed its parser, so the core never re-validates names that reach the HSM or the store.
 */
import { invalidInput } from './errors.js';

declare const brand: unique symbol;
type Brand<T, B extends string> = T & { readonly [brand]: B };

export type Environment = Brand<string, 'Environment'>;
export type KeyName = Brand<string, 'KeyName'>;
export type KeyVersion = Brand<number, 'KeyVersion'>;
export type SecretPath = Brand<string, 'SecretPath'>;

const ENV_RE = /^[a-z][a-z0-9-]{0,31}$/;
// Vault accepts almost any key name; we keep to a conservative, path-safe alphabet.
const KEY_NAME_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
const SECRET_PATH_RE = /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/;

export function parseEnvironment(raw: string): Environment {
  if (!ENV_RE.test(raw)) throw invalidInput(`invalid environment name`);
  return raw as Environment;
}

/**
 * Key names starting with `_` are reserved for Keyward's own keys (e.g. `_kv`, which seals the KV secret
 * store): the transit API never creates, reads, uses or deletes them, because every transit route parses
 * its key name here.
 */
export const RESERVED_KEY_PREFIX = '_';

export function isReservedKeyName(raw: string): boolean {
  return raw.startsWith(RESERVED_KEY_PREFIX);
}

export function parseKeyName(raw: string): KeyName {
  if (isReservedKeyName(raw)) throw invalidInput('key names starting with "_" are reserved');
  if (!KEY_NAME_RE.test(raw) || raw.includes('..')) throw invalidInput('invalid key name');
  return raw as KeyName;
}

/** An internal (reserved) key name such as `_kv`; never reachable from a transit route. */
export function internalKeyName(raw: string): KeyName {
  if (!isReservedKeyName(raw) || !KEY_NAME_RE.test(raw.slice(RESERVED_KEY_PREFIX.length))) throw invalidInput('invalid internal key name');
  return raw as KeyName;
}

export function parseKeyVersion(raw: number): KeyVersion {
  if (!Number.isSafeInteger(raw) || raw < 1 || raw > 2 ** 31 - 1) throw invalidInput('invalid key version');
  return raw as KeyVersion;
}

export function parseSecretPath(raw: string): SecretPath {
  const trimmed = raw.replace(/^\/+|\/+$/g, '');
  if (trimmed.length === 0 || trimmed.length > 512 || !SECRET_PATH_RE.test(trimmed) || trimmed.split('/').some((s) => s === '.' || s === '..')) {
    throw invalidInput('invalid secret path');
  }
  return trimmed as SecretPath;
}

export const DEFAULT_ENVIRONMENTS: readonly Environment[] = ['dev', 'staging', 'prod'].map(parseEnvironment);
