/**
 * Source network of an address, for "first use from a new network": IPv4 /24, IPv6 /64 (the usual
 * size of one site's allocation). IPv4-mapped IPv6 (`::ffff:10.1.2.3`, as Node reports IPv4 clients
 * on a dual-stack socket) counts as IPv4. Anything unparseable yields null (never an alert).
 */
import net from 'node:net';

function expandIPv6(addr: string): string[] | null {
  const zoneless = addr.split('%')[0] ?? '';
  const halves = zoneless.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  if (tail.length > 0 && tail[tail.length - 1]?.includes('.')) return null; // embedded IPv4 handled by caller
  const missing = 8 - head.length - tail.length;
  if (missing < 0 || (halves.length === 1 && missing !== 0)) return null;
  return [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...tail].map((g) => g.toLowerCase().replace(/^0+(?=.)/, ''));
}

export function sourceNetwork(address: string): string | null {
  let a = address.trim();
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(a);
  if (mapped?.[1]) a = mapped[1];
  if (net.isIPv4(a)) {
    const parts = a.split('.');
    return `${parts[0]}.${parts[1]}.${parts[2]}.0/24`;
  }
  if (net.isIPv6(a)) {
    const groups = expandIPv6(a);
    if (!groups) return null;
    return `${groups.slice(0, 4).join(':')}::/64`;
  }
  return null;
}
