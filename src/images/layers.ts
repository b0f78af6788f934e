// images/layers: puts one layer blob into the content store and the snapshotter in a single pass.
import type { Descriptor } from '../content/store.js';
import { BerthError } from '../errors.js';
import type { ImageService } from './service.js';
import { Tee } from './tee.js';

export interface LayerJob {
  desc: { digest?: string; size?: number };
  chain: string | ((diffId: string) => string);
  parent?: string;
  diffId?: string;
  onBytes?: (n: number) => void;
  /** unpack on this thread (a layer made locally), not on a worker */
  inline?: boolean;
}

export interface LayerResult { digest: string; size: number; diffId: string; chain: string; newBlob: boolean; newSnapshot: boolean }

/**
 * Streams src into the content store (verifying desc's digest and size) while unpacking it. The
 * snapshot is published only after the blob verified; on any error neither is left behind.
 */
export async function ingestLayer(svc: ImageService, src: AsyncIterable<Uint8Array>, job: LayerJob): Promise<LayerResult> {
  const w = svc.content.writer({ digest: job.desc.digest, size: job.desc.size });
  const tee = new Tee(src, w, job.onBytes);
  let digest = '';
  try {
    const info = await svc.snapshots.unpack(job.chain, job.parent, tee, job.diffId, { inline: job.inline, beforePublish: async () => { digest = await tee.finish(); } });
    return { digest, size: w.size, diffId: info.diffId!, chain: info.name, newBlob: true, newSnapshot: !info.existed };
  } catch (e) {
    const bad = digest ? undefined : await tee.blame().catch(() => undefined);
    w.abort();
    if (bad) throw new BerthError('InvalidArgument', bad, { cause: e });
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
