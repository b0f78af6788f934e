// network/bridge: the one executor for network plans — runs `ip -batch` (host side and, through nsenter,
// inside a container's netns) and one `nft -f` transaction on Berth's own table; keeps IPAM leases
// under <root>/network/. Never touches containers/: callers hand it a container id and a pid.
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BerthError } from '../errors.js';
import { writeFileAtomicSync } from '../util/fs.js';
import {
  allocate, bridgeNetwork, defaultPools, macFor, parseCidr, pickSubnet, planAttach, planBridge, planDetach,
  planRuleset, reconcile, release, type Leases, type Network,
} from './plan.js';

export interface BridgeOptions {
  /** bridge device name; tests use one per daemon so they never meet berth0 or each other */
  bridge: string;
  /** nft table name (in family ip) */
  table: string;
}

export interface Attachment {
  address: string;
  prefixLen: number;
  gateway: string;
  mac: string;
  network: Network;
}

interface Store { network: Network; leases: Leases }

function run(cmd: string, args: string[], input?: string): string {
  try {
    return execFileSync(cmd, args, { input, encoding: 'utf8', stdio: ['pipe', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new BerthError('Internal', `${cmd} ${args.join(' ')}: ${(err.stderr || err.message).trim()}`, { cause: e });
  }
}

function ipBatch(lines: string[], netnsPid?: number): void {
  if (lines.length === 0) return;
  const input = lines.join('\n') + '\n';
  if (netnsPid === undefined) run('ip', ['-batch', '-'], input);
  else run('nsenter', [`--net=/proc/${netnsPid}/ns/net`, 'ip', '-batch', '-'], input);
}

function linkExists(name: string): boolean {
  try { execFileSync('ip', ['link', 'show', 'dev', name], { stdio: 'ignore' }); return true; } catch { return false; }
}

/** Routes and addresses already on the host, so the chosen subnet overlaps none of them. */
function hostCidrs(): string[] {
  const routes = JSON.parse(run('ip', ['-j', 'route', 'show', 'table', 'all'])) as { dst: string }[];
  const addrs = JSON.parse(run('ip', ['-j', 'addr'])) as { addr_info?: { family: string; local: string; prefixlen: number }[] }[];
  const out = routes.map((r) => r.dst).filter((d) => d && /^\d/.test(d));
  for (const a of addrs) for (const i of a.addr_info ?? []) if (i.family === 'inet') out.push(`${i.local}/${i.prefixlen}`);
  return out;
}

/** MTU of the uplink (the default route's device), 1500 when there is none. */
function uplinkMtu(): number {
  const def = (JSON.parse(run('ip', ['-j', 'route', 'show', 'default'])) as { dev?: string }[])[0];
  if (!def?.dev) return 1500;
  const link = (JSON.parse(run('ip', ['-j', 'link', 'show', 'dev', def.dev])) as { mtu?: number }[])[0];
  return link?.mtu ?? 1500;
}

export class BridgeDriver {
  private readonly file: string;
  private store: Store | undefined;

  constructor(root: string, private readonly opts: BridgeOptions) {
    this.file = path.join(root, 'network', `${opts.bridge}.json`);
  }

  get network(): Network {
    return this.ensure().network;
  }

  /** Bridge, address, NAT table and ip_forward; re-created if missing (daemon start), keeping the stored subnet. */
  ensure(): Store {
    if (this.store && linkExists(this.opts.bridge)) return this.store;
    let s = this.load();
    const exists = linkExists(this.opts.bridge);
    if (!s) {
      // Our own bridge's addresses are not a conflict when it survived a lost store.
      const taken = hostCidrs().filter((c) => !exists || !this.bridgeAddrs().includes(c));
      s = { network: bridgeNetwork('bridge', this.opts.bridge, pickSubnet(defaultPools(), taken), uplinkMtu()), leases: {} };
      this.save(s);
    }
    if (!exists) ipBatch(planBridge(s.network));
    else ipBatch(planBridge(s.network).slice(1));
    run('nft', ['-f', '-'], planRuleset(this.opts.table, [s.network]));
    // docker sets this too; without it nothing leaves the bridge.
    fs.writeFileSync('/proc/sys/net/ipv4/ip_forward', '1');
    this.store = s;
    return s;
  }

  private bridgeAddrs(): string[] {
    const a = JSON.parse(run('ip', ['-j', 'addr', 'show', 'dev', this.opts.bridge])) as { addr_info?: { local: string; prefixlen: number }[] }[];
    return (a[0]?.addr_info ?? []).map((i) => `${i.local}/${i.prefixlen}`);
  }

  /** Lease an address and wire the container's netns (pid) to the bridge; undoes itself on failure. */
  attach(containerId: string, pid: number): Attachment {
    const s = this.ensure();
    const { address, leases } = allocate(s.network, s.leases, containerId);
    this.save({ ...s, leases });
    try {
      this.detachLink(containerId); // a stale veth of an earlier start of the same container
      const p = planAttach(s.network, { containerId, pid, address });
      ipBatch(p.host);
      ipBatch(p.netns, pid);
    } catch (e) {
      this.detach(containerId);
      throw e;
    }
    return { address, prefixLen: parseCidr(s.network.subnet).prefix, gateway: s.network.gateway, mac: macFor(address), network: s.network };
  }

  /** Remove the veth (if the netns is not already gone) and free the lease; safe to call twice. */
  detach(containerId: string): void {
    this.detachLink(containerId);
    const s = this.load();
    if (s) this.save({ ...s, leases: release(s.leases, containerId) });
  }

  lease(containerId: string): string | undefined {
    const s = this.load();
    return s ? Object.entries(s.leases).find(([, id]) => id === containerId)?.[0] : undefined;
  }

  /** Daemon start: free leases of containers that are no longer running. */
  reconcile(alive: Set<string>): void {
    const s = this.load();
    if (!s) return;
    for (const id of new Set(Object.values(s.leases))) if (!alive.has(id)) this.detachLink(id);
    this.save({ ...s, leases: reconcile(s.leases, alive) });
  }

  /** Remove the bridge and Berth's table: nothing of this driver is left on the host. */
  destroy(): void {
    if (linkExists(this.opts.bridge)) ipBatch([`link del ${this.opts.bridge}`]);
    try { execFileSync('nft', ['delete', 'table', 'ip', this.opts.table], { stdio: 'ignore' }); } catch { /* absent */ }
    fs.rmSync(this.file, { force: true });
    this.store = undefined;
  }

  private detachLink(containerId: string): void {
    const [cmd] = planDetach({ containerId });
    const name = cmd.split(' ').at(-1)!;
    if (linkExists(name)) ipBatch([cmd]);
  }

  private load(): Store | undefined {
    try { return JSON.parse(fs.readFileSync(this.file, 'utf8')) as Store; } catch { return undefined; }
  }

  private save(s: Store): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    writeFileAtomicSync(this.file, JSON.stringify(s));
    if (this.store) this.store = s;
  }
}
