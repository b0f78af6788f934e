// berthd: the Docker Engine API daemon (berthd.ts is its entry). This file is the wiring: the one place that constructs the
// services and hands them to the API server; flags, pid file, signals. It decides nothing else.
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import type * as net from 'node:net';
import * as path from 'node:path';
import { parseFlags } from '../cli/args.js';
import { requestCredentials } from '../api/auth.js';
import { createApiServer, listenSystemd, listenUnix, takeSystemdSockets, type ApiServices } from '../api/server.js';
import { ENGINE_VERSION, BERTH_VERSION, API_VERSION } from '../api/version.js';
import { Containers } from '../containers/service.js';
import { hostResolvers } from '../network/dns-servers.js';
import { NetworkManager, checkNetworkOptions, type FirewallDriver } from '../network/manager.js';
import { PortPublisher } from '../network/ports-publisher.js';
import { ImageService } from '../images/index.js';
import { useSpawner } from '../runtime/spawner.js';
import { EventBus } from './events.js';
import { trimWhenIdle } from './heap.js';
import { debugFileHandles } from './debug-fds.js';
import { hostFactsReader } from './host.js';
import { privateDir } from '../util/dirs.js';
import { Drain } from '../util/drain.js';
import { VolumeStore } from '../volumes/store.js';
import { volumeNamesOf } from '../volumes/users.js';
import { isoTime } from '../util/time.js';

export const DEFAULT_SOCKET = '/run/berth/berth.sock';
export const DEFAULT_ROOT = '/var/lib/berth';
/** shutdown: time requests under way get before their connections end; the bound on the whole shutdown */
const GRACE_MS = 1000;
const HARD_MS = 5000;

const USAGE = `Usage: berthd [OPTIONS]

The Berth daemon: serves the Docker Engine API (v${API_VERSION}) on a unix socket.

Options:
  -H, --host unix:///PATH   Socket to listen on (default unix://${DEFAULT_SOCKET});
                            fd:// serves the socket systemd passes (berth.socket)
      --root DIR            State root (default ${DEFAULT_ROOT}, or $BERTH_ROOT)
      --exec-root DIR       Runtime state and attach sockets (default /run/berth, or <root>/run with --root)
      --pidfile FILE        Pid file (default /run/berth/berthd.pid, or next to a -H socket)
      --group GID           Group owning the socket (default: root's)
      --bridge NAME         Linux bridge of the default network (default berth0); none: no default
                            network, containers in the default mode get only lo (dockerd's -b none)
      --nft-table NAME      nftables table (family ip) of Berth's rules (default berth)
      --bridge-prefix P     Prefix of user networks' bridges (default br-)
      --firewall-backend B  nftables or iptables (default: nftables where nft is on PATH, else iptables);
                            iptables rules go in chains of Berth's own, named after --nft-table
  -D, --debug               Log every request
  -v, --version             Print the version
`;

export function parseHost(h: string): string {
  if (h === 'fd://') return h;
  if (h.startsWith('unix://')) return h.slice('unix://'.length);
  if (h.startsWith('/')) return h;
  throw new Error(`unsupported host ${JSON.stringify(h)}: berthd listens on unix sockets only (unix:///path)`);
}

function log(msg: string): void {
  process.stderr.write(`${isoTime()} berthd: ${msg}\n`);
}

/**
 * One daemon per pid file: it holds an flock on the file for as long as it lives. A pid probe would
 * take a dead daemon's zombie for a live one; the kernel drops the lock when the holder's files close,
 * which happens when it dies, reaped or not. Node has no flock(2): util-linux flock(1) locks the fd it
 * inherits, and the lock, which belongs to the open file, stays with us after it exits.
 */
function lockPidFile(pidfile: string): boolean {
  fs.mkdirSync(path.dirname(pidfile), { recursive: true });
  const fd = fs.openSync(pidfile, fs.constants.O_RDWR | fs.constants.O_CREAT, 0o644); // kept open (and locked) until exit
  const r = spawnSync('flock', ['--exclusive', '--nonblock', '3'], { stdio: ['ignore', 'ignore', 'pipe', fd] });
  if (r.error) throw new Error(`lock ${pidfile}: run flock(1) (util-linux): ${r.error.message}`);
  if (r.status !== 0) {
    let owner = '';
    try { owner = fs.readFileSync(pidfile, 'utf8').trim(); } catch { /* unreadable */ }
    if (r.status === 1) log(`another berthd${/^\d+$/.test(owner) ? ` (pid ${owner})` : ''} owns ${pidfile}`);
    else log(`lock ${pidfile}: flock: ${r.stderr.toString().trim() || `exit ${r.status}`}`);
    fs.closeSync(fd);
    return false;
  }
  fs.ftruncateSync(fd, 0);
  fs.writeSync(fd, `${process.pid}\n`, 0);
  return true;
}

