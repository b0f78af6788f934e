// network/ports: published ports, pure — docker's `-p`/`--expose` grammar (go-connections nat,
// ParsePortSpec), the daemon's PortBindings checks, what a start asks to publish, free-port choice
// and the nft chains that forward host ports into containers. Never touches fs, child_process or net:
// network/ports-publisher.ts bind-tests, reserves and applies.
import { BerthError } from '../errors.js';

export type Proto = 'tcp' | 'udp' | 'sctp';

/** Docker's PortBinding in Berth's terms: strings as given ("" = any address / any free port). */
export interface PortBindingSpec { hostIp: string; hostPort: string }
/** Keyed by docker's port key, "80/tcp". */
export type PortMap = Record<string, PortBindingSpec[]>;

export interface PortMapping { port: string; binding: PortBindingSpec }

/** One host port forwarded to one container port, as it was published. */
export interface PublishedPort {
  proto: Proto;
  containerPort: number;
  hostIp: string;        // "0.0.0.0" for every address
  hostPort: number;
}

/** What a start asks for, before free ports are chosen: hostPort range [start, end], 0-0 = any free port. */
export interface PortRequest {
  proto: Proto;
  containerPort: number;
  hostIp: string;
  hostPortStart: number;
  hostPortEnd: number;
}

/** Where a container's published ports lead: its address, the bridge it sits on and that network's subnet. */
export interface PortTarget { containerIp: string; bridge: string; subnet: string }
export type PortRule = PublishedPort & PortTarget;

const invalid = (msg: string) => new BerthError('InvalidArgument', msg);

/** nat.SplitProtoPort: "80/udp" → ["udp", "80"]; no protocol means tcp; "" → ["", ""]. */
export function splitProtoPort(raw: string): [string, string] {
  const i = raw.indexOf('/');
  const port = i < 0 ? raw : raw.slice(0, i);
  const proto = i < 0 ? '' : raw.slice(i + 1);
  if (port === '') return ['', ''];
  return [proto || 'tcp', port];
}

/** strconv.ParseUint(s, 10, 16) with Go's error text, which docker passes on. */
function uint16(s: string): number {
  if (!/^\d+$/.test(s)) throw new Error(`strconv.ParseUint: parsing ${JSON.stringify(s)}: invalid syntax`);
  const n = Number(s);
  if (n > 65535) throw new Error(`strconv.ParseUint: parsing ${JSON.stringify(s)}: value out of range`);
  return n;
}

/** nat.ParsePortRange: "8000-9000" → [8000, 9000], "80" → [80, 80]. Throws a plain Error (callers word it). */
export function parsePortRange(s: string): [number, number] {
  if (s === '') throw new Error('empty string specified for ports');
  const i = s.indexOf('-');
  if (i < 0) { const n = uint16(s); return [n, n]; }
  const start = uint16(s.slice(0, i));
  const end = uint16(s.slice(i + 1).split('-')[0]!);
  if (end < start) throw new Error(`invalid range specified for port: ${s}`);
  return [start, end];
}

function checkProto(proto: string): Proto {
  if (proto === 'tcp' || proto === 'udp' || proto === 'sctp') return proto;
  throw invalid(`invalid proto: ${proto}`);
}

