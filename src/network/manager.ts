// network/manager: the NetworkService — built-in networks (bridge, host, none), user bridge networks,
// IPAM and endpoint records persisted under <root>/network/, Berth's one nft table (or iptables chains),
// bridges and veths, and the embedded DNS servers of user networks. Decisions come from plan.ts; this file
// only runs them (netlink ops through berth-helper net, nft -f or iptables-restore) and keeps the records.
// Never reaches into containers/: callers hand it a container id, name and pid.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BerthError } from '../errors.js';
import { findOnPath, replaceFileSync, writeFileAtomicSync } from '../util/fs.js';
import {
  checkIfname, checkMac, macFor, nextIfname, parseCidr, planAttach, planBridge, planBridgeDelete, planDetach, planPool, planRuleset, pickAddress,
  type Network,
} from './plan.js';
import { NetHelper } from './net-helper.js';
import { parseLink } from './links.js';
import { iptablesChains, iptablesJumps, planIptables } from './iptables.js';
import type { PortRule } from './ports.js';
import { DnsServers, type Upstream } from './dns-servers.js';
import type { AttachingContainer, ContainerNetworks, CreateNetworkSpec, Endpoint, EndpointRequest, IpamPool, NetworkInfo } from './types.js';
import { isoTimeNs } from '../util/time.js';

export interface NetworkManagerOptions {
  root: string;
  /**
   * the default network's Linux bridge (docker0's role); tests give each daemon its own. "none" (dockerd's
   * --bridge=none): no default network at all; default-mode containers get a netns with only lo
   */
  bridge?: string;
  /** Berth's nft table (family ip) */
  table?: string;
  /** user networks' bridges are <prefix><id…> (docker: br-), cut to 15 bytes */
  bridgePrefix?: string;
  /** problems (a veth that would not go) */
  log?: (msg: string) => void;
  /** one line per kernel step (berthd --debug) */
  debug?: (msg: string) => void;
  /** chains other owners keep in the table from the first ruleset on (published ports after a restart) */
  chains?: Record<string, string[]>;
  /** which firewall to drive; by default nftables where `nft` is on PATH, else iptables (docker's --firewall-backend) */
  firewall?: FirewallDriver;
  /** the published ports, for the iptables backend (nftables gets them as chains, above) */
  portRules?: () => PortRule[];
  /** serve the embedded DNS server of every user network (the daemon); upstreams: the host's resolvers */
  dns?: { upstreams: () => Upstream[]; port?: number };
}

export type FirewallDriver = 'nftables' | 'iptables';

/** An executable of that name in a PATH directory. */
const onPath = (cmd: string): boolean => findOnPath(cmd) !== undefined;

/** nftables where nft is installed; iptables (nft or legacy flavour, whichever the host's `iptables` is) where only it is. */
function pickFirewall(want: string | undefined): FirewallDriver {
  if (want !== undefined && want !== 'nftables' && want !== 'iptables') throw new BerthError('InvalidArgument', `invalid firewall backend ${JSON.stringify(want)}: nftables or iptables`);
  const has = { nftables: onPath('nft'), iptables: onPath('iptables') && onPath('iptables-restore') };
  if (want) {
    if (!has[want]) throw new BerthError('FailedPrecondition', `firewall backend ${want}: ${want === 'nftables' ? 'nft' : 'iptables and iptables-restore'} not found on PATH`);
    return want;
  }
  if (has.nftables) return 'nftables';
  if (has.iptables) return 'iptables';
  throw new BerthError('FailedPrecondition', 'no firewall tool: install nftables (nft) or iptables');
}

/** dockerd's DisableNetworkBridge: `--bridge none` means no default bridge network, not a link named "none" */
export const DISABLE_BRIDGE = 'none';

/**
 * The daemon's network flags, checked before the daemon makes anything (its root, pid file, bridge or rules):
 * a bad value is a clear error at start and leaves nothing behind.
 */
