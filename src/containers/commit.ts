// containers/commit: `docker commit` (moby daemon/commit.go): the container's writable layer as one
// new layer tar (whiteouts as `.wh.` files, opaque directories marked `.wh..wh..opq`, as the image spec's
// layer.md says) on top of its image, the container's config (with `--change` instructions) as the image
// config, and a history entry. Volumes and bind mounts are not in the upper dir, so never committed.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { sha256 } from '../content/digest.js';
import { ingestOwnLayer, OwnBlob } from '../images/layers.js';
import { MT, type ImageConfig } from '../images/manifest.js';
import { rollback } from '../images/pull.js';
import type { ImageService } from '../images/service.js';
import { formatReference, parseReference } from '../registry/reference.js';
import { chainIds } from '../snapshots/chain.js';
import { TarWriter } from '../snapshots/tar-writer.js';
import { readExactly } from './archive.js';
import { openBeneath, walkChanges } from './changes-diff.js';
import type { ContainerRoot } from './root.js';
import { isoTime } from '../util/time.js';
import { trace } from '../util/trace.js';
import { O_PATH } from '../util/open-flags.js';

const { O_RDONLY, O_NONBLOCK, O_NOCTTY } = fs.constants;

export interface CommitOptions {
  repo?: string;
  tag?: string;
  comment?: string;
  author?: string;
  /** the image config's `config` after the container's own and the `--change` instructions */
  config?: Record<string, unknown>;
  /**
   * Only the layer blob now (fsynced, hashed once); its snapshot tree is unpacked from the blob when a
   * container is first made from the image (images/lazy-layers). A user's commit: the tree was half of
   * its writes. A build wants the tree for its next step at once, so it leaves this unset.
   */
  treeOnUse?: boolean;
}

/**
 * The writable layer as a blob in the content store and nothing else: written once, hashed once (images/layers
 * OwnBlob: on a worker for a big one), fsynced before it is renamed in. A kill at any point leaves at most a
 * temp file of a dead writer, which the store removes at start.
 */
export async function writeLayerBlob(images: ImageService, r: ContainerRoot): Promise<{ digest: string; size: number; unpacked: number }> {
  const blob = new OwnBlob(images.content.writer({}));
  const w = blob.w;
  let unpacked = 0;
  try {
    await blob.pump(async (sink) => { unpacked = await writeLayer(r, sink, true); });
    trace(`commit: layer blob written (${w.size} bytes)`);
    // the blob's tail goes to disk while the worker finishes the hash
    const synced = blob.synced();
    const aside = await blob.hashed();
    if (aside !== undefined && images.content.has(aside)) {
      // the same layer is stored already (a commit of an unchanged container): this copy is dropped, and
      // no commit waits for its write-out (abort removes it once a sync in flight is done)
      w.abort();
      trace(`commit: layer blob ${aside} stored already`);
      return { digest: aside, size: w.size, unpacked };
    }
    await synced;
    const digest = w.commit(aside);
    trace(`commit: layer blob ${digest} committed`);
    return { digest, size: w.size, unpacked };
  } catch (e) {
    await blob.abort();
    throw e;
  }
}

/**
 * Writes the writable layer as a layer tar through sink. `consumed`: the sink is done with a chunk when
 * it returns, so file data is read into one reused buffer (no garbage per 64 KiB read). Returns the layer's
 * unpacked size: the bytes of its regular files (not its links), what its snapshot will count.
 */
export async function writeLayer(r: ContainerRoot, sink: (c: Buffer) => void | Promise<void>, consumed = false): Promise<number> {
  let unpacked = 0;
  const w = new TarWriter(sink);
  const scratch = consumed ? Buffer.allocUnsafe(1 << 20) : undefined;
  const links = new Map<string, string>();
  await walkChanges(r, async (v) => {
    const name = v.path.slice(1);
    if (v.kind === 2) {
      // a deletion under an opaque directory is covered by its marker
      if (v.whiteout) await w.entry({ name: path.posix.join(path.posix.dirname(name), `.wh.${path.posix.basename(name)}`), type: 'file', mode: 0o600 });
      return;
    }
    const st = v.st!;
    const base = { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: Math.floor(st.mtimeMs / 1000) };
    if (st.isDirectory()) {
      await w.entry({ ...base, name: `${name}/`, type: 'dir' });
      if (v.opaque) await w.entry({ name: `${name}/.wh..wh..opq`, type: 'file', mode: 0o600 });
    } else if (st.isSymbolicLink()) {
      const parent = openBeneath(r.upper, path.posix.dirname(v.upper!), O_PATH | fs.constants.O_DIRECTORY);
      if (parent === undefined) return; // gone (or swapped) since the walk
      let linkname: string;
      try { linkname = fs.readlinkSync(`/proc/self/fd/${parent}/${path.posix.basename(v.upper!)}`); } catch { return; } finally { fs.closeSync(parent); }
      await w.entry({ ...base, name, type: 'symlink', linkname });
    } else if (st.isFile()) {
      const key = `${st.dev}:${st.ino}`;
      if (st.nlink > 1 && links.has(key)) { await w.entry({ ...base, name, type: 'link', linkname: links.get(key)! }); return; }
      if (st.nlink > 1) links.set(key, name);
      // opened beneath the upper dir through fds: a running container cannot lead this read out of it
      const fd = openBeneath(r.upper, v.upper!, O_RDONLY | O_NONBLOCK | O_NOCTTY);
      if (fd === undefined) return; // gone since the walk
      try {
        const fst = fs.fstatSync(fd);
        if (!fst.isFile()) return; // swapped since the walk: never read a device
        await w.entry({ ...base, name, type: 'file', size: fst.size }, readExactly(fd, fst.size, scratch));
        unpacked += fst.size;
      } finally { fs.closeSync(fd); }
    } else if (st.isCharacterDevice() || st.isBlockDevice() || st.isFIFO()) {
      const dev = BigInt(st.rdev);
      const devmajor = Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn));
      const devminor = Number((dev & 0xffn) | ((dev >> 12n) & ~0xffn));
      await w.entry({ ...base, name, type: st.isFIFO() ? 'fifo' : st.isCharacterDevice() ? 'char' : 'block', devmajor, devminor });
    }
  });
  await w.finish();
  return unpacked;
}

