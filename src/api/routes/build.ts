// api/routes/build: POST /build as docker's classic builder speaks it (moby api/server/router/build):
// the context is the request body, options are query parameters, progress is a JSON stream of
// `stream` lines, an `aux` record with the image ID, and `errorDetail` on failure. Translation only:
// build/ does the work.
import * as fs from 'node:fs';
import { BerthError } from '../../errors.js';
import { BuildCache } from '../../build/cache.js';
import { parsePlatform } from '../../images/manifest.js';
import { JsonStream, sendJson } from '../http.js';
import { boolValue, checkFilters, parseFilters } from '../query.js';
import type { Router } from '../router.js';
import type { ApiServices } from '../server.js';
import { containerService } from './containers.js';
import { trace } from '../../util/trace.js';
import { timestampMs } from '../../util/timestamp.js';

function jsonParam<T>(q: URLSearchParams, name: string): T | undefined {
  const v = q.get(name);
  if (!v) return undefined;
  try { return JSON.parse(v) as T; } catch { throw new BerthError('InvalidArgument', `invalid ${name} value: ${JSON.stringify(v)}`); }
}

export function buildRoutes(r: Router, s: ApiServices): void {
  // contexts a crashed daemon left behind are cleared at daemon start (images.clearTmp)
  let cache: BuildCache | undefined;
  const cacheOf = () => (cache ??= new BuildCache(s.root));

  r.post('/build', async ({ req, res, query }) => {
    // moby's build route: version=2 asks for BuildKit, which this daemon is not
    if (query.get('version') === '2') { req.resume(); throw new BerthError('InvalidArgument', 'BuildKit (version=2) is not supported by Berth; use the classic builder (version=1)'); }
    if (query.get('remote')) { req.resume(); throw new BerthError('InvalidArgument', 'remote build contexts (remote=) are not supported by Berth: send the context as the request body'); }
    const platform = query.get('platform');
    if (platform) { req.resume(); parsePlatform(platform); }
    const svc = containerService(s);
    const o = {
      dockerfile: query.get('dockerfile') || undefined,
      tags: query.getAll('t').filter(Boolean),
      buildArgs: jsonParam<Record<string, string | null>>(query, 'buildargs'),
      labels: jsonParam<Record<string, string>>(query, 'labels'),
      target: query.get('target') || undefined,
      noCache: boolValue(query, 'nocache'),
      pull: boolValue(query, 'pull'),
      networkMode: query.get('networkmode') || undefined,
      cacheFrom: jsonParam<string[]>(query, 'cachefrom'),
      rm: query.get('rm') === null ? true : boolValue(query, 'rm') || boolValue(query, 'forcerm'),
    };
    const quiet = boolValue(query, 'q');
    trace('build: context upload begins');
    // the builder and its context reader (with zlib) load at the first build, not with the daemon (issue 13)
    const [{ Build, StepError }, { receiveContext }] = await Promise.all([import('../../build/builder.js'), import('../../build/context.js')]);
    const ctx = await receiveContext(req, s.images.tmp, o.dockerfile ?? 'Dockerfile');
    trace('build: context unpacked');
    const out = new JsonStream(res);
    // the build ends with its client (moby cancels the request's context) or with the daemon; a listener of
    // our own on the daemon's signal, removed at the end (AbortSignal.any on a long-lived signal leaks, nodejs/node#55351)
    const end = new AbortController();
    const cancel = () => end.abort(new BerthError('Unavailable', 'build cancelled'));
    res.on('close', () => { if (!res.writableFinished) cancel(); });
    s.drain?.signal.addEventListener('abort', cancel, { once: true });
    if (s.drain?.signal.aborted) cancel();
    try {
      const build = new Build({ images: s.images, containers: svc, cache: cacheOf() }, ctx, { ...o, signal: end.signal }, (m) => {
        if (m.aux) out.write({ aux: m.aux });
        else if (!quiet) out.write(m);
      }).run();
      const id = await (s.drain ? s.drain.track(build) : build);
      if (quiet) out.write({ stream: `${id}\n` });
      out.end();
      trace('build: answered');
    } catch (e) {
      s.log?.(`build: ${e instanceof Error ? e.message : String(e)}`);
      if (e instanceof StepError && out.committed) {
        out.write({ errorDetail: { code: e.code, message: e.message }, error: e.message });
        res.end();
      } else if (!out.end(e)) throw e;
    } finally {
      // after the last response bytes went out: the client need not wait on the cache file's rename
      cacheOf().flush();
      s.drain?.signal.removeEventListener('abort', cancel);
      // off the event loop: a 20 MB context's unlinks would otherwise hold back the response's last bytes
      ctx.release();
      void fs.promises.rm(ctx.dir, { recursive: true, force: true }).catch(() => ctx.remove());
    }
  });

  // POST /build/prune (moby api/server/router/build prune): the step cache and the RUN cache mounts; `until`
  // keeps what was used since. Step images stay images (image prune's business), as with docker's classic builder.
  r.post('/build/prune', ({ req, res, query }) => {
    req.resume();
    const f = parseFilters(query.get('filters'));
    checkFilters(f, ['until']);
    const now = Date.now();
    const until = f.has('until') ? Math.min(...[...f.get('until')!].map((v) => timestampMs(v, now))) : undefined;
    const r = cacheOf().prune((id) => !!s.images.store.get(id), until);
    sendJson(res, 200, { CachesDeleted: r.deleted.length ? r.deleted : null, SpaceReclaimed: r.reclaimed });
  });

  r.post('/build/cancel', ({ req, res }) => { req.resume(); res.writeHead(200).end(); });
}
