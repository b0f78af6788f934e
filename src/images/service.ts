// images/service: the image operations docker exposes (pull, push, list, inspect, history, tag,
// remove, prune, import, save, load) over one content store, snapshotter and image store.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ContentStore } from '../content/store.js';
import { privateDir } from '../util/dirs.js';
import { deepFreeze } from '../util/freeze.js';
import { BerthError } from '../errors.js';
import { RegistryClient, type ClientOptions } from '../registry/client.js';
import { familiarString, formatReference, parseReference } from '../registry/reference.js';
import { chainIds } from '../snapshots/chain.js';
import type { Mount } from '../snapshots/mount.js';
import { Snapshotter } from '../snapshots/overlay.js';
import { parseConfig, parseManifest, type ImageConfig, type Manifest } from './manifest.js';
import { ImageStore, type ImageRecord, type ManifestRef } from './store.js';
import { pullImage, type PullOptions } from './pull.js';
import { pushImage, type PushOptions } from './push.js';
import { importImage, type ImportOptions } from './import.js';
import { loadImages, saveImages, type LoadOptions, type SaveOptions } from './archive.js';
import { imageHistory, inspectImage, listImages, type ListOptions } from './inspect.js';
import { pruneImages, removeImage, type PruneOptions, type RemoveOptions } from './remove.js';
import { isoTime } from '../util/time.js';
import { ownDir, ownerAlive } from '../util/owner.js';

export interface ImageServiceOptions {
  /** storage root; default $BERTH_ROOT or /var/lib/berth */
  root?: string;
  /** registries reached over plain HTTP besides loopback ones */
  insecureRegistries?: string[];
  credentials?: ClientOptions['credentials'];
  /** "is this image in use?": a container id using it, or undefined (containers/ plugs in here) */
  inUse?: (imageId: string) => string | undefined;
  /** layers downloaded at once (docker: 3) */
  concurrency?: number;
}

export interface ResolvedImage { record: ImageRecord; config: ImageConfig; configBytes: Buffer; manifest: Manifest; manifestRef: ManifestRef; diffIds: string[]; chainIds: string[] }

/**
 * NotFound for a name that names no image, in docker's words (moby daemon/images ErrImageDoesNotExist, 20.10 to 28):
 * a reference shown familiar with its default tag (`No such image: nosuch:latest`, what `docker rmi nosuch` prints),
 * a bare 64-hex ID with its sha256: prefix; anything else as given.
 */
export function noSuchImage(name: string): BerthError {
  let shown = name;
  if (/^[a-f0-9]{64}$/.test(name)) shown = `sha256:${name}`;
  else if (!name.startsWith('sha256:')) {
    try { shown = familiarString(formatReference(parseReference(name))); } catch { /* not a reference: as given */ }
  }
  return new BerthError('NotFound', `No such image: ${shown}`);
}

/** parsed configs and manifests kept (a few kB each): more images than one host starts containers from */
const BLOB_CACHE_MAX = 64;

export function defaultRoot(): string {
  return process.env.BERTH_ROOT ?? '/var/lib/berth';
}

export class ImageService {
  readonly root: string;
  readonly content: ContentStore;
  readonly snapshots: Snapshotter;
  readonly store: ImageStore;
  readonly tmp: string;
  private readonly clients = new Map<string, RegistryClient>();

  constructor(readonly opts: ImageServiceOptions = {}) {
    this.root = opts.root ?? defaultRoot();
    this.content = new ContentStore(this.root);
    this.snapshots = new Snapshotter(this.root);
    this.store = new ImageStore(this.root);
    // scratch of this process's own: berthd and a `berth store load` on the same root each clear only what
    // a process that is gone left (clearTmp), never the other's live build context or load
    privateDir(path.join(this.root, 'tmp'));
    this.tmp = ownDir(path.join(this.root, 'tmp'));
  }

  client(host: string): RegistryClient {
    let c = this.clients.get(host);
    if (!c) {
      c = new RegistryClient(host, { insecure: this.opts.insecureRegistries, credentials: this.opts.credentials });
      this.clients.set(host, c);
    }
    return c;
  }

  /** Image ID for a reference, a full ID, or a unique ID prefix (docker's lookup order). */
  resolveId(name: string): string {
    // an ID is only looked up here: resolve reads its record next (a start resolved each record twice)
    if (/^sha256:[a-f0-9]{64}$/.test(name) && this.store.has(name)) return name;
    const refs = this.store.refs();
    try {
      const key = formatReference(parseReference(name));
      if (refs[key]) return refs[key]!;
    } catch { /* not a reference: maybe an ID */ }
    const hex = name.replace(/^sha256:/, '');
    if (/^[a-f0-9]{1,64}$/.test(hex)) {
      const hits = this.store.list().filter((r) => r.id.slice(7).startsWith(hex));
      if (hits.length === 1) return hits[0]!.id;
      if (hits.length > 1) throw new BerthError('InvalidArgument', `image ID prefix ${hex} is ambiguous`);
    }
    throw noSuchImage(name);
  }

  /** The record with its config and the first manifest whose blobs are all here. */
  resolve(name: string): ResolvedImage {
    const id = this.resolveId(name);
    const record = this.store.get(id);
    if (!record) throw noSuchImage(name);
    const { bytes: configBytes, parsed: config } = this.parsed(id, parseConfig);
    const here = record.manifests.find((m) => this.content.has(m.digest));
    const manifestRef = here ?? record.manifests[0];
    if (!manifestRef) throw new BerthError('Internal', `image ${id}: no manifest recorded`);
    const manifest = this.parsed(manifestRef.digest, parseManifest, here !== undefined).parsed;
    const diffIds = config.rootfs.diff_ids;
    return { record, config, configBytes, manifest, manifestRef, diffIds, chainIds: chainIds(diffIds) };
  }