/** The container's run config in the image config's words (what `docker commit` keeps). */
export function containerImageConfig(base: Record<string, unknown>, r: ContainerRoot): Record<string, unknown> {
  const c = r.container.config;
  const out: Record<string, unknown> = { ...base };
  if (c.cmd?.length) out.Cmd = c.cmd;
  if (c.entrypoint) out.Entrypoint = c.entrypoint.length ? c.entrypoint : null;
  if (c.env?.length) {
    const env = new Map<string, string>();
    for (const e of [...((base.Env as string[] | undefined) ?? []), ...c.env]) env.set(e.split('=')[0]!, e);
    out.Env = [...env.values()];
  }
  if (c.workingDir) out.WorkingDir = c.workingDir;
  if (c.user) out.User = c.user;
  if (c.labels && Object.keys(c.labels).length) out.Labels = { ...((base.Labels as Record<string, string> | null) ?? {}), ...c.labels };
  if (c.stopSignal) out.StopSignal = c.stopSignal;
  if (c.tty !== undefined) out.Tty = c.tty;
  if (c.openStdin !== undefined) out.OpenStdin = c.openStdin;
  return out;
}

/** moby's merge of `--change` instructions onto a config: lists add (ENV by key), the rest replace. */
export function mergeChanges(cfg: Record<string, unknown>, changes: Record<string, unknown> | undefined): Record<string, unknown> {
  if (!changes) return cfg;
  const out = { ...cfg };
  for (const [k, v] of Object.entries(changes)) {
    if (k === 'Env') {
      const env = new Map<string, string>();
      for (const e of [...((cfg.Env as string[] | undefined) ?? []), ...(v as string[])]) env.set(e.split('=')[0]!, e);
      out.Env = [...env.values()];
    } else if (k === 'Labels' || k === 'ExposedPorts' || k === 'Volumes') {
      out[k] = { ...((cfg[k] as object | null | undefined) ?? {}), ...(v as object) };
    } else out[k] = v;
  }
  return out;
}

/** Commits the container's writable layer as a new image; returns its ID (sha256:…). */
export async function commitContainer(images: ImageService, r: ContainerRoot, o: CommitOptions): Promise<string> {
  const target = o.repo ? formatReference(parseReference(o.tag ? `${o.repo}:${o.tag}` : o.repo)) : undefined;
  const img = images.resolve(r.container.imageId);
  const layer = o.treeOnUse
    // an uncompressed blob's digest is its diffID
    ? await writeLayerBlob(images, r).then((b) => ({ ...b, diffId: b.digest, chain: '', newSnapshot: false }))
    : await ingestOwnLayer(images, async (sink) => { await writeLayer(r, sink, true); }, { parent: r.parent, chain: (diffId) => chainIds([...img.diffIds, diffId]).at(-1)! });
  const added = [layer.digest];
  try {
    const created = isoTime();
    const parentCfg = img.config;
    const history = [...(parentCfg.history ?? []), {
      created, created_by: [r.container.path, ...r.container.args].join(' '),
      ...(o.author ? { author: o.author } : {}), ...(o.comment ? { comment: o.comment } : {}),
    }];
    const config: ImageConfig = {
      ...parentCfg, created,
      ...(o.author ? { author: o.author } : {}),
      config: o.config ?? containerImageConfig((parentCfg.config as Record<string, unknown> | undefined) ?? {}, r),
      rootfs: { type: 'layers', diff_ids: [...img.diffIds, layer.diffId] },
      history,
      ...(o.comment !== undefined ? { comment: o.comment } : {}),
      container: r.container.id,
    } as ImageConfig;
    const configBytes = Buffer.from(JSON.stringify(config));
    const id = sha256(configBytes);
    const manifest = Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: MT.ociManifest,
      config: { mediaType: MT.ociConfig, digest: id, size: configBytes.length },
      layers: [...img.manifest.layers, { mediaType: MT.ociLayer, digest: layer.digest, size: layer.size }],
    }));
    images.content.writeBlob(configBytes, id);
    const mdigest = images.content.writeBlob(manifest);
    trace('commit: config and manifest written');
    await images.store.put({
      id, manifests: [{ digest: mdigest, mediaType: MT.ociManifest, size: manifest.length, repos: [] }], indexes: [], added: created,
      ...('unpacked' in layer ? { layerSizes: { [layer.diffId]: layer.unpacked } } : {}),
    });
    if (target) await images.addRefs(id, [target]);
    trace('commit: image recorded');
    return id;
  } catch (e) {
    await rollback(images, added, layer.newSnapshot ? [layer.chain] : []);
    throw e;
  }
}
