// images/layers: puts one layer blob into the content store and the snapshotter in a single pass.
import type { Descriptor, Writer } from '../content/store.js';
import { BerthError } from '../errors.js';
import type { Op } from '../runtime/plan/encode.js';
import { runHostOps } from '../runtime/sync.js';
import { finishLayer, LayerWriter } from '../snapshots/unpack.js';
import type { ImageService } from './service.js';
import { Tee } from './tee.js';
import { trace } from '../util/trace.js';

export interface LayerJob {
  desc: { digest?: string; size?: number };
  chain: string | ((diffId: string) => string);
  parent?: string;
  diffId?: string;
  onBytes?: (n: number) => void;
  /** the file src reads, on the store's filesystem: linked in as the blob instead of copied */
  file?: string;
}

export interface LayerResult { digest: string; size: number; diffId: string; chain: string; newBlob: boolean; newSnapshot: boolean }

/**
 * Streams src into the content store (verifying desc's digest and size) while unpacking it. The
 * snapshot is published only after the blob verified; on any error neither is left behind.
 */
export async function ingestLayer(svc: ImageService, src: AsyncIterable<Uint8Array>, job: LayerJob): Promise<LayerResult> {
  const w = svc.content.writer({ digest: job.desc.digest, size: job.desc.size }, job.file);
  const tee = new Tee(src, w, job.onBytes);
  let digest = '';
  try {
    trace(`layer ${job.desc.digest ?? ''}: ingest starts`);
    const info = await svc.snapshots.unpack(job.chain, job.parent, tee, job.diffId, { beforePublish: async () => { digest = await tee.finish(); trace(`layer ${digest}: blob committed`); } });
    return { digest, size: w.size, diffId: info.diffId!, chain: info.name, newBlob: true, newSnapshot: !info.existed };
  } catch (e) {
    const bad = digest ? undefined : await tee.blame().catch(() => undefined);
    w.abort();
    if (bad) throw new BerthError('InvalidArgument', bad, { cause: e });
    throw e;
  }
}

/** Bytes between turns of the event loop while a layer is written on it. */
const YIELD_EVERY = 16 << 20;
/** Bytes between early fdatasyncs of the blob (Writer.startSync). */
const SYNC_EVERY = 32 << 20;
/** Layers this big and more are hashed on a worker thread (content/hash-worker), smaller ones on this one. */
const HASH_ASIDE_FROM = 16 << 20;
/** A tree of more inodes than this is made durable with one syncfs, not an fsync (and a cache flush) each. */
const FSYNC_MAX = 128;
/** Small tar pieces (headers, padding, small files) are gathered up to this before they are written. */
const BATCH = 1 << 20;

type Produce = (sink: (c: Buffer) => void | Promise<void>) => Promise<void>;

/**
 * An uncompressed layer tar berth writes itself (commit, build), pushed into a content-store writer on this
 * thread: small pieces gathered into BATCH-sized writes, the blob hashed once (an uncompressed blob's digest
 * is its diffID), a big one on a worker thread that reads it back as it is written (content/hash-worker):
 * on the other core, beside this thread's writes. Early fdatasyncs every SYNC_EVERY bytes; the loop is let go
 * every YIELD_EVERY. `piece` gets each write too (the snapshot's tree), `synced` each early sync.
 * The sink is done with a chunk when it returns, so `produce` may reuse its buffer.
 */
export class OwnBlob {
  private hasher: { written(n: number): void; finish(n: number): Promise<string>; abort(): void } | undefined;

  constructor(readonly w: Writer) {}

  async pump(produce: Produce, o: { piece?: (c: Buffer) => void; synced?: () => void } = {}): Promise<void> {
    const { FileHasher } = await import('../content/hash-worker.js');
    const w = this.w;
    const batch = Buffer.allocUnsafe(BATCH);
    let used = 0;
    let sinceYield = 0;
    let sinceSync = 0;
    const put = (c: Buffer) => {
      w.write(c);
      // a worker takes ~40-80 ms to start on a busy host, longer than a small layer takes to write and hash here
      if (this.hasher) this.hasher.written(w.size);
      else if (w.size >= HASH_ASIDE_FROM) { this.hasher = new FileHasher(w.tmp); w.hashAside(); this.hasher.written(w.size); }
      o.piece?.(c);
      if ((sinceSync += c.length) >= SYNC_EVERY) { sinceSync = 0; w.startSync(); o.synced?.(); }
    };
    const flush = () => { if (used) { put(batch.subarray(0, used)); used = 0; } };
    await produce(async (c) => {
      if (c.length <= BATCH - used && c.length < BATCH / 4) { c.copy(batch, used); used += c.length; }
      else { flush(); put(c); }
      sinceYield += c.length;
      // the writes are synchronous: let the daemon serve its other requests now and then
      if (sinceYield >= YIELD_EVERY) { sinceYield = 0; await new Promise<void>((r) => setImmediate(r)); }
    });
    flush();
  }

