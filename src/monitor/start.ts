// monitor/start: starts `berth-helper monitor` for one container and follows its control protocol (protocol.ts).
import { spawn, type StdioOptions } from 'node:child_process';
import * as fs from 'node:fs';
import type * as net from 'node:net';
import * as path from 'node:path';
import { BerthError, errnoCode } from '../errors.js';
import { errnoMessage, HELPER_PATH } from '../runtime/sync.js';
import { controlMessage, encodeSpawn, FrameReader, MON } from './protocol.js';
import { spawnThroughSpawner } from '../runtime/spawner.js';
import { waitOn } from '../util/trace.js';
import { isoTime } from '../util/time.js';

export interface ExitStatus { exitCode: number; signal: number | null; finishedAt: string }
export interface MonitorPaths { log: string; exit: string; attach: string }

/** Where the monitor of a container keeps its files under `dir`. */
export function monitorPaths(dir: string): MonitorPaths {
  const d = path.resolve(dir);
  return { log: path.join(d, 'json.log'), exit: path.join(d, 'exit.json'), attach: path.join(d, 'attach.sock') };
}

export interface StartMonitorOptions {
  dir: string;
  tty: boolean;
  argv: string[];            // argv[0] is a path: the monitor does no PATH search
  env?: string[];            // default: this process's environment
  /** The child's fds 3, 4, …: an fd, a socket, or 'pipe' for a new socketpair whose other end is in `sockets`. */
  fds?: (number | net.Socket | 'pipe')[];
  stdin?: boolean;           // false: the child's stdin is /dev/null (non-TTY only); default true
  /**
   * false: the exit file is not fsynced, and `exited` settles from the monitor's EXITED message without
   * reading it (an exec's: nobody reads the file, it goes with its directory)
   */
  syncExit?: boolean;
  logMaxSize?: number;       // bytes; the log rotates to LOG.1
  logMaxFiles?: number;      // files kept, LOG included (default 2: LOG and LOG.1); 1 starts LOG again
  paths?: Partial<MonitorPaths>;
  stderr?: 'ignore' | 'inherit' | number; // the monitor's own diagnostics
  timeoutMs?: number;
  /**
   * argv is [HELPER_PATH, mode, …]: the monitor, itself started from a sealed copy of berth-helper, runs it
   * in its forked child without an exec, so the child needs neither an exec nor its own sealed copy (two
   * exec's and a 1 MB copy fewer per `docker exec`).
   */
  helperInProcess?: boolean;
  /** Runs with the 'pipe' sockets before the monitor is asked to start the child: what is written now waits in them. */
  beforeSpawn?: (sockets: (net.Socket | undefined)[]) => void;
}

export interface Monitor {
  monitorPid: number;
  childPid: number;
  paths: MonitorPaths;
  /** The daemon's ends of the fds given as 'pipe', by index in `fds`. */
  sockets: (net.Socket | undefined)[];
  /** Names the process whose exit is the container's exit (may be a grandchild, may have exited already). */
  containerPid(pid: number): void;
  exited: Promise<ExitStatus>;
  /** Lets go of the monitor: it keeps running, and `exited` no longer settles from the control socket. */
  close(): void;
  /**
   * Undoes a start that failed: SIGKILLs the child (a helper blocked on its sync socket would
   * otherwise wait forever) and the monitor, and closes every fd of ours, the 'pipe' ends included.
   */
  abort(): void;
}

export async function readExitFile(file: string): Promise<ExitStatus | undefined> {
  try {
    return JSON.parse(await fs.promises.readFile(file, 'utf8')) as ExitStatus;
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return undefined;
    throw new BerthError('Internal', `read exit file ${file}: ${(e as Error).message}`, { cause: e });
  }
}

/**
 * The monitors running now, by the exit file they will write: a daemon that died mid-start never
 * learned some of them, and only their command line (startMonitor's arguments) names them.
 */
export function runningMonitors(): Map<string, number> {
  const out = new Map<string, number>();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let argv: string[];
    try { argv = fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0'); } catch { continue; }
    const i = argv.indexOf('--exit');
    // by name, not by HELPER_PATH: a monitor outlives the daemon that started it, and maybe its install path
    if (argv[1] === 'monitor' && path.basename(argv[0] ?? '') === 'berth-helper' && i > 0 && argv[i + 1]) out.set(argv[i + 1]!, Number(name));
  }
  return out;
}

