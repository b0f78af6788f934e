// images/archive: save and load, as docker's archive (manifest.json + <config>.json + <layer>/layer.tar,
// several images per archive; `docker save`/`docker load`/skopeo docker-archive compatible) and as an
// OCI image layout (oci-layout, index.json, blobs/sha256, compressed blobs kept byte for byte).
import { createHash, randomBytes, type Hash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { hexOf, sha256 } from '../content/digest.js';
import type { Descriptor } from '../content/store.js';
import { BerthError } from '../errors.js';
import { familiarString, formatReference, parseReference, repoName } from '../registry/reference.js';
import { chainIds } from '../snapshots/chain.js';
import { decompress } from '../snapshots/decompress.js';
import type { StagedLayer } from '../snapshots/overlay.js';
import { TarParser } from '../snapshots/tar-reader.js';
import { TarWriter } from '../snapshots/tar-writer.js';
import { cleanName } from '../snapshots/unpack.js';
import { trace } from '../util/trace.js';
import { MAX_CONFIG, MAX_MANIFEST, readFileCapped } from '../util/read-capped.js';
import { ingestLayer, layerMediaTypeFor } from './layers.js';
import { detectType, hostPlatform, isIndexType, MT, parseConfig, parseIndex, parseManifest, selectPlatform } from './manifest.js';
import { noProgress, type ProgressFn } from './progress.js';
import { rollback } from './pull.js';
import { Feed } from './tee.js';
import type { ImageService } from './service.js';
import { isoTime } from '../util/time.js';

export interface SaveOptions { format?: 'docker' | 'oci' }
export interface LoadOptions { onProgress?: ProgressFn }
export interface LoadResult { loaded: string[]; ids: string[] }

interface Selected { name: string; id: string; tags: string[] }

function select(svc: ImageService, names: string[]): Selected[] {
  const out: Selected[] = [];
  for (const n of names) {
    const id = svc.resolveId(n);
    let tags: string[] = [];
    let byRef = false;
    // docker: a name that is a reference saves that tag; an ID saves no tag (RepoTags null), so loading
    // it back gives one untagged image rather than one per tag
    try {
      const key = formatReference(parseReference(n));
      if (svc.store.refs()[key] === id) { byRef = true; if (!key.includes('@')) tags = [key]; }
    } catch { /* an ID */ }
    if (!byRef) tags = [];
    const prev = out.find((s) => s.id === id);
    if (prev) prev.tags = [...new Set([...prev.tags, ...tags])];
    else out.push({ name: n, id, tags });
  }
  return out;
}

export async function saveImages(svc: ImageService, names: string[], sink: (c: Buffer) => void | Promise<void>, o: SaveOptions = {}): Promise<void> {
  if (names.length === 0) throw new BerthError('InvalidArgument', 'save: no images given');
  const images = select(svc, names);
  const tw = new TarWriter(sink);
  const written = new Set<string>();
  const now = Math.floor(Date.now() / 1000);
  if (o.format === 'oci') {
    await tw.entry({ name: 'oci-layout', mtime: now }, Buffer.from('{"imageLayoutVersion":"1.0.0"}'));
    await tw.entry({ name: 'blobs/', type: 'dir', mode: 0o755, mtime: now });
    await tw.entry({ name: 'blobs/sha256/', type: 'dir', mode: 0o755, mtime: now });
    const index: Descriptor[] = [];
    for (const s of images) {
      const img = svc.resolve(s.id);
      for (const d of [img.manifestRef, img.manifest.config, ...img.manifest.layers]) {
        if (written.has(d.digest)) continue;
        written.add(d.digest);
        await tw.entry({ name: `blobs/sha256/${hexOf(d.digest)}`, size: d.size, mtime: now }, svc.content.readStream(d.digest));
      }
      const base = { mediaType: img.manifestRef.mediaType, digest: img.manifestRef.digest, size: img.manifestRef.size };
      if (s.tags.length === 0) index.push(base);
      for (const t of s.tags) {
        const r = parseReference(t);
        index.push({ ...base, annotations: { 'io.containerd.image.name': t, 'org.opencontainers.image.ref.name': r.tag ?? 'latest' } });
      }
    }
    await tw.entry({ name: 'index.json', mtime: now }, Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MT.ociIndex, manifests: index })));
    await tw.finish();
    return;
  }
  const manifest: Array<{ Config: string; RepoTags: string[] | null; Layers: string[] }> = [];
  const repositories: Record<string, Record<string, string>> = {};
  for (const s of images) {
    const img = svc.resolve(s.id);
    const cfgName = `${hexOf(img.record.id)}.json`;
    if (!written.has(cfgName)) {
      written.add(cfgName);
      await tw.entry({ name: cfgName, mtime: now }, img.configBytes);
    }
    const layers: string[] = [];
    for (let i = 0; i < img.diffIds.length; i++) {
      const dir = hexOf(img.diffIds[i]!);
      const file = `${dir}/layer.tar`;
      layers.push(file);
      if (written.has(file)) continue;
      written.add(file);
      const blob = img.manifest.layers[i]!;
      const info = svc.snapshots.has(img.chainIds[i]!) ? svc.snapshots.stat(img.chainIds[i]!) : undefined;
      let size = info?.tarSize;
      if (size === undefined) { size = 0; for await (const c of decompress(svc.content.readStream(blob.digest))) size += c.length; }
      await tw.entry({ name: `${dir}/`, type: 'dir', mode: 0o755, mtime: now });
      await tw.entry({ name: `${dir}/VERSION`, mtime: now }, Buffer.from('1.0'));
      await tw.entry({ name: file, size, mtime: now }, decompress(svc.content.readStream(blob.digest)));
    }
    manifest.push({ Config: cfgName, RepoTags: s.tags.length ? s.tags.map(familiarString) : null, Layers: layers });
    for (const t of s.tags) {
      const r = parseReference(t);
      const repo = familiarString(repoName(r));
      (repositories[repo] ??= {})[r.tag ?? 'latest'] = hexOf(img.diffIds.length ? chainIds(img.diffIds).at(-1)! : img.record.id);
    }
  }
  await tw.entry({ name: 'manifest.json', mtime: now }, Buffer.from(JSON.stringify(manifest)));
  if (Object.keys(repositories).length) await tw.entry({ name: 'repositories', mtime: now }, Buffer.from(JSON.stringify(repositories)));
  await tw.finish();
}

