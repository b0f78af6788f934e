// images/lazy-layers: an image's layer snapshots that are not there yet, unpacked from their blobs before a
// container is made from it. `docker commit` stores only the layer blob (containers/commit treeOnUse):
// its tree is made here, once, on first use (containerd's content-first store unpacks so before a run).
// A tree is never trusted half-made: the snapshotter publishes it by rename only once it is complete,
// durable and its diffID matches the image's, so a crash at any point leaves the blob to unpack again.
import { BerthError } from '../errors.js';
import type { ImageService, ResolvedImage } from './service.js';
import { trace } from '../util/trace.js';

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
      job = svc.snapshots.unpack(chain, i > 0 ? img.chainIds[i - 1] : undefined, svc.content.readStream(desc.digest), img.diffIds[i])
        .catch((e: Error) => { throw new BerthError('Internal', `unpack layer ${desc.digest}: ${e.message}`, { cause: e }); })
        .finally(() => inFlight.delete(chain));
      inFlight.set(chain, job);
    }
    await job;
  }
}
