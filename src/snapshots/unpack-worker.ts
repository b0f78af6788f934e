// snapshots/unpack-worker: a layer's decompression, diffID hash, tar parsing and file writes on a worker
// thread (a blob over 4 MB; a smaller one on the calling thread, SMALL). The daemon's loop keeps serving requests, and a pull's download (with the blob's own hash and
// write) runs beside the unpack on the other core, as curl | gunzip | tar does. The helper's mknod and
// setxattr run (finishLayer) stays on the main thread, which owns child processes.
// Loaded only through import(): it starts workers from its own file (import.meta.url), which must stay
// a module of its own in the esbuild bundle.
import * as net from 'node:net';
import { isMainThread, parentPort, threadId, Worker, workerData } from 'node:worker_threads';
import { BerthError, isBerthError, type ErrorKind } from '../errors.js';
import type { Op } from '../runtime/plan/encode.js';
import { haveSpawner, readHello, spawnThroughSpawner } from '../runtime/spawner.js';
import { HELPER_PATH } from '../runtime/sync.js';
import { decompress, detect, spawnTool, wrappedArgv, wrappedTool, type StartTool } from './decompress.js';
import { finishLayer, writeLayer, type LayerTail, type UnpackResult } from './unpack.js';
import { processUmask } from '../util/umask.js';

interface Start { berthUnpack: true; dir: string; chown: boolean; umask: number; rawHashed: boolean }
type ToWorker = { chunk: Uint8Array } | { end: true } | { spawned: Spawned };
/** the main thread's answer to a worker's spawn: the program's pid, an error, or no spawner in this process */
type Spawned = { id: number; pid?: number; error?: string };
type FromWorker =
  | { ack: number }
  | { spawn: { id: number; argv: string[]; address: string; token: Uint8Array } }
  | { done: UnpackResult; tail: LayerTail }
  | { error: { kind?: ErrorKind; message: string; code?: string } };

// compressed bytes posted and not yet taken by the worker: enough to keep it busy, little memory
const WINDOW = 4 << 20;
// a layer whose whole blob is this small unpacks on the calling thread (applyLayerInWorker)
const SMALL = 4 << 20;
const BATCH = 512 << 10;

/**
 * Decompresses and unpacks src (a layer blob as it arrives) into dir on a worker thread, then finishes
 * the tree here. Same result and errors as applyLayer(decompress(src), dir). With `rawHashed` the caller
 * hashes src's bytes itself: an uncompressed src is then not hashed twice, and diffId comes back ''
 * (the caller's digest is the diffID).
 */
