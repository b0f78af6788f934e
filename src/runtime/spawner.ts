// runtime/spawner: starts monitors and host-ops helpers through one long-lived `berth-helper spawner` (native/spawner.h), so the
// daemon never forks itself. Node's spawn() forks the whole daemon, copying its page tables, and blocks its
// one thread until the child has exec'd: 25-110 ms per monitor on a busy 2-core host (--cpu-prof of berthd
// over `docker exec`s: ChildProcess.spawn was the largest single cost), and every request waits behind it.
// The spawner is a small static process: its fork is cheap and nothing of ours waits for it.
//
//   spawner                        berth (Node)
//                        <--       REQUEST{u8[16] token, u32 nsock (| SELF), u32 argc, argc NUL-ended strings}
//                                  SELF: start the spawner's sealed memfd copy of berth-helper with argv
//   (nsock connections to our socket, each: token, u8 index)
//   STARTED{u8[16] token, i32 pid, i32 errno} -->
import { spawn, type ChildProcess } from 'node:child_process';
import * as net from 'node:net';
import { BerthError } from '../errors.js';
import { getSystemErrorMap } from 'node:util';
import { waitOn } from '../util/trace.js';

// Web Crypto's global, not node:crypto: loading that module costs every cold `berth runtime` ~15 ms of CPU
// (issue 13), and only the daemon's spawner needs random bytes.
const randomBytes = (n: number): Buffer => Buffer.from(globalThis.crypto.getRandomValues(new Uint8Array(n)));

// Tokens come from a pool filled 64 at a time: getRandomValues costs ~0.3 ms a call in berthd's
// profile (two spawns per container start), and a token needs only to be unguessable, not fresh.
let pool: Buffer = Buffer.alloc(0);
function token(): Buffer {
  if (pool.length < TOKEN) pool = randomBytes(64 * TOKEN);
  const t = pool.subarray(0, TOKEN);
  pool = pool.subarray(TOKEN);
  return t;
}

export const SPAWNER = { REQUEST: 1, STARTED: 2 } as const;
const TOKEN = 16;
/** native/spawner.h's SPAWNER_MAX_SOCKS */
export const SPAWNER_MAX_SOCKS = 8;
/** native/spawner.h's SPAWNER_SELF, or-ed into nsock */
export const SPAWNER_SELF = 0x80000000;
/** native/spawner.h's SPAWNER_ADDR, or-ed into nsock: argv[0] is the address the sockets connect to */
export const SPAWNER_ADDR = 0x40000000;

export interface Spawned {
  pid: number;
  /** our ends of the program's fds 3, 4, … */
  sockets: net.Socket[];
}

interface Pending {
  sockets: (net.Socket | undefined)[];
  pid?: number;
  resolve(s: Spawned): void;
  reject(e: Error): void;
}

function frame(type: number, payload: Buffer): Buffer {
  const hdr = Buffer.alloc(8);
  hdr.writeUInt32LE(type, 0);
  hdr.writeUInt32LE(payload.length, 4);
  return Buffer.concat([hdr, payload]);
}

/**
 * A socket the spawner connected for a program: its first 17 bytes are the request's token and the index of
 * the fd it becomes; `take` gets them (the token in hex). Silent for 10 s: dropped.
 */
export function readHello(s: net.Socket, take: (key: string, index: number) => void): void {
  s.on('error', () => { /* its user sees 'close' */ });
  const timer = setTimeout(() => s.destroy(), 10_000);
  timer.unref();
  const onReadable = () => {
    const hello = s.read(TOKEN + 1) as Buffer | null;
    if (!hello) return;
    s.off('readable', onReadable);
    clearTimeout(timer);
    take(hello.subarray(0, TOKEN).toString('hex'), hello[TOKEN]!);
  };
  s.on('readable', onReadable);
}

export function encodeRequest(token: Buffer, nsock: number, argv: string[], self = false, to?: string): Buffer {
  const head = Buffer.alloc(TOKEN + 8);
  token.copy(head, 0, 0, TOKEN);
  if (to !== undefined) argv = [to, ...argv];
  head.writeUInt32LE((nsock | (self ? SPAWNER_SELF : 0) | (to !== undefined ? SPAWNER_ADDR : 0)) >>> 0, TOKEN);
  head.writeUInt32LE(argv.length, TOKEN + 4);
  for (const s of argv) if (s.includes('\0')) throw new TypeError(`NUL byte in ${JSON.stringify(s)}`);
  return frame(SPAWNER.REQUEST, Buffer.concat([head, ...argv.map((s) => Buffer.from(s + '\0'))]));
}

class Spawner {
  private readonly pending = new Map<string, Pending>();
  private readonly proc: ChildProcess;
  private readonly channel: net.Socket;
  private dead?: Error;

