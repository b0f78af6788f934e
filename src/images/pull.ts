// images/pull: resolve -> platform manifest -> config -> layers (concurrent, unpacked while
// downloading, skipped when present) -> record and references. A failed pull removes what it added.
import type { Platform } from '../content/store.js';
import { shortId } from '../content/digest.js';
import { BerthError, isBerthError } from '../errors.js';
import { familiarName, formatReference, parseReference, repoName } from '../registry/reference.js';
import { chainIds } from '../snapshots/chain.js';
import { ingestLayer } from './layers.js';
import { detectType, hostPlatform, isForeign, isIndexType, isManifestType, parseConfig, parseIndex, parseManifest, selectPlatform } from './manifest.js';
import { byteReporter, noProgress, type ProgressFn } from './progress.js';
import type { ImageService } from './service.js';
import type { ManifestRef } from './store.js';
import { limit } from './tee.js';
import { MAX_CONFIG, readResponseCapped } from '../util/read-capped.js';
import { isoTime } from '../util/time.js';

export interface PullOptions { platform?: Platform; onProgress?: ProgressFn }
export interface PullResult { id: string; digest: string; ref: string; newer: boolean }

function transient(e: unknown): boolean {
  if (isBerthError(e)) return e.kind === 'Unavailable';
  // undici ends a body that broke off mid-stream with TypeError('terminated'), node:http with ECONNRESET ('aborted')
  return e instanceof TypeError || (e as { code?: string }).code === 'ECONNRESET' || (e as { code?: string }).code === 'UND_ERR_SOCKET';
}