export async function applyLayerInWorker(input: AsyncIterable<Uint8Array>, dir: string, chown = process.getuid?.() === 0, o: { rawHashed?: boolean } = {}): Promise<UnpackResult> {
  const start: Start = { berthUnpack: true, dir, chown, umask: processUmask(), rawHashed: o.rawHashed ?? false };
  // A blob that ends within its first SMALL bytes unpacks here: a worker's isolate costs more than such a
  // layer's work. Measured (issue 13) on a 2 MB `docker import` (279 entries): berthd's CPU 30-40 ms here
  // against ~90 ms with a worker (median wall 60 vs 114 ms), and idle RSS after it 1.1-1.6 MB lower (node's
  // code for a worker's start, malloc memory its isolate left between live chunks). The loop waits on
  // a chunk's writes at a time (sync syscalls, a few ms), as for a layer berth writes itself (commit).
  const it = input[Symbol.asyncIterator]();
  const head: Uint8Array[] = [];
  let headLen = 0;
  for (;;) {
    const r = await it.next();
    if (r.done) {
      const { result, tail } = await unpackChunks(arrayChunks(head), start);
      await finishLayer(dir, tail);
      return result;
    }
    head.push(r.value);
    headLen += r.value.length;
    if (headLen > SMALL) break;
  }
  // the rest, after what was read ahead, for the worker
  async function* rest(): AsyncGenerator<Uint8Array> {
    let done = false;
    try {
      yield* head.splice(0);
      for (;;) {
        const r = await it.next();
        if (r.done) { done = true; return; }
        yield r.value;
      }
    } finally {
      if (!done) await it.return?.();
    }
  }
  const src = rest();
  const w = new Worker(new URL(import.meta.url), { workerData: start });
  let inflight = 0;
  let wake: (() => void) | undefined;
  let settled: { ok: true; done: UnpackResult; tail: LayerTail } | { ok: false; err: Error } | undefined;
  const finished = new Promise<void>((resolve) => {
    const settle = (s: NonNullable<typeof settled>) => { settled ??= s; wake?.(); resolve(); };
    w.on('message', (m: FromWorker) => {
      if ('ack' in m) { inflight -= m.ack; wake?.(); } else if ('spawn' in m) spawnFor(w, m.spawn);
      else if ('done' in m) settle({ ok: true, done: m.done, tail: m.tail });
      else settle({ ok: false, err: rebuild(m.error) });
    });
    w.on('error', (e) => settle({ ok: false, err: e }));
    w.on('exit', (code) => settle({ ok: false, err: new BerthError('Internal', `layer unpack worker exited (${code})`) }));
  });
  // network chunks are small: one message per BATCH bytes, copied once into a buffer of its own (a chunk
  // may share a pooled buffer or the HTTP parser's) and transferred, not cloned: a second copy cost a
  // load of 200 MB ~0.3 s of the main thread's time
  let batch: Uint8Array[] = [];
  let batchLen = 0;
  const post = () => {
    if (batchLen === 0) return;
    const own = Buffer.allocUnsafeSlow(batchLen);
    let off = 0;
    for (const c of batch) { own.set(c, off); off += c.length; }
    w.postMessage({ chunk: own } satisfies ToWorker, [own.buffer]);
    inflight += batchLen;
    batch = [];
    batchLen = 0;
  };
  try {
    for await (const c of src) {
      if (settled) break; // the worker failed (a bad tar): stop reading, the caller blames the blob if it is bad
      batch.push(c);
      batchLen += c.length;
      if (batchLen < BATCH) continue;
      post();
      while (inflight > WINDOW && !settled) await new Promise<void>((r) => { wake = r; });
    }
    if (!settled) { post(); w.postMessage({ end: true } satisfies ToWorker); }
    await finished;
  } finally {
    await w.terminate();
  }
  const s = settled!;
  if (!s.ok) throw s.err;
  // structured clone turned the ops' Buffers into Uint8Arrays
  const ops: Op[] = s.tail.ops.map((o) => ({ ...o, args: Object.fromEntries(Object.entries(o.args ?? {}).map(([k, v]) => [k, v instanceof Uint8Array ? Buffer.from(v.buffer, v.byteOffset, v.length) : v])) }) as Op);
  await finishLayer(dir, { ...s.tail, ops });
  return s.done;
}

/**
 * A worker's gunzip, started by berthd's spawner with its sockets connected to the worker's own server: a
 * child_process spawn from the worker forked the whole daemon (see spawner.ts, useSpawner). Without a
 * spawner (a test, the CLI) the worker spawns it itself.
 */
function spawnFor(w: Worker, req: { id: number; argv: string[]; address: string; token: Uint8Array }): void {
  const answer = (a: Spawned) => { try { w.postMessage({ spawned: a } satisfies ToWorker); } catch { /* the worker is gone */ } };
  if (!haveSpawner()) { answer({ id: req.id }); return; }
  spawnThroughSpawner(HELPER_PATH, req.argv, 3, false, { address: req.address, token: Buffer.from(req.token) })
    .then((got) => answer({ id: req.id, pid: got?.pid }), (e: Error) => answer({ id: req.id, error: e.message }));
}

/** The main thread's gunzip: through the spawner, as spawnFor, with its sockets ours. */
const mainThreadTool: StartTool = async (argv) => {
  const got = haveSpawner() ? await spawnThroughSpawner(HELPER_PATH, wrappedArgv(argv), 3) : undefined;
  if (!got) return spawnTool(argv);
  const [stdin, stdout, status] = got.sockets as [net.Socket, net.Socket, net.Socket];
  return wrappedTool(got.pid, stdin, stdout, status);
};

/**
 * The worker's side of spawnFor: a server of its own (abstract, a random name) that the spawner connects the
 * program's sockets to, each led by the request's random token and its index.
 */
