// build/step-image: the images a build step leaves. A metadata step (ENV, CMD, LABEL …) is the parent's
// layers under a new config with an `empty_layer` history entry, as docker's classic builder writes
// it; filesystem steps go through containers/commit.ts (one piece of code for commit and build).
import { sha256 } from '../content/digest.js';
import { MT, type ImageConfig } from '../images/manifest.js';
import type { ImageService, ResolvedImage } from '../images/service.js';
import { isoTime } from '../util/time.js';

/** A layer another image already has, reused as a step's (--cache-from). */
export interface StepLayer { diffId: string; descriptor: ResolvedImage['manifest']['layers'][number] }

/** Writes an image with parent's layers (none for scratch) and the given run config; returns its ID. */
export async function writeMetadataImage(images: ImageService, parentId: string | undefined, runConfig: Record<string, unknown>,
  createdBy: string, extra: { author?: string; layer?: StepLayer; created?: string } = {}): Promise<string> {
  const created = extra.created ?? isoTime();
  const parent = parentId ? images.resolve(parentId) : undefined;
  const base: Partial<ImageConfig> = parent?.config ?? { architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } };
  const config = {
    ...base, created,
    ...(extra.author !== undefined ? { author: extra.author } : {}),
    config: runConfig,
    rootfs: { type: 'layers', diff_ids: [...(parent?.diffIds ?? []), ...(extra.layer ? [extra.layer.diffId] : [])] },
    history: [...(base.history ?? []), { created, created_by: createdBy, ...(extra.layer ? {} : { empty_layer: true }) }],
  } as ImageConfig;
  const configBytes = Buffer.from(JSON.stringify(config));
  const id = sha256(configBytes);
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: MT.ociManifest,
    config: { mediaType: MT.ociConfig, digest: id, size: configBytes.length },
    layers: [...(parent?.manifest.layers ?? []), ...(extra.layer ? [extra.layer.descriptor] : [])],
  }));
  images.content.writeBlob(configBytes, id);
  const mdigest = images.content.writeBlob(manifest);
  await images.store.put({ id, manifests: [{ digest: mdigest, mediaType: MT.ociManifest, size: manifest.length, repos: [] }], indexes: [], added: created });
  return id;
}
