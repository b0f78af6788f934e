// network/dns: the embedded DNS server of user networks (docker's libnetwork resolver): one per user
// network on UDP and TCP port 53 of its gateway address. It answers A queries for the names, aliases and
// short ids of the containers on THAT network with their address there, and forwards everything else to
// the host's resolvers. It decides names only from what network/ records (Endpoint); never touches containers/.
//
// Bounded, since containers are not trusted: malformed packets are dropped, TCP messages, connections and
// pending upstream queries are capped, and every upstream query and idle TCP connection times out.
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import dnsPacket from 'dns-packet';
import type { Endpoint } from './types.js';
import type { Upstream } from './dns-servers.js';

// what berthd's start needs (the servers' keeper, the host's resolvers) lives in dns-servers.ts, which loads
// this file (dns-packet, dgram) when a network first wants a server; the names stay importable from here
export { DnsServers, hostResolvers, inSubnets, parseResolvConf, wantsDns, type DnsServersOptions, type Upstream } from './dns-servers.js';

/** TTL of local answers (docker's respTTL is 600 s). */
const TTL = 600;
/** Upstream answers that do not arrive in this time count as a failed upstream; the next one is tried. */
const UPSTREAM_TIMEOUT_MS = 3000;
/** At most this many forwarded queries in flight per server; more are answered SERVFAIL at once. */
const MAX_PENDING = 256;
/** TCP: concurrent connections per server, idle time before a connection is closed. */
const MAX_TCP_CONNS = 64;
const TCP_IDLE_MS = 10_000;
/** A DNS message over TCP has a 16-bit length prefix: nothing larger can be framed. */
const MAX_MESSAGE = 65535;

const RCODE = { NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5 } as const;
const OPCODE_QUERY = 0;



/** What the server knows of one network, looked up at each query (containers come and go). */
export interface Names {
  /**
   * Addresses for a name (lower case, no trailing dot); empty when it is not a container on the network.
   * `client`, the asking address, has its own link aliases (docker's --link on a user network).
   */
  lookup(name: string, client?: string): string[];
  /** Container name for an address on the network (PTR), or undefined. */
  reverse(address: string): string | undefined;
}

/** Names of a network's endpoints: container name, aliases, short id, each also as `<name>.<network>`. */
export function namesOf(networkName: string, endpoints: () => Endpoint[]): Names {
  const suffix = `.${networkName.toLowerCase()}`;
  return {
    lookup(name, client) {
      let n = name.endsWith(suffix) ? name.slice(0, -suffix.length) : name;
      const out: string[] = [];
      const eps = endpoints();
      const link = client ? eps.find((e) => e.ipv4Address === client)?.links?.find((l) => l.alias.toLowerCase() === n) : undefined;
      if (link) n = link.name.toLowerCase();
      for (const ep of eps) {
        const hit = ep.containerName.toLowerCase() === n || ep.containerId.slice(0, 12) === n
          || ep.aliases.some((a) => a.toLowerCase() === n);
        if (hit && ep.ipv4Address && !out.includes(ep.ipv4Address)) out.push(ep.ipv4Address);
      }
      return out;
    },
    reverse(address) {
      const ep = endpoints().find((e) => e.ipv4Address === address);
      return ep ? `${ep.containerName}.${networkName}` : undefined;
    },
  };
}

/** a.b.c.d from `d.c.b.a.in-addr.arpa`, or undefined */
function reverseAddress(name: string): string | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.in-addr\.arpa$/.exec(name);
  return m ? `${m[4]}.${m[3]}.${m[2]}.${m[1]}` : undefined;
}

/**
 * The local answer to a query message, or 'forward' when the host's resolvers should answer it, or
 * undefined when the message is to be dropped (malformed, or a response). Pure: decides from `names`.
 */