export async function pullImage(svc: ImageService, refStr: string, o: PullOptions = {}): Promise<PullResult> {
  const report = o.onProgress ?? noProgress;
  const ref = parseReference(refStr);
  const name = repoName(ref);
  const client = svc.client(ref.domain);
  report({ status: `Pulling from ${familiarName(name)}`, id: ref.tag ?? ref.digest });
  const top = await client.getManifest(ref);
  const addedBlobs: string[] = [];
  const addedSnaps: string[] = [];
  try {
    let man = top;
    let index: ManifestRef | undefined;
    const topType = detectType(top.bytes, top.mediaType);
    if (isIndexType(topType)) {
      const d = selectPlatform(parseIndex(top.bytes), o.platform ?? hostPlatform());
      man = await client.getManifest({ ...ref, tag: undefined, digest: d.digest });
      index = { digest: top.digest, mediaType: topType, size: top.size, repos: [name] };
    } else if (!isManifestType(topType)) {
      if (topType.includes('v1+')) parseManifest(top.bytes); // throws the schema 1 message
      throw new BerthError('InvalidArgument', `unsupported manifest media type ${topType || '(none)'}`);
    }
    const manType = detectType(man.bytes, man.mediaType);
    const manifest = parseManifest(man.bytes);

    let configBytes: Buffer;
    if (svc.content.has(manifest.config.digest)) configBytes = svc.content.read(manifest.config.digest);
    else {
      const res = await client.getBlob(ref.path, manifest.config.digest);
      configBytes = await readResponseCapped(res, MAX_CONFIG, `image config ${manifest.config.digest}`);
    }
    const config = parseConfig(configBytes);
    const id = manifest.config.digest;
    const layers = manifest.layers.filter((l) => !isForeign(l));
    const diffIds = config.rootfs.diff_ids;
    if (layers.length !== diffIds.length) throw new BerthError('InvalidArgument', `image ${id}: ${layers.length} layers but ${diffIds.length} diff IDs`);
    const chains = chainIds(diffIds);
    const existed = !!svc.store.get(id);

    for (const l of layers) report({ status: svc.snapshots.has(chains[layers.indexOf(l)]!) && svc.content.has(l.digest) ? 'Already exists' : 'Pulling fs layer', id: shortId(l.digest) });
    await limit(svc.opts.concurrency ?? 3, layers, async (l, i) => {
      const short = shortId(l.digest);
      const chain = chains[i]!;
      const haveSnap = svc.snapshots.has(chain);
      const haveBlob = svc.content.has(l.digest);
      if (haveSnap && haveBlob) return;
      for (let attempt = 0; ; attempt++) {
        let body: AsyncIterable<Uint8Array> | undefined;
        try {
          if (haveBlob) {
            await svc.snapshots.unpack(chain, chains[i - 1], svc.content.readStream(l.digest), diffIds[i]);
            addedSnaps.push(chain);
            break;
          }
          body = await client.getBlobBody(ref.path, l.digest);
          const onBytes = byteReporter(report, short, 'Downloading', l.size);
          if (haveSnap) {
            await svc.content.ingest(countBytes(body, onBytes), { digest: l.digest, size: l.size });
            addedBlobs.push(l.digest);
            break;
          }
          const r = await ingestLayer(svc, body, { desc: l, chain, parent: chains[i - 1], diffId: diffIds[i], onBytes });
          addedBlobs.push(l.digest);
          if (r.newSnapshot) addedSnaps.push(chain);
          break;
        } catch (e) {
          (body as { destroy?: () => void } | undefined)?.destroy?.(); // its socket, when it failed before reading to the end
          if (attempt < 2 && transient(e)) { report({ status: `Retrying in ${attempt + 1} second`, id: short }); await new Promise((r) => setTimeout(r, 1000 * (attempt + 1))); continue; }
          throw new BerthError(isBerthError(e) ? e.kind : 'Unavailable', `pull layer ${l.digest}: ${(e as Error).message}`, { cause: e });
        }
      }
      report({ status: 'Verifying Checksum', id: short });
      report({ status: 'Download complete', id: short });
      report({ status: 'Pull complete', id: short });
    });

    // small documents last: a record only ever points at blobs that are all here
    for (const [bytes, digest] of [[configBytes, id], [man.bytes, man.digest], ...(index ? [[top.bytes, top.digest]] : [])] as Array<[Buffer, string]>) {
      if (!svc.content.has(digest)) { svc.content.writeBlob(bytes, digest); addedBlobs.push(digest); }
    }
    await svc.store.put({ id, manifests: [{ digest: man.digest, mediaType: manType, size: man.size, repos: [name] }], indexes: index ? [index] : [], added: isoTime() });
    const refs = [`${name}@${top.digest}`];
    if (ref.tag && !ref.digest) refs.push(formatReference({ ...ref, digest: undefined }));
    const before = ref.tag ? svc.store.refs()[formatReference({ ...ref, digest: undefined })] : undefined;
    await svc.addRefs(id, refs);
    report({ status: `Digest: ${top.digest}` });
    const newer = !existed || before !== id;
    report({ status: newer ? `Status: Downloaded newer image for ${familiarName(name)}${ref.tag ? `:${ref.tag}` : `@${ref.digest}`}` : `Status: Image is up to date for ${familiarName(name)}${ref.tag ? `:${ref.tag}` : `@${ref.digest}`}` });
    return { id, digest: top.digest, ref: formatReference(ref), newer };
  } catch (e) {
    await rollback(svc, addedBlobs, addedSnaps);
    throw e;
  }
}

async function* countBytes(src: AsyncIterable<Uint8Array>, on: (n: number) => void): AsyncGenerator<Uint8Array> {
  for await (const c of src) { on(c.length); yield c; }
}

/** Removes what a failed operation added, unless an image came to reference it meanwhile. */
export async function rollback(svc: ImageService, blobs: string[], snaps: string[]): Promise<void> {
  const { blobs: keepB, chains: keepC } = svc.references();
  for (const b of blobs) if (!keepB.has(b)) svc.content.remove(b);
  for (const s of [...snaps].reverse()) if (!keepC.has(s)) await svc.snapshots.remove(s).catch(() => {});
}
