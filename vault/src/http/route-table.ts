/**
 * RouteTable: the /v1 route list compiled once into per-method, per-first-segment candidate lists,
 * so a request tries a handful of patterns instead of walking one express layer per (route, method).
 *
 * Invariants (it must answer exactly as the express Router it replaces, configured with
 * `caseSensitive: true, strict: false`, one `.get/.post/...` layer per entry in the given order):
 * - patterns are compiled by path-to-regexp's `match` with the Router's own options (trailing
 *   slashes of the pattern removed, optional trailing slash in the path, case-sensitive, whole
 *   path) and the Router's parameter decoding — except that a malformed %-escape is the client's mistake and
 *   fails as ERR_INVALID_INPUT (400 with Vault's errors body), where express would answer 500;
 * - candidates keep the registration order; GET entries also serve HEAD, as the Router does;
 * - bucketing by the first path segment only drops patterns that cannot match: a pattern is put in
 *   a literal bucket only when its first segment is plain text (no parameter, wildcard, group or
 *   escape); every other pattern is a candidate for every first segment.
 */
import { match, type MatchFunction } from 'path-to-regexp';
import { KeywardError } from '../core/errors.js';

export type RouteVerb = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';

export type RouteParams = Partial<Record<string, string | string[]>>;

export interface RouteEntry<T> {
  readonly path: string;
  readonly verb: RouteVerb;
  readonly value: T;
  /** Throws ERR_INVALID_INPUT for a matching path with a malformed %-escape. */
  readonly match: MatchFunction<RouteParams>;
}

const TRAILING_SLASHES = /\/+$/;
const PLAIN_SEGMENT = /^[A-Za-z0-9_.~-]+$/;

/** The Router's parameter decoding (router/lib/layer.js decodeParam); a bad escape is a 400. */
function decodeParam(val: string): string {
  if (val.length === 0 || val.indexOf('%') === -1) return val;
  try {
    return decodeURIComponent(val);
  } catch (err) {
    if (err instanceof URIError) throw new KeywardError('ERR_INVALID_INPUT', 'invalid percent-encoding in the request path');
    throw err;
  }
}

/** The Router's matcher for a route layer (`end: true`, non-strict, case-sensitive). */
export function compileRoutePattern(path: string): MatchFunction<RouteParams> {
  const loosened = path === '/' ? path : path.replace(TRAILING_SLASHES, '');
  return match<RouteParams>(loosened, { sensitive: true, end: true, trailing: true, decode: decodeParam });
}

/** The plain first segment of a pattern, or null when it could match more than one literal. */
function literalFirstSegment(path: string): string | null {
  if (path[0] !== '/') return null;
  const end = path.indexOf('/', 1);
  const seg = end === -1 ? path.slice(1) : path.slice(1, end);
  return PLAIN_SEGMENT.test(seg) ? seg : null;
}

/** The first segment of a request path ('' for '/'). */
function firstSegment(pathname: string): string {
  const end = pathname.indexOf('/', 1);
  return end === -1 ? pathname.slice(1) : pathname.slice(1, end);
}

interface Buckets<E> {
  readonly byFirst: Map<string, readonly E[]>;
  /** Entries whose first segment is not plain text, for a first segment no literal bucket has. */
  readonly rest: readonly E[];
}

function bucket<E>(items: readonly E[], pathOf: (e: E) => string): Buckets<E> {
  const keys = new Set<string>();
  for (const e of items) {
    const k = literalFirstSegment(pathOf(e));
    if (k !== null) keys.add(k);
  }
  const byFirst = new Map<string, readonly E[]>();
  for (const k of keys) {
    byFirst.set(
      k,
      items.filter((e) => {
        const f = literalFirstSegment(pathOf(e));
        return f === null || f === k;
      }),
    );
  }
  return { byFirst, rest: items.filter((e) => literalFirstSegment(pathOf(e)) === null) };
}

function lookup<E>(b: Buckets<E>, pathname: string): readonly E[] {
  return b.byFirst.get(firstSegment(pathname)) ?? b.rest;
}

const NONE: readonly never[] = [];

export class RouteTable<T> {
  private readonly byVerb = new Map<string, Buckets<RouteEntry<T>>>();
  private readonly paths: Buckets<{ readonly path: string; readonly match: MatchFunction<RouteParams> }>;

  /** `entries` in registration order; every distinct path is "known" (wrong method → 405). */
  constructor(entries: ReadonlyArray<{ readonly path: string; readonly verb: RouteVerb; readonly value: T }>) {
    const compiled = new Map<string, MatchFunction<RouteParams>>();
    const matcherFor = (path: string): MatchFunction<RouteParams> => {
      let m = compiled.get(path);
      if (!m) {
        m = compileRoutePattern(path);
        compiled.set(path, m);
      }
      return m;
    };
    const all: RouteEntry<T>[] = entries.map((e) => ({ path: e.path, verb: e.verb, value: e.value, match: matcherFor(e.path) }));
    for (const verb of ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'] as const) {
      const b = bucket(
        all.filter((e) => e.verb === verb),
        (e) => e.path,
      );
      this.byVerb.set(verb, b);
      // The Router lets a GET route answer HEAD (no route here registers HEAD itself).
      if (verb === 'GET') this.byVerb.set('HEAD', b);
    }
    const distinct = [...new Set(entries.map((e) => e.path))].map((path) => ({ path, match: matcherFor(path) }));
    this.paths = bucket(distinct, (p) => p.path);
  }

  /** The entries that may serve `method` on `pathname`, in registration order (patterns not yet tested). */
  candidates(method: string, pathname: string): readonly RouteEntry<T>[] {
    const b = this.byVerb.get(method) ?? this.byVerb.get(method.toUpperCase());
    return b ? lookup(b, pathname) : NONE;
  }

  /** Whether any route path matches, whatever its method (→ 405 rather than 404). May throw the decode error. */
  knownPath(pathname: string): boolean {
    for (const p of lookup(this.paths, pathname)) if (p.match(pathname)) return true;
    return false;
  }
}
