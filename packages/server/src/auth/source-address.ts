import { BlockList, isIPv4 } from 'node:net';

/** Compiled ranges per key's list (the key store keeps principals frozen and cached, so lists repeat). */
const compiled = new WeakMap<readonly string[], BlockList>();

function blockListOf(ranges: readonly string[]): BlockList {
  let list = compiled.get(ranges);
  if (list === undefined) {
    list = new BlockList();
    for (const range of ranges) {
      const [address, bits] = range.split('/') as [string, string];
      list.addSubnet(address, Number(bits), isIPv4(address) ? 'ipv4' : 'ipv6');
    }
    compiled.set(ranges, list);
  }
  return list;
}

/**
 * Whether a request from `ip` may use a key limited to `ranges` (CIDR). IPv4 clients seen through an
 * IPv6 socket (`::ffff:10.0.0.1`) are checked as IPv4. `ip` is what Fastify reports: the socket's
 * peer, or X-Forwarded-For's client when TRUST_PROXY says which proxies to believe.
 */
export function sourceAllowed(ranges: readonly string[], ip: string): boolean {
  const list = blockListOf(ranges);
  const mapped = ip.startsWith('::ffff:') && isIPv4(ip.slice(7)) ? ip.slice(7) : ip;
  return list.check(mapped, isIPv4(mapped) ? 'ipv4' : 'ipv6');
}
