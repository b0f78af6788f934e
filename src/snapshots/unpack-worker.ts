// snapshots/unpack-worker: a layer's decompression, diffID hash, tar parsing and file writes on a worker
// thread (a blob over 4 MB; a smaller one on the calling thread, SMALL). The daemon's loop keeps serving requests, and a pull's download (with the blob's own hash and
// write) runs beside the unpack on the other core, as curl | gunzip | tar does. The helper's mknod and
// setxattr run (finishLayer) stays on the main thread, which owns child processes.
// Loaded only through import(): it starts workers from its own file (import.meta.url), which must stay
// a module of its own in the esbuild bundle.
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { BerthError, isBerthError, type ErrorKind } from '../errors.js';
import type { Op } from '../runtime/plan/encode.js';
import { decompress, detect } from './decompress.js';
import { finishLayer, writeLayer, type LayerTail, type UnpackResult } from './unpack.js';
import { processUmask } from '../util/umask.js';

interface Start { berthUnpack: true; dir: string; chown: boolean; umask: number; rawHashed: boolean }
type ToWorker = { chunk: Uint8Array } | { end: true };
type FromWorker =
  | { ack: number }
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
      if ('ack' in m) { inflight -= m.ack; wake?.(); } else if ('done' in m) settle({ ok: true, done: m.done, tail: m.tail });
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
  port.on('message', (m: ToWorker) => {
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
  unpackChunks(input(), start).then(
    ({ result, tail }) => port.postMessage({ done: result, tail } satisfies FromWorker),
    (e: Error & { code?: string }) => port.postMessage({ error: { kind: isBerthError(e) ? e.kind : undefined, message: e.message, code: e.code } } satisfies FromWorker),
  ).finally(() => port.close());
}

/** A layer's blob, chunk by chunk, written into start.dir (writeLayer), in whichever thread calls it. */
async function unpackChunks(chunks: AsyncIterator<Buffer>, start: Start): Promise<{ result: UnpackResult; tail: LayerTail }> {
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
  return writeLayer(decompress(all()), start.dir, { chown: start.chown, umask: start.umask, hash: !(start.rawHashed && plain) });
}

/** Yields a's chunks, taking each out of a first: one that has been written is garbage at once. */
async function* arrayChunks(a: Uint8Array[]): AsyncGenerator<Buffer> {
  for (let c = a.shift(); c; c = a.shift()) yield Buffer.from(c.buffer, c.byteOffset, c.length);
}

if (!isMainThread && (workerData as Partial<Start> | undefined)?.berthUnpack) serve(workerData as Start);
