// snapshots/decompress: gzip, zstd or plain, told apart by magic bytes (as containerd's compression.DecompressStream).
// gzip goes through igzip (Intel ISA-L) where it is installed, as containerd hands it to unpigz: on a 200 MB
// layer igzip -dc took ~0.25 s where Node's zlib took ~0.45 s, and it runs in a process of its own, beside
// the thread that hashes the tar and writes its files. BERTH_DISABLE_IGZIP=1 keeps it to Node's zlib.
// In berthd it is started through the spawner (unpack-worker passes a StartTool), never as the daemon's child.
import { spawn } from 'node:child_process';
import type { Socket } from 'node:net';
import { pipeline, Readable, type Writable } from 'node:stream';
import { Decompress as Zstd } from 'fzstd';
import { BerthError } from '../errors.js';
import { findOnPath } from '../util/fs.js';

export type Compression = 'gzip' | 'zstd' | 'none';

export function detect(head: Uint8Array): Compression {
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  return 'none';
}

/**
 * igzip on PATH, looked up at each call (once per layer: a few stat calls); undefined where it is absent or
 * BERTH_DISABLE_IGZIP is set. Not kept: a small layer unpacks on the daemon's thread (unpack-worker), and
 * every layer's worker looked it up anew, so PATH and the variable as they are now decide, as before.
 */
export function igzip(): string | undefined {
  return /^(1|true|yes)$/i.test(process.env.BERTH_DISABLE_IGZIP ?? '') ? undefined : findOnPath('igzip') ?? undefined;
}

export interface DecompressOptions {
  /** the gzip decompressor: an igzip-compatible program (`-d -c`, stdin to stdout), or null for Node's zlib (default: igzip()) */
  gunzip?: string | null;
  /** how it is started (default: spawnTool, a child of this process) */
  start?: StartTool;
}

export async function* decompress(src: AsyncIterable<Uint8Array>, o: DecompressOptions = {}): AsyncGenerator<Buffer> {
  const it = src[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let headLen = 0;
  let ended = false;
  while (headLen < 4) {
    const r = await it.next();
    if (r.done) { ended = true; break; }
    head.push(Buffer.from(r.value.buffer, r.value.byteOffset, r.value.length));
    headLen += r.value.length;
  }
  const first = Buffer.concat(head);
  async function* rest(): AsyncGenerator<Buffer> {
    if (first.length) yield first;
    if (ended) return;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield Buffer.from(r.value.buffer, r.value.byteOffset, r.value.length);
    }
  }
  const kind = detect(first);
  if (kind === 'none') { yield* rest(); return; }
  if (kind === 'gzip') {
    const tool = o.gunzip === undefined ? igzip() : o.gunzip ?? undefined;
    if (tool) { yield* external(tool, rest(), o.start ?? spawnTool); return; }
    const { createGunzip } = await import('node:zlib'); // at the first gzip layer, not at berthd's start (issue 13)
    const gz = createGunzip({ chunkSize: 256 << 10 });
    pipeline(Readable.from(rest(), { objectMode: false }), gz, () => { /* errors surface through gz */ });
    try {
      for await (const c of gz) yield c as Buffer;
    } catch (e) {
      // zlib's own errors (Z_DATA_ERROR, Z_BUF_ERROR: "incorrect data check", "unexpected end of file") are the blob's
      const code = (e as { code?: string }).code;
      if (code?.startsWith('Z_')) throw new BerthError('InvalidArgument', `gzip: invalid compressed data (${(e as Error).message})`, { cause: e });
      throw e;
    }
    return;
  }
  let out: Buffer[] = [];
  const z = new Zstd((chunk) => { out.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length)); });
  try {
    for await (const c of rest()) {
      z.push(c);
      if (out.length) { const o = out; out = []; yield* o; }
    }
    z.push(new Uint8Array(0), true);
  } catch (e) {
    throw new BerthError('InvalidArgument', `zstd: ${(e as Error).message}`, { cause: e });
  }
  yield* out;
}

/** A started decompressor: its stdin and stdout, its stderr text so far, and how it ended. */
export interface ToolProcess {
  stdin: Writable;
  stdout: Readable;
  stderr(): string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; err?: Error }>;
  /** ends it now (a consumer that stopped early) */
  kill(): void;
}

/** Starts `argv` with pipes for stdin, stdout and stderr: a child of this process (a fork of it: see useSpawner). */
export type StartTool = (argv: string[]) => Promise<ToolProcess>;