  /** `ready` settles once our socket listens; `helper` is berth-helper's path. */
  static async start(helper: string): Promise<Spawner> {
    // abstract: nothing on disk to clean up after a kill -9; the token keeps strangers out
    const address = `\0berth-spawner-${process.pid}-${randomBytes(8).toString('hex')}`;
    const server = net.createServer({ pauseOnConnect: false });
    await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(address, () => { server.off('error', reject); resolve(); }); });
    server.unref();
    return new Spawner(helper, address, server);
  }

  private constructor(helper: string, address: string, private readonly server: net.Server) {
    this.proc = spawn(helper, ['spawner', `@${address.slice(1)}`], { stdio: ['ignore', 'ignore', 'inherit', 'pipe'] });
    this.channel = this.proc.stdio[3] as net.Socket;
    this.proc.unref();
    this.channel.unref();
    let buf: Buffer = Buffer.alloc(0);
    this.channel.on('data', (d: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, d]) : d;
      while (buf.length >= 8 && buf.length >= 8 + buf.readUInt32LE(4)) {
        const len = buf.readUInt32LE(4);
        this.onStarted(buf.readUInt32LE(0), buf.subarray(8, 8 + len));
        buf = buf.subarray(8 + len);
      }
    });
    this.channel.on('error', () => { /* 'close' follows */ });
    this.channel.on('close', () => this.fail(new BerthError('Internal', 'berth-helper spawner ended')));
    this.proc.on('error', (e) => this.fail(e));
    server.on('connection', (s) => this.onConnection(s));
  }

  get usable(): boolean { return !this.dead; }

  /** `to.address`: the sockets connect there (with to.token) instead of to us; Spawned.sockets is then empty. */
  spawn(argv: string[], nsock: number, self = false, to?: { address: string; token: Buffer }): Promise<Spawned> {
    if (this.dead) return Promise.reject(this.dead);
    if (nsock > SPAWNER_MAX_SOCKS) return Promise.reject(new TypeError(`spawner: at most ${SPAWNER_MAX_SOCKS} sockets`));
    const tok = to?.token ?? token();
    return new Promise<Spawned>((resolve, reject) => {
      this.pending.set(tok.toString('hex'), { sockets: new Array<net.Socket | undefined>(to ? 0 : nsock).fill(undefined), resolve, reject });
      this.channel.ref(); // an answer is due: it keeps the event loop alive, as a child being spawned would
      this.channel.write(encodeRequest(tok, nsock, argv, self, to && `@${to.address.slice(1)}`));
    });
  }

  /** A connection from the spawner: its first 17 bytes name the request and the fd it is for. */
  private onConnection(s: net.Socket): void {
    readHello(s, (key, i) => {
      const p = this.pending.get(key);
      if (!p || i >= p.sockets.length || p.sockets[i]) { s.destroy(); return; }
      p.sockets[i] = s;
      this.settle(key, p);
    });
  }

  private onStarted(type: number, payload: Buffer): void {
    if (type !== SPAWNER.STARTED || payload.length < TOKEN + 8) return;
    const key = payload.subarray(0, TOKEN).toString('hex');
    const p = this.pending.get(key);
    if (!p) return;
    const pid = payload.readInt32LE(TOKEN), errno = payload.readInt32LE(TOKEN + 4);
    if (pid <= 0) {
      this.pending.delete(key);
      if (!this.pending.size) this.channel.unref();
      for (const s of p.sockets) s?.destroy();
      p.reject(new BerthError('Internal', `spawner: start ${getSystemErrorMap().get(-errno)?.[1] ?? `errno ${errno}`}`));
      return;
    }
    p.pid = pid;
    this.settle(key, p);
  }

  /** Resolves once the pid and every connection are in: they come in either order. */
  private settle(key: string, p: Pending): void {
    if (p.pid === undefined || p.sockets.some((s) => !s)) return;
    this.pending.delete(key);
    if (!this.pending.size) this.channel.unref();
    p.resolve({ pid: p.pid, sockets: p.sockets as net.Socket[] });
  }

  private fail(e: Error): void {
    if (this.dead) return;
    this.dead = e;
    this.server.close();
    for (const [key, p] of this.pending) {
      this.pending.delete(key);
      for (const s of p.sockets) s?.destroy();
      p.reject(e);
    }
  }
}

let current: Promise<Spawner> | undefined;
let wanted = false;

/**
 * Whether this process has a spawner already, or may start one (useSpawner): one-shot processes (the CLI)
 * never start one for host ops.
 */
export function haveSpawner(): boolean { return wanted || current !== undefined; }

/**
 * This process (berthd) starts its helpers and tools through a spawner, the first time one is needed, even
 * before any container started one: a pull's helper runs (syncfs, mknods) and its gunzip each forked the
 * daemon, and after a fork every page of the daemon it writes takes a copy-on-write fault (~15 us each on
 * this PVM guest: ~0.2-0.5 s of CPU per fork of a 100 MB daemon, issue 13).
 */
export function useSpawner(): void { wanted = true; }

/**
 * Starts argv[0] (a path) with /dev/null as fds 0-2 and `nsock` new sockets as fds 3, 4, …, through this
 * process's spawner (started at first use, again after it died). Undefined when no spawner can run here
 * (an older helper, no abstract sockets): the caller spawns itself.
 */
/** `self`: argv is berth-helper's own, run from the spawner's sealed copy of it (see SPAWNER_SELF). */
export async function spawnThroughSpawner(helper: string, argv: string[], nsock: number, self = false, to?: { address: string; token: Buffer }): Promise<Spawned | undefined> {
  let s: Spawner;
  try {
    const got = await (current ??= Spawner.start(helper));
    if (!got.usable) { current = undefined; return undefined; }
    s = got;
  } catch {
    current = undefined;
    return undefined;
  }
  return waitOn('spawner', s.spawn(argv, nsock, self, to)).catch((e: Error) => {
    if (s.usable) throw e; // the program could not start: the caller's error
    current = undefined;
    return undefined; // the spawner died: spawn directly this time, start a new one next time
  });
}
