// network/plan: pure planner for the default bridge network — subnets, IPAM, veth names and the
// iproute2 / nft text that sets them up. Never touches fs, child_process or net: the executor applies it.
import { BerthError } from '../errors.js';
import type { Op } from '../runtime/plan/encode.js';

/** A network is data, so user-defined networks later are just more of these. */
export interface Network {
  name: string;
  bridge: string;
  subnet: string;   // CIDR, e.g. 172.18.0.0/16
  gateway: string;  // e.g. 172.18.0.1
  internal: boolean;
  mtu: number;
}

export interface Endpoint {
  containerId: string;
  pid: number;
  address: string; // without prefix
  /** host end of the veth pair (default: vethName(containerId)); one per container per network */
  hostVeth?: string;
  /** name inside the container: eth0 for the first network, eth1 for the next … */
  ifname?: string;
  mac?: string;
  /** the first non-internal network of a container carries its default route */
  defaultRoute?: boolean;
}

/** IPAM leases of one network: address -> container id. */
export type Leases = Record<string, string>;

export interface Cidr { base: number; prefix: number }

export function parseIp(s: string): number {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s);
  if (!m) throw new BerthError('InvalidArgument', `invalid IPv4 address: ${s}`);
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) throw new BerthError('InvalidArgument', `invalid IPv4 address: ${s}`);
  return ((parts[0] << 24) >>> 0) + (parts[1] << 16) + (parts[2] << 8) + parts[3];
}

export function formatIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function parseCidr(s: string): Cidr {
  const [ip, p] = s.split('/');
  const prefix = p === undefined ? 32 : Number(p);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > 32) throw new BerthError('InvalidArgument', `invalid CIDR: ${s}`);
  return { base: (parseIp(ip) & mask(prefix)) >>> 0, prefix };
}

function mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

export function formatCidr(c: Cidr): string {
  return `${formatIp(c.base)}/${c.prefix}`;
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  const p = Math.min(a.prefix, b.prefix);
  return ((a.base & mask(p)) >>> 0) === ((b.base & mask(p)) >>> 0);
}

/** Docker's default address pools (libnetwork ipamutils): 172.17-31.0.0/16, then 192.168.0.0/16 in /20s. */
export function defaultPools(): Cidr[] {
  const pools: Cidr[] = [];
  for (let i = 17; i <= 31; i++) pools.push({ base: parseIp(`172.${i}.0.0`), prefix: 16 });
  for (let i = 0; i < 256; i += 16) pools.push({ base: parseIp(`192.168.${i}.0`), prefix: 20 });
  return pools;
}

/** The first pool that overlaps none of the host's routes/addresses (a default route is not a conflict). */
export function pickSubnet(pools: Cidr[], taken: string[]): Cidr {
  const used = taken.filter((t) => t !== 'default' && !t.endsWith('/0')).map(parseCidr);
  const free = pools.find((p) => !used.some((u) => overlaps(p, u)));
  if (!free) throw new BerthError('Unavailable', 'could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network');
  return free;
}

/** The bridge network on a chosen subnet: the gateway is the first host address, like docker0. */
export function bridgeNetwork(name: string, bridge: string, subnet: Cidr, mtu: number): Network {
  return { name, bridge, subnet: formatCidr(subnet), gateway: formatIp(subnet.base + 1), internal: false, mtu };
}

/** Lowest free address of the subnet, skipping network, gateway and broadcast; pure: returns new leases. */
export function allocate(net: Network, leases: Leases, containerId: string): { address: string; leases: Leases } {
  const existing = Object.entries(leases).find(([, id]) => id === containerId);
  if (existing) return { address: existing[0], leases };
  const c = parseCidr(net.subnet);
  const size = 2 ** (32 - c.prefix);
  const gw = parseIp(net.gateway);
  for (let n = c.base + 1; n < c.base + size - 1; n++) {
    const a = formatIp(n);
    if (n === gw || leases[a] !== undefined) continue;
    return { address: a, leases: { ...leases, [a]: containerId } };
  }
  throw new BerthError('Unavailable', `no available IPv4 addresses on network ${net.name}`);
}

export function release(leases: Leases, containerId: string): Leases {
  return Object.fromEntries(Object.entries(leases).filter(([, id]) => id !== containerId));
}

/** Leases whose container is gone (daemon restart reconciliation). */
export function reconcile(leases: Leases, alive: Set<string>): Leases {
  return Object.fromEntries(Object.entries(leases).filter(([, id]) => alive.has(id)));
}

/** Host-side veth name: IFNAMSIZ is 16 with the NUL, so 15 chars; derived from the id so teardown needs no state. */
export function vethName(containerId: string): string {
  return `vb${containerId.slice(0, 12)}`;
}

/** Docker's MAC scheme: 02:42 followed by the IPv4 address. */
export function macFor(address: string): string {
  const n = parseIp(address);
  return ['02', '42', ...[n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].map((b) => b.toString(16).padStart(2, '0'))].join(':');
}