export function checkNetworkOptions(o: Pick<NetworkManagerOptions, 'bridge' | 'table' | 'bridgePrefix' | 'firewall'>): FirewallDriver {
  if (o.bridge !== undefined && o.bridge !== DISABLE_BRIDGE) checkIfname(o.bridge);
  const table = o.table ?? 'berth';
  if (!/^[A-Za-z0-9_]{1,32}$/.test(table)) throw new BerthError('InvalidArgument', `invalid nft table name ${JSON.stringify(table)}: at most 32 letters, digits or '_'`);
  const prefix = o.bridgePrefix ?? 'br-';
  if (prefix.length > 8) throw new BerthError('InvalidArgument', `bridge prefix ${JSON.stringify(prefix)} is too long (at most 8 bytes)`);
  if (!/^[A-Za-z0-9_.-]*$/.test(prefix)) throw new BerthError('InvalidArgument', `invalid bridge prefix ${JSON.stringify(prefix)}: only letters, digits, '.', '-' or '_'`);
  const firewall = pickFirewall(o.firewall);
  if (firewall === 'iptables') iptablesChains(table);
  return firewall;
}

/** An endpoint as the manager keeps it: which veth and interface it owns. */
export interface EndpointRecord extends Endpoint {
  ifname: string;
  hostVeth: string;
  pid: number;
}

interface NetRecord extends NetworkInfo {
  /** the subnet came from the user: only then may a container ask for its address (docker's rule) */
  userSubnet?: boolean;
}

interface StoreFile { networks: NetRecord[]; endpoints: EndpointRecord[] }

export const OPT_BRIDGE_NAME = 'com.docker.network.bridge.name';
export const OPT_MTU = 'com.docker.network.driver.mtu';

const newId = () => randomBytes(32).toString('hex');

function builtin(name: string, driver: NetworkInfo['driver']): NetRecord {
  return {
    id: newId(), name, driver, created: isoTimeNs(), internal: false, attachable: false,
    ipam: { driver: 'default', config: [], options: {} }, options: {}, labels: {},
  };
}

function run(cmd: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '', err = '';
    c.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    c.stderr.on('data', (d: Buffer) => { err += d.toString(); });
    c.on('error', (e) => reject(new BerthError('Internal', `${cmd}: ${e.message}`, { cause: e })));
    c.on('close', (code) => {
      if (code === 0) resolve(out);
      else reject(new BerthError('Internal', `${cmd} ${args.join(' ')}: ${err.trim() || `exit ${code}`}`));
    });
    c.stdin.on('error', () => undefined); // a command that exits early closes its stdin
    c.stdin.end(input);
  });
}

/**
 * Host-wide: two daemons (tests run several) must not both pick the same free subnet. flock(1) holds the
 * lock for as long as its `cat` reads our pipe; a daemon that dies closes the pipe and so releases it.
 */
const HOST_LOCK = '/run/berth-network.lock';

async function hostLock(): Promise<() => void> {
  const c = spawn('flock', ['--exclusive', HOST_LOCK, '-c', 'echo locked; exec cat >/dev/null'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let err = '';
  c.stderr.on('data', (d: Buffer) => { err += d.toString(); });
  c.stdin.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    c.stdout.once('data', () => resolve());
    c.once('error', (e) => reject(new BerthError('Internal', `flock ${HOST_LOCK}: ${e.message}`, { cause: e })));
    c.once('exit', (code) => reject(new BerthError('Internal', `flock ${HOST_LOCK}: ${err.trim() || `exit ${code}`}`)));
  });
  return () => c.stdin.end();
}

interface LinkJson { ifname: string; master?: string; mtu?: number; addr_info?: Array<{ family: string; local: string; prefixlen: number }> }

async function links(): Promise<LinkJson[]> {
  return JSON.parse(await run('ip', ['-j', 'addr'])) as LinkJson[];
}

/** Routes and addresses on the host, except those of `own` bridges: a new subnet must overlap none. */
async function hostCidrs(own: Set<string>): Promise<string[]> {
  const routes = JSON.parse(await run('ip', ['-j', 'route', 'show', 'table', 'all'])) as Array<{ dst: string; dev?: string }>;
  const out = routes.filter((r) => !r.dev || !own.has(r.dev)).map((r) => r.dst).filter((d) => d && /^\d/.test(d))
    .map((d) => (d.includes('/') ? d : `${d}/32`));
  for (const l of await links()) {
    if (own.has(l.ifname)) continue;
    for (const i of l.addr_info ?? []) if (i.family === 'inet') out.push(`${i.local}/${i.prefixlen}`);
  }
  return out;
}

