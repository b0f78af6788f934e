// images/lazy-layers: an image's layer snapshots that are not there yet, unpacked from their blobs before a
// container is made from it. `docker commit` stores only the layer blob (containers/commit treeOnUse):
// its tree is made here, once, on first use (containerd's content-first store unpacks so before a run).
// A tree is never trusted half-made: the snapshotter publishes it by rename only once it is complete,
// durable and its diffID matches the image's, so a crash at any point leaves the blob to unpack again.
import * as fs from 'node:fs';
import { BerthError } from '../errors.js';
import type { SnapshotInfo } from '../snapshots/overlay.js';
import { finishLayer, LayerWriter } from '../snapshots/unpack.js';
import type { ImageService, ResolvedImage } from './service.js';
import { trace } from '../util/trace.js';

/** Bytes read from the blob at a time, and between turns of the event loop. */
const READ = 1 << 20;
const YIELD_EVERY = 16 << 20;
/** A tree of more inodes than this is made durable with one syncfs, not an fsync each (as images/layers). */
const FSYNC_MAX = 128;

/** Unpacks in flight by chain ID: two creates from one new image unpack it once. */
const inFlight = new Map<string, Promise<unknown>>();

/** Makes every missing layer snapshot of img, bottom up, from the layer blobs in the content store. */
export async function materializeLayers(svc: ImageService, img: ResolvedImage): Promise<void> {
  for (let i = 0; i < img.chainIds.length; i++) {
    const chain = img.chainIds[i]!;
    if (svc.snapshots.has(chain)) continue;
    const desc = img.manifest.layers[i];
    // nothing to unpack from: prepare reports the missing layer as before
    if (!desc || !svc.content.has(desc.digest)) return;
    let job = inFlight.get(chain);
    if (!job) {
      trace(`layer ${chain}: unpacking its blob ${desc.digest} on first use`);
      const parent = i > 0 ? img.chainIds[i - 1] : undefined;
      job = (isPlainTar(svc, desc.digest, img.diffIds[i]) ? unpackPlain(svc, chain, parent, desc.digest)
        : svc.snapshots.unpack(chain, parent, svc.content.readStream(desc.digest), img.diffIds[i]))
        .catch((e: Error) => { throw new BerthError('Internal', `unpack layer ${desc.digest}: ${e.message}`, { cause: e }); })
        .finally(() => inFlight.delete(chain));
      inFlight.set(chain, job);
    }
    await job;
  }
}

/** An uncompressed layer (what commit stores): its blob's digest is its diffID. */
function isPlainTar(svc: ImageService, digest: string, diffId: string | undefined): boolean {
  return digest === diffId && svc.content.has(digest);
}

/**
 * An uncompressed layer blob unpacked on this thread, read in 1 MiB steps straight into the tree writer
 * (the writer commit used before): the stream into the unpack worker took ~1.7 s of CPU for 100 MB here,
 * this ~0.2 s. Not hashed again: the store verified the blob's digest, its diffID, when it was written.
 */
function unpackPlain(svc: ImageService, chain: string, parent: string | undefined, digest: string): Promise<SnapshotInfo> {
  return svc.snapshots.build(chain, parent, async (dir) => {
    const lw = new LayerWriter(dir, { hash: false, track: true });
    try {
      const fd = fs.openSync(svc.content.path(digest), fs.constants.O_RDONLY);
      try {
        const buf = Buffer.allocUnsafe(READ);
        let sinceYield = 0;
        for (;;) {
          const n = fs.readSync(fd, buf, 0, READ, null);
          if (n === 0) break;
          lw.push(buf.subarray(0, n)); // consumed before it returns: the buffer is reused
          if ((sinceYield += n) >= YIELD_EVERY) { sinceYield = 0; await new Promise<void>((r) => setImmediate(r)); }
        }
      } finally { fs.closeSync(fd); }
      const { result, tail } = lw.finish();
      await finishLayer(dir, tail);
      trace(`layer ${chain}: tree written from its blob (${result.tarSize} bytes)`);
      const makeDurable = lw.durableByFsync(FSYNC_MAX);
      return { ...result, diffId: digest, ...(makeDurable ? { makeDurable } : {}) };
    } finally {
      lw.closeOpen();
    }
  });
}
