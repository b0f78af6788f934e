// images/push: blobs first (HEAD to skip, cross-repository mount, monolithic or chunked upload),
// then the manifest under the tag, as distribution requires.
import * as fs from 'node:fs';
import { shortId } from '../content/digest.js';
import type { Descriptor } from '../content/store.js';
import { BerthError } from '../errors.js';
import { familiarName, formatReference, parseReference, repoName } from '../registry/reference.js';
import { byteReporter, noProgress, type ProgressFn } from './progress.js';
import type { ImageService } from './service.js';
import { limit } from './tee.js';

export interface PushOptions { onProgress?: ProgressFn; /** blobs above this go up in PATCH chunks of this size */ chunkSize?: number }
export interface PushResult { digest: string; size: number; tag: string }

export async function pushImage(svc: ImageService, refStr: string, o: PushOptions = {}): Promise<PushResult> {
  const report = o.onProgress ?? noProgress;
  const ref = parseReference(refStr);
  if (ref.digest) throw new BerthError('InvalidArgument', 'cannot push a digest reference');
  const name = repoName(ref);
  const key = formatReference(ref);
  const id = svc.store.refs()[key];
  if (!id) throw new BerthError('NotFound', `An image does not exist locally with the tag: ${familiarName(name)}`);
  const img = svc.resolve(id);
  const client = svc.client(ref.domain);
  report({ status: `The push refers to repository [${name}]` });
  await client.ping();

  const missing = img.manifest.layers.filter((l) => !svc.content.has(l.digest));
  if (missing.length) throw new BerthError('FailedPrecondition', `image ${id}: layer blob ${missing[0]!.digest} is not in the content store`);
  // other repositories of the same registry that hold these blobs: mount instead of upload
  const sources = [...new Set(img.record.manifests.flatMap((m) => m.repos))]
    .filter((r) => r.startsWith(`${ref.domain}/`) && r !== name)
    .map((r) => r.slice(ref.domain.length + 1));

  const pushOne = async (d: Descriptor, quiet: boolean) => {
    const short = shortId(d.digest);
    if (!quiet) report({ status: 'Preparing', id: short });
    if (await client.hasBlob(ref.path, d.digest)) { if (!quiet) report({ status: 'Layer already exists', id: short }); return; }
    let location: string | undefined;
    for (const from of sources) {
      const m = await client.mountBlob(ref.path, d.digest, from);
      if (m.mounted) { if (!quiet) report({ status: `Mounted from ${familiarName(`${ref.domain}/${from}`)}`, id: short }); return; }
      location = m.location ? new URL(m.location, client.url('/')).toString() : undefined;
    }
    const file = svc.content.path(d.digest);
    await client.pushBlob(ref.path, d.digest, d.size, (start, end) => fs.createReadStream(file, { start, end: end - 1, highWaterMark: 1 << 20 }), {
      location, chunkSize: o.chunkSize, onProgress: quiet ? undefined : byteReporter(report, short, 'Pushing', d.size),
    });
    if (!quiet) report({ status: 'Pushed', id: short });
  };
  await limit(svc.opts.concurrency ?? 3, [...img.manifest.layers].reverse(), (l) => pushOne(l, false));
  await pushOne(img.manifest.config, true);

  const bytes = svc.content.read(img.manifestRef.digest);
  const tag = ref.tag ?? 'latest';
  const digest = await client.putManifest(ref.path, tag, img.manifestRef.mediaType, bytes);
  if (digest !== img.manifestRef.digest) throw new BerthError('Internal', `registry stored the manifest as ${digest}, expected ${img.manifestRef.digest}`);
  await svc.store.put({ ...img.record, manifests: [{ ...img.manifestRef, repos: [name] }], indexes: [] });
  await svc.addRefs(id, [`${name}@${digest}`]);
  report({ status: `${tag}: digest: ${digest} size: ${bytes.length}` });
  return { digest, size: bytes.length, tag };
}
