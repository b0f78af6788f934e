// network/dns-servers: the embedded DNS servers' keeper (one per user network, kept in step with the network
// list) and the host's resolvers. The servers themselves (network/dns: dns-packet, dgram) load when the
// first network wants one, not with berthd (issue 13: idle RSS; a daemon without user networks never loads them).
import * as fs from 'node:fs';
import * as net from 'node:net';
import { overlaps, parseCidr, parseIp } from './plan.js';
import type { Endpoint, NetworkInfo } from './types.js';
import type { DnsServer } from './dns.js';

export interface Upstream { host: string; port: number }

/** Resolver addresses of the host, from resolv.conf text (`nameserver` lines; IPv6 ones included). */
export function parseResolvConf(text: string): Upstream[] {
  const out: Upstream[] = [];
  for (const line of text.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (m && net.isIP(m[1]!.split('%')[0]!)) out.push({ host: m[1]!, port: 53 });
  }
  return out;
}

/** The host's resolvers from a resolv.conf file, re-read when it changes (DHCP and resolved rewrite it). */
export function hostResolvers(file = '/etc/resolv.conf'): () => Upstream[] {
  let cached: { mtimeMs: number; ups: Upstream[] } | undefined;
  return () => {
    try {
      const st = fs.statSync(file);
      if (!cached || cached.mtimeMs !== st.mtimeMs) cached = { mtimeMs: st.mtimeMs, ups: parseResolvConf(fs.readFileSync(file, 'utf8')) };
      return cached.ups;
    } catch { return []; }
  };
}

/** Networks that get an embedded DNS server: user-defined bridge networks (not the default bridge, like docker). */
export function wantsDns(n: NetworkInfo): boolean {
  return n.driver === 'bridge' && n.name !== 'bridge' && n.ipam.config.some((c) => !!c.gateway);
}

export interface DnsServersOptions {
  networks: () => NetworkInfo[];
  endpoints: (networkId: string) => Endpoint[];
  upstreams: () => Upstream[];
  log?: (msg: string) => void;
  /** 53; tests pass 0 */
  port?: number;
}

/** The DNS servers of all user networks, kept in step with the network list by sync(). */
export class DnsServers {
  private readonly servers = new Map<string, { address: string; server: DnsServer }>();
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly o: DnsServersOptions) {}

  /** Starts a server for each user network without one and stops those of removed networks (serialized). */
  sync(): Promise<void> {
    this.chain = this.chain.then(() => this.doSync()).catch((e: unknown) => this.o.log?.(`dns: ${(e as Error).message}`));
    return this.chain;
  }

  private async doSync(): Promise<void> {
    const want = new Map<string, NetworkInfo>();
    for (const n of this.o.networks()) if (wantsDns(n)) want.set(n.id, n);
    for (const [id, s] of this.servers) {
      if (want.has(id) && gatewayOf(want.get(id)!) === s.address) continue;
      this.servers.delete(id);
      await s.server.close();
    }
    const add = [...want.values()].filter((n) => !this.servers.has(n.id));
    if (!add.length) return;
    const { DnsServer, namesOf } = await import('./dns.js');
    for (const n of add) {
      const address = gatewayOf(n);
      // Internal networks have no way out: their server answers its own names and forwards nothing
      const server = new DnsServer({
        address, port: this.o.port, names: namesOf(n.name, () => this.o.endpoints(n.id)), allow: inSubnets(n),
        upstreams: n.internal ? () => [] : (client) => this.upstreamsOf(n.id, client), log: this.o.log,
      });
      try {
        await server.start();
        this.servers.set(n.id, { address, server });
        this.o.log?.(`dns: serving network ${n.name} on ${address}:${server.port}`);
      } catch (e) {
        this.o.log?.(`dns: network ${n.name}: listen on ${address}: ${(e as Error).message}`);
      }
    }
  }

  /** docker's ExtDNS: a container started with --dns has its queries forwarded there, not to the host's. */
  private upstreamsOf(networkId: string, client: string): Upstream[] {
    const dns = this.o.endpoints(networkId).find((e) => e.ipv4Address === client)?.dns;
    return dns?.length ? dns.map((host) => ({ host, port: 53 })) : this.o.upstreams();
  }

  /** The port a network's server listens on (tests), or undefined. */
  portOf(networkId: string): number | undefined {
    return this.servers.get(networkId)?.server.port;
  }

  async close(): Promise<void> {
    await this.chain;
    for (const s of this.servers.values()) await s.server.close();
    this.servers.clear();
  }
}

/** Clients inside the network's own subnets (IPv4-mapped IPv6, as TCP may report them, included). */
export function inSubnets(n: NetworkInfo): (client: string) => boolean {
  const cidrs = n.ipam.config.map((c) => parseCidr(c.subnet));
  return (client) => {
    const a = client.replace(/^::ffff:/, '');
    return net.isIPv4(a) && cidrs.some((c) => overlaps(c, { base: parseIp(a), prefix: 32 }));
  };
}

function gatewayOf(n: NetworkInfo): string {
  return n.ipam.config.find((c) => !!c.gateway)!.gateway;
}