function workerTool(port: NonNullable<typeof parentPort>): { start: StartTool; answered(a: Spawned): void } {
  let server: Promise<{ address: string; srv: net.Server }> | undefined;
  const waiting = new Map<string, (s: net.Socket, i: number) => void>();
  const replies = new Map<number, (a: Spawned) => void>();
  let seq = 0;
  const listen = () => server ??= new Promise((resolve, reject) => {
    const address = `\0berth-unpack-${process.pid}-${threadId}-${Buffer.from(globalThis.crypto.getRandomValues(new Uint8Array(8))).toString('hex')}`;
    const srv = net.createServer((s) => readHello(s, (key, i) => {
      const take = waiting.get(key);
      if (!take) { s.destroy(); return; }
      take(s, i);
    }));
    srv.once('error', reject);
    srv.listen(address, () => { srv.unref(); resolve({ address, srv }); });
  });
  const start: StartTool = async (argv) => {
    const { address } = await listen();
    const token = Buffer.from(globalThis.crypto.getRandomValues(new Uint8Array(16)));
    const key = token.toString('hex');
    const socks: (net.Socket | undefined)[] = [undefined, undefined, undefined];
    let gotAll: () => void = () => {};
    const all = new Promise<void>((r) => { gotAll = r; });
    waiting.set(key, (s, i) => {
      if (i > 2 || socks[i]) { s.destroy(); return; }
      socks[i] = s;
      if (socks.every(Boolean)) { waiting.delete(key); gotAll(); }
    });
    const id = ++seq;
    const reply = new Promise<Spawned>((r) => replies.set(id, r));
    port.postMessage({ spawn: { id, argv: wrappedArgv(argv), address, token } } satisfies FromWorker);
    const a = await reply;
    const drop = () => { waiting.delete(key); for (const s of socks) s?.destroy(); };
    if (a.error !== undefined) { drop(); throw new BerthError('Internal', `gzip: ${argv[0]}: ${a.error}`); }
    if (a.pid === undefined) { drop(); return spawnTool(argv); }
    const timer = setTimeout(() => { drop(); gotAll(); }, 10_000);
    await all;
    clearTimeout(timer);
    if (!socks.every((s) => s && !s.destroyed)) { drop(); throw new BerthError('Internal', `gzip: ${argv[0]}: its sockets did not connect`); }
    return wrappedTool(a.pid, socks[0]!, socks[1]!, socks[2]!);
  };
  return { start, answered: (a) => { replies.get(a.id)?.(a); replies.delete(a.id); } };
}

function rebuild(e: { kind?: ErrorKind; message: string; code?: string }): Error {
  if (e.kind) return new BerthError(e.kind, e.message);
  return Object.assign(new Error(e.message), e.code ? { code: e.code } : {});
}

/** The worker's side: chunks in through messages, acknowledged as the decompressor takes them. */
function serve(start: Start): void {
  const port = parentPort!;
  const queue: Buffer[] = [];
  let ended = false;
  let wake: (() => void) | undefined;
  const tool = workerTool(port);
  port.on('message', (m: ToWorker) => {
    if ('spawned' in m) { tool.answered(m.spawned); return; }
    if ('chunk' in m) queue.push(Buffer.from(m.chunk.buffer, m.chunk.byteOffset, m.chunk.length));
    else ended = true;
    wake?.();
  });
  async function* input(): AsyncGenerator<Buffer> {
    for (;;) {
      const c = queue.shift();
      if (c) { port.postMessage({ ack: c.length } satisfies FromWorker); yield c; continue; }
      if (ended) return;
      await new Promise<void>((r) => { wake = r; });
      wake = undefined;
    }
  }
  unpackChunks(input(), start, tool.start).then(
    ({ result, tail }) => port.postMessage({ done: result, tail } satisfies FromWorker),
    (e: Error & { code?: string }) => port.postMessage({ error: { kind: isBerthError(e) ? e.kind : undefined, message: e.message, code: e.code } } satisfies FromWorker),
  ).finally(() => port.close());
}

/** A layer's blob, chunk by chunk, written into start.dir (writeLayer), in whichever thread calls it. */
async function unpackChunks(chunks: AsyncIterator<Buffer>, start: Start, startTool: StartTool = mainThreadTool): Promise<{ result: UnpackResult; tail: LayerTail }> {
  const first = await chunks.next();
  // a tar that is not compressed is its own blob: its diffID is the digest the caller computes
  const plain = !first.done && first.value.length >= 4 && detect(first.value) === 'none';
  async function* all(): AsyncGenerator<Buffer> {
    if (first.done) return;
    yield first.value;
    for (;;) {
      const r = await chunks.next();
      if (r.done) return;
      yield r.value;
    }
  }
  return writeLayer(decompress(all(), { start: startTool }), start.dir, { chown: start.chown, umask: start.umask, hash: !(start.rawHashed && plain) });
}

/** Yields a's chunks, taking each out of a first: one that has been written is garbage at once. */
async function* arrayChunks(a: Uint8Array[]): AsyncGenerator<Buffer> {
  for (let c = a.shift(); c; c = a.shift()) yield Buffer.from(c.buffer, c.byteOffset, c.length);
}

if (!isMainThread && (workerData as Partial<Start> | undefined)?.berthUnpack) serve(workerData as Start);