async function main(argv: string[]): Promise<number> {
  const { flags } = parseFlags(argv, {
    host: { short: 'H', type: 'string' }, root: { type: 'string' }, 'exec-root': { type: 'string' }, pidfile: { type: 'string' }, group: { type: 'string' },
    bridge: { type: 'string' }, 'nft-table': { type: 'string' }, 'bridge-prefix': { type: 'string' }, 'firewall-backend': { type: 'string' },
    debug: { short: 'D', type: 'bool' }, version: { short: 'v', type: 'bool' }, help: { short: 'h', type: 'bool' },
  });
  if (flags.help) { process.stdout.write(USAGE); return 0; }
  if (flags.version) { process.stdout.write(`berthd version ${BERTH_VERSION} (Docker Engine API ${API_VERSION}, engine ${ENGINE_VERSION})\n`); return 0; }
  const listen = parseHost((flags.host as string | undefined) ?? `unix://${DEFAULT_SOCKET}`);
  // systemd's socket unit uses the default path; pid file and exec root follow from it
  const socket = listen === 'fd://' ? DEFAULT_SOCKET : path.resolve(listen);
  const root = path.resolve((flags.root as string | undefined) ?? process.env.BERTH_ROOT ?? DEFAULT_ROOT);
  const pidfile = (flags.pidfile as string | undefined) ?? (socket === DEFAULT_SOCKET ? '/run/berth/berthd.pid' : path.join(path.dirname(socket), 'berthd.pid'));
  const debug = !!flags.debug;
  const net = {
    bridge: flags.bridge as string | undefined, table: flags['nft-table'] as string | undefined,
    bridgePrefix: flags['bridge-prefix'] as string | undefined, firewall: flags['firewall-backend'] as FirewallDriver | undefined,
  };
  // a bad network flag stops the daemon before it makes anything: no root, pid file, bridge or rules
  checkNetworkOptions(net);
  // before any child starts (the network helper starts with the network manager): none may inherit LISTEN_*
  const systemdFd = listen === 'fd://' ? takeSystemdSockets() : undefined;

  // only root (and root's group) may traverse the state root: container roots and layers are below
  privateDir(root, 0o710);
  if (!lockPidFile(pidfile)) return 1;

  const execRoot = path.resolve((flags['exec-root'] as string | undefined) ?? (flags.root ? path.join(root, 'run') : '/run/berth'));
  // traversable: the socket may live here for its group; what holds container state below is 0700
  privateDir(execRoot, 0o711);
  let containers: Containers | undefined;
  // every helper and tool (a pull's gunzip and syncfs too) through the spawner: no fork of the daemon
  useSpawner();
  const images = new ImageService({ root, credentials: requestCredentials, inUse: (id) => containers?.usingImage(id) });
  const events = new EventBus();
  const volumes = new VolumeStore({
    root,
    inUse: (name) => containers!.list({ all: true }).filter((c) => volumeNamesOf(c).includes(name)).map((c) => c.id),
    publish: (action, name, attrs) => events.publish('volume', action, name, attrs),
  });
  // published ports stay in the first ruleset: a restarted daemon never drops a running container's ports
  const ports = new PortPublisher({ root, log, debug: debug ? log : undefined });
  const networks = await NetworkManager.open({
    root, log, debug: debug ? log : undefined, ...net,
    chains: { ports: ports.rules().length ? ports.chains() : [] }, portRules: () => ports.rules(),
    // the embedded DNS server of every user network, again after a restart; kept in step with create/remove
    dns: { upstreams: hostResolvers() },
  });
  ports.setChains = (lines) => networks.setChains('ports', lines);
  containers = new Containers({ root, execRoot, images, events, log, debug: debug ? log : undefined, volumes, networks, ports });
  // a daemon killed mid-build (or mid-load) left the build's context and its step container: both go
  await images.clearTmp();
  await containers.restore();
  const drain = new Drain();
  const services: ApiServices = { images, events, containers, volumes, networks, root, debug, host: hostFactsReader(root), log, drain };
  const server = createApiServer(services);
  trimWhenIdle(server);
  debugFileHandles(server);
  try {
    if (systemdFd !== undefined) await listenSystemd(server, systemdFd);
    else await listenUnix(server, { socket, mode: 0o660, group: flags.group !== undefined ? Number(flags.group) : undefined });
  } catch (e) {
    try { fs.unlinkSync(pidfile); } catch { /* gone */ }
    throw e;
  }
  log(`API listening on ${listen === 'fd://' ? 'the socket systemd passed' : socket} (root ${root}, pid ${process.pid})`);

  // every connection, hijacked ones too (attach, exec): closeAllConnections knows only those still speaking HTTP
  const sockets = new Set<net.Socket>();
  server.on('connection', (sock: net.Socket) => { sockets.add(sock); sock.once('close', () => sockets.delete(sock)); });
  let stopping = false;
  const exit = () => {
    try { fs.unlinkSync(pidfile); } catch { /* gone */ }
    process.exit(0);
  };
  /**
   * Bounded, as dockerd's shutdown: requests under way get GRACE_MS; then every connection ends (streams,
   * attach, and readers stuck on a client that stopped reading: an export or cp of a stopped container
   * holds its root mounted until its response ends), the roots readers held come off, builds end, the
   * network helper goes. Containers keep running under their monitors; bridges and rules stay for the next
   * daemon. Whatever hangs, the daemon is gone after HARD_MS.
   */
  const stop = async (sig: string) => {
    if (stopping) return;
    stopping = true;
    log(`${sig}: shutting down`);
    setTimeout(() => { log(`shutdown: still not done after ${HARD_MS} ms; exiting`); exit(); }, HARD_MS).unref();
    // builds end first: their step containers go (with their network endpoints) before the network helper does
    const built = drain.end(3500);
    const closed = new Promise<void>((r) => server.close(() => r()));
    server.closeIdleConnections();
    // a timer that holds the event loop (util/timer's sleep does not): the steps below run, whatever else ends
    await Promise.race([closed, new Promise((r) => setTimeout(r, GRACE_MS))]);
    if (sockets.size) log(`shutdown: ending ${sockets.size} connection(s)`);
    for (const sock of sockets) sock.destroy();
    const late = await containers!.letGoOfRoots(1500);
    if (late.length) log(`shutdown: unmounted the roots of ${late.join(', ')}: their readers had not ended`);
    await built;
    await networks.close().catch((e: Error) => log(`network: close: ${e.message}`));
    log('shutdown: done');
    exit();
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  return new Promise<number>(() => { /* runs until a signal */ });
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (e: unknown) => {
    process.stderr.write(`berthd: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  },
);