/**
 * A layer unpacked while the archive streams in (the manifest naming the layers comes last in a docker
 * save): the file's digest, hashed on the way to the disk, and its tree staged for Snapshotter.publish.
 * Undefined staged: the entry was not a layer tar (a config, a bad tar): the slow path reads the file.
 */
interface Early { digest: string; size: number; staged: Promise<StagedLayer | undefined>; written?: Promise<void> }

// a `docker save` layer, or an OCI layout blob that may be one (configs and manifests fail the tar parse)
const LAYER_NAME = /(^|\/)layer\.tar$|^blobs\/sha256\/[a-f0-9]{64}$/;
// bytes parsed ahead of the unpack worker before the archive stream waits for it
const AHEAD = 8 << 20;
// layers still unpacking while the archive stream goes on
const MAX_WORKERS = 2;
// a layer file's bytes are flushed while it is written (one fdatasync in flight, off the loop), so the
// fsync before it is linked into the content store finds little left: it was ~0.3 s of a 200 MB load's tail
const SYNC_EVERY = 32 << 20;

/**
 * Extracts an archive's regular files into dir; symlinks/hard links become aliases resolved inside it.
 * Layer tars are also unpacked as they arrive (`early`, keyed by their path in dir): the archive is read
 * once, each layer written twice (the blob, its tree) and hashed once, the unpack on a worker thread.
 */
