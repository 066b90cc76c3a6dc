import { type NamedPolicy, policyFromDocument } from '../../../vault/src/authz/policy.js';

/** Builds a named policy from Vault's JSON form: `pol('ops', { 'secret/*': ['read'] })` or full rule objects. */
export function pol(name: string, paths: Record<string, readonly string[] | Record<string, unknown>>): NamedPolicy {
  const path: Record<string, unknown> = {};
  for (const [p, v] of Object.entries(paths)) path[p] = Array.isArray(v) ? { capabilities: v } : v;
  return { name, policy: policyFromDocument({ path }) };
}
