// runtime/pipe-channel: berth-helper's sync exchange over two pipes, for a one-shot CLI process
// (`berth runtime run|create|exec`), in place of the socketpair that spawn() wraps in a net.Socket.
// That socket's stream code, compiled and run at first use, was ~24 M of the ~154 M instructions of a
// cold `berth runtime run` (valgrind; `node -e ""` is ~85 M). Pipes read with fs.read and written with
// fs.writeSync need none of it. Node makes no pipes of its own, so the helper does (native/sync.h,
// `init --pipes`): spawnSync starts it, it forks the helper that does the work and answers with that
// process's pid and fd numbers, and we open our ends through /proc/PID/fd. That helper is not our child:
// its exit status comes as an EXITED message. Not for the daemon: spawnSync blocks its event loop.
// Measured (valgrind, node process of `berth runtime run` on the busybox bundle, 9 interleaved pairs):
// median 155.3 M instructions with the socket, 141.4 M with the pipes; `node -e ""` ~84 M.
import { spawnSync, type StdioOptions } from 'node:child_process';
import * as fs from 'node:fs';
import { BerthError } from '../errors.js';
import { MSG } from './plan/tags.js';

/**
 * The part of a net.Socket that HelperSession uses, over a read fd and a write fd. Reads happen when
 * asked: blocking ones while a verb waits for the helper's next message (readSync), and one loop of
 * thread-pool reads for the wait on the process's end (readAsync), when this process must stay free to
 * forward signals. No read is left pending otherwise: Node joins its thread pool at exit, and a read on
 * a pipe whose writer lives on (a created container waiting for `start`) would hold the exit forever.
 */
export class PipeChannel {
  destroyed = false;
  private readonly listeners: { data: Array<(d: Buffer) => void>; close: Array<() => void>; error: Array<(e: Error) => void> } = { data: [], close: [], error: [] };
  private pending = false;
  private eof = false;
  private closed = false;

  constructor(private readonly rfd: number, private readonly wfd: number) {}

  on(event: 'data', f: (d: Buffer) => void): this;
  on(event: 'close', f: () => void): this;
  on(event: 'error', f: (e: Error) => void): this;
  on(event: 'data' | 'close' | 'error', f: (x: never) => void): this {
    (this.listeners[event] as unknown[]).push(f);
    return this;
  }

  /** Blocking, whole: a message is small and the helper reads as we write. */
  write(b: Buffer): boolean {
    if (this.destroyed) return false;
    try {
      for (let off = 0; off < b.length;) off += fs.writeSync(this.wfd, b, off);
    } catch (e) {
      for (const f of this.listeners.error) f(e as Error);
      return false;
    }
    return true;
  }

  /** One blocking read, its bytes to the 'data' listeners; 'close' at the end of the pipe. */
  readSync(): void {
    if (this.eof || this.pending || this.destroyed) return;
    const buf = Buffer.allocUnsafe(4096);
    let n: number;
    try {
      n = fs.readSync(this.rfd, buf, 0, buf.length, null);
    } catch (e) {
      for (const f of this.listeners.error) f(e as Error);
      n = 0;
    }
    this.got(buf, n);
  }

  /** Reads in the thread pool until the end of the pipe (the helper exits after EXITED). */
  readAsync(): void {
    if (this.eof || this.pending || this.destroyed) return;
    this.pending = true;
    const buf = Buffer.allocUnsafe(4096);
    fs.read(this.rfd, buf, 0, buf.length, null, (err, n) => {
      this.pending = false;
      if (err) for (const f of this.listeners.error) f(err);
      if (this.destroyed) { fs.close(this.rfd, () => undefined); return; }
      this.got(buf, err ? 0 : n);
      this.readAsync();
    });
  }

  private got(buf: Buffer, n: number): void {
    if (n > 0) { for (const f of this.listeners.data) f(buf.subarray(0, n)); return; }
    this.eof = true;
    this.destroy();
  }

  /** The read end closes when a pending read returns. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    fs.closeSync(this.wfd);
    if (!this.pending) fs.closeSync(this.rfd);
    queueMicrotask(() => {
      if (this.closed) return;
      this.closed = true;
      for (const f of this.listeners.close) f();
    });
  }
}

export interface PipedHelper {
  pid: number;
  channel: PipeChannel;
}

/** Starts `helper init --pipes` (stdio: the process's fds 0-2) and opens our ends of its pipes. */
export function spawnPiped(helper: string, stdio: StdioOptions): PipedHelper {
  const io = (Array.isArray(stdio) ? stdio.slice(0, 3) : [stdio, stdio, stdio]) as unknown[];
  const r = spawnSync(helper, ['init', '--pipes'], { stdio: [...io, 'pipe'] as StdioOptions });
  if (r.error) throw new BerthError('Internal', `start berth-helper (${helper}): ${r.error.message}`, { cause: r.error });
  const out = r.output[3] as Buffer | null;
  const type = out && out.length >= 8 ? out.readUInt32LE(0) : 0;
  if (type === MSG.ERROR && out!.length >= 16) {
    const p = out!.subarray(8, 8 + out!.readUInt32LE(4));
    const msg = p.subarray(8, p.indexOf(0, 8) < 0 ? p.length : p.indexOf(0, 8)).toString('utf8');
    throw new BerthError('Internal', `start berth-helper: ${msg} (errno ${p.readInt32LE(0)})`);
  }
  if (type !== MSG.PIPES || out!.length < 20) throw new BerthError('Internal', `start berth-helper: no answer (exit ${r.status ?? r.signal})`);
  const pid = out!.readUInt32LE(8);
  // the helper holds these ends until it has read our first message: the opens do not block
  const wfd = fs.openSync(`/proc/${pid}/fd/${out!.readUInt32LE(12)}`, fs.constants.O_WRONLY);
  let rfd: number;
  try {
    rfd = fs.openSync(`/proc/${pid}/fd/${out!.readUInt32LE(16)}`, fs.constants.O_RDONLY);
  } catch (e) {
    fs.closeSync(wfd);
    throw e;
  }
  return { pid, channel: new PipeChannel(rfd, wfd) };
}