async function extract(svc: ImageService, src: AsyncIterable<Uint8Array>, dir: string): Promise<{ aliases: Map<string, string>; early: Map<string, Early> }> {
  const aliases = new Map<string, string>();
  const early = new Map<string, Early>();
  let fd = -1;
  let cur: { p: string; feed: Feed; hash: Hash; early: Early; unsynced: number; syncing?: Promise<void> } | undefined;
  const made = new Set<string>();
  const mkdirs = (rel: string) => { if (rel && !made.has(rel)) { fs.mkdirSync(path.join(dir, rel), { recursive: true }); made.add(rel); } };
  const worker = await import('../snapshots/unpack-worker.js');
  const running = new Set<Promise<unknown>>();
  const parser = new TarParser({
    entry(h) {
      const parts = cleanName(h.name);
      if (parts.length === 0) return;
      const rel = parts.join('/');
      if (h.type === 'dir') { mkdirs(rel); return; }
      if (h.type === 'symlink') { aliases.set(rel, path.posix.normalize(path.posix.join(path.posix.dirname(rel), h.linkname))); return; }
      if (h.type === 'link') { aliases.set(rel, cleanName(h.linkname).join('/')); return; }
      if (h.type !== 'file') return;
      // refused from the header, before the body reaches the disk
      if ((rel === 'manifest.json' || rel === 'index.json') && h.size > MAX_MANIFEST) throw new BerthError('InvalidArgument', `archive ${rel}: larger than the ${MAX_MANIFEST >> 20} MiB allowed`);
      mkdirs(parts.slice(0, -1).join('/'));
      const p = path.join(dir, rel);
      fd = fs.openSync(p, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_TRUNC | fs.constants.O_NOFOLLOW, 0o600);
      const old = early.get(p);
      if (old) { early.delete(p); void old.staged.then((s) => s && svc.snapshots.discard(s)); } // a later entry of the same name wins
      if (h.size >= 1024 && LAYER_NAME.test(rel)) {
        const feed = new Feed();
        const staged = svc.snapshots.stage((d) => worker.applyLayerInWorker(feed, d, undefined, { rawHashed: true })).catch(() => undefined);
        running.add(staged);
        void staged.then(() => running.delete(staged));
        cur = { p, feed, hash: createHash('sha256'), early: { digest: '', size: h.size, staged }, unsynced: 0 };
      }
    },
    data(c) {
      if (cur) { cur.hash.update(c); cur.feed.push(c); }
      let off = 0;
      while (off < c.length) off += fs.writeSync(fd, c, off);
      if (cur && (cur.unsynced += c.length) >= SYNC_EVERY && !cur.syncing) {
        cur.unsynced = 0;
        const c2 = cur;
        // an error here shows again in linkIn's fsync
        c2.syncing = new Promise<void>((resolve) => fs.fdatasync(fd, () => resolve())).then(() => { c2.syncing = undefined; });
      }
    },
    end() {
      // a flush still running keeps its fd: closed when it returns (linkIn fsyncs by path)
      if (fd >= 0) {
        const f = fd;
        if (cur?.syncing) cur.early.written = cur.syncing.then(() => fs.closeSync(f)); else fs.closeSync(f);
        fd = -1;
      }
      if (cur) { cur.feed.end(); cur.early.digest = `sha256:${cur.hash.digest('hex')}`; early.set(cur.p, cur.early); cur = undefined; }
    },
  });
  try {
    for await (const c of decompress(src)) {
      if (parser.finished) continue;
      parser.push(Buffer.from(c.buffer, c.byteOffset, c.length));
      if (cur) await cur.feed.room(AHEAD);
      // an archive of many small layers: a few workers at a time, not one per layer
      while (running.size > MAX_WORKERS) await Promise.race(running);
    }
    parser.close();
  } catch (e) {
    cur?.feed.end();
    if (cur) early.set(cur.p, cur.early); // its worker stops at the cut: dropped with the rest by the caller
    await dropEarly(svc, early);
    throw e;
  } finally {
    const f = fd;
    if (f >= 0) { if (cur?.syncing) void cur.syncing.then(() => fs.closeSync(f)); else fs.closeSync(f); }
  }
  return { aliases, early };
}

async function dropEarly(svc: ImageService, early: Map<string, Early>): Promise<void> {
  for (const e of early.values()) { const s = await e.staged; if (s) await svc.snapshots.discard(s); }
  early.clear();
}

