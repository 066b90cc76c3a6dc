/**
 * Canonical JSON for the audit hash chain and checkpoint signatures: object keys sorted by UTF-16
 * code unit order, no whitespace, `undefined` members dropped, numbers as JSON.stringify prints
 * them (a double round-trips through JSON.parse, so an exported entry re-canonicalises to the same
 * bytes). Only JSON values go in: callers pass entries built by `toJsonValue`.
 *
 * Invariant: canonicalJson(JSON.parse(canonicalJson(v))) === canonicalJson(v).
 */

export type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue };

/** Turns an arbitrary `details` value into plain JSON (Dates → ISO, bigint → string, drops functions). */
export function toJsonValue(value: unknown, depth = 0): JsonValue | undefined {
  if (depth > 32) return '[depth limit]';
  if (value === null) return null;
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : null;
    case 'bigint':
      return value.toString();
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
    default:
      break;
  }
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (Buffer.isBuffer(value) || value instanceof Uint8Array) return `[${value.length} bytes]`;
  if (Array.isArray(value)) return value.map((v) => toJsonValue(v, depth + 1) ?? null);
  const out: { [k: string]: JsonValue } = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    const j = toJsonValue(v, depth + 1);
    if (j !== undefined) out[k] = j;
  }
  return out;
}

export function canonicalJson(value: JsonValue): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(value).sort();
  const parts: string[] = [];
  for (const k of keys) {
    const v = value[k];
    if (v === undefined) continue;
    parts.push(`${JSON.stringify(k)}:${canonicalJson(v)}`);
  }
  return `{${parts.join(',')}}`;
}
