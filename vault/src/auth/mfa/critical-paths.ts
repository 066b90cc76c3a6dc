/**
 * Keyward's default step-up rule, as data the integrator applies (e.g. by adding `mfa_methods` to the
 * matching policy paths, or by consulting `requiredMfaFor` in the authorizer): outside the exempt
 * environments (dev by default), these operations need a TOTP code from the configured method:
 * - root-key rotation: `sys/rotate` (and `sys/rotate/*`), update/create;
 * - key deletion: `transit/keys/*`, delete;
 * - policy changes: `sys/policies/acl/*` and `sys/policy/*`, create/update/patch/delete.
 * Path globs follow Vault's ACL: a trailing `*` matches any suffix.
 */
/** Vault ACL capabilities (the same union as the http layer's `Capability`). */
export type Capability = 'create' | 'read' | 'update' | 'patch' | 'delete' | 'list' | 'sudo' | 'deny';

export interface CriticalPathRule {
  readonly path: string;
  readonly capabilities: readonly Capability[];
  readonly why: string;
}

export const CRITICAL_PATH_RULES: readonly CriticalPathRule[] = [
  { path: 'sys/rotate', capabilities: ['update', 'create'], why: 'root key rotation' },
  { path: 'sys/rotate/*', capabilities: ['update', 'create'], why: 'root key rotation' },
  { path: 'transit/keys/*', capabilities: ['delete'], why: 'key deletion' },
  { path: 'sys/policies/acl/*', capabilities: ['create', 'update', 'patch', 'delete'], why: 'policy change' },
  { path: 'sys/policy/*', capabilities: ['create', 'update', 'patch', 'delete'], why: 'policy change' },
];

export interface CriticalPathMfaPolicy {
  readonly methodName: string;
  readonly exemptEnvironments: readonly string[];
  readonly rules: readonly CriticalPathRule[];
  /** The MFA methods this operation needs in `env` ([] when none). */
  requiredMfaFor(env: string, aclPath: string, capability: Capability): string[];
}

function pathMatches(pattern: string, path: string): boolean {
  const clean = path.replace(/^\/+|\/+$/g, '');
  return pattern.endsWith('*') ? clean.startsWith(pattern.slice(0, -1)) : clean === pattern;
}

/** `mfaExemptEnvironments`: environments where the rule does not apply (config; default ['dev']). */
export function criticalPathMfaPolicy(mfaExemptEnvironments: readonly string[] = ['dev'], methodName = 'totp'): CriticalPathMfaPolicy {
  const exempt = new Set(mfaExemptEnvironments);
  return {
    methodName,
    exemptEnvironments: [...exempt],
    rules: CRITICAL_PATH_RULES,
    requiredMfaFor(env, aclPath, capability) {
      if (exempt.has(env)) return [];
      const hit = CRITICAL_PATH_RULES.some((r) => r.capabilities.includes(capability) && pathMatches(r.path, aclPath));
      return hit ? [methodName] : [];
    },
  };
}
