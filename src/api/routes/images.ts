// api/routes/images: the image endpoints, translated to ImageService calls. Image names in paths are
// routed greedily (`/images/{name:.*}/json`), as references hold `/` and `:`. Each verb that changes
// the store publishes docker's image event (moby daemon/images: LogImageEvent).
import type * as http from 'node:http';
import { Readable } from 'node:stream';
import { BerthError } from '../../errors.js';
import { parsePlatform, type ImageSummary, type ProgressMessage } from '../../images/index.js';
import { familiarName, familiarString, formatReference, parseReference, repoName } from '../../registry/index.js';
import { decodeAuthHeader, withRegistryAuth } from '../auth.js';
import { JsonStream, sendEmpty, sendJson, writeAll } from '../http.js';
import { boolValue, checkFilters, filterBool, globMatch, intValue, matchLabels, parseFilters, type Filters } from '../query.js';
import type { Context, Router } from '../router.js';
import type { ApiServices } from '../server.js';
import { compareVersions } from '../version.js';
import { parseChanges } from './changes.js';
import { distributionInspect } from '../../images/distribution.js';
import { searchImages } from '../../images/search.js';

const NAME = '{name:.+}';

/** VirtualSize is gone from the API since 1.44 (docs/api/version-history.md). */
function forVersion<T extends { VirtualSize?: number }>(v: string, x: T): T {
  if (compareVersions(v, '1.44') >= 0) { const { VirtualSize: _, ...rest } = x; return rest as T; }
  return x;
}

/** `fromImage` + `tag` as moby's httputils.RepoTagReference: a tag or digest given apart replaces the reference's own. */
export function pullReference(fromImage: string, tag: string | null): string {
  const r = parseReference(fromImage, false);
  if (tag) {
    if (/^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:/.test(tag)) return formatReference({ domain: r.domain, path: r.path, digest: tag });
    return formatReference({ domain: r.domain, path: r.path, tag });
  }
  return formatReference(r.tag || r.digest ? r : { ...r, tag: 'latest' });
}

function imageAttrs(s: ApiServices, id: string, name: string): Record<string, string> {
  let labels: Record<string, string> = {};
  try { labels = (s.images.resolve(id).config.config?.Labels as Record<string, string> | undefined) ?? {}; } catch { /* gone already */ }
  return { ...labels, name };
}

/** Image list filters (moby daemon/images/images.go acceptedImageFilterTags). */
export function filterImages(s: ApiServices, list: ImageSummary[], f: Filters): ImageSummary[] {
  checkFilters(f, ['dangling', 'label', 'before', 'since', 'reference', 'until']);
  const dangling = filterBool(f, 'dangling');
  const createdOf = (name: string) => {
    const id = s.images.resolveId(name);
    return list.find((i) => i.Id === id)?.Created ?? 0;
  };
  const before = f.has('before') ? Math.min(...[...f.get('before')!].map(createdOf)) : undefined;
  const since = f.has('since') ? Math.max(...[...f.get('since')!].map(createdOf)) : undefined;
  const until = f.has('until') ? Math.min(...[...f.get('until')!].map((v) => (/^\d+$/.test(v) ? Number(v) : Date.parse(v) / 1000))) : undefined;
  const refs = f.get('reference');
  // FamiliarMatch: the pattern against the familiar name, or against the familiar name:tag
  const refMatch = (t: string) => {
    const nm = familiarName(repoName(parseReference(t, false)));
    return [...refs!].some((p) => globMatch(p, nm) || globMatch(p, t));
  };
  const out: ImageSummary[] = [];
  for (const i of list) {
    if (dangling !== undefined && (i.RepoTags.length === 0) !== dangling) continue;
    if (!matchLabels(f.get('label'), i.Labels)) continue;
    if (before !== undefined && !(i.Created < before)) continue;
    if (since !== undefined && !(i.Created > since)) continue;
    if (until !== undefined && !(i.Created < until)) continue;
    if (refs) {
      // moby lists only the names that matched (daemon/images/images.go)
      const tags = i.RepoTags.filter(refMatch);
      const digests = i.RepoDigests.filter(refMatch);
      if (tags.length === 0 && digests.length === 0) continue;
      out.push({ ...i, RepoTags: tags, RepoDigests: digests });
      continue;
    }
    out.push(i);
  }
  return out;
}

async function pull(s: ApiServices, ctx: Context, fromImage: string): Promise<void> {
  const { req, res, query } = ctx;
  const ref = pullReference(fromImage, query.get('tag'));
  const platform = query.get('platform') ? parsePlatform(query.get('platform')!) : undefined;
  // moby writes "Pulling from" only once the manifest resolved: until then an error is a plain HTTP error
  const stream = new JsonStream(res, (m) => typeof (m as ProgressMessage).status === 'string' && (m as ProgressMessage).status.startsWith('Pulling from'));
  req.resume();
  try {
    const r = await withRegistryAuth(decodeAuthHeader(req.headers['x-registry-auth']), () => s.images.pull(ref, { platform, onProgress: (m) => stream.write(m) }));
    const fr = parseReference(r.ref, false);
    s.events.publish('image', 'pull', familiarString(r.ref), { ...imageAttrs(s, r.id, familiarName(repoName(fr))) });
    stream.end();
  } catch (e) {
    if (!stream.end(e)) throw e;
  }
}