/** stderr kept of a tool: its first part, and the last line (the exit status the wrapper below appends). */
const STDERR_MAX = 4096;

export const spawnTool: StartTool = async (argv) => {
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; err?: Error }>((resolve) => {
    child.on('error', (err) => resolve({ code: null, signal: null, err }));
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => { if (stderr.length < STDERR_MAX) stderr += d; });
  return {
    stdin: child.stdin, stdout: child.stdout, stderr: () => stderr, exited,
    kill: () => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); },
  };
};

/**
 * `tool -d -c` run by /bin/sh with its stdin, stdout and stderr on fds 3, 4 and 5 (what the spawner hands
 * a program), the shell's own copies closed, and its exit status as the last line on fd 5: the spawner
 * reaps what it starts, so a status is only known this way. (Its stdin is named as fd 3: a job started
 * with & gets /dev/null as fd 0 before its own redirections are made.) A SIGTERM to the shell kills the tool.
 */
export function wrappedArgv(argv: string[]): string[] {
  return ['/bin/sh', '-c', `trap 'kill -9 $! 2>/dev/null; exit 143' TERM; exec >&4 2>&5 4>&- 5>&-; "$@" <&3 3<&- & exec 3<&- >&-; wait $!; echo "berth-exit $?" >&2`, 'sh', ...argv];
}

/** A ToolProcess over the sockets of a program started as wrappedArgv says, pid its shell's. */
export function wrappedTool(pid: number, stdin: Socket, stdout: Socket, status: Socket): ToolProcess {
  let head = '';
  let tail = '';
  status.setEncoding('utf8').on('data', (d: string) => {
    if (head.length < STDERR_MAX) head += d.slice(0, STDERR_MAX - head.length);
    tail = (tail + d).slice(-64);
  });
  status.on('error', () => { /* 'close' follows */ });
  stdout.on('error', () => { /* ended as a short read: the exit status tells why */ });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    status.on('close', () => {
      const m = /berth-exit (\d+)\n?$/.exec(tail);
      resolve(m ? { code: Number(m[1]), signal: null } : { code: null, signal: 'SIGKILL' });
    });
  });
  return {
    stdin, stdout, exited,
    stderr: () => head.replace(/berth-exit \d+\n?$/, ''),
    kill: () => {
      try { process.kill(pid, 'SIGTERM'); } catch { /* gone */ }
      stdin.destroy();
      stdout.destroy();
    },
  };
}

/**
 * src through `tool -d -c`: written to its stdin while its stdout is read. An error of src wins (the blob's
 * own problem is the caller's to tell); then a non-zero exit, with the tool's message, is an invalid layer.
 * A consumer that stops early kills the process.
 */
async function* external(tool: string, src: AsyncIterable<Buffer>, start: StartTool): AsyncGenerator<Buffer> {
  const child = await start([tool, '-d', '-c']);
  const { exited } = child;
  // a tool that exits on bad input closes its stdin: EPIPE here, the exit status tells why
  child.stdin.on('error', () => {});
  const room = () => new Promise<void>((resolve) => {
    const go = () => { child.stdin.off('drain', go).off('close', go); resolve(); };
    child.stdin.on('drain', go).on('close', go);
  });
  let srcErr: { e: unknown } | undefined;
  const failedSrc = () => { if (srcErr) throw srcErr.e; };
  const fed = (async () => {
    try {
      for await (const c of src) {
        if (child.stdin.destroyed) return;
        if (!child.stdin.write(c)) await room();
      }
    } catch (e) {
      srcErr = { e };
      child.kill();
      return;
    }
    child.stdin.end();
  })();
  let finished = false;
  try {
    for await (const c of child.stdout) yield c as Buffer;
    const r = await exited;
    finished = true;
    failedSrc();
    if (r.err) throw new BerthError('Internal', `gzip: ${tool}: ${r.err.message}`, { cause: r.err });
    if (r.code !== 0) {
      const why = child.stderr().trim().split('\n').map((l) => l.replace(/^igzip: /, '').replace(/\s*(for )?(file )?\(null\)/g, '')).join('; ');
      throw new BerthError('InvalidArgument', `gzip: invalid compressed data (${tool} ${r.signal ? `killed by ${r.signal}` : `exit ${r.code}`}${why ? `: ${why}` : ''})`);
    }
    await fed; // igzip read to the end of its input: so did this
    failedSrc();
  } finally {
    if (!finished) child.kill();
  }
}
