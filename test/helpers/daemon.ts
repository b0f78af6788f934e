// test/helpers/daemon: starts the compiled berthd on a temp socket with a temp --root, waits for
// /_ping, and stops it (SIGTERM, then SIGKILL) and removes everything it made.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { BERTH } from './bundle.js';
import { Client } from '../../src/client/index.js';
import { iptablesChains, iptablesJumps } from '../../src/network/iptables.js';
import { startRegistry, type Registry } from './registry.js';
import { pidStartTime } from '../../src/util/owner.js';

/** berthd says which firewall it drives at start */
const usesIptables = (log: string) => log.includes('firewall backend: iptables');

export interface Daemon {
  dir: string; socket: string; root: string; host: string; pid: number;
  /** this daemon's own network names: its default bridge, nft table and user networks' bridge prefix */
  net: DaemonNet;
  /** DOCKER_HOST/BERTH_HOST env for child processes */
  env: NodeJS.ProcessEnv;
  log(): string;
  stop(): Promise<void>;
  /** kill -9 the daemon (its containers keep running), run `whileDown`, then start a new one on the same socket and root */
  crashAndRestart(whileDown?: () => Promise<void>): Promise<void>;
  /** SIGTERM the daemon and wait for its exit (SIGKILL after 15 s), run `whileDown` with how it exited, then start a new one */
  termAndRestart(whileDown?: (exit: DaemonExit) => Promise<void>): Promise<void>;
}

/** How a daemon ended after a signal: its exit code or signal, and how long after the signal. */
export interface DaemonExit { code: number | null; signal: NodeJS.Signals | null; ms: number }

export interface DaemonNet { bridge: string; table: string; prefix: string }

const exec = promisify(execFile);

/** Links that belong to a daemon: its bridges and whatever is enslaved to them (veths). */
export async function daemonLinks(net: DaemonNet): Promise<Array<{ ifname: string; master?: string }>> {
  const all = JSON.parse((await exec('ip', ['-j', 'link'])).stdout) as Array<{ ifname: string; master?: string }>;
  const ours = (n: string | undefined) => !!n && (n === net.bridge || n.startsWith(net.prefix));
  return all.filter((l) => ours(l.ifname) || ours(l.master));
}

/** Removes a daemon's bridges, veths and nft table (or iptables chains); returns the veths that were still there (leaks). */
async function removeDaemonNet(net: DaemonNet, iptables = false): Promise<string[]> {
  const links = await daemonLinks(net);
  for (const l of links) await exec('ip', ['link', 'del', l.ifname]).catch(() => undefined);
  await exec('nft', ['delete', 'table', 'ip', net.table]).catch(() => undefined);
  if (iptables) await removeIptablesChains(net.table);
  return links.filter((l) => l.master).map((l) => l.ifname);
}

/** A daemon on the iptables backend leaves its chains and jumps (as docker does): they go here. */
export async function removeIptablesChains(table: string): Promise<void> {
  const ipt = (...a: string[]) => exec('iptables', ['-w', ...a]).then(() => true, () => false);
  for (const j of iptablesJumps(table)) while (await ipt('-t', j.table, '-D', j.from, '-j', j.to)) { /* every copy */ }
  const c = iptablesChains(table);
  for (const [t, chain] of [['filter', c.forward], ['nat', c.postrouting], ['nat', c.prerouting], ['nat', c.output], ['nat', c.dnat]] as const) {
    await ipt('-t', t, '-F', chain);
    await ipt('-t', t, '-X', chain);
  }
}

/** The shipped bundle dist/bin/daemon/berthd.js, found from dist/test/helpers. */
export function berthdPath(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/daemon/berthd.js');
}

export function pingSocket(socket: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.request({ socketPath: socket, method: 'GET', path: '/_ping' }, (res) => { res.resume(); resolve(res.statusCode ?? 0); });
    req.on('error', () => resolve(0));
    req.end();
  });
}

/** GET path on a daemon's socket, parsed JSON. */
export function getJson<T = unknown>(socket: string, urlPath: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: socket, method: 'GET', path: urlPath }, (res) => {
      let body = '';
      res.on('data', (b: Buffer) => { body += b.toString(); });
      res.on('end', () => { try { resolve(JSON.parse(body) as T); } catch (e) { reject(e); } });
    });
    req.on('error', reject);
    req.end();
  });
}

/** The daemon's count of /events subscribers (and its own internal ones): /info's NEventsListener. A test that
 *  reads a live `docker events` waits for it to rise, not for a fixed sleep, before it makes the events. */
export async function eventListeners(d: Pick<Daemon, 'socket'>): Promise<number> {
  return (await getJson<{ NEventsListener: number }>(d.socket, '/info')).NEventsListener;
}