/**
 * The op (berth-helper net, netlink) that puts a network's bridge in place: made if missing (changed if
 * there), its MTU, the gateway address (replacing the same one), up. The same op at every daemon start.
 */
export function planBridge(net: Network): Op[] {
  const c = parseCidr(net.subnet);
  const broadcast = (c.base | (~mask(c.prefix) >>> 0)) >>> 0;
  return [{ op: 'BRIDGE', args: { name: net.bridge, mtu: net.mtu, address: parseIp(net.gateway), prefix: c.prefix, broadcast }, from: `bridge ${net.bridge}` }];
}

/** Deleting a bridge (a network removed, or one whose creation failed half-way); gone already is fine. */
export function planBridgeDelete(bridge: string): Op[] {
  return [{ op: 'LINK_DEL', args: { optional: 1, name: bridge }, from: `bridge ${bridge}` }];
}

/**
 * One nft transaction for Berth's own table: delete+create so re-applying is idempotent and atomic, and
 * nothing outside the table is touched (docker's chains may sit beside it). Forward rules: traffic stays
 * inside its own bridge or leaves to the uplink, never crosses to another Berth bridge (docker's
 * isolation stages); an internal network talks only inside its bridge. `extra` is more chains other
 * parts of network/ (published ports) keep in the same table.
 */
export function planRuleset(table: string, nets: Network[], extra: string[] = []): string {
  const lines = [`table ip ${table} {}`, `delete table ip ${table}`, `table ip ${table} {`];
  lines.push('  chain postrouting {', '    type nat hook postrouting priority srcnat; policy accept;');
  for (const n of nets) if (!n.internal) lines.push(`    ip saddr ${n.subnet} oifname != "${n.bridge}" masquerade`);
  lines.push('  }', '  chain forward {', '    type filter hook forward priority filter; policy accept;');
  for (const n of nets) {
    lines.push(`    iifname "${n.bridge}" oifname "${n.bridge}" accept`);
    if (n.internal) {
      lines.push(`    iifname "${n.bridge}" drop`, `    oifname "${n.bridge}" drop`);
      continue;
    }
    const others = nets.filter((o) => o.bridge !== n.bridge).map((o) => `"${o.bridge}"`);
    if (others.length) lines.push(`    iifname "${n.bridge}" oifname { ${others.join(', ')} } drop`);
    lines.push(`    iifname "${n.bridge}" accept`);
    lines.push(`    oifname "${n.bridge}" ct state established,related accept`);
  }
  lines.push('  }');
  for (const l of extra) lines.push(`  ${l}`);
  lines.push('}');
  return lines.join('\n') + '\n';
}

/** CLONE_NEWNET: SETNS into a container's network namespace (runtime/linux.ts has the full table). */
const CLONE_NEWNET = 0x40000000;

function macBytes(mac: string): Buffer {
  return Buffer.from(checkMac(mac).split(':').map((h) => parseInt(h, 16)));
}

/**
 * The ops (berth-helper net, netlink) that wire a container to a bridge: the veth pair made with its
 * container end straight inside the container's netns under its final name, MAC and MTU, the host end
 * up on the bridge; then, inside the netns, lo up, the address (with broadcast), the link up and the
 * default route.
 */
export function planAttach(net: Network, ep: Endpoint): Op[] {
  const host = ep.hostVeth ?? vethName(ep.containerId);
  const ifname = ep.ifname ?? 'eth0';
  const c = parseCidr(net.subnet);
  const route = ep.defaultRoute ?? !net.internal;
  const broadcast = (c.base | (~mask(c.prefix) >>> 0)) >>> 0;
  return [
    { op: 'VETH', args: { name: host, peer: ifname, master: net.bridge, mtu: net.mtu, nspid: ep.pid, mac: macBytes(ep.mac ?? macFor(ep.address)) }, from: `veth ${host}` },
    { op: 'SETNS', args: { nstype: CLONE_NEWNET, path: `/proc/${ep.pid}/ns/net` }, from: `network namespace of pid ${ep.pid}` },
    { op: 'LINK_UP', args: { name: 'lo' }, from: 'lo' },
    { op: 'ADDR_ADD', args: { dev: ifname, address: parseIp(ep.address), prefix: c.prefix, broadcast }, from: `address ${ep.address}/${c.prefix}` },
    { op: 'LINK_UP', args: { name: ifname }, from: ifname },
    ...(route && !net.internal ? [{ op: 'ROUTE_ADD', args: { dev: ifname, dst: 0, prefix: 0, gateway: parseIp(net.gateway) }, from: `default route via ${net.gateway}` } as Op] : []),
  ];
}

/** Deleting the host end removes the pair; gone already (netns died with the container) is fine. */
export function planDetach(hostVeth: string): Op[] {
  return [{ op: 'LINK_DEL', args: { optional: 1, name: hostVeth }, from: `veth ${hostVeth}` }];
}

export function contains(c: Cidr, ip: number): boolean {
  return ((ip & mask(c.prefix)) >>> 0) === c.base;
}

