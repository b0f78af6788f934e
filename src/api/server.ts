// api/server: the Docker Engine API over HTTP/1.1. Middleware as moby's (api/server/middleware):
// version check, Api-Version/Ostype/Docker-Experimental/Server headers on every response; then the
// router; errors through api/errors.ts. Handlers are functions of ApiServices, so tests run them in
// process on a temp socket.
import * as fs from 'node:fs';
import * as http from 'node:http';
import type * as net from 'node:net';
import * as path from 'node:path';
import { BerthError } from '../errors.js';
import { span } from '../util/trace.js';
import type { EventBus } from '../daemon/events.js';
import type { HostFacts } from '../daemon/host.js';
import type { ImageService } from '../images/index.js';
import type { ContainerService } from '../containers/types.js';
import type { NetworkService } from '../network/types.js';
import { HijackRoutes, upgradeListener } from './hijack.js';
import { ApiIncomingMessage, serveRawBody } from './raw-body.js';
import { absentRoutes } from './routes/absent.js';
import { containerRoutes } from './routes/containers.js';
import { archiveRoutes } from './routes/archive.js';
import { buildRoutes } from './routes/build.js';
import { diskUsageRoutes } from './routes/disk-usage.js';
import { execRoutes } from './routes/exec.js';
import { statsRoutes } from './routes/stats.js';
import { errorBody, sendError } from './errors.js';
import { Router, splitVersion, type Context } from './router.js';
import { imageRoutes } from './routes/images.js';
import { networkRoutes } from './routes/networks.js';
import { checkQuery, ROUTES } from './schema/index.js';
import { systemRoutes } from './routes/system.js';
import { volumeRoutes } from './routes/volumes.js';
import type { VolumeStore } from '../volumes/store.js';
import { API_VERSION, compareVersions, ENGINE_VERSION, MIN_API_VERSION } from './version.js';
import type { Drain } from '../util/drain.js';
import { httpDate } from '../util/time.js';

/** What containers/ will plug in; until then counts are zero. */
export interface ContainerCounts { running: number; paused: number; stopped: number }

export interface ApiServices {
  images: ImageService;
  events: EventBus;
  /** state root (DockerRootDir) */
  root: string;
  debug?: boolean;
  host: () => HostFacts;
  /** the container service; a bare counter still feeds /info (tests without containers) */
  containers?: ContainerService | { counts(): ContainerCounts };
  log?: (msg: string) => void;
  /** named volumes (volumes/) */
  volumes?: VolumeStore;
  /** networks, IPAM and endpoints (network/) */
  networks?: NetworkService;
  /** long work (builds) the daemon ends, and waits for, when it stops */
  drain?: Drain;
}

export function buildRouter(s: ApiServices, hijack?: HijackRoutes): Router {
  const r = new Router();
  systemRoutes(r, s);
  imageRoutes(r, s);
  containerRoutes(r, s, hijack);
  archiveRoutes(r, s);
  buildRoutes(r, s);
  diskUsageRoutes(r, s);
  execRoutes(r, s, hijack);
  statsRoutes(r, s);
  volumeRoutes(r, s);
  networkRoutes(r, s);
  absentRoutes(r);
  return r;
}

const COMMON_HEADERS = {
  'Api-Version': API_VERSION,
  'Ostype': 'linux',
  'Docker-Experimental': 'false',
  'Server': `Docker/${ENGINE_VERSION} (linux)`,
};

let dateSecond = -1;
let dateText = '';
/** The Date header's text, made once a second (as node does for its own). */
function dateHeader(): string {
  const now = Date.now();
  if (Math.floor(now / 1000) !== dateSecond) { dateSecond = Math.floor(now / 1000); dateText = httpDate(now); }
  return dateText;
}

/** The request handler: a function of the services. */
export function apiHandler(s: ApiServices, hijack?: HijackRoutes): (req: http.IncomingMessage, res: http.ServerResponse) => void {
  const router = buildRouter(s, hijack);
  return (req, res) => {
    commonHeaders(res);
    const started = Date.now();
    if (s.debug) res.on('finish', () => s.log?.(`${req.method} ${req.url} -> ${res.statusCode} (${Date.now() - started} ms)`));
    void dispatch(router, req, res).catch((e: unknown) => {
      if (s.debug && !(e instanceof BerthError)) s.log?.(`${req.method} ${req.url}: ${e instanceof Error ? e.stack : String(e)}`);
      sendError(res, e);
    });
  };
}