/** MTU of the uplink (the default route's device), 1500 when there is none. */
async function uplinkMtu(): Promise<number> {
  const def = (JSON.parse(await run('ip', ['-j', 'route', 'show', 'default'])) as Array<{ dev?: string }>)[0];
  if (!def?.dev) return 1500;
  const link = (JSON.parse(await run('ip', ['-j', 'link', 'show', 'dev', def.dev])) as Array<{ mtu?: number }>)[0];
  return link?.mtu ?? 1500;
}

function asPlanNetwork(n: NetRecord): Network {
  const pool = n.ipam.config[0]!;
  return { name: n.name, bridge: n.bridge!, subnet: pool.subnet, gateway: pool.gateway, internal: n.internal, mtu: n.mtu ?? 1500 };
}

function publicView(n: NetRecord): NetworkInfo {
  const { userSubnet: _u, ...rest } = n;
  return structuredClone(rest);
}

export class NetworkManager implements ContainerNetworks {
  private readonly file: string;
  private readonly endpointsFile: string;
  private s: StoreFile = { networks: [], endpoints: [] };
  private queue: Promise<unknown> = Promise.resolve();
  private readonly extras = new Map<string, string[]>();
  private readonly net = new NetHelper();
  private readonly dns?: DnsServers;
  readonly bridgeName: string;
  /** --bridge none: there is no default "bridge" network (ContainerNetworks.defaultBridgeDisabled) */
  readonly defaultBridgeDisabled: boolean;
  readonly table: string;
  readonly bridgePrefix: string;
  readonly firewall: FirewallDriver;
  /** the iptables jumps into our chains are in place (checked once per daemon) */
  private jumpsReady = false;

  private constructor(private readonly o: NetworkManagerOptions) {
    this.file = path.join(o.root, 'network', 'networks.json');
    this.endpointsFile = path.join(o.root, 'network', 'endpoints.json');
    this.firewall = checkNetworkOptions(o); // the backend picked once
    this.bridgeName = o.bridge ?? 'berth0';
    this.defaultBridgeDisabled = this.bridgeName === DISABLE_BRIDGE;
    this.table = o.table ?? 'berth';
    this.bridgePrefix = o.bridgePrefix ?? 'br-';
    for (const [owner, lines] of Object.entries(o.chains ?? {})) if (lines.length) this.extras.set(owner, lines);
    if (o.dns) this.dns = new DnsServers({ networks: () => this.list(), endpoints: (id) => this.endpoints(id), upstreams: o.dns.upstreams, port: o.dns.port, log: o.log });
  }

  /** The port a network's DNS server listens on, or undefined (tests). */
  dnsPort(ref: string): number | undefined {
    return this.dns?.portOf(this.find(ref).id);
  }

  /** Loads the records, makes the built-in networks, and puts every bridge, rule, sysctl and DNS server in place. */
  static async open(o: NetworkManagerOptions): Promise<NetworkManager> {
    const m = new NetworkManager(o);
    try {
      await m.init();
      await m.dns?.sync();
    } catch (e) {
      await m.close();
      throw e;
    }
    return m;
  }

  /** Which firewall Berth drives, for `info`. */
  firewallBackend(): { driver: FirewallDriver; table: string } {
    return { driver: this.firewall, table: this.table };
  }

  private locked<T>(f: () => Promise<T>): Promise<T> {
    const p = this.queue.then(f, f);
    this.queue = p.catch(() => undefined);
    return p;
  }

  private load(): void {
    try {
      const s = JSON.parse(fs.readFileSync(this.file, 'utf8')) as StoreFile;
      if (Array.isArray(s.networks) && Array.isArray(s.endpoints)) this.s = s;
    } catch { /* first start */ }
    try {
      const e = JSON.parse(fs.readFileSync(this.endpointsFile, 'utf8')) as Pick<StoreFile, 'endpoints'>;
      if (Array.isArray(e.endpoints)) this.s.endpoints = e.endpoints;
    } catch { /* none yet (or an older daemon's store): networks.json's copy stands */ }
  }