export async function loadImages(svc: ImageService, src: AsyncIterable<Uint8Array>, o: LoadOptions = {}): Promise<LoadResult> {
  const report = o.onProgress ?? noProgress;
  const dir = path.join(svc.tmp, `load-${randomBytes(6).toString('hex')}`);
  fs.mkdirSync(dir, { recursive: true });
  const addedBlobs: string[] = [];
  const addedSnaps: string[] = [];
  let early = new Map<string, Early>();
  try {
    trace('load: archive in');
    const x = await extract(svc, src, dir);
    trace(`load: archive read, ${x.early.size} layer(s) unpacked on the way`);
    const aliases = x.aliases;
    early = x.early;
    const file = (rel: string): string => {
      let r = cleanName(rel).join('/');
      for (let i = 0; i < 40 && aliases.has(r); i++) r = aliases.get(r)!;
      if (r.startsWith('../') || r === '..') throw new BerthError('InvalidArgument', `archive entry ${rel} points outside the archive`);
      const p = path.join(dir, r);
      if (!fs.existsSync(p)) throw new BerthError('InvalidArgument', `archive is missing ${rel}`);
      return p;
    };
    const has = (rel: string) => fs.existsSync(path.join(dir, rel));
    const result: LoadResult = { loaded: [], ids: [] };

    const addLayers = async (config: Buffer, layerFiles: Array<{ path: string; desc?: Descriptor }>): Promise<Descriptor[]> => {
      const cfg = parseConfig(config);
      const chains = chainIds(cfg.rootfs.diff_ids);
      if (layerFiles.length !== chains.length) throw new BerthError('InvalidArgument', `archive image has ${layerFiles.length} layers but its config lists ${chains.length}`);
      const descs: Descriptor[] = [];
      for (let i = 0; i < chains.length; i++) {
        const lf = layerFiles[i]!;
        const head = Buffer.alloc(4);
        const fd = fs.openSync(lf.path, 'r');
        fs.readSync(fd, head, 0, 4, 0);
        fs.closeSync(fd);
        const size = fs.statSync(lf.path).size;
        const desc = lf.desc ?? { mediaType: layerMediaTypeFor(head, true), digest: '', size };
        report({ status: 'Loading layer', id: cfg.rootfs.diff_ids[i]!.slice(7, 19), progressDetail: { current: 0, total: size } });
        if (desc.digest && svc.content.has(desc.digest) && svc.snapshots.has(chains[i]!)) { descs.push(desc); continue; }
        const e = early.get(lf.path);
        early.delete(lf.path); // a staged tree is published once; a file named again takes the slow path
        const staged = e && await e.staged;
        if (e && staged) {
          // the tar's diffID: its digest when it is not compressed (the worker did not hash it then)
          const diffId = staged.result.diffId || e.digest;
          if (diffId === cfg.rootfs.diff_ids[i] && (!lf.desc || (lf.desc.digest === e.digest && lf.desc.size === e.size))) {
            trace(`load: layer ${i} unpacked`);
            await e.written;
            if (svc.content.linkIn(lf.path, e.digest)) addedBlobs.push(e.digest);
            trace(`load: layer ${i} blob synced and linked`);
            const info = await svc.snapshots.publish({ ...staged, result: { ...staged.result, diffId } }, chains[i]!, chains[i - 1]);
            trace(`load: layer ${i} published`);
            if (!info.existed) addedSnaps.push(chains[i]!);
            descs.push({ ...desc, digest: e.digest, size: e.size });
            continue;
          }
          await svc.snapshots.discard(staged); // not what the config says: the slow path gives the error
        }
        const r = await ingestLayer(svc, fs.createReadStream(lf.path, { highWaterMark: 1 << 20 }), { desc: { digest: desc.digest || undefined, size }, chain: chains[i]!, parent: chains[i - 1], diffId: cfg.rootfs.diff_ids[i], file: lf.path });
        addedBlobs.push(r.digest);
        if (r.newSnapshot) addedSnaps.push(r.chain);
        descs.push({ ...desc, digest: r.digest, size: r.size });
      }
      return descs;
    };

    const record = async (id: string, mdigest: string, mediaType: string, size: number, tags: string[]) => {
      await svc.store.put({ id, manifests: [{ digest: mdigest, mediaType, size, repos: [] }], indexes: [], added: isoTime() });
      await svc.addRefs(id, tags);
      result.ids.push(id);
      for (const t of tags) { result.loaded.push(familiarString(t)); report({ status: `Loaded image: ${familiarString(t)}` }); }
      if (tags.length === 0) { result.loaded.push(id); report({ status: `Loaded image ID: ${id}` }); }
    };
    const putBlob = (bytes: Buffer, digest?: string) => { const d = sha256(bytes); if (!svc.content.has(d)) { svc.content.writeBlob(bytes, digest); addedBlobs.push(d); } return d; };

    if (has('oci-layout') && has('index.json')) {
      const idx = parseIndex(readFileCapped(path.join(dir, 'index.json'), MAX_MANIFEST, 'archive index.json'));
      const blob = (d: string) => file(`blobs/sha256/${hexOf(d)}`);
      for (const entry of idx.manifests) {
        let mdesc = entry;
        const bytes0 = readFileCapped(blob(entry.digest), MAX_MANIFEST, `archive manifest ${entry.digest}`);
        if (isIndexType(detectType(bytes0, entry.mediaType))) mdesc = selectPlatform(parseIndex(bytes0), hostPlatform());
        const mbytes = readFileCapped(blob(mdesc.digest), MAX_MANIFEST, `archive manifest ${mdesc.digest}`);
        if (sha256(mbytes) !== mdesc.digest) throw new BerthError('InvalidArgument', `archive manifest ${mdesc.digest}: digest mismatch`);
        const m = parseManifest(mbytes);
        const cfg = readFileCapped(blob(m.config.digest), MAX_CONFIG, `archive config ${m.config.digest}`);
        if (sha256(cfg) !== m.config.digest) throw new BerthError('InvalidArgument', `archive config ${m.config.digest}: digest mismatch`);
        await addLayers(cfg, m.layers.map((l) => ({ path: blob(l.digest), desc: l })));
        putBlob(cfg, m.config.digest);
        putBlob(mbytes, mdesc.digest);
        const name = entry.annotations?.['io.containerd.image.name'] ?? entry.annotations?.['org.opencontainers.image.ref.name'];
        let tags: string[] = [];
        if (name) { try { tags = [formatReference(parseReference(name))]; } catch { /* a bare tag without a name: load untagged */ } }
        await record(m.config.digest, mdesc.digest, detectType(mbytes, mdesc.mediaType), mbytes.length, tags);
      }
      return result;
    }
    if (!has('manifest.json') && has('repositories')) return await loadLegacy(dir, file, addLayers, putBlob, record, result);
    if (!has('manifest.json')) throw new BerthError('InvalidArgument', 'archive has neither manifest.json nor an OCI index.json');
    const entries = JSON.parse(readFileCapped(path.join(dir, 'manifest.json'), MAX_MANIFEST, 'archive manifest.json').toString('utf8')) as Array<{ Config: string; RepoTags?: string[] | null; Layers: string[] }>;
    for (const e of entries) {
      const cfg = readFileCapped(file(e.Config), MAX_CONFIG, `archive config ${e.Config}`);
      const id = sha256(cfg);
      const layers = await addLayers(cfg, e.Layers.map((l) => ({ path: file(l) })));
      putBlob(cfg);
      const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MT.ociManifest, config: { mediaType: MT.ociConfig, digest: id, size: cfg.length }, layers }));
      const md = putBlob(manifest);
      await record(id, md, MT.ociManifest, manifest.length, (e.RepoTags ?? []).map((t) => formatReference(parseReference(t))));
    }
    return result;
  } catch (e) {
    await rollback(svc, addedBlobs, addedSnaps);
    throw e;
  } finally {
    await dropEarly(svc, early);
    await fs.promises.rm(dir, { recursive: true, force: true });
  }
}