  /** The worker's digest of a big blob, once it has read all of it; undefined: the writer hashed it. */
  hashed(): Promise<string | undefined> { return this.hasher ? this.hasher.finish(this.w.size) : Promise.resolve(undefined); }

  /** The blob's last part on its way to disk, off the loop (a sync running when the tar ended covers only what came before). */
  synced(): Promise<void> { return this.w.settled().then(() => { this.w.startSync(); return this.w.settled(); }); }

  async abort(): Promise<void> {
    this.hasher?.abort();
    await this.w.settled();
    this.w.abort();
  }
}

/**
 * A layer berth writes itself (commit, build): each batch goes into the content store and the new snapshot
 * at once (OwnBlob). No stream: a pushed chunk is written twice, where a stream into ingestLayer copied it
 * three more times and hashed it twice. On any error neither blob nor snapshot is left.
 */
export async function ingestOwnLayer(svc: ImageService, produce: Produce, job: { parent?: string; chain: (diffId: string) => string }): Promise<LayerResult> {
  const blob = new OwnBlob(svc.content.writer({}));
  const w = blob.w;
  let digest = '';
  try {
    const info = await svc.snapshots.build(job.chain, job.parent, async (dir) => {
      const lw = new LayerWriter(dir, { hash: false, track: true });
      // the tree's big files start going to disk while the layer is written (one helper run per early sync:
      // sync_file_range, no flush): the fsyncs (or the syncfs) before publish then find them written
      // or on their way. A failed write-out loses nothing: those still write it all
      const writeouts: Array<Promise<void>> = [];
      const writeOut = () => {
        const files = lw.takeWritten();
        if (files.length === 0) return;
        writeouts.push(runHostOps([{ op: 'ROOT', args: { path: dir } }, ...files.map((f): Op => ({ op: 'WRITEBACK', args: { inroot: 1, path: f } }))])
          .catch((e: Error) => trace(`own layer: early write-out failed: ${e.message}`)));
      };
      try {
        await blob.pump(produce, { piece: (c) => lw.push(c), synced: writeOut });
        trace(`own layer: tar written (${w.size} bytes)`);
        // the blob's tail goes to disk while the tree is finished: commit's fsync then finds nothing left
        const blobSynced = blob.synced();
        const hashed = blob.hashed();
        const { result, tail } = lw.finish();
        writeOut();
        await finishLayer(dir, tail);
        await Promise.all([blobSynced, ...writeouts]);
        trace('own layer: snapshot finished, blob synced');
        const aside = await hashed;
        trace('own layer: blob hashed');
        digest = w.commit(aside);
        trace(`own layer: blob ${digest} committed`);
        // its files and directories fsynced, if that makes it durable, in place of a syncfs, which also wrote
        // out every other process's dirty data: a `docker cp` of 100 MB just before cost a commit +0.2 s
        const makeDurable = lw.durableByFsync(FSYNC_MAX);
        return { ...result, diffId: digest, ...(makeDurable ? { makeDurable } : {}) };
      } finally {
        lw.closeOpen();
      }
    });
    return { digest, size: w.size, diffId: info.diffId!, chain: info.name, newBlob: true, newSnapshot: !info.existed };
  } catch (e) {
    await blob.abort();
    throw e;
  }
}

export function layerMediaTypeFor(head: Uint8Array, oci: boolean): string {
  const gz = head[0] === 0x1f && head[1] === 0x8b;
  const zst = head[0] === 0x28 && head[1] === 0xb5;
  if (oci) return gz ? 'application/vnd.oci.image.layer.v1.tar+gzip' : zst ? 'application/vnd.oci.image.layer.v1.tar+zstd' : 'application/vnd.oci.image.layer.v1.tar';
  return gz ? 'application/vnd.docker.image.rootfs.diff.tar.gzip' : 'application/vnd.oci.image.layer.v1.tar';
}

export type { Descriptor };