export function answer(msg: Buffer, names: Names, client?: string): Buffer | 'forward' | undefined {
  let q: dnsPacket.DecodedPacket;
  try { q = dnsPacket.decode(msg); } catch { return undefined; }
  if (q.type !== 'query' || q.id === undefined) return undefined;
  const opcode = ((q.flags ?? 0) >> 11) & 0xf;
  const reply = (rcode: number, answers: dnsPacket.Answer[] = [], aa = true): Buffer => dnsPacket.encode({
    type: 'response', id: q.id,
    flags: (q.flags ?? 0) & dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | (aa ? dnsPacket.AUTHORITATIVE_ANSWER : 0) | rcode,
    questions: q.questions, answers,
  });
  if (opcode !== OPCODE_QUERY) return reply(RCODE.NOTIMP, [], false);
  if (q.questions?.length !== 1) return reply(RCODE.FORMERR, [], false);
  const question = q.questions[0]!;
  const name = question.name.toLowerCase().replace(/\.$/, '');
  if (question.class !== 'IN') return 'forward';
  if (question.type === 'A' || question.type === 'AAAA') {
    const addrs = names.lookup(name, client);
    if (addrs.length === 0) return 'forward';
    // containers have no IPv6 addresses here: a known name has no AAAA, NOERROR (not NXDOMAIN, which
    // would make resolvers give up on the A answer too)
    if (question.type === 'AAAA') return reply(RCODE.NOERROR);
    return reply(RCODE.NOERROR, addrs.map((a) => ({ type: 'A', class: 'IN', name: question.name, ttl: TTL, data: a })));
  }
  if (question.type === 'PTR') {
    const addr = reverseAddress(name);
    const target = addr ? names.reverse(addr) : undefined;
    if (target) return reply(RCODE.NOERROR, [{ type: 'PTR', class: 'IN', name: question.name, ttl: TTL, data: target }]);
  }
  return 'forward';
}

/** A reply with only an rcode to a query we could not answer (SERVFAIL when upstreams fail); undefined if unparseable. */
function failure(msg: Buffer, rcode: number): Buffer | undefined {
  try {
    const q = dnsPacket.decode(msg);
    return dnsPacket.encode({ type: 'response', id: q.id, flags: (q.flags ?? 0) & dnsPacket.RECURSION_DESIRED | dnsPacket.RECURSION_AVAILABLE | rcode, questions: q.questions });
  } catch { return undefined; }
}

/** The upstream's reply to `msg` over UDP from a fresh socket (a random source port per query), or undefined on timeout. */
function queryUdp(u: Upstream, msg: Buffer, timeoutMs: number): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const sock = dgram.createSocket(net.isIPv6(u.host) ? 'udp6' : 'udp4');
    const done = (r: Buffer | undefined) => { clearTimeout(t); sock.close(); resolve(r); };
    const t = setTimeout(() => done(undefined), timeoutMs);
    sock.on('error', () => done(undefined));
    sock.on('message', (m, rinfo) => {
      // only the upstream's answer to this id counts; anything else on the port is ignored
      if (rinfo.address !== u.host.split('%')[0] || rinfo.port !== u.port || m.length < 2 || m.readUInt16BE(0) !== msg.readUInt16BE(0)) return;
      done(m);
    });
    sock.send(msg, u.port, u.host, (e) => { if (e) done(undefined); });
  });
}

/** The upstream's reply over TCP (length-prefixed), or undefined on timeout, error or an oversize reply. */
function queryTcp(u: Upstream, msg: Buffer, timeoutMs: number): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: u.host, port: u.port });
    let buf = Buffer.alloc(0);
    const done = (r: Buffer | undefined) => { clearTimeout(t); sock.destroy(); resolve(r); };
    const t = setTimeout(() => done(undefined), timeoutMs);
    sock.on('error', () => done(undefined));
    sock.on('close', () => done(undefined));
    sock.on('connect', () => { const len = Buffer.alloc(2); len.writeUInt16BE(msg.length); sock.write(Buffer.concat([len, msg])); });
    sock.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      if (buf.length > MAX_MESSAGE + 2) return done(undefined);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) done(buf.subarray(2, 2 + buf.readUInt16BE(0)));
    });
  });
}

export interface DnsServerOptions {
  /** address to listen on (the network's gateway) */
  address: string;
  /** 53; tests use 0 (an ephemeral port; see `port`) */
  port?: number;
  names: Names;
  /**
   * The resolvers asked for a forwarded query of `client` (its --dns servers, else the host's); none (or an
   * internal network) means SERVFAIL.
   */
  upstreams: (client: string) => Upstream[];
  upstreamTimeoutMs?: number;
  /**
   * Which clients are served. The server listens on a host address, which containers of other networks
   * can reach too (the host, not the forward path): they must not learn this network's names.
   */
  allow?: (client: string) => boolean;
  log?: (msg: string) => void;
}

/** One network's DNS server: a UDP socket and a TCP listener on the same address and port. */
export class DnsServer {
  private udp?: dgram.Socket;
  private tcp?: net.Server;
  private pending = 0;
  private boundPort = 0;
  private readonly conns = new Set<net.Socket>();