  /**
   * A blob parsed once: content is immutable under its digest, and a create + start resolved the same
   * image's config and manifest four times (issue 13). Frozen, since every caller shares it; a blob
   * removed since is still NotFound (`present`: the caller has just seen it there).
   */
  private parsed<T extends object>(digest: string, parse: (b: Buffer) => T, present = false): { bytes: Buffer; parsed: T } {
    const hit = this.blobCache.get(digest);
    if (hit && (present || this.content.has(digest))) return hit as { bytes: Buffer; parsed: T };
    const bytes = this.content.read(digest);
    const entry = { bytes, parsed: deepFreeze(parse(bytes)) };
    if (this.blobCache.size >= BLOB_CACHE_MAX) this.blobCache.delete(this.blobCache.keys().next().value!);
    this.blobCache.set(digest, entry);
    return entry;
  }

  private readonly blobCache = new Map<string, { bytes: Buffer; parsed: object }>();

  /** References (full form) naming an image, tags first. */
  refsOf(id: string): { tags: string[]; digests: string[] } {
    const all = Object.entries(this.store.refs()).filter(([, v]) => v === id).map(([k]) => k).sort();
    return { tags: all.filter((r) => !r.includes('@')), digests: all.filter((r) => r.includes('@')) };
  }

  /** Writable snapshot `key` on top of the image's layers (what containers/ will ask for). */
  /** `image`: a name to resolve, or what the caller has just resolved (a create resolved it twice). */
  async prepareRootfs(image: string | ResolvedImage, key: string): Promise<Mount[]> {
    const img = typeof image === 'string' ? this.resolve(image) : image;
    const top = img.chainIds[img.chainIds.length - 1];
    // a committed image's last layer is a blob until first used (images/lazy-layers)
    if (top !== undefined && !this.snapshots.has(top)) await (await import('./lazy-layers.js')).materializeLayers(this, img);
    return this.snapshots.prepare(key, top);
  }

  /** Everything reachable from image records: blobs and layer snapshots. */
  references(): { blobs: Set<string>; chains: Set<string> } {
    const blobs = new Set<string>();
    const chains = new Set<string>();
    for (const r of this.store.list()) {
      blobs.add(r.id);
      for (const i of r.indexes) blobs.add(i.digest);
      for (const m of r.manifests) {
        blobs.add(m.digest);
        if (!this.content.has(m.digest)) continue;
        const man = parseManifest(this.content.read(m.digest));
        blobs.add(man.config.digest);
        for (const l of man.layers) blobs.add(l.digest);
      }
      try { for (const c of chainIds(parseConfig(this.content.read(r.id)).rootfs.diff_ids)) chains.add(c); } catch { /* config gone: nothing to keep */ }
    }
    return { blobs, chains };
  }

  /** Removes unreferenced blobs and layers; returns bytes freed and the layers removed. */
  async gc(): Promise<{ bytes: number; layers: string[] }> {
    const { blobs, chains } = this.references();
    const c = this.content.gc(blobs);
    const s = await this.snapshots.gc(chains);
    // tmp is not touched: what is there belongs to a build or load under way (a dead daemon's goes at start)
    return { bytes: c.bytes + s.bytes, layers: s.removed };
  }

  /**
   * Scratch space (build contexts, loads) of work that is over: what processes that are gone left (a killed
   * daemon, a killed `berth store load`), at daemon start. A live process's directory stays, whichever it is.
   */
  async clearTmp(): Promise<void> {
    const dir = path.join(this.root, 'tmp');
    for (const n of fs.readdirSync(dir)) if (!ownerAlive(n)) await fs.promises.rm(path.join(dir, n), { recursive: true, force: true });
  }

  /** Adds references for an image (tags and digests), stamping LastTagTime for tags. */
  async addRefs(id: string, refs: string[]): Promise<void> {
    if (refs.length === 0) return;
    // a rebuild or re-tag to the same image changes no reference: the map is not rewritten, and digests
    // alone already there need no lock at all
    const have = this.store.refs();
    const stamp = refs.some((r) => !r.includes('@'));
    if (stamp || refs.some((r) => have[r] !== id)) await this.store.tag(id, refs, stamp ? isoTime() : undefined);
  }

  async tag(source: string, target: string): Promise<void> {
    const id = this.resolveId(source);
    const r = parseReference(target);
    if (r.digest) throw new BerthError('InvalidArgument', 'refusing to create a tag with a digest reference');
    await this.addRefs(id, [formatReference(r)]);
  }

  // The verbs live in their own files; these keep one entry point.
  pull(ref: string, o: PullOptions = {}) { return pullImage(this, ref, o); }
  push(ref: string, o: PushOptions = {}) { return pushImage(this, ref, o); }
  import(src: AsyncIterable<Uint8Array>, o: ImportOptions = {}) { return importImage(this, src, o); }
  save(names: string[], sink: (c: Buffer) => void | Promise<void>, o: SaveOptions = {}) { return saveImages(this, names, sink, o); }
  load(src: AsyncIterable<Uint8Array>, o: LoadOptions = {}) { return loadImages(this, src, o); }
  list(o: ListOptions = {}) { return listImages(this, o); }
  inspect(name: string) { return inspectImage(this, name); }
  history(name: string) { return imageHistory(this, name); }
  remove(name: string, o: RemoveOptions = {}) { return removeImage(this, name, o); }
  prune(o: PruneOptions = {}) { return pruneImages(this, o); }
}
