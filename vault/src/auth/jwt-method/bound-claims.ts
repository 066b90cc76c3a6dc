/**
 * Role claim bindings for the JWT method, as Vault's jwt roles: `bound_claims` maps a claim (a name,
 * or a JSON-pointer-like path such as `/groups/0` or `/realm_access/roles`) to one allowed value or a
 * list; a string value with commas is a list. The token matches when, for every bound claim, the
 * token's value (or any element of a list value) equals — or, with `bound_claims_type: glob`, matches
 * the `*` wildcard pattern of — one allowed value. A missing claim never matches.
 */
export type BoundClaims = Readonly<Record<string, string | readonly string[]>>;
export type BoundClaimsType = 'string' | 'glob';

/** The claim at `path`: a plain name, or '/a/b' walked through objects and arrays. */
export function claimAt(payload: Readonly<Record<string, unknown>>, path: string): unknown {
  if (!path.startsWith('/')) return payload[path];
  let cur: unknown = payload;
  for (const raw of path.slice(1).split('/')) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(cur) && /^\d+$/.test(seg)) cur = cur[Number(seg)];
    else if (cur !== null && typeof cur === 'object' && !Array.isArray(cur)) cur = (cur as Record<string, unknown>)[seg];
    else return undefined;
  }
  return cur;
}

/** `*` matches any run of characters (possibly empty); everything else is literal. */
export function globMatch(pattern: string, value: string): boolean {
  const re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 's');
  return re.test(value);
}

function allowedValues(v: string | readonly string[]): string[] {
  return (typeof v === 'string' ? v.split(',') : [...v]).map((s) => s.trim()).filter((s) => s !== '');
}

function scalar(v: unknown): string | null {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return null;
}

export function claimsMatch(payload: Readonly<Record<string, unknown>>, bound: BoundClaims, type: BoundClaimsType): boolean {
  for (const [path, expected] of Object.entries(bound)) {
    const actual = claimAt(payload, path);
    const actualValues = (Array.isArray(actual) ? actual : [actual]).map(scalar).filter((s): s is string => s !== null);
    if (actualValues.length === 0) return false;
    const allowed = allowedValues(expected);
    const ok = actualValues.some((a) => allowed.some((e) => (type === 'glob' ? globMatch(e, a) : e === a)));
    if (!ok) return false;
  }
  return true;
}
