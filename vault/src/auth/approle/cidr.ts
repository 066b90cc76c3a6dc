/**
 * CIDR lists for AppRole bindings (`secret_id_bound_cidrs`, `token_bound_cidrs`, `cidr_list`):
 * parsed once, matched with node:net BlockList. A bare address means a single host (/32 or /128).
 * IPv4-mapped IPv6 source addresses (`::ffff:10.0.0.1`, what a dual-stack socket reports) are
 * matched as the IPv4 address they carry. An empty list binds nothing.
 */
import net from 'node:net';
import { invalidInput } from '../../core/errors.js';

/** Accepts Vault's forms: a list, or one comma-separated string. Returns normalised CIDR strings. */
export function parseCidrList(raw: readonly string[] | string | undefined): string[] {
  if (raw === undefined) return [];
  const items = (typeof raw === 'string' ? raw.split(',') : raw).map((s) => s.trim()).filter((s) => s !== '');
  const out: string[] = [];
  for (const item of items) {
    const [addr, prefixText, extra] = item.split('/');
    const family = addr === undefined ? 0 : net.isIP(addr);
    if (family === 0 || extra !== undefined) throw invalidInput('invalid CIDR block');
    const max = family === 4 ? 32 : 128;
    const prefix = prefixText === undefined ? max : Number(prefixText);
    if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) throw invalidInput('invalid CIDR block');
    if (!Number.isInteger(prefix) || prefix < 0 || prefix > max) throw invalidInput('invalid CIDR block');
    const cidr = `${addr}/${prefix}`;
    if (!out.includes(cidr)) out.push(cidr);
  }
  if (out.length > 64) throw invalidInput('too many CIDR blocks');
  return out;
}

function normaliseSource(address: string): { address: string; family: 'ipv4' | 'ipv6' } | null {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  const a = mapped?.[1] ?? address;
  const family = net.isIP(a);
  if (family === 0) return null;
  return { address: a, family: family === 4 ? 'ipv4' : 'ipv6' };
}

/** True if `cidrs` is empty or `sourceAddress` lies in one of them; false for an unparsable source. */
export function sourceAllowed(cidrs: readonly string[], sourceAddress: string): boolean {
  if (cidrs.length === 0) return true;
  const source = normaliseSource(sourceAddress);
  if (!source) return false;
  const list = new net.BlockList();
  for (const cidr of cidrs) {
    const [addr, prefix] = cidr.split('/') as [string, string];
    list.addSubnet(addr, Number(prefix), net.isIP(addr) === 4 ? 'ipv4' : 'ipv6');
  }
  return list.check(source.address, source.family);
}