  constructor(private readonly o: DnsServerOptions) {}

  async start(): Promise<void> {
    const family = net.isIPv6(this.o.address) ? 'udp6' : 'udp4';
    const udp = dgram.createSocket({ type: family });
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(this.o.port ?? 53, this.o.address, () => { udp.off('error', reject); resolve(); });
    });
    udp.on('error', (e) => this.o.log?.(`dns ${this.o.address}: udp: ${e.message}`));
    udp.on('message', (m, rinfo) => {
      if (this.o.allow && !this.o.allow(rinfo.address)) return; // dropped: no answer to send anywhere
      void this.handle(m, 'udp', rinfo.address).then((r) => { if (r && this.udp === udp) udp.send(r, rinfo.port, rinfo.address); });
    });
    this.udp = udp;
    // TCP on the same port UDP got (an ephemeral one in tests)
    const tcp = net.createServer((s) => this.serveTcp(s));
    tcp.maxConnections = MAX_TCP_CONNS;
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen(udp.address().port, this.o.address, () => { tcp.off('error', reject); resolve(); });
      });
    } catch (e) {
      udp.close();
      this.udp = undefined;
      throw e;
    }
    tcp.on('error', (e) => this.o.log?.(`dns ${this.o.address}: tcp: ${e.message}`));
    this.tcp = tcp;
    this.boundPort = udp.address().port;
  }

  /** The bound UDP and TCP port (the same). */
  get port(): number { return this.boundPort; }

  async close(): Promise<void> {
    const udp = this.udp, tcp = this.tcp;
    this.udp = undefined;
    this.tcp = undefined;
    for (const c of this.conns) c.destroy();
    udp?.close();
    if (tcp) await new Promise<void>((r) => tcp.close(() => r()));
  }

  private serveTcp(s: net.Socket): void {
    if (this.o.allow && !this.o.allow(s.remoteAddress ?? '')) { s.destroy(); return; }
    this.conns.add(s);
    s.setTimeout(TCP_IDLE_MS, () => s.destroy());
    s.on('close', () => this.conns.delete(s));
    s.on('error', () => s.destroy());
    let buf = Buffer.alloc(0);
    let busy = false;
    const next = (): void => {
      // one query at a time per connection: a client cannot pile up work or buffered replies
      if (busy || buf.length < 2) return;
      const len = buf.readUInt16BE(0);
      if (buf.length < 2 + len) return;
      const msg = buf.subarray(2, 2 + len);
      buf = buf.subarray(2 + len);
      busy = true;
      s.pause();
      void this.handle(Buffer.from(msg), 'tcp', s.remoteAddress ?? '').then((r) => {
        if (!r) { s.destroy(); return; } // malformed: drop the connection
        const hdr = Buffer.alloc(2);
        hdr.writeUInt16BE(r.length);
        s.write(Buffer.concat([hdr, r]));
        busy = false;
        s.resume();
        next();
      });
    };
    s.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      // the socket is paused while a query is answered, so this holds at most a frame and one read chunk
      if (buf.length > 2 * (MAX_MESSAGE + 2)) { s.destroy(); return; }
      next();
    });
  }

  private async handle(msg: Buffer, via: 'udp' | 'tcp', client: string): Promise<Buffer | undefined> {
    let a: Buffer | 'forward' | undefined;
    try { a = answer(msg, this.o.names, client.replace(/^::ffff:/, '')); } catch (e) {
      this.o.log?.(`dns ${this.o.address}: ${(e as Error).message}`);
      return failure(msg, RCODE.SERVFAIL);
    }
    if (a !== 'forward') return a;
    const ups = this.o.upstreams(client.replace(/^::ffff:/, '')).filter((u) => !(u.host === this.o.address && u.port === this.port));
    if (ups.length === 0 || this.pending >= MAX_PENDING) return failure(msg, RCODE.SERVFAIL);
    this.pending++;
    try {
      for (const u of ups) {
        const timeout = this.o.upstreamTimeoutMs ?? UPSTREAM_TIMEOUT_MS;
        const r = via === 'udp' ? await queryUdp(u, msg, timeout) : await queryTcp(u, msg, timeout);
        if (r) return r;
      }
      return failure(msg, RCODE.SERVFAIL);
    } finally {
      this.pending--;
    }
  }
}