function monitorError(p: Buffer): BerthError {
  const errno = p.readInt32LE(0);
  const end = p.indexOf(0, 8);
  return new BerthError('Internal', `monitor: ${p.subarray(8, end < 0 ? p.length : end).toString()}: ${errnoMessage(errno)}`);
}

interface Launched { pid: number; sock: net.Socket; sockets: (net.Socket | undefined)[]; onError(f: (e: Error) => void): void }

/**
 * Starts `berth-helper monitor`: through the spawner when it needs nothing of ours but new sockets (every
 * daemon start and exec), else with spawn(). Either way the monitor outlives us.
 */
async function launch(args: string[], opts: StartMonitorOptions): Promise<Launched> {
  const fds = opts.fds ?? [];
  if ((opts.stderr ?? 'ignore') === 'ignore' && fds.every((f) => f === 'pipe')) {
    const s = await spawnThroughSpawner(HELPER_PATH, [HELPER_PATH, ...args], 1 + fds.length, !!opts.helperInProcess).catch((e: Error) => {
      throw new BerthError('Internal', `start berth-helper monitor (${HELPER_PATH}): ${e.message}`, { cause: e });
    });
    if (s) return { pid: s.pid, sock: s.sockets[0]!, sockets: s.sockets.slice(1), onError: () => {} };
  }
  const stdio = ['ignore', 'ignore', opts.stderr ?? 'ignore', 'pipe', ...fds] as StdioOptions;
  const child = spawn(HELPER_PATH, args, { stdio });
  child.unref(); // the monitor outlives us; only the control socket keeps the event loop busy
  let early: Error | undefined, onErr: ((e: Error) => void) | undefined;
  child.on('error', (e) => { if (onErr) onErr(e); else early = e; });
  return {
    pid: child.pid ?? 0, sock: child.stdio[3] as net.Socket, sockets: fds.map((f, i) => (f === 'pipe' ? (child.stdio[4 + i] as net.Socket) : undefined)),
    onError: (f) => { if (early) f(early); else onErr = f; },
  };
}

/** A monitor that runs, listens on its attach socket and waits for SPAWN (see launchMonitor). */
export interface LaunchedMonitor {
  pid: number;
  paths: MonitorPaths;
  /** The daemon's ends of the fds given as 'pipe', by index in `fds`. */
  sockets: (net.Socket | undefined)[];
  /** It ended before its SPAWN (the monitor leaves by itself once its control socket closes). */
  readonly gone: boolean;
  /** Whether it keeps our event loop alive: not while it waits ahead of need. */
  ref(on: boolean): void;
  /** Lets it go unused: its control socket closes, and it removes its attach socket and exits. */
  discard(): void;
  /** @internal startMonitor's part */
  sock: net.Socket;
  onError(f: (e: Error) => void): void;
}

/**
 * Starts the monitor process up to the point where it waits for SPAWN: the part of a start that needs
 * nothing of the child, so an exec can have it done ahead (containers/exec's warm monitor).
 */
export async function launchMonitor(opts: StartMonitorOptions): Promise<LaunchedMonitor> {
  const paths = { ...monitorPaths(opts.dir), ...opts.paths };
  for (const k of ['log', 'exit', 'attach'] as const) paths[k] = path.resolve(paths[k]);
  const args = ['monitor', '--log', paths.log, '--exit', paths.exit, '--attach', paths.attach];
  if (opts.tty) args.push('--tty');
  if (opts.stdin === false) args.push('--no-stdin');
  if (opts.syncExit === false) args.push('--no-sync');
  if (opts.logMaxSize) args.push('--log-max-size', String(opts.logMaxSize));
  if (opts.logMaxFiles) args.push('--log-max-files', String(opts.logMaxFiles));
  const { pid, sock, sockets, onError } = await launch(args, opts);
  let gone = false;
  sock.once('close', () => { gone = true; });
  // one that waits ahead has no user yet to see an error: 'close' follows, and `gone` tells
  for (const s of [sock, ...sockets]) s?.on('error', () => {});
  return {
    pid, paths, sockets, sock, onError,
    get gone() { return gone || sock.destroyed; },
    ref(on) { for (const s of [sock, ...sockets]) { if (on) s?.ref(); else s?.unref(); } },
    discard() { sock.destroy(); for (const s of sockets) s?.destroy(); },
  };
}

