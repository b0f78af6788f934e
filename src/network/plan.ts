// network/plan: pure planner for the default bridge network — subnets, IPAM, veth names and the
// iproute2 / nft text that sets them up. Never touches fs, child_process or net: the executor applies it.
import { BerthError } from '../errors.js';

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

/** `ip -batch` lines that create the bridge; `-force` lets the executor ignore "File exists" on re-creation. */
export function planBridge(net: Network): string[] {
  const prefix = parseCidr(net.subnet).prefix;
  return [
    `link add ${net.bridge} type bridge`,
    `link set ${net.bridge} mtu ${net.mtu}`,
    `addr replace ${net.gateway}/${prefix} dev ${net.bridge}`,
    `link set ${net.bridge} up`,
  ];
}

/** One nft transaction for Berth's own table: delete+create so re-applying is idempotent and atomic. */
export function planRuleset(table: string, nets: Network[]): string {
  const lines = [`table ip ${table} {}`, `delete table ip ${table}`, `table ip ${table} {`];
  lines.push('  chain postrouting {', '    type nat hook postrouting priority srcnat; policy accept;');
  for (const n of nets) if (!n.internal) lines.push(`    ip saddr ${n.subnet} oifname != "${n.bridge}" masquerade`);
  lines.push('  }', '  chain forward {', '    type filter hook forward priority filter; policy accept;');
  for (const n of nets) {
    if (n.internal) continue;
    lines.push(`    iifname "${n.bridge}" accept`);
    lines.push(`    oifname "${n.bridge}" ct state established,related accept`);
  }
  lines.push('  }', '}');
  return lines.join('\n') + '\n';
}

export interface AttachPlan {
  /** `ip -batch` on the host */
  host: string[];
  /** `ip -batch` inside the container's netns (nsenter --net=/proc/<pid>/ns/net) */
  netns: string[];
}

/** Veth pair, one end moved into the container's netns and named eth0, address, default route. */
export function planAttach(net: Network, ep: Endpoint): AttachPlan {
  const host = vethName(ep.containerId);
  const peer = `${host.slice(0, 13)}_c`;
  const prefix = parseCidr(net.subnet).prefix;
  return {
    host: [
      `link add ${host} mtu ${net.mtu} type veth peer name ${peer} mtu ${net.mtu}`,
      `link set ${host} master ${net.bridge}`,
      `link set ${host} up`,
      `link set ${peer} netns ${ep.pid}`,
    ],
    netns: [
      `link set ${peer} name eth0`,
      `link set eth0 address ${macFor(ep.address)}`,
      `addr add ${ep.address}/${prefix} dev eth0`,
      'link set lo up',
      'link set eth0 up',
      ...(net.internal ? [] : [`route add default via ${net.gateway}`]),
    ],
  };
}

/** Deleting the host end removes the pair; gone already (netns died with the container) is fine. */
export function planDetach(ep: Pick<Endpoint, 'containerId'>): string[] {
  return [`link del ${vethName(ep.containerId)}`];
}