  /** Networks change: networks.json, fsynced (user networks must outlive a power loss), with the endpoints as they are. */
  private save(): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
    writeFileAtomicSync(this.file, JSON.stringify(this.s), 0o600);
    this.saveEndpoints();
  }

  /**
   * Leases change (every container start and exit): endpoints.json, which load() prefers to networks.json's
   * copy, replaced without an fsync. A lease only has to outlive berthd, not the machine: after a power
   * loss no container runs and reconcile() drops every lease anyway. On a busy disk the fsync made each
   * detach take 2-20 ms (berthd --debug timing), 0.5-4 ms without, and each attach as much again.
   */
  private saveEndpoints(): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true, mode: 0o700 });
    replaceFileSync(this.endpointsFile, JSON.stringify({ endpoints: this.s.endpoints }), 0o600);
  }

  private bridges(): NetRecord[] {
    return this.s.networks.filter((n) => n.driver === 'bridge');
  }

  private async init(): Promise<void> {
    this.o.log?.(`firewall backend: ${this.firewall} (${this.firewall === 'iptables' ? `chains ${this.table}-*` : `table ip ${this.table}`})`);
    this.load();
    for (const [name, driver] of [['host', 'host'], ['none', 'null']] as const)
      if (!this.s.networks.some((n) => n.name === name)) this.s.networks.push(builtin(name, driver));
    const mtu = await uplinkMtu();
    const unlock = await hostLock();
    try {
      await this.initBridges(mtu);
    } finally { unlock(); }
    await this.applyRules();
    this.forwarding();
  }

  /** docker sets this too; without it nothing leaves a bridge. Only once there is one (--bridge none may have none). */
  private forwarding(): void {
    if (this.bridges().length) fs.writeFileSync('/proc/sys/net/ipv4/ip_forward', '1');
  }

  private async initBridges(mtu: number): Promise<void> {
    let def = this.s.networks.find((n) => n.name === 'bridge');
    // --bridge changed (or is none now: dockerd drops its default network too): the old device is not ours any more
    if (def && (this.defaultBridgeDisabled || def.bridge !== this.bridgeName)) {
      const old = def;
      this.s.networks = this.s.networks.filter((n) => n !== old);
      def = undefined;
    }
    if (!def && !this.defaultBridgeDisabled) {
      const own = new Set([this.bridgeName, ...this.bridges().map((n) => n.bridge!)]);
      const pool = planPool({}, this.bridges().map((n) => n.ipam.config[0]!.subnet), await hostCidrs(own));
      def = {
        ...builtin('bridge', 'bridge'), bridge: this.bridgeName, mtu,
        ipam: { driver: 'default', config: [{ subnet: pool.subnet, gateway: pool.gateway }], options: {} },
        options: {
          'com.docker.network.bridge.default_bridge': 'true', 'com.docker.network.bridge.enable_icc': 'true',
          'com.docker.network.bridge.enable_ip_masquerade': 'true', 'com.docker.network.bridge.host_binding_ipv4': '0.0.0.0',
          [OPT_BRIDGE_NAME]: this.bridgeName, [OPT_MTU]: String(mtu),
        },
      };
      this.s.networks.unshift(def);
    }
    this.save();
    for (const n of this.bridges()) await this.ensureBridge(n);
  }

  private async ensureBridge(n: NetRecord): Promise<void> {
    await this.net.run(planBridge(asPlanNetwork(n)));
  }

  private async applyRules(): Promise<void> {
    const extra = [...this.extras.values()].flat();
    // no bridge (--bridge none, no user network): nothing to forward or publish, so no table or chains of ours;
    // those a previous daemon (or the last network's removal) left go
    if (!this.bridges().length && !extra.length && !this.o.portRules?.().length) return this.removeRules();
    if (this.firewall === 'iptables') return this.applyIptables();
    await run('nft', ['-f', '-'], planRuleset(this.table, this.bridges().map(asPlanNetwork), extra));
  }

  /** Berth's table (or chains and the jumps into them) gone; fine when there were none. */
  private async removeRules(): Promise<void> {
    if (this.firewall === 'nftables') {
      const has = await run('nft', ['list', 'table', 'ip', this.table]).then(() => true, () => false);
      if (has) await run('nft', ['delete', 'table', 'ip', this.table]);
      return;
    }
    this.jumpsReady = false;
    for (const j of iptablesJumps(this.table))
      while (await run('iptables', ['-w', '-t', j.table, '-C', j.from, '-j', j.to]).then(() => true, () => false)) await run('iptables', ['-w', '-t', j.table, '-D', j.from, '-j', j.to]);
    const c = iptablesChains(this.table);
    for (const [table, chains] of [['nat', [c.postrouting, c.prerouting, c.output, c.dnat]], ['filter', [c.forward]]] as const)
      for (const chain of chains) {
        if (!(await run('iptables', ['-w', '-t', table, '-n', '-L', chain]).then(() => true, () => false))) continue;
        await run('iptables', ['-w', '-t', table, '-F', chain]);
        await run('iptables', ['-w', '-t', table, '-X', chain]);
      }
  }

  /** Our chains rewritten in one restore per table, then the jumps into them added where missing. */
  private async applyIptables(): Promise<void> {
    await run('iptables-restore', ['-w', '--noflush'], planIptables(this.table, this.bridges().map(asPlanNetwork), this.o.portRules?.() ?? []));
    if (this.jumpsReady) return;
    for (const j of iptablesJumps(this.table)) {
      const has = await run('iptables', ['-w', '-t', j.table, '-C', j.from, '-j', j.to]).then(() => true, () => false);
      if (!has) await run('iptables', ['-w', '-t', j.table, '-I', j.from, '-j', j.to]);
    }
    this.jumpsReady = true;
  }

  /** More chains kept inside Berth's table (e.g. published ports), written again with every change. */
  setChains(owner: string, lines: string[]): Promise<void> {
    return this.locked(async () => {
      if (lines.length) this.extras.set(owner, lines); else this.extras.delete(owner);
      await this.applyRules();
    });
  }

  private find(ref: string): NetRecord {
    const byId = this.s.networks.find((n) => n.id === ref);
    if (byId) return byId;
    const byName = this.s.networks.find((n) => n.name === ref);
    if (byName) return byName;
    const pre = ref ? this.s.networks.filter((n) => n.id.startsWith(ref)) : [];
    if (pre.length === 1) return pre[0]!;
    if (pre.length > 1) throw new BerthError('InvalidArgument', `network ${ref} is ambiguous (${pre.length} matches found based on ID prefix)`);
    throw new BerthError('NotFound', `network ${ref} not found`);
  }

  get(ref: string): NetworkInfo { return publicView(this.find(ref)); }

  list(filters: Record<string, string[]> = {}): NetworkInfo[] {
    let out = [...this.s.networks];
    const f = (k: string) => (filters[k]?.length ? filters[k]! : undefined);
    const builtin = (n: NetRecord) => ['bridge', 'host', 'none'].includes(n.name);
    if (f('name')) out = out.filter((n) => f('name')!.some((v) => n.name.includes(v)));
    if (f('id')) out = out.filter((n) => f('id')!.some((v) => n.id.startsWith(v)));
    if (f('driver')) out = out.filter((n) => f('driver')!.includes(n.driver));
    if (f('scope')) out = out.filter(() => f('scope')!.includes('local'));
    if (f('type')) out = out.filter((n) => f('type')!.includes(builtin(n) ? 'builtin' : 'custom'));
    if (f('label')) out = out.filter((n) => f('label')!.every((l) => {
      const i = l.indexOf('=');
      return i < 0 ? n.labels[l] !== undefined : n.labels[l.slice(0, i)] === l.slice(i + 1);
    }));
    if (f('dangling')) out = out.filter((n) => !builtin(n) && (f('dangling')!.includes('true') || f('dangling')!.includes('1')) === !this.s.endpoints.some((e) => e.networkId === n.id));
    return out.map(publicView);
  }

  endpoints(ref: string): Endpoint[] {
    const n = this.find(ref);
    return this.s.endpoints.filter((e) => e.networkId === n.id).map(endpointView);
  }

  /** A container's endpoints on every network (inspect's NetworkSettings.Networks). */
  containerEndpoints(containerId: string): Endpoint[] {
    return this.s.endpoints.filter((e) => e.containerId === containerId).map(endpointView);
  }

  create(spec: CreateNetworkSpec): Promise<{ id: string; warning: string }> {
    return this.locked(async () => {
      const name = spec.name;
      if (typeof name !== 'string' || name === '') throw new BerthError('InvalidArgument', 'network name must not be empty');
      if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(name)) throw new BerthError('InvalidArgument', `invalid network name ${JSON.stringify(name)}: only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`);
      if (this.s.networks.some((n) => n.name === name)) throw new BerthError('Conflict', `network with name ${name} already exists`);
      if (spec.driver && spec.driver !== 'bridge') {
        if (['host', 'null'].includes(spec.driver)) throw new BerthError('PermissionDenied', `only one instance of "${spec.driver}" network is allowed`);
        throw new BerthError('InvalidArgument', `network driver "${spec.driver}" is not supported: Berth creates "bridge" networks`);
      }
      if (spec.ipam?.driver && spec.ipam.driver !== 'default') throw new BerthError('InvalidArgument', `IPAM driver "${spec.ipam.driver}" is not supported: Berth has "default"`);
      const configs = (spec.ipam?.config ?? []).filter((c) => !(c.subnet ?? '').includes(':'));
      if ((spec.ipam?.config ?? []).length !== configs.length) throw new BerthError('NotImplemented', 'IPv6 networks are not supported');
      if (configs.length > 1) throw new BerthError('InvalidArgument', 'Berth networks have one IPv4 pool: give at most one IPAM config');
      const options = { ...(spec.options ?? {}) };
      const id = newId();
      const bridge = options[OPT_BRIDGE_NAME] || `${this.bridgePrefix}${id.slice(0, 15 - this.bridgePrefix.length)}`;
      checkIfname(bridge);
      if (this.s.networks.some((n) => n.bridge === bridge)) throw new BerthError('Conflict', `bridge ${bridge} is already used by another network`);
      const have = await links();
      if (have.some((l) => l.ifname === bridge)) throw new BerthError('Conflict', `bridge ${bridge} already exists on the host and is not Berth's`);
      let mtu = await uplinkMtu();
      if (options[OPT_MTU]) {
        mtu = Number(options[OPT_MTU]);
        if (!Number.isInteger(mtu) || mtu < 68 || mtu > 65535) throw new BerthError('InvalidArgument', `invalid MTU ${options[OPT_MTU]}`);
      }
      const unlock = await hostLock();
      try {
        return await this.createLocked(spec, id, bridge, mtu, configs[0], options);
      } finally { unlock(); }
    });
  }

  private async createLocked(spec: CreateNetworkSpec, id: string, bridge: string, mtu: number, config: Partial<IpamPool> | undefined, options: Record<string, string>): Promise<{ id: string; warning: string }> {
    const name = spec.name;
    const own = new Set(this.bridges().map((n) => n.bridge!));
    const pool = planPool(config ?? {}, this.bridges().map((n) => n.ipam.config[0]!.subnet), await hostCidrs(own));
    const rec: NetRecord = {
      id, name, driver: 'bridge', created: isoTimeNs(), internal: !!spec.internal, attachable: !!spec.attachable,
      ipam: { driver: 'default', config: [pool], options: spec.ipam?.options ?? {} }, options, labels: spec.labels ?? {},
      bridge, mtu, userSubnet: !!config?.subnet,
    };
    this.s.networks.push(rec);
    try {
      await this.ensureBridge(rec);
      await this.applyRules();
      this.forwarding();
    } catch (e) {
      this.s.networks = this.s.networks.filter((n) => n !== rec);
      await this.net.run(planBridgeDelete(bridge)).catch(() => undefined);
      await this.applyRules().catch(() => undefined);
      throw e;
    }
    this.save();
    await this.dns?.sync();
    this.o.debug?.(`network ${id}: created ${name} on bridge ${bridge} (${pool.subnet})`);
    return { id, warning: '' };
  }

  remove(ref: string): Promise<void> {
    return this.locked(async () => {
      const n = this.find(ref);
      if (['bridge', 'host', 'none'].includes(n.name)) throw new BerthError('PermissionDenied', `${n.name} is a pre-defined network and cannot be removed`);
      if (this.s.endpoints.some((e) => e.networkId === n.id))
        throw new BerthError('PermissionDenied', `error while removing network: network ${n.name} id ${n.id} has active endpoints`);
      this.s.networks = this.s.networks.filter((x) => x !== n);
      this.save();
      await this.dns?.sync(); // its server goes before its gateway address does
      await this.net.run(planBridgeDelete(n.bridge!));
      await this.applyRules();
      this.o.debug?.(`network ${n.id}: removed ${n.name}`);
    });
  }

  async prune(filters: Record<string, string[]> = {}): Promise<string[]> {
    const until = filters.until?.[0];
    const cutoff = until ? (/^\d+(\.\d+)?$/.test(until) ? Number(until) * 1000 : Date.parse(until)) : undefined;
    const gone: string[] = [];
    for (const n of this.list({ label: filters.label ?? [], type: ['custom'] })) {
      if (cutoff !== undefined && Date.parse(n.created) >= cutoff) continue;
      if (this.s.endpoints.some((e) => e.networkId === n.id)) continue;
      try { await this.remove(n.id); gone.push(n.name); } catch { /* in use meanwhile */ }
    }
    return gone;
  }

  attach(ref: string, container: AttachingContainer, req: EndpointRequest = {}): Promise<Endpoint> {
    return this.locked(async () => {
      const n = this.find(ref);
      if (n.driver === 'host') throw new BerthError('PermissionDenied', 'container cannot be disconnected from host network or connected to host network');
      if (n.driver === 'null') throw new BerthError('PermissionDenied', 'container cannot be connected to multiple networks with one of the networks in private (none) mode');
      if (this.s.endpoints.some((e) => e.networkId === n.id && e.containerId === container.id))
        throw new BerthError('PermissionDenied', `endpoint with name ${container.name} already exists in network ${n.name}`);
      this.checkRequest(n.id, req);
      const mine = this.s.endpoints.filter((e) => e.containerId === container.id);
      const used = new Set(this.s.endpoints.filter((e) => e.networkId === n.id).map((e) => e.ipv4Address));
      const pool = n.ipam.config[0]!;
      const address = pickAddress(pool, used, req.ipv4Address || undefined);
      const endpointId = newId();
      const ep: EndpointRecord = {
        networkId: n.id, networkName: n.name, endpointId, containerId: container.id, containerName: container.name,
        aliases: [...new Set(req.aliases ?? [])], ipv4Address: address, prefixLen: parseCidr(pool.subnet).prefix, gateway: pool.gateway,
        macAddress: req.macAddress ? checkMac(req.macAddress) : macFor(address),
        ifname: nextIfname(mine.map((e) => e.ifname)), hostVeth: `vb${endpointId.slice(0, 12)}`, pid: container.pid,
        ...(container.dns?.length ? { dns: [...container.dns] } : {}),
        ...(req.links?.length ? { links: req.links.map(parseLink) } : {}),
      };
      // the lease is on disk before any link exists: a daemon killed in between leaves a record reconcile() clears
      this.s.endpoints.push(ep);
      this.saveEndpoints();
      try {
        // the first network that leads out carries the default route (docker: the first connected)
        const routed = mine.some((e) => !this.s.networks.find((x) => x.id === e.networkId)?.internal);
        const ops = planAttach(asPlanNetwork(n), { containerId: container.id, pid: container.pid, address, hostVeth: ep.hostVeth, ifname: ep.ifname, mac: ep.macAddress, defaultRoute: !routed });
        const t0 = performance.now();
        await this.net.run(ops).catch(async (e: Error) => {
          // someone deleted the bridge under us: make it again, once
          if (!new RegExp(`no device ${n.bridge}:`).test(e.message)) throw e;
          await this.unlink(ep);
          await this.ensureBridge(n);
          await this.net.run(ops);
        });
        this.o.debug?.(`network ${n.id}: container ${container.id}: veth, address and route in ${(performance.now() - t0).toFixed(1)} ms`);
      } catch (e) {
        await this.unlink(ep);
        this.s.endpoints = this.s.endpoints.filter((x) => x !== ep);
        this.saveEndpoints();
        throw e;
      }
      this.o.debug?.(`network ${n.id}: container ${container.id} attached as ${ep.ifname} ${address} (veth ${ep.hostVeth})`);
      return endpointView(ep);
    });
  }

  checkRequest(ref: string, req: EndpointRequest): void {
    const n = this.find(ref);
    if (n.driver !== 'bridge') return;
    const isDefault = n.name === 'bridge';
    if (isDefault && req.aliases?.length) throw new BerthError('InvalidArgument', 'network-scoped alias is supported only for containers in user defined networks');
    if (req.links?.length) {
      if (isDefault) throw new BerthError('InvalidArgument', 'links are only supported for user-defined networks');
      req.links.forEach(parseLink);
    }
    if (req.ipv4Address) {
      if (isDefault || !n.userSubnet) throw new BerthError('InvalidArgument', 'user specified IP address is supported only when connecting to networks with user configured subnets');
      pickAddress(n.ipam.config[0]!, new Set(), req.ipv4Address);
    }
    if (req.macAddress) checkMac(req.macAddress);
  }

  detach(ref: string, containerId: string): Promise<void> {
    return this.locked(async () => {
      const n = this.find(ref);
      const ep = this.s.endpoints.find((e) => e.networkId === n.id && e.containerId === containerId);
      if (!ep) return;
      await this.drop(ep);
    });
  }

  /** Every endpoint of a container that stopped: its links and leases go. */
  detachAll(containerId: string): Promise<void> {
    return this.locked(async () => {
      for (const ep of this.s.endpoints.filter((e) => e.containerId === containerId)) await this.drop(ep);
    });
  }

  renameContainer(containerId: string, name: string): Promise<void> {
    return this.locked(async () => {
      const mine = this.s.endpoints.filter((e) => e.containerId === containerId);
      if (!mine.length) return;
      for (const e of mine) e.containerName = name;
      this.saveEndpoints();
    });
  }

  /** Daemon start: endpoints of containers no longer running go (their veths, if a netns still holds them, too). */
  reconcile(running: Map<string, number>): Promise<void> {
    return this.locked(async () => {
      for (const ep of [...this.s.endpoints]) {
        const pid = running.get(ep.containerId);
        if (pid === undefined || pid !== ep.pid) await this.drop(ep);
      }
      // a veth on one of our bridges that no record names: a daemon killed between link add and save
      const known = new Set(this.s.endpoints.map((e) => e.hostVeth));
      const bridges = new Set(this.bridges().map((n) => n.bridge!));
      for (const l of await links()) if (l.master && bridges.has(l.master) && !known.has(l.ifname)) await this.net.run(planDetach(l.ifname)).catch(() => undefined);
    });
  }

  private async drop(ep: EndpointRecord): Promise<void> {
    const t0 = performance.now();
    const how = await this.unlink(ep);
    this.s.endpoints = this.s.endpoints.filter((x) => x !== ep);
    this.saveEndpoints();
    this.o.debug?.(`network ${ep.networkId}: container ${ep.containerId} detached (${ep.ipv4Address}), veth ${how} in ${(performance.now() - t0).toFixed(1)} ms`);
  }

  /** Deleting the host end removes the pair; gone already (the netns died with the container) is fine. */
  private async unlink(ep: EndpointRecord): Promise<'gone' | 'deleted'> {
    // the usual case after an exit: the netns went and took the pair along
    if (!fs.existsSync(`/sys/class/net/${ep.hostVeth}`)) return 'gone';
    await this.net.run(planDetach(ep.hostVeth)).catch((e: Error) => this.o.log?.(`network ${ep.networkId}: ${e.message}`));
    return 'deleted';
  }

  /** The daemon's end: the DNS servers stop and the netlink server ends. Bridges and rules stay (containers outlive the daemon). */
  async close(): Promise<void> {
    await this.dns?.close();
    this.net.close();
    this.o.debug?.('network: closed: DNS servers stopped, netlink helper released');
  }
}

function endpointView(e: EndpointRecord): Endpoint {
  return {
    networkId: e.networkId, networkName: e.networkName, endpointId: e.endpointId, containerId: e.containerId, containerName: e.containerName,
    aliases: [...e.aliases], ipv4Address: e.ipv4Address, prefixLen: e.prefixLen, gateway: e.gateway, macAddress: e.macAddress,
    hostVeth: e.hostVeth, ...(e.dns ? { dns: [...e.dns] } : {}), ...(e.links ? { links: e.links.map((l) => ({ ...l })) } : {}),
  };
}