export async function startMonitor(opts: StartMonitorOptions): Promise<Monitor> {
  return spawnIn(await launchMonitor(opts), opts);
}

/**
 * Asks a launched monitor to start the child (opts.argv, env, beforeSpawn) and follows it until the exit;
 * the rest of `opts` must be the launch's.
 */
export async function spawnIn(l: LaunchedMonitor, opts: StartMonitorOptions): Promise<Monitor> {
  const { pid: monitorPid, sock, sockets, onError, paths } = l;
  const fds = opts.fds ?? [];
  if (l.gone) { l.discard(); throw new BerthError('Unavailable', `monitor ${monitorPid} ended before its start`); }
  l.ref(true);
  const reader = new FrameReader(false);
  let onMessage: (m: { type: number; payload: Buffer }) => void = () => {};
  let onEnd: (err?: Error) => void = () => {};
  let closedByUs = false;
  sock.on('data', (d: Buffer) => { for (const m of reader.push(d)) onMessage(m); });
  sock.on('close', () => onEnd());
  sock.on('error', () => { /* 'close' follows */ });
  onError((e) => onEnd(e));

  try { opts.beforeSpawn?.(sockets); } catch (e) { sock.destroy(); for (const s of sockets) s?.destroy(); throw e; }
  const childPid = await waitOn('monitor spawn', new Promise<number>((resolve, reject) => {
    const t = setTimeout(() => { try { process.kill(monitorPid, 'SIGKILL'); } catch { /* gone */ } reject(new BerthError('Unavailable', `monitor: no answer to SPAWN after ${opts.timeoutMs ?? 30_000} ms`)); }, opts.timeoutMs ?? 30_000);
    onMessage = (m) => {
      clearTimeout(t);
      if (m.type === MON.SPAWNED) resolve(m.payload.readUInt32LE(0));
      else reject(m.type === MON.ERROR ? monitorError(m.payload) : new BerthError('Internal', `monitor: unexpected message ${m.type}`));
    };
    onEnd = (e) => { clearTimeout(t); reject(new BerthError('Internal', `start berth-helper monitor (${HELPER_PATH}): ${e?.message ?? 'ended without an answer'}`, { cause: e })); };
    sock.write(controlMessage(MON.SPAWN, encodeSpawn(opts.argv, opts.env ?? Object.entries(process.env).map(([k, v]) => `${k}=${v}`), fds.length, !!opts.helperInProcess)));
  })).catch((e) => { sock.destroy(); for (const s of sockets) s?.destroy(); throw e; });

  const exited = new Promise<ExitStatus>((resolve, reject) => {
    const fromFile = async (fallback?: ExitStatus) => {
      const st = await readExitFile(paths.exit).catch(() => undefined);
      if (st ?? fallback) resolve((st ?? fallback)!);
      else reject(new BerthError('Internal', `monitor ${monitorPid} ended without writing ${paths.exit}`));
    };
    onMessage = (m) => {
      if (m.type !== MON.EXITED) return;
      const signal = m.payload.readInt32LE(4);
      const st = { exitCode: m.payload.readInt32LE(0), signal: signal || null, finishedAt: isoTime() };
      // a container's file has the monitor's own finishedAt; an exec's status is all in the message
      closedByUs = true; // the status is in: the socket's end below needs no file
      if (opts.syncExit === false) resolve(st); else void fromFile(st);
      sock.destroy();
    };
    onEnd = () => { if (!closedByUs) void fromFile(); };
  });
  exited.catch(() => { /* callers that await it see the error; nobody else must crash on it */ });

  return {
    monitorPid,
    childPid,
    paths,
    sockets,
    containerPid(pid: number) {
      const p = Buffer.alloc(4);
      p.writeUInt32LE(pid, 0);
      if (!sock.destroyed) sock.write(controlMessage(MON.CONTAINER, p));
    },
    exited,
    close() { closedByUs = true; sock.destroy(); },
    abort() {
      closedByUs = true;
      for (const pid of [childPid, monitorPid]) { try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ } }
      sock.destroy();
      for (const s of sockets) s?.destroy();
    },
  };
}
