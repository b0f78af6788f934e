// network/ports-publisher: the executor for published ports — chooses and bind-tests host ports,
// reserves them in <root>/network/ports.json (so two containers never get the same one, and a
// restarted daemon knows what it forwards), and hands the port chains to the network manager, the one
// writer of Berth's nft table. Never touches containers/: callers hand it a container id, its address and bridge.
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { BerthError } from '../errors.js';
import { writeFileAtomicSync } from '../util/fs.js';
import {
  candidatePorts, clashes, parseLocalPortRange, planPortChains,
  type PortRequest, type PortRule, type PortTarget, type Proto, type PublishedPort,
} from './ports.js';

export interface PortPublisherOptions {
  root: string;                 // the daemon's root; the store is <root>/network/ports.json
  log?: (msg: string) => void;
  /** one line per change of the forwarded ports (berthd --debug) */
  debug?: (msg: string) => void;
  /** where free ports are picked; the kernel's ephemeral range by default (docker's portallocator does the same) */
  portRange?: [number, number];
}

interface Store { last: number; containers: Record<string, PortRule[]> }

/** Can this host port be bound now? undefined when it can, else the errno code (EADDRINUSE, EADDRNOTAVAIL, …). */
export function bindTest(proto: Proto, ip: string, port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    if (proto === 'sctp') { resolve(undefined); return; } // Node has no SCTP sockets; the rule is still exact
    const fail = (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message);
    if (proto === 'udp') {
      const s = dgram.createSocket({ type: 'udp4', reuseAddr: false });
      s.once('error', (e) => { s.close(); fail(e); });
      s.bind({ address: ip, port, exclusive: true }, () => s.close(() => resolve(undefined)));
      return;
    }
    const s = net.createServer();
    s.once('error', fail);
    s.listen({ host: ip, port, exclusive: true }, () => s.close(() => resolve(undefined)));
  });
}

/** docker's wording: clients and users know "port is already allocated". */
function bindError(endpoint: string, r: PortRequest, port: string, code: string): BerthError {
  const what = code === 'EADDRINUSE' ? `Bind for ${r.hostIp}:${port} failed: port is already allocated`
    : `Error starting userland proxy: listen ${r.proto}4 ${r.hostIp}:${port}: bind: ${code === 'EADDRNOTAVAIL' ? 'cannot assign requested address' : code}`;
  return new BerthError('Conflict', `driver failed programming external connectivity on endpoint ${endpoint}: ${what}`);
}

export class PortPublisher {
  private readonly file: string;
  private store: Store;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly range: [number, number];