/** `env`: more environment for berthd (e.g. a PATH without nft). */
export async function startDaemon(extraArgs: string[] = [], opts: { env?: NodeJS.ProcessEnv } = {}): Promise<Daemon> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berthd-'));
  const socket = path.join(dir, 'berth.sock');
  const root = path.join(dir, 'root');
  const logFile = path.join(dir, 'berthd.log');
  const log = () => { try { return fs.readFileSync(logFile, 'utf8'); } catch { return ''; } };
  // never berth0 or another test's: every daemon has its own bridge, table and user-bridge prefix
  const tag = randomBytes(3).toString('hex');
  const net: DaemonNet = { bridge: `bt${tag}`, table: `berth_t${tag}`, prefix: `u${tag}` };
  const netArgs = ['--bridge', net.bridge, '--nft-table', net.table, '--bridge-prefix', net.prefix];
  const launch = async (): Promise<ChildProcess> => {
    const out = fs.openSync(logFile, 'a');
    // the entry as a program, as users start it: its hashbang line carries settings (daemon/berthd.ts)
    const c: ChildProcess = spawn(berthdPath(), ['-H', `unix://${socket}`, '--root', root, '--debug', ...netArgs, ...extraArgs], { stdio: ['ignore', out, out], env: { ...process.env, ...opts.env } });
    fs.closeSync(out);
    for (let i = 0; ; i++) {
      if ((await pingSocket(socket)) === 200) return c;
      // ~30 s: on a loaded 2-core machine berthd can take more than 5 s to answer
      if (c.exitCode !== null || i > 1200) { c.kill('SIGKILL'); const l = log(); fs.rmSync(dir, { recursive: true, force: true }); await removeDaemonNet(net, usesIptables(l)); throw new Error(`berthd did not start: ${l}`); }
      await new Promise((r) => setTimeout(r, 25));
    }
  };
  let child = await launch();
  const host = `unix://${socket}`;
  return {
    dir, socket, root, host, net, get pid() { return child.pid!; }, log,
    async crashAndRestart(whileDown?: () => Promise<void>) {
      const gone = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await gone;
      await whileDown?.();
      fs.rmSync(socket, { force: true });
      child = await launch();
    },
    async termAndRestart(whileDown?: (exit: DaemonExit) => Promise<void>) {
      const t0 = Date.now();
      const gone = new Promise<DaemonExit>((r) => child.once('exit', (code, signal) => r({ code, signal, ms: Date.now() - t0 })));
      child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const exit = await gone;
      clearTimeout(killer);
      await whileDown?.(exit);
      fs.rmSync(socket, { force: true });
      child = await launch();
    },
    env: { ...process.env, DOCKER_HOST: host, BERTH_HOST: host, DOCKER_CONFIG: path.join(dir, 'docker-config') },
    async stop() {
      // containers outlive the daemon by design: remove them first, or a failed test leaks monitors and mounts
      let cleared = false; // the daemon removed every container itself: then a veth left on its bridges is its leak
      if (child.exitCode === null && child.signalCode === null) cleared = await removeContainers({ host });
      if (child.exitCode === null && child.signalCode === null) {
        const gone = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([gone, new Promise((r) => setTimeout(r, 5000))]);
        if (child.exitCode === null && child.signalCode === null) { child.kill('SIGKILL'); await gone; }
      }
      const daemonLog = log();
      const leaked = await removeDaemonNet(net, usesIptables(daemonLog));
      fs.rmSync(dir, { recursive: true, force: true });
      if (cleared && leaked.length) throw new Error(`berthd left veths on its bridges: ${leaked.join(', ')}\n${daemonLog.slice(-2000)}`);
    },
  };
}

/** Force-removes every container a daemon has; whether none is left (false when it does not answer). For a test's
 *  finally or afterEach: what a failed test left running must not make the next ones fail too. */
export async function removeContainers(d: Pick<Daemon, 'host'>): Promise<boolean> {
  const client = new Client(d.host);
  try {
    for (const c of await client.listContainers({ all: true })) await client.removeContainer(c.Id, { force: true }).catch(() => undefined);
    return (await client.listContainers({ all: true })).length === 0;
  } catch { return false; /* the daemon is not answering */ } finally { client.close(); }
}

/** A daemon and a local registry started side by side; when one fails to start the other is stopped, not left running. */
export async function startDaemonAndRegistry(): Promise<[Daemon, Registry]> {
  const [d, r] = await Promise.allSettled([startDaemon(), startRegistry()]);
  if (d.status === 'fulfilled' && r.status === 'fulfilled') return [d.value, r.value];
  if (d.status === 'fulfilled') await d.value.stop().catch(() => undefined);
  if (r.status === 'fulfilled') await r.value.stop().catch(() => undefined);
  throw d.status === 'rejected' ? d.reason : (r as PromiseRejectedResult).reason;
}

/** Runs `berth ARGS` — the shipped CLI, which hands docker's commands to berthd. */
export async function berth(args: string[], env: NodeJS.ProcessEnv, input?: Buffer): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BERTH, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => { stdout += d.toString(); });
  child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  child.stdin!.end(input);
  const rc = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? 1)));
  return { code: rc, stdout, stderr };
}

/** The daemon's own scratch directory (build contexts, loads): <root>/tmp/<pid>-<start time> (util/owner). */
export function scratchDir(d: Daemon): string {
  return path.join(d.root, 'tmp', `${d.pid}-${pidStartTime(d.pid)}`);
}