async function importFrom(s: ApiServices, ctx: Context, src: string): Promise<void> {
  const { req, res, query } = ctx;
  const repo = query.get('repo') ?? '';
  const tag = query.get('tag') ?? '';
  const target = repo ? pullReference(repo, tag || null) : undefined;
  const platform = query.get('platform') ? parsePlatform(query.get('platform')!) : undefined;
  const config = parseChanges(query.getAll('changes'));
  let body: AsyncIterable<Uint8Array>;
  if (src === '-') body = req;
  else {
    req.resume();
    let u: URL;
    try { u = new URL(/^https?:\/\//.test(src) ? src : `http://${src}`); } catch { throw new BerthError('InvalidArgument', `invalid fromSrc URL ${JSON.stringify(src)}`); }
    const r = await fetch(u);
    if (!r.ok || !r.body) throw new BerthError('Unavailable', `import ${u}: server answered ${r.status}`);
    body = Readable.fromWeb(r.body as import('node:stream/web').ReadableStream<Uint8Array>);
  }
  const stream = new JsonStream(res);
  try {
    // moby image_import.go: no message is "Imported from <fromSrc>" (`-` for a body), in the config and its history
    const id = await s.images.import(body, { ref: target, message: query.get('message') || `Imported from ${src}`, config, platform });
    s.events.publish('image', 'import', id, imageAttrs(s, id, id));
    if (target) s.events.publish('image', 'tag', id, imageAttrs(s, id, familiarString(target)));
    stream.write({ status: id });
    stream.end();
  } catch (e) {
    if (!stream.end(e)) throw e;
  }
}

async function push(s: ApiServices, ctx: Context): Promise<void> {
  const { req, res, query, params } = ctx;
  req.resume();
  const base = parseReference(params.name!, false);
  const tag = query.get('tag') || base.tag;
  let refs: string[];
  if (tag) refs = [formatReference({ domain: base.domain, path: base.path, tag })];
  else {
    // `docker push -a`: every local tag of the repository
    const repo = repoName(base);
    refs = Object.keys(s.images.store.refs()).filter((k) => !k.includes('@') && repoName(parseReference(k, false)) === repo).sort();
    if (refs.length === 0) throw new BerthError('NotFound', `An image does not exist locally with the tag: ${familiarName(repo)}`);
  }
  const auth = decodeAuthHeader(req.headers['x-registry-auth']);
  const stream = new JsonStream(res);
  try {
    for (const ref of refs) {
      const r = await withRegistryAuth(auth, () => s.images.push(ref, { onProgress: (m) => stream.write(m) }));
      stream.write({ progressDetail: {}, aux: { Tag: r.tag, Digest: r.digest, Size: r.size } });
      s.events.publish('image', 'push', familiarString(ref), { name: familiarName(repoName(parseReference(ref, false))) });
    }
    stream.end();
  } catch (e) {
    if (!stream.end(e)) throw e;
  }
}

async function save(s: ApiServices, res: http.ServerResponse, names: string[]): Promise<void> {
  if (names.length === 0) throw new BerthError('InvalidArgument', 'no images specified');
  for (const n of names) s.images.resolveId(n); // 404 before any byte
  let started = false;
  try {
    await s.images.save(names, (c) => {
      if (!started) { started = true; res.writeHead(200, { 'Content-Type': 'application/x-tar' }); }
      return writeAll(res, c);
    });
    if (!started) res.writeHead(200, { 'Content-Type': 'application/x-tar' });
    res.end();
    // moby image_exporter: one "save" event per image saved
    for (const n of names) { const id = s.images.resolveId(n); s.events.publish('image', 'save', id, imageAttrs(s, id, n)); }
  } catch (e) {
    if (!started) throw e;
    res.destroy(e as Error); // a half-written tar must not look complete
  }
}

async function load(s: ApiServices, ctx: Context): Promise<void> {
  const { req, res, query } = ctx;
  const quiet = boolValue(query, 'quiet');
  const stream = new JsonStream(res);
  // docker answers 200 at once and reports a bad archive (even a body that is not a tar) in the stream
  stream.start();
  try {
    const r = await s.images.load(req, {
      onProgress: (m) => {
        if (m.status.startsWith('Loaded image')) stream.write({ stream: `${m.status}\n` });
        else if (!quiet) stream.write(m);
      },
    });
    for (const id of r.ids) s.events.publish('image', 'load', id, imageAttrs(s, id, id));
    stream.end();
  } catch (e) {
    if (!stream.end(e)) throw e;
  }
}

export function imageRoutes(r: Router, s: ApiServices): void {
  r.post('/images/create', async (ctx) => {
    const fromImage = ctx.query.get('fromImage');
    const fromSrc = ctx.query.get('fromSrc');
    if (fromImage) return pull(s, ctx, fromImage);
    if (fromSrc) return importFrom(s, ctx, fromSrc);
    throw new BerthError('InvalidArgument', 'fromImage or fromSrc is required');
  });

  r.get('/images/json', ({ res, query, version }) => {
    const f = parseFilters(query.get('filters'));
    // the legacy `filter` parameter (API < 1.41) is a reference pattern
    if (query.get('filter')) f.set('reference', new Set([query.get('filter')!]));
    const list = filterImages(s, s.images.list({ all: boolValue(query, 'all') }), f);
    sendJson(res, 200, list.map((i) => forVersion(version, i)));
  });

  r.get('/images/search', async ({ res, query }) => {
    const f = parseFilters(query.get('filters'));
    checkFilters(f, ['is-official', 'is-automated', 'stars']);
    const official = filterBool(f, 'is-official');
    const automated = filterBool(f, 'is-automated');
    const stars = Number([...(f.get('stars') ?? [])][0] ?? 0);
    const found = await searchImages(query.get('term') ?? '', intValue(query, 'limit', 25));
    sendJson(res, 200, found.filter((x) => (official === undefined || x.is_official === official) && (automated === undefined || x.is_automated === automated) && x.star_count >= stars));
  });
  r.get(`/distribution/${NAME}/json`, async ({ req, res, params }) => {
    sendJson(res, 200, await withRegistryAuth(decodeAuthHeader(req.headers['x-registry-auth']), () => distributionInspect(s.images, params.name!)));
  });
  r.get('/images/get', ({ res, query }) => save(s, res, query.getAll('names').flatMap((n) => n.split(',')).filter(Boolean)));
  r.post('/images/load', (ctx) => load(s, ctx));

  r.post('/images/prune', async ({ req, res, query }) => {
    req.resume();
    const f = parseFilters(query.get('filters'));
    checkFilters(f, ['dangling', 'label', 'until']);
    if (f.has('label') || f.has('until')) throw new BerthError('NotImplemented', `image prune: the ${f.has('label') ? 'label' : 'until'} filter is not supported yet`);
    const dangling = filterBool(f, 'dangling');
    const before = new Set(s.images.store.list().map((x) => x.id));
    const report = await s.images.prune({ all: dangling === false });
    for (const d of report.ImagesDeleted) {
      if (d.Untagged) s.events.publish('image', 'untag', d.Untagged, { name: d.Untagged });
      if (d.Deleted && before.has(d.Deleted)) s.events.publish('image', 'delete', d.Deleted, { name: d.Deleted });
    }
    sendJson(res, 200, { ImagesDeleted: report.ImagesDeleted.length ? report.ImagesDeleted : null, SpaceReclaimed: report.SpaceReclaimed });
  });

  r.get(`/images/${NAME}/json`, ({ res, params, version }) => sendJson(res, 200, forVersion(version, s.images.inspect(params.name!))));
  r.get(`/images/${NAME}/history`, ({ res, params }) => sendJson(res, 200, s.images.history(params.name!)));
  r.get(`/images/${NAME}/get`, ({ res, params }) => save(s, res, [params.name!]));

  r.post(`/images/${NAME}/tag`, async ({ req, res, params, query }) => {
    req.resume();
    const repo = query.get('repo') ?? '';
    if (!repo) throw new BerthError('InvalidArgument', 'repository name must have at least one component');
    const tag = query.get('tag') ?? '';
    // reference.ParseNormalizedNamed: a 64-hex name would read as an image ID
    if (/^[a-f0-9]{64}$/.test(repo)) throw new BerthError('InvalidArgument', `invalid repository name (${repo}), cannot specify 64-byte hexadecimal strings`);
    // httputils.RepoTagReference: the repo parses alone, then the tag replaces its own
    const parsed = parseReference(repo);
    const target = tag ? { ...parseReference(`${formatReference({ domain: parsed.domain, path: parsed.path })}:${tag}`), digest: parsed.digest } : parsed;
    if (familiarName(repoName(target)) === 'sha256') throw new BerthError('InvalidArgument', 'refusing to create an ambiguous tag using digest algorithm as name');
    const id = s.images.resolveId(params.name!); // after the target parsed: a bad name is 400 first, as moby
    await s.images.tag(params.name!, formatReference(target));
    s.events.publish('image', 'tag', id, imageAttrs(s, id, familiarString(formatReference(target))));
    sendEmpty(res, 201);
  });

  r.post(`/images/${NAME}/push`, (ctx) => push(s, ctx));

  r.delete(`/images/${NAME}`, async ({ req, res, params, query }) => {
    req.resume();
    const id = s.images.resolveId(params.name!);
    const attrs = imageAttrs(s, id, id);
    const items = await s.images.remove(params.name!, { force: boolValue(query, 'force'), noPrune: boolValue(query, 'noprune') });
    for (const d of items) {
      if (d.Untagged) s.events.publish('image', 'untag', id, { ...attrs, name: id });
      if (d.Deleted === id) s.events.publish('image', 'delete', id, { ...attrs, name: id });
    }
    sendJson(res, 200, items);
  });
}