  constructor(private readonly o: PortPublisherOptions) {
    this.file = path.join(o.root, 'network', 'ports.json');
    this.store = this.load();
    let text: string | undefined;
    try { text = fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8'); } catch { /* not Linux */ }
    this.range = o.portRange ?? parseLocalPortRange(text);
    // A new daemon starts its walk at a random point of the range, not at its start: two daemons on one
    // host (tests run side by side) hold no socket on their ports and cannot see each other's rules.
    if (this.store.last === 0) this.store.last = this.range[0] + Math.floor(Math.random() * (this.range[1] - this.range[0] + 1));
  }

  /** Every container's forwarded ports, for a whole-table ruleset (the network manager's). */
  rules(): PortRule[] {
    return Object.values(this.store.containers).flat();
  }

  /** The port chains as they stand, to sit inside `table ip T { … }`. */
  chains(): string[] {
    return planPortChains(this.rules());
  }

  published(containerId: string): PublishedPort[] {
    return (this.store.containers[containerId] ?? []).map(({ proto, containerPort, hostIp, hostPort }) => ({ proto, containerPort, hostIp, hostPort }));
  }

  /**
   * Picks, bind-tests and reserves a host port for every request, then forwards them all in one nft
   * transaction. All or nothing: on any failure nothing is reserved or forwarded. `endpoint` names the
   * container in errors ("name (id)").
   */
  publish(containerId: string, endpoint: string, reqs: PortRequest[], target: PortTarget & { hostLink?: string }): Promise<PublishedPort[]> {
    if (reqs.length === 0) return Promise.resolve([]);
    return this.serial(async () => {
      const others = Object.entries(this.store.containers).filter(([id]) => id !== containerId).flatMap(([, r]) => r);
      const chosen: PortRule[] = [];
      let last = this.store.last;
      for (const r of reqs) {
        const fixed = r.hostPortStart !== 0;
        const shown = r.hostPortStart === r.hostPortEnd ? String(r.hostPortStart) : `${r.hostPortStart}-${r.hostPortEnd}`;
        let got: number | undefined;
        let why = 'EADDRINUSE';
        for (const p of candidatePorts(r, this.range, last)) {
          const cand = { proto: r.proto, hostIp: r.hostIp, hostPort: p };
          if (others.some((x) => clashes(x, cand)) || chosen.some((x) => clashes(x, cand))) continue;
          const code = await bindTest(r.proto, r.hostIp, p);
          if (code === undefined) { got = p; break; }
          why = code;
          if (code !== 'EADDRINUSE' && code !== 'EACCES') break; // the address itself is wrong: no port will do
        }
        if (got === undefined) throw fixed ? bindError(endpoint, r, shown, why) : bindError(endpoint, r, '0', why === 'EADDRINUSE' ? 'no free port' : why);
        if (!fixed) last = got;
        chosen.push({ proto: r.proto, containerPort: r.containerPort, hostIp: r.hostIp, hostPort: got, ...target });
      }
      this.prepareBridge(target);
      const before = this.store;
      this.save({ last, containers: { ...before.containers, [containerId]: chosen } });
      try {
        await this.apply();
      } catch (e) {
        this.save(before);
        await this.apply().catch(() => undefined);
        throw e;
      }
      this.o.debug?.(`container ${containerId}: published ${chosen.map((c) => `${c.hostIp}:${c.hostPort}->${c.containerPort}/${c.proto}`).join(', ')}`);
      return this.published(containerId);
    });
  }

  /** Stops forwarding the container's ports and frees them; safe when it had none. */
  unpublish(containerId: string): Promise<void> {
    if (!this.store.containers[containerId]) return Promise.resolve();
    return this.serial(async () => {
      if (!this.store.containers[containerId]) return;
      const { [containerId]: _gone, ...rest } = this.store.containers;
      this.save({ ...this.store, containers: rest });
      await this.apply();
      this.o.debug?.(`container ${containerId}: its published ports are gone`);
    });
  }

  /** Daemon start: forget the ports of containers no longer running and (re)write the chains. */
  restore(running: Set<string>): Promise<void> {
    return this.serial(async () => {
      const kept = Object.fromEntries(Object.entries(this.store.containers).filter(([id]) => running.has(id)));
      this.save({ ...this.store, containers: kept });
      for (const rules of Object.values(kept)) for (const r of rules) this.prepareBridge(r);
      await this.apply();
    });
  }

  /** Writes the chains into Berth's table in one transaction: NetworkManager.setChains, set once it exists (it takes chains() for its first ruleset). */
  setChains?: (lines: string[]) => Promise<void>;

  private apply(): Promise<void> {
    const set = this.setChains;
    if (!set) return Promise.reject(new BerthError('Unavailable', 'published ports need networking, and this daemon runs without it'));
    return set(this.rules().length ? this.chains() : []); // no ports: no chains of ours in the table
  }

  /**
   * 127.0.0.1 DNATed out of the bridge is dropped as a martian unless the bridge allows loopback
   * sources (route_localnet); hairpin lets a container reach its own published port through the host.
   */
  private prepareBridge(t: PortTarget & { hostLink?: string }): void {
    const set = (file: string) => { try { fs.writeFileSync(file, '1'); } catch (e) { this.o.log?.(`ports: ${file}: ${(e as Error).message}`); } };
    set(`/proc/sys/net/ipv4/conf/${t.bridge}/route_localnet`);
    if (t.hostLink) set(`/sys/class/net/${t.hostLink}/brport/hairpin_mode`);
  }

  private serial<T>(f: () => Promise<T>): Promise<T> {
    const run = this.queue.then(f, f);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private load(): Store {
    try {
      const s = JSON.parse(fs.readFileSync(this.file, 'utf8')) as Store;
      if (typeof s.last === 'number' && s.containers && typeof s.containers === 'object') return s;
      this.o.log?.(`ports: ignoring malformed ${this.file}`);
    } catch { /* none yet */ }
    return { last: 0, containers: {} };
  }

  private save(s: Store): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    writeFileAtomicSync(this.file, JSON.stringify(s), 0o600);
    this.store = s;
  }
}