/** The digest of a layer's uncompressed tar (its diff ID). */
async function diffIdOf(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const c of decompress(fs.createReadStream(file, { highWaterMark: 1 << 20 }))) h.update(c);
  return `sha256:${h.digest('hex')}`;
}

type FileFn = (rel: string) => string;
type AddLayersFn = (config: Buffer, layerFiles: Array<{ path: string }>) => Promise<Descriptor[]>;
type PutBlobFn = (bytes: Buffer) => string;
type RecordFn = (id: string, mdigest: string, mediaType: string, size: number, tags: string[]) => Promise<void>;

/** Reads a legacy-format layer config (<id>/json): its parent link and, when it is a v1 image json, the config. */
function legacyJson(file: FileFn, id: string): Record<string, unknown> {
  return JSON.parse(readFileCapped(file(`${id}/json`), MAX_CONFIG, `archive ${id}/json`).toString('utf8')) as Record<string, unknown>;
}

/**
 * The pre-1.10 `docker save` layout dockerd still loads: `repositories` ({repo: {tag: topLayerId}}) and a
 * directory per layer with its v1 json (parent link + config) and layer.tar. The image config is rebuilt
 * from the top layer's json with the layers' diff IDs, as dockerd's legacy loader does.
 */
async function loadLegacy(dir: string, file: FileFn, addLayers: AddLayersFn, putBlob: PutBlobFn, record: RecordFn, result: LoadResult): Promise<LoadResult> {
  const repos = JSON.parse(readFileCapped(path.join(dir, 'repositories'), MAX_MANIFEST, 'archive repositories').toString('utf8')) as Record<string, Record<string, string>>;
  if (!repos || typeof repos !== 'object') throw new BerthError('InvalidArgument', 'archive repositories: not an object');
  const byTop = new Map<string, string[]>();
  for (const [repo, tags] of Object.entries(repos)) {
    for (const [tag, top] of Object.entries(tags ?? {})) {
      if (!/^[a-f0-9]{64}$/.test(String(top))) throw new BerthError('InvalidArgument', `archive repositories: ${repo}:${tag} names an invalid layer ID`);
      const list = byTop.get(top) ?? [];
      list.push(formatReference(parseReference(`${repo}:${tag}`)));
      byTop.set(top, list);
    }
  }
  for (const [top, tags] of byTop) {
    const chain: string[] = [];
    for (let id: string | undefined = top; id; ) {
      if (chain.includes(id) || chain.length > 127) throw new BerthError('InvalidArgument', `archive layer ${top}: parent chain loops or is too long`);
      chain.unshift(id);
      const parent: unknown = legacyJson(file, id)['parent'];
      id = typeof parent === 'string' && parent ? parent : undefined;
    }
    const v1 = legacyJson(file, top);
    const diffIds: string[] = [];
    for (const l of chain) diffIds.push(await diffIdOf(file(`${l}/layer.tar`)));
    const cfg: Record<string, unknown> = {};
    for (const k of ['architecture', 'os', 'variant', 'created', 'author', 'config', 'container', 'container_config', 'docker_version']) if (v1[k] !== undefined) cfg[k] = v1[k];
    cfg['architecture'] ??= 'amd64';
    cfg['os'] ??= 'linux';
    cfg['rootfs'] = { type: 'layers', diff_ids: diffIds };
    cfg['history'] = chain.map((id) => { const j = legacyJson(file, id); return { created: j['created'] ?? cfg['created'], created_by: ((j['container_config'] as { Cmd?: string[] } | undefined)?.Cmd ?? []).join(' ') }; });
    const cbytes = Buffer.from(JSON.stringify(cfg));
    const id = sha256(cbytes);
    const layers = await addLayers(cbytes, chain.map((l) => ({ path: file(`${l}/layer.tar`) })));
    putBlob(cbytes);
    const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MT.ociManifest, config: { mediaType: MT.ociConfig, digest: id, size: cbytes.length }, layers }));
    const md = putBlob(manifest);
    await record(id, md, MT.ociManifest, manifest.length, tags);
  }
  return result;
}
