/**
 * Access review: answers "who can do X on Y" from role bindings and policy documents, without any
 * token. Each row is one (role, path, capability) with the granting policies, as JSON rows or CSV.
 *
 * Invariants: rows are decided by the same `Acl.match` the request path uses, so the review can never
 * disagree with enforcement on whether a capability is held; parameter rules and MFA are reported as
 * conditions rather than evaluated (a review has no request body). A policy a role names but that
 * does not exist grants nothing and is listed in `missingPolicies`.
 */
import { type OperationCapability, OPERATION_CAPABILITIES } from './capability.js';
import { compileAcl } from './evaluate.js';
import { type NamedPolicy, ROOT_POLICY_NAME } from './policy.js';

export type RoleKind = 'approle' | 'jwt' | 'token';

export interface RoleBinding {
  readonly kind: RoleKind;
  readonly name: string;
  readonly policies: readonly string[];
}

export interface AccessReviewRow {
  readonly kind: RoleKind;
  readonly role: string;
  readonly path: string;
  readonly capability: OperationCapability;
  readonly allowed: boolean;
  readonly grantingPolicies: string[];
  readonly matchedPattern: string | null;
  /** The winning rule restricts parameters (allowed/denied/required): the grant is conditional. */
  readonly parameterConstraints: boolean;
  readonly mfaMethods: string[];
  readonly missingPolicies: string[];
}

export interface AccessReviewInput {
  readonly roles: ReadonlyArray<RoleBinding>;
  readonly policies: ReadonlyArray<NamedPolicy>;
  readonly paths: string | ReadonlyArray<string>;
  /** Defaults to every operation capability. */
  readonly capabilities?: ReadonlyArray<OperationCapability>;
  /** Policies every token of these roles carries besides its own (e.g. `['default']`). */
  readonly implicitPolicies?: ReadonlyArray<string>;
  /** Keep only rows where the capability is held. */
  readonly onlyAllowed?: boolean;
}

export function accessReview(input: AccessReviewInput): AccessReviewRow[] {
  const paths = typeof input.paths === 'string' ? [input.paths] : [...input.paths];
  const caps = input.capabilities ?? OPERATION_CAPABILITIES;
  const byName = new Map(input.policies.map((p) => [p.name, p]));
  const rows: AccessReviewRow[] = [];
  for (const role of input.roles) {
    const names = [...new Set([...role.policies, ...(input.implicitPolicies ?? [])])];
    const missingPolicies = names.filter((n) => n !== ROOT_POLICY_NAME && !byName.has(n)).sort();
    const attached = names.flatMap((n): NamedPolicy[] => {
      if (n === ROOT_POLICY_NAME) return [{ name: ROOT_POLICY_NAME, policy: { rules: [] } }];
      const p = byName.get(n);
      return p === undefined ? [] : [p];
    });
    const acl = compileAcl(attached);
    for (const path of paths) {
      const effective = acl.isRoot ? undefined : acl.match(path);
      for (const capability of caps) {
        const base = { kind: role.kind, role: role.name, path, capability, missingPolicies };
        if (acl.isRoot) {
          rows.push({ ...base, allowed: true, grantingPolicies: [ROOT_POLICY_NAME], matchedPattern: null, parameterConstraints: false, mfaMethods: [] });
          continue;
        }
        const rule = effective?.rule;
        const allowed = rule !== undefined && !rule.capabilities.includes('deny') && rule.capabilities.includes(capability);
        rows.push({
          ...base,
          allowed,
          grantingPolicies: allowed ? [...(effective?.grantedBy.get(capability) ?? [])] : [],
          matchedPattern: rule?.path ?? null,
          parameterConstraints:
            allowed && rule !== undefined && (rule.allowedParameters.size > 0 || rule.deniedParameters.size > 0 || rule.requiredParameters.length > 0),
          mfaMethods: allowed && rule !== undefined ? [...rule.mfaMethods] : [],
        });
      }
    }
  }
  return input.onlyAllowed === true ? rows.filter((r) => r.allowed) : rows;
}

const CSV_COLUMNS = ['kind', 'role', 'path', 'capability', 'allowed', 'granting_policies', 'matched_pattern', 'parameter_constraints', 'mfa_methods', 'missing_policies'] as const;

/**
 * RFC 4180 field: quoted when it holds a comma, quote, CR or LF; quotes doubled. With
 * `neutralizeFormulas`, a leading = + - @ TAB or CR gets a `'` so spreadsheets do not run it
 * (OWASP "CSV injection"); role names and paths are operator-chosen text.
 */
export function csvField(value: string, neutralizeFormulas = true): string {
  const safe = neutralizeFormulas && /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** CSV with a header row and CRLF line ends (RFC 4180 §2); list cells are joined with `;`. */
export function toCsv(rows: ReadonlyArray<AccessReviewRow>, opts: { neutralizeFormulas?: boolean } = {}): string {
  const neutralize = opts.neutralizeFormulas ?? true;
  const lines = [CSV_COLUMNS.join(',')];
  for (const r of rows) {
    const cells = [
      r.kind,
      r.role,
      r.path,
      r.capability,
      String(r.allowed),
      r.grantingPolicies.join(';'),
      r.matchedPattern ?? '',
      String(r.parameterConstraints),
      r.mfaMethods.join(';'),
      r.missingPolicies.join(';'),
    ];
    lines.push(cells.map((c) => csvField(c, neutralize)).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}
