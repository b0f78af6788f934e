// runtime/sync: starts berth-helper, sends the plan and follows the sync protocol.
//
//   helper                         berth (Node)
//                        <--       PLAN{records}
//   CHILD_PID{u32 pid}   -->       (maps written, cgroup joined, createRuntime hooks run)
//                        <--       GO
//   HOOK{u32 point}      -->       (createContainer hooks run in the container's namespaces)
//                        <--       GO
//   READY                -->       (create returns; the process waits on exec.fifo until start)
//   DONE                 -->       (ops mode: every op ran)
//   ERROR{i32 errno, i32 op index, str msg} --> then the helper exits non-zero
// Every message has a reply or ends the exchange; timeouts live here.
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import type { Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { getSystemErrorMap } from 'node:util';
import { BerthError, type ErrorKind } from '../errors.js';
import { parseSignal } from './linux.js';
import { encodePlan, type Op } from './plan/encode.js';
import { MSG } from './plan/tags.js';
import { haveSpawner, spawnThroughSpawner } from './spawner.js';
import { PlanServer } from './plan-server.js';
import { waitOn } from '../util/trace.js';

export const HELPER_PATH = process.env.BERTH_HELPER ?? fileURLToPath(new URL('../../../native/build/berth-helper', import.meta.url));

export interface Message { type: number; payload: Buffer }

export function errnoName(errno: number): string {
  return getSystemErrorMap().get(-errno)?.[0] ?? `errno ${errno}`;
}
export function errnoMessage(errno: number): string {
  const e = getSystemErrorMap().get(-errno);
  return e ? e[1] : `errno ${errno}`;
}

function kindOf(errno: number): ErrorKind {
  const name = errnoName(errno);
  if (name === 'EPERM' || name === 'EACCES') return 'PermissionDenied';
  if (name === 'ENOENT') return 'NotFound';
  if (name === 'EINVAL') return 'InvalidArgument';
  return 'Internal';
}

/** Where the helper process came from: spawned here, or by someone else (the monitor) with its sync socket handed over. */
export interface HelperProcess {
  pid: number;
  socket: Socket;
  exited: Promise<number>;
  kill(sig: NodeJS.Signals): void;
  error?: () => Error | undefined;
  /** a helper that must not keep the daemon's event loop alive (the net server) */
  unref?: () => void;
}

export function spawnHelper(mode: 'init' | 'ops' | 'net', stdio: StdioOptions = ['ignore', 'inherit', 'inherit']): HelperProcess {
  const base = Array.isArray(stdio) ? [...stdio] : [stdio, stdio, stdio];
  base[3] = 'pipe'; // the sync socket; callers put extra fds (a console socket) at 4 and up
  const child: ChildProcess = spawn(HELPER_PATH, [mode], { stdio: base as StdioOptions });
  let error: Error | undefined;
  const exited = new Promise<number>((resolve) => {
    child.on('exit', (code, sig) => resolve(code ?? 128 + (sig ? osSignal(sig) : 0)));
    child.on('error', (e) => { error = e; resolve(-1); });
  });
  return { pid: child.pid ?? 0, socket: child.stdio[3] as Socket, exited, kill: (sig) => { child.kill(sig); }, error: () => error, unref: () => { child.unref(); (child.stdio[3] as Socket).unref(); } };
}

/** A helper someone else started (a monitor, the spawner): its sync socket closing is all we see of its end. */
export function socketOnlyHelper(pid: number, socket: Socket): HelperProcess {
  const exited = new Promise<number>((resolve) => { if (socket.destroyed) resolve(0); else socket.once('close', () => resolve(0)); });
  return { pid, socket, exited, kill: (sig) => { if (pid > 0) try { process.kill(pid, sig); } catch { /* gone */ } } }; // 0: not known yet, and kill(0) is our own group
}

export class HelperSession {
  private readonly sock: Socket;
  private buf: Buffer = Buffer.alloc(0);
  private queue: Message[] = [];
  private waiter?: (m: Message | undefined) => void;
  private ended = false;
  readonly exited: Promise<number>;
  readonly pid: number;

  /** ops: the plan being run, for error messages (the net server takes one plan after another) */
  constructor(public ops: Op[], private readonly proc: HelperProcess) {
    this.pid = proc.pid;
    this.exited = proc.exited;
    this.sock = proc.socket;
    this.sock.on('data', (d: Buffer) => this.onData(d));
    this.sock.on('close', () => { this.ended = true; this.flush(); });
    this.sock.on('error', () => { this.ended = true; this.flush(); });
  }

  static spawn(mode: 'init' | 'ops', ops: Op[], stdio?: StdioOptions): HelperSession {
    return new HelperSession(ops, spawnHelper(mode, stdio));
  }

  kill(sig: NodeJS.Signals): void { this.proc.kill(sig); }
  get error(): Error | undefined { return this.proc.error?.(); }


  sendPlan(): void { this.send(MSG.PLAN, encodePlan(this.ops)); }

  send(type: number, payload: Buffer = Buffer.alloc(0)): void {
    const hdr = Buffer.alloc(8);
    hdr.writeUInt32LE(type, 0);
    hdr.writeUInt32LE(payload.length, 4);
    this.sock.write(Buffer.concat([hdr, payload]));
  }

  private onData(d: Buffer): void {
    this.buf = this.buf.length ? Buffer.concat([this.buf, d]) : d;
    while (this.buf.length >= 8) {
      const len = this.buf.readUInt32LE(4);
      if (this.buf.length < 8 + len) break;
      this.queue.push({ type: this.buf.readUInt32LE(0), payload: this.buf.subarray(8, 8 + len) });
      this.buf = this.buf.subarray(8 + len);
    }
    this.flush();
  }

  private flush(): void {
    if (!this.waiter) return;
    const m = this.queue.shift();
    if (m || this.ended) { const w = this.waiter; this.waiter = undefined; w(m); }
  }

  /** Next message; ERROR and a closed socket become thrown errors. `what` names the step for messages. */
  async expect(type: number, what: string, timeoutMs = 30_000): Promise<Buffer> {
    const m = await waitOn(`helper ${what}`, new Promise<Message | undefined>((resolve, reject) => {
      const t = setTimeout(() => { this.waiter = undefined; reject(new BerthError('Unavailable', `${what}: no answer from berth-helper after ${timeoutMs} ms`)); }, timeoutMs);
      this.waiter = (msg) => { clearTimeout(t); resolve(msg); };
      this.flush();
    }));
    if (!m) {
      const code = await Promise.race([this.exited, new Promise<number>((r) => setTimeout(() => r(-1), 2000))]);
      if (this.error) throw new BerthError('Internal', `start berth-helper (${HELPER_PATH}): ${this.error.message}`, { cause: this.error });
      throw new BerthError('Internal', `${what}: berth-helper ended without an answer (exit ${code})`);
    }
    if (m.type === MSG.ERROR) throw this.helperError(m.payload);
    if (m.type !== type) throw new BerthError('Internal', `${what}: unexpected message ${m.type} from berth-helper`);
    return m.payload;
  }

  /** An ERROR record -> a message naming the spec field whose op failed. */
  helperError(p: Buffer): BerthError {
    const errno = p.readInt32LE(0);
    const idx = p.readInt32LE(4);
    const msg = p.subarray(8, p.indexOf(0, 8) < 0 ? p.length : p.indexOf(0, 8)).toString('utf8');
    const from = idx >= 0 ? this.ops[idx]?.from : undefined;
    const text = `${from ? `${from}: ` : ''}${msg}: ${errnoMessage(errno)}`;
    const e = new BerthError(kindOf(errno), text);
    (e as BerthError & { errno?: number }).errno = errno;
    return e;
  }

  close(): void { this.sock.destroy(); }
}

// the runtime's own signal table, not node:os's: a module less at every cold `berth runtime` start (issue 13)
function osSignal(sig: NodeJS.Signals): number {
  return parseSignal(sig) ?? 0;
}

/**
 * berthd's host-ops server (runtime/plan-server), started through the spawner at first use: a rootfs
 * mount or unmount costs a fork of it and one round trip, not a helper spawned, connected and reaped.
 */
let hostOpsServer: PlanServer | undefined;

/** Runs host-side ops (mount, umount, mknod, setxattr, lchown) in one helper process. */
export async function runHostOps(ops: Op[]): Promise<void> {
  // in berthd: in a fork of its host-ops server when that is free; while it runs another plan (a layer's
  // syncfs, other starts' mounts) the ops get a helper of their own, so none waits behind another
  if (haveSpawner()) {
    hostOpsServer ??= new PlanServer('host ops', async () => {
      const got = await spawnThroughSpawner(HELPER_PATH, [HELPER_PATH, 'net'], 1);
      if (!got) throw new Error('no spawner');
      got.sockets[0]!.unref(); // a plan's wait keeps the event loop alive, the idle server does not
      return socketOnlyHelper(got.pid, got.sockets[0]!);
    });
    if (hostOpsServer.idle) {
      try {
        return await hostOpsServer.run(ops);
      } catch (e) {
        if (!(e as { serverStart?: boolean }).serverStart) throw e;
        // it could not start: a helper of their own, as below
      }
    }
  }
  // in berthd, through its spawner (no fork of the daemon: see spawner.ts); its answers carry any error
  const viaSpawner = haveSpawner() ? await spawnThroughSpawner(HELPER_PATH, [HELPER_PATH, 'ops'], 1).catch(() => undefined) : undefined;
  const s = viaSpawner
    ? new HelperSession(ops, socketOnlyHelper(viaSpawner.pid, viaSpawner.sockets[0]!))
    : HelperSession.spawn('ops', ops, ['ignore', 'ignore', 'inherit']);
  try {
    s.sendPlan();
    await s.expect(MSG.DONE, 'host ops');
  } finally {
    s.close();
  }
  await waitOn('helper host ops', s.exited);
}