/** [ip:][hostPort:]containerPort: the last two colon-separated parts are ports, the rest an address (IPv6 has colons). */
function splitParts(raw: string): [string, string, string] {
  const parts = raw.split(':');
  const n = parts.length;
  if (n === 1) return ['', '', parts[0]!];
  if (n === 2) return ['', parts[0]!, parts[1]!];
  return [parts.slice(0, n - 2).join(':'), parts[n - 2]!, parts[n - 1]!];
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function isIPv4(s: string): boolean { return IPV4.test(s); }

function isIP(s: string): boolean {
  if (isIPv4(s)) return true;
  // an IPv6 literal: hex groups and colons, at most one "::", an optional trailing IPv4
  if (!/^[0-9a-fA-F:.]+$/.test(s) || !s.includes(':') || s.split('::').length > 2) return false;
  const groups = s.split(':');
  return groups.length <= 8 && groups.every((g, i) => g === '' || /^[0-9a-fA-F]{1,4}$/.test(g) || (i === groups.length - 1 && isIPv4(g)));
}

/** nat.ParsePortSpec: one `-p` value → one mapping per container port (ranges expand). */
export function parsePortSpec(raw: string): PortMapping[] {
  let [ip, hostPort, containerPortProto] = splitParts(raw);
  const [protoRaw, containerPort] = splitProtoPort(containerPortProto);
  if (containerPort === '') throw invalid(`no port specified: ${raw}<empty>`);
  const proto = checkProto(protoRaw.toLowerCase());
  if (ip.startsWith('[')) {
    if (!ip.endsWith(']')) throw invalid(`invalid IP address ${ip}: missing ']' in address`);
    ip = ip.slice(1, -1);
  }
  if (ip !== '' && !isIP(ip)) throw invalid(`invalid IP address: ${ip}`);
  let start: number, end: number;
  try { [start, end] = parsePortRange(containerPort); } catch { throw invalid(`invalid containerPort: ${containerPort}`); }
  let hStart = 0, hEnd = 0;
  if (hostPort !== '') {
    try { [hStart, hEnd] = parsePortRange(hostPort); } catch { throw invalid(`invalid hostPort: ${hostPort}`); }
    // a host range beside ONE container port is the range to pick a free port from
    if (end - start !== hEnd - hStart && end !== start) throw invalid(`invalid ranges specified for container and host Ports: ${containerPort} and ${hostPort}`);
  }
  const count = end - start + 1;
  const out: PortMapping[] = [];
  for (let i = 0; i < count; i++) {
    let h = '';
    if (hostPort !== '') h = count === 1 && hStart !== hEnd ? `${hStart}-${hEnd}` : String(hStart + i);
    out.push({ port: `${start + i}/${proto}`, binding: { hostIp: ip, hostPort: h } });
  }
  return out;
}

/** docker's long form `target=80,published=8080,protocol=udp` → the short form (cli convertToStandardNotation). */
export function standardNotation(raw: string): string {
  if (!raw.includes('=')) return raw;
  const f: Record<string, string> = {};
  for (const kv of raw.split(',')) {
    const i = kv.indexOf('=');
    if (i <= 0) throw invalid(`invalid field ${JSON.stringify(kv)} must be a key=value pair`);
    f[kv.slice(0, i).toLowerCase()] = kv.slice(i + 1);
  }
  for (const k of Object.keys(f)) if (!['target', 'published', 'protocol', 'mode', 'host_ip'].includes(k)) throw invalid(`invalid field key ${k}`);
  if (!f.target) throw invalid(`missing mandatory field "target"`);
  const proto = f.protocol ? `/${f.protocol}` : '';
  return `${f.host_ip ? `${f.host_ip}:` : ''}${f.published ?? ''}:${f.target}${proto}`;
}

/** nat.ParsePortSpecs: every `-p` → ExposedPorts keys and PortBindings (the CLI's request fields). */
export function parsePortSpecs(specs: string[]): { exposed: string[]; bindings: PortMap } {
  const exposed = new Set<string>();
  const bindings: PortMap = {};
  for (const s of specs) {
    for (const m of parsePortSpec(standardNotation(s))) {
      exposed.add(m.port);
      (bindings[m.port] ??= []).push(m.binding);
    }
  }
  return { exposed: [...exposed], bindings };
}

/** `--expose 80`, `--expose 7000-7010/udp` → port keys (docker cli opts.go). */
export function parseExpose(values: string[]): string[] {
  const out = new Set<string>();
  for (const e of values) {
    if (e.includes(':')) throw invalid(`invalid port format for --expose: ${e}`);
    const [proto, port] = splitProtoPort(e);
    let start: number, end: number;
    try { [start, end] = parsePortRange(port); } catch (err) { throw invalid(`invalid range format for --expose: ${e}, error: ${(err as Error).message}`); }
    const p = checkProto(proto.toLowerCase());
    for (let i = start; i <= end; i++) out.add(`${i}/${p}`);
  }
  return [...out];
}

/** A port key ("80/tcp", "80"): [proto, port]; InvalidArgument in the daemon's wording otherwise. */
export function parsePortKey(key: string): [Proto, number] {
  const [proto, port] = splitProtoPort(key);
  let n: number;
  try { n = uint16(port); } catch { throw invalid(`invalid port specification: ${JSON.stringify(port)}`); }
  if (n === 0) throw invalid(`invalid port specification: ${JSON.stringify(port)}`);
  return [checkProto(proto.toLowerCase()), n];
}

/**
 * The daemon's checks of HostConfig.PortBindings (moby daemon/container.go validatePortBindings), plus
 * the host address, which dockerd only finds bad at start: a create that cannot start is refused here.
 */
export function validatePortBindings(map: PortMap): void {
  for (const [key, list] of Object.entries(map)) {
    parsePortKey(key);
    for (const b of list) {
      if (b.hostPort !== '') {
        const [, port] = splitProtoPort(b.hostPort);
        try { parsePortRange(port); } catch { throw invalid(`invalid port specification: ${JSON.stringify(b.hostPort)}`); }
      }
      if (b.hostIp !== '' && !isIP(b.hostIp)) throw invalid(`invalid host IP address: ${b.hostIp}`);
      // Berth's table is IPv4 (family ip); saying so beats publishing nothing
      if (b.hostIp !== '' && !isIPv4(b.hostIp)) throw invalid(`publishing on an IPv6 address is not supported: ${b.hostIp}`);
    }
  }
}

/** Exposed port keys from several sources (the request, the image's EXPOSE) as one normalised list. */
export function mergeExposed(...lists: Array<string[] | undefined>): string[] | undefined {
  const out = new Set<string>();
  for (const k of lists.flatMap((l) => l ?? [])) { const [proto, port] = parsePortKey(k); out.add(`${port}/${proto}`); }
  return out.size ? [...out] : undefined;
}

/** "80/tcp" keys, ascending by protocol then port, so -P picks ports in a stable order. */
function sortKeys(keys: Iterable<string>): string[] {
  return [...new Set(keys)].sort((a, b) => {
    const [pa, na] = parsePortKey(a), [pb, nb] = parsePortKey(b);
    return pa === pb ? na - nb : pa.localeCompare(pb);
  });
}

/**
 * What a start publishes (moby's BuildCreateEndpointOptions): every bound port with its bindings, and
 * with -P every exposed port (image EXPOSE + --expose) that has none gets one on any free port.
 */
export function portRequests(o: { portBindings?: PortMap; publishAllPorts?: boolean; exposed?: string[] }): PortRequest[] {
  const bindings = o.portBindings ?? {};
  const keys = sortKeys([...(o.exposed ?? []), ...Object.keys(bindings)]);
  const out: PortRequest[] = [];
  for (const key of keys) {
    const [proto, containerPort] = parsePortKey(key);
    let list = bindings[key] ?? [];
    if (list.length === 0 && o.publishAllPorts) list = [{ hostIp: '', hostPort: '' }];
    for (const b of list) {
      const [, hp] = splitProtoPort(b.hostPort);
      const [s, e] = hp === '' ? [0, 0] : parsePortRange(hp);
      out.push({ proto, containerPort, hostIp: b.hostIp || '0.0.0.0', hostPortStart: s, hostPortEnd: e });
    }
  }
  return out;
}

/** Two bindings cannot share a protocol and port when their addresses meet (0.0.0.0 meets every address). */
export function clashes(a: Pick<PublishedPort, 'proto' | 'hostIp' | 'hostPort'>, b: Pick<PublishedPort, 'proto' | 'hostIp' | 'hostPort'>): boolean {
  return a.proto === b.proto && a.hostPort === b.hostPort && (a.hostIp === b.hostIp || a.hostIp === '0.0.0.0' || b.hostIp === '0.0.0.0');
}

/**
 * Host ports to try for one request, in order. A fixed port or range is tried as given; "any" walks the
 * ephemeral range starting after the last port handed out (docker's portallocator does the same), so
 * a port freed a moment ago is not handed to the next container at once.
 */
export function candidatePorts(r: PortRequest, range: [number, number], last: number): number[] {
  if (r.hostPortStart !== 0) {
    const out: number[] = [];
    for (let p = r.hostPortStart; p <= r.hostPortEnd; p++) out.push(p);
    return out;
  }
  const [lo, hi] = range;
  const size = hi - lo + 1;
  const first = last >= lo && last < hi ? last + 1 : lo;
  return Array.from({ length: size }, (_, i) => lo + ((first - lo + i) % size));
}

/** /proc/sys/net/ipv4/ip_local_port_range text → [lo, hi]; docker's default when it cannot be read. */
export function parseLocalPortRange(text: string | undefined): [number, number] {
  const m = /^\s*(\d+)\s+(\d+)\s*$/.exec(text ?? '');
  if (!m) return [49153, 60999];
  const lo = Number(m[1]), hi = Number(m[2]);
  return lo > 0 && hi <= 65535 && lo <= hi ? [lo, hi] : [49153, 60999];
}

/** The chains in Berth's nft table that forward published ports; the network manager's ruleset embeds them. */
export const PORT_CHAINS = { prerouting: 'ports-prerouting', output: 'ports-output', dnat: 'ports-dnat', postrouting: 'ports-postrouting' } as const;

function ruleLine(r: PortRule): string {
  const dst = r.hostIp === '0.0.0.0' ? '' : `ip daddr ${r.hostIp} `;
  return `${dst}${r.proto} dport ${r.hostPort} dnat to ${r.containerIp}:${r.containerPort}`;
}

/**
 * The chain blocks, to sit inside `table ip T { … }` (NetworkManager.setChains).
 *
 * Published ports are DNAT in the kernel, loopback included, and no proxy process (docker-proxy's job):
 * kernel rules keep forwarding while berthd is down or restarting (a proxy inside berthd would die with
 * it; one process per port, as dockerd runs, costs megabytes per port where Berth's monitor costs
 * kilobytes), the container sees the real client of other hosts' connections, and it is the faster way:
 * bench/network.sh (own cgroup, 2-core box) has dockerd itself 1.24x (1 MiB responses) and 1.38x
 * (16 MiB) faster through 127.0.0.1 without docker-proxy than with it, 1.22x the connection rate, and
 * Berth 1.33x / 1.47x / 1.13x dockerd's default; DNAT also costs 15-20% less CPU per GiB moved. A proxy
 * wins only a CPU saturated by other work, where its threads take a larger share: the DNATed path's
 * packet work runs in the client's and the container's time (the container's sends are clocked by the
 * client's ACKs), a proxy's in its own.
 * - prerouting: traffic from other hosts (and from containers) to one of this host's addresses;
 * - output: the host itself, to its own addresses and to 127.0.0.1 (the DNAT of a loopback destination
 *   needs route_localnet on the bridge, set by the publisher, and masquerade, below, so the container
 *   can answer: 127.0.0.1 means nothing in its namespace);
 * - postrouting: that masquerade, and hairpin: a container reaching a published port on its own bridge
 *   through a host address would get the answer straight from the other container, from the wrong
 *   source, without it (postrouting knows no input device, hence the subnet).
 * Rules leave with the container, and stay in the kernel while berthd is down.
 */
export function planPortChains(rules: PortRule[]): string[] {
  const bridges = [...new Map(rules.map((r) => [`${r.bridge} ${r.subnet}`, r])).values()].sort((a, b) => a.bridge.localeCompare(b.bridge) || a.subnet.localeCompare(b.subnet));
  const body: Record<keyof typeof PORT_CHAINS, string[]> = {
    prerouting: [`fib daddr type local jump ${PORT_CHAINS.dnat}`],
    output: [`fib daddr type local jump ${PORT_CHAINS.dnat}`],
    dnat: rules.map(ruleLine),
    postrouting: [...new Set(bridges.map((b) => b.bridge))].map((b) => `oifname "${b}" ip saddr 127.0.0.0/8 ct status dnat masquerade`)
      .concat(bridges.map((b) => `oifname "${b.bridge}" ip saddr ${b.subnet} ct status dnat masquerade`)),
  };
  return chainNames().flatMap((k) => [`chain ${PORT_CHAINS[k]} {`, ...head(k), ...body[k].map((l) => `  ${l}`), '}']);
}

function chainNames(): Array<keyof typeof PORT_CHAINS> {
  return Object.keys(PORT_CHAINS) as Array<keyof typeof PORT_CHAINS>;
}

/** Base chains' hooks; the output hook has no named nat priority, -100 is dstnat's number. */
function head(k: keyof typeof PORT_CHAINS): string[] {
  const hooks = { prerouting: 'prerouting priority dstnat', output: 'output priority -100', postrouting: 'postrouting priority srcnat', dnat: '' };
  return hooks[k] ? [`  type nat hook ${hooks[k]}; policy accept;`] : [];
}

/** NetworkSettings.Ports: every exposed or bound port; null where nothing is published (docker's shape). */
export function portMapWire(exposed: string[], published: PublishedPort[]): Record<string, Array<{ HostIp: string; HostPort: string }> | null> {
  const out: Record<string, Array<{ HostIp: string; HostPort: string }> | null> = {};
  for (const k of exposed) { const [proto, port] = parsePortKey(k); out[`${port}/${proto}`] = null; }
  for (const p of published) (out[`${p.containerPort}/${p.proto}`] ??= []).push({ HostIp: p.hostIp, HostPort: String(p.hostPort) });
  return out;
}