/**
 * An IPAM pool of a new network, checked: subnet given or picked from the default pools (skipping
 * `taken`, the host's routes and the other networks' subnets), gateway inside the subnet, range inside
 * it. Docker's wording where clients see it (libnetwork ipam and bridge driver).
 */
export function planPool(req: { subnet?: string; gateway?: string; ipRange?: string }, others: string[], host: string[]): { subnet: string; gateway: string; ipRange?: string } {
  let subnet: Cidr;
  if (req.subnet) {
    if (req.subnet.includes(':')) throw new BerthError('NotImplemented', `IPv6 subnets are not supported: ${req.subnet}`);
    subnet = parseCidr(req.subnet);
    if (!req.subnet.includes('/')) throw new BerthError('InvalidArgument', `invalid CIDR address: ${req.subnet}`);
    if (subnet.prefix > 30) throw new BerthError('InvalidArgument', `subnet ${req.subnet} is too small: it leaves no address for a container`);
    if (others.some((o) => overlaps(parseCidr(o), subnet))) throw new BerthError('PermissionDenied', 'Pool overlaps with other one on this address space');
    const route = host.filter((t) => t !== 'default' && !t.endsWith('/0')).find((t) => overlaps(parseCidr(t), subnet));
    if (route) throw new BerthError('InvalidArgument', `subnet ${formatCidr(subnet)} overlaps with the host's route or address ${route}`);
  } else {
    if (req.gateway || req.ipRange) throw new BerthError('InvalidArgument', 'a gateway or an IP range needs a subnet (--subnet)');
    subnet = pickSubnet(defaultPools(), [...others, ...host]);
  }
  const size = 2 ** (32 - subnet.prefix);
  let range: Cidr | undefined;
  if (req.ipRange) {
    range = parseCidr(req.ipRange);
    if (range.prefix < subnet.prefix || !contains(subnet, range.base)) throw new BerthError('InvalidArgument', `invalid ip-range ${req.ipRange}: it is not inside subnet ${formatCidr(subnet)}`);
  }
  let gateway: string;
  if (req.gateway) {
    const g = parseIp(req.gateway);
    if (!contains(subnet, g)) throw new BerthError('InvalidArgument', `no matching subnet for gateway ${req.gateway}: it is not inside subnet ${formatCidr(subnet)}`);
    if (g === subnet.base || g === subnet.base + size - 1) throw new BerthError('InvalidArgument', `invalid gateway ${req.gateway}: it is the network or broadcast address of ${formatCidr(subnet)}`);
    gateway = req.gateway;
  } else gateway = formatIp(subnet.base + 1);
  return { subnet: formatCidr(subnet), gateway, ...(range ? { ipRange: formatCidr(range) } : {}) };
}

/**
 * An address for an endpoint: the one asked for (inside the subnet, not the gateway, free), or the lowest
 * free one of the range (or subnet), skipping network, gateway and broadcast.
 */
export function pickAddress(pool: { subnet: string; gateway: string; ipRange?: string }, used: Set<string>, wanted?: string): string {
  const c = parseCidr(pool.subnet);
  const size = 2 ** (32 - c.prefix);
  const gw = parseIp(pool.gateway);
  if (wanted) {
    const n = parseIp(wanted);
    if (!contains(c, n) || n === c.base || n === c.base + size - 1) throw new BerthError('InvalidArgument', `invalid address ${wanted}: it is not a host address of subnet ${pool.subnet}`);
    if (n === gw || used.has(wanted)) throw new BerthError('Conflict', `Address already in use: ${wanted}`);
    return wanted;
  }
  const r = pool.ipRange ? parseCidr(pool.ipRange) : c;
  const rsize = 2 ** (32 - r.prefix);
  for (let n = r.base; n < r.base + rsize; n++) {
    if (n === c.base || n === c.base + size - 1 || n === gw) continue;
    const a = formatIp(n);
    if (!used.has(a)) return a;
  }
  throw new BerthError('Unavailable', `no available IPv4 addresses on network with subnet ${pool.subnet}`);
}

/** The interface name of a container's next network: eth0, eth1, … the lowest not in use. */
export function nextIfname(inUse: string[]): string {
  for (let i = 0; ; i++) if (!inUse.includes(`eth${i}`)) return `eth${i}`;
}

/** Linux interface names: at most 15 bytes, no '/', ':' or whitespace. */
export function checkIfname(name: string): void {
  if (!/^[A-Za-z0-9_.-]{1,15}$/.test(name)) throw new BerthError('InvalidArgument', `invalid bridge name ${JSON.stringify(name)}: at most 15 letters, digits, '.', '-' or '_'`);
}

export function checkMac(mac: string): string {
  if (!/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/.test(mac)) throw new BerthError('InvalidArgument', `invalid MAC address: ${mac}`);
  if (parseInt(mac.slice(0, 2), 16) & 1) throw new BerthError('InvalidArgument', `invalid MAC address: ${mac}: a multicast address`);
  return mac.toLowerCase();
}