function commonHeaders(res: http.ServerResponse): void {
  for (const [k, v] of Object.entries(COMMON_HEADERS)) res.setHeader(k, v);
  // node's own Date header is made with toUTCString, which pages in ICU's time-zone data (util/time.ts)
  res.sendDate = false;
  res.setHeader('Date', dateHeader());
}

async function dispatch(router: Router, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://berth');
  const { version, path: p } = splitVersion(url.pathname);
  if (version !== undefined) {
    if (compareVersions(version, API_VERSION) > 0) throw new BerthError('InvalidArgument', `client version ${version} is too new. Maximum supported API version is ${API_VERSION}`);
    if (compareVersions(version, MIN_API_VERSION) < 0) throw new BerthError('InvalidArgument', `client version ${version} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`);
  }
  const method = req.method ?? 'GET';
  const hit = router.match(method, p) ?? (method === 'HEAD' ? router.match('GET', p) : undefined);
  if (!hit) {
    // drain what the client sent, then moby's NotFoundHandler answer
    req.resume();
    const body = errorBody('page not found');
    res.writeHead(404, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
    return;
  }
  // api/schema: a query value of the wrong type is a 400 before the handler runs
  checkQuery(ROUTES[hit.route], url.searchParams);
  const ctx: Context = { req, res, params: hit.params, query: url.searchParams, version: version ?? API_VERSION, path: p };
  // BERTH_DEBUG: the request's own time apart from its waits on helpers and monitors (util/trace.ts)
  await span(`${hit.route} ${p}`, async () => hit.handler(ctx));
}

export interface ListenOptions { socket: string; mode?: number; group?: number }

/** An http.Server with the settings long streams need (no request timeout; half-open for hijacks later). */
export function createApiServer(s: ApiServices): http.Server {
  const hijack = new HijackRoutes();
  const handler = apiHandler(s, hijack);
  const server = http.createServer({ requestTimeout: 0, headersTimeout: 60_000, keepAliveTimeout: 30_000, IncomingMessage: ApiIncomingMessage }, handler);
  // attach/exec with `Upgrade: tcp` come here, not to 'request' (api/hijack.ts); so do the requests whose
  // bodies are read off the socket (api/raw-body.ts)
  const hijacked = upgradeListener(hijack, s.debug ? s.log : undefined);
  const fail = (res: http.ServerResponse, e: unknown) => { commonHeaders(res); sendError(res, e); };
  server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
    if (req instanceof ApiIncomingMessage && req.rawBody) serveRawBody(req, socket, head, handler, fail);
    else hijacked(req, socket, head);
  });
  server.requestTimeout = 0;
  server.timeout = 0;
  return server;
}

/**
 * Takes the sockets systemd handed over (`-H fd://`, sd_listen_fds): LISTEN_FDS from fd 3 on, for this
 * process only (LISTEN_PID). Call it before starting any child: the variables are removed from the
 * environment, so helpers, monitors and hooks never think they were socket-activated.
 */
export function takeSystemdSockets(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env.LISTEN_FDS ?? 0);
  if (env.LISTEN_PID !== String(process.pid) || !Number.isInteger(n) || n < 1) {
    throw new Error('-H fd://: no sockets passed by systemd (LISTEN_FDS/LISTEN_PID unset or not for this process); start berthd through berth.socket');
  }
  if (n > 1) throw new Error(`-H fd://: systemd passed ${n} sockets; berth.socket listens on one`);
  for (const k of ['LISTEN_FDS', 'LISTEN_PID', 'LISTEN_FDNAMES']) delete env[k];
  return 3;
}

/** Serves on the socket takeSystemdSockets took (systemd created, owns and set the mode of its file). */
export async function listenSystemd(server: http.Server, fd: number): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ fd }, () => { server.off('error', reject); resolve(); });
  });
  return fd;
}

/** Listens on a unix socket: removes a stale socket first, then sets the mode (0660 as dockerd). */
export async function listenUnix(server: http.Server, o: ListenOptions): Promise<void> {
  fs.mkdirSync(path.dirname(o.socket), { recursive: true });
  try {
    if (fs.lstatSync(o.socket).isSocket()) fs.unlinkSync(o.socket);
  } catch { /* none */ }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.socket, () => { server.off('error', reject); resolve(); });
  });
  fs.chmodSync(o.socket, o.mode ?? 0o660);
  if (o.group !== undefined) fs.chownSync(o.socket, 0, o.group);
}
