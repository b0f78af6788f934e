// images/import: a root filesystem tar (plain, gzip or zstd) -> a one-layer image (docker import).
import { sha256 } from '../content/digest.js';
import type { Platform } from '../content/store.js';
import { formatReference, parseReference } from '../registry/reference.js';
import { decompress } from '../snapshots/decompress.js';
import { ingestLayer } from './layers.js';
import { hostPlatform, MT, type ImageConfig } from './manifest.js';
import { rollback } from './pull.js';
import type { ImageService } from './service.js';
import { isoTime } from '../util/time.js';

export interface ImportOptions {
  ref?: string;
  message?: string;
  /** the config's `config` (Docker's container config: Cmd, Env, WorkingDir, …) */
  config?: Record<string, unknown>;
  platform?: Platform;
}

export async function importImage(svc: ImageService, src: AsyncIterable<Uint8Array>, o: ImportOptions = {}): Promise<string> {
  const target = o.ref ? formatReference(parseReference(o.ref)) : undefined;
  // The blob is the uncompressed tar, so its digest is the diff ID (as docker stores imports).
  const layer = await ingestLayer(svc, decompress(src), { desc: {}, chain: (diffId) => diffId });
  const added = [layer.digest];
  try {
    const p = o.platform ?? hostPlatform();
    const created = isoTime();
    const config: ImageConfig = {
      architecture: p.architecture, os: p.os, ...(p.variant ? { variant: p.variant } : {}), created,
      config: o.config ?? {},
      rootfs: { type: 'layers', diff_ids: [layer.diffId] },
      // moby image_import.go: the history entry carries the message alone (no created_by)
      history: [{ created, ...(o.message ? { comment: o.message } : {}) }],
      ...(o.message ? { comment: o.message } : {}),
    };
    const configBytes = Buffer.from(JSON.stringify(config));
    const id = sha256(configBytes);
    const manifest = Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: MT.ociManifest,
      config: { mediaType: MT.ociConfig, digest: id, size: configBytes.length },
      layers: [{ mediaType: MT.ociLayer, digest: layer.digest, size: layer.size }],
    }));
    svc.content.writeBlob(configBytes, id);
    const mdigest = svc.content.writeBlob(manifest);
    await svc.store.put({ id, manifests: [{ digest: mdigest, mediaType: MT.ociManifest, size: manifest.length, repos: [] }], indexes: [], added: created });
    if (target) await svc.addRefs(id, [target]);
    return id;
  } catch (e) {
    await rollback(svc, added, layer.newSnapshot ? [layer.chain] : []);
    throw e;
  }
}
