// api/routes/archive: `docker cp` (GET/HEAD/PUT /containers/{id}/archive), `docker diff` (changes),
// `docker export` and `docker commit` (POST /commit) — translated to containers/archive, changes-diff and
// commit over the service's withRoot. Errors go out before any header, so a missing path is a clean 404.
import type { ServerResponse } from 'node:http';
import { archivePath, exportRoot, extractToDir, statPath, type PathStat, type TarSink } from '../../containers/archive.js';
import { containerChanges } from '../../containers/changes-diff.js';
import { commitContainer, containerImageConfig, mergeChanges } from '../../containers/commit.js';
import type { ContainerRoot } from '../../containers/root.js';
import type { Container, ContainerService } from '../../containers/types.js';
import { BerthError } from '../../errors.js';
import { readJson, sendEmpty, sendJson } from '../http.js';
import { rawBodyOf } from '../raw-body.js';
import { boolValue } from '../query.js';
import type { Router } from '../router.js';
import type { ApiServices } from '../server.js';
import { parseChanges } from './changes.js';
import { containerService } from './containers.js';

type WithRoot = Required<Pick<ContainerService, 'withRoot'>>['withRoot'];

function rootOf(s: ApiServices): { svc: ContainerService; withRoot: WithRoot } {
  const svc = containerService(s);
  if (!svc.withRoot) throw new BerthError('NotImplemented', 'container filesystems are not served by this daemon');
  return { svc, withRoot: svc.withRoot.bind(svc) as WithRoot };
}

function pathParam(q: URLSearchParams): string {
  const p = q.get('path');
  // moby router/container/copy.go: the path is required
  if (!p) throw new BerthError('InvalidArgument', 'Path cannot be empty');
  return p;
}

/**
 * A tar sink for the reader's reused buffers (containers/archive): a write's promise resolves once the
 * chunk before it is handed to the kernel (http.ServerResponse keeps a chunk until its write callback),
 * so the next chunk is read from the file while the socket takes this one. One at a time (each write
 * waited for before the next read) left the client's socket empty for each 1 MiB read.
 */
function flushed(res: ServerResponse, signal: AbortSignal): TarSink {
  let last: Promise<void> = Promise.resolve();
  return {
    consumed: true,
    ahead: true,
    write: (chunk) => {
      if (signal.aborted || res.destroyed) return Promise.reject(new BerthError('Unavailable', 'the client went away'));
      const before = last;
      last = new Promise<void>((resolve, reject) => {
        // a write pending when the client leaves may never be called back: the reader, and the root it holds, must end
        const gone = () => reject(new BerthError('Unavailable', 'the client went away'));
        signal.addEventListener('abort', gone, { once: true });
        res.write(chunk, (e) => { signal.removeEventListener('abort', gone); if (e) reject(e); else resolve(); });
      });
      // its error is reported by the next write or by settle, whichever waits for it
      last.catch(() => {});
      return before;
    },
    settle: () => last,
  };
}

const statHeader = (st: PathStat) => Buffer.from(JSON.stringify(st)).toString('base64');

export function archiveRoutes(r: Router, s: ApiServices): void {
  const event = (c: Container, action: string, extra: Record<string, string> = {}) =>
    s.events.publish('container', action, c.id, { ...(c.config.labels ?? {}), image: c.image, name: c.name, ...extra });

  r.head('/containers/{id}/archive', async ({ req, res, params, query }) => {
    req.resume();
    const p = pathParam(query);
    const { withRoot } = rootOf(s);
    const st = await withRoot(params.id!, (root) => statPath(root, p, params.id!));
    res.writeHead(200, { 'X-Docker-Container-Path-Stat': statHeader(st), 'Content-Type': 'application/json' });
    res.end();
  });

  r.get('/containers/{id}/archive', async ({ req, res, params, query }) => {
    req.resume();
    const p = pathParam(query);
    const { withRoot } = rootOf(s);
    const ac = new AbortController();
    res.on('close', () => { if (!res.writableFinished) ac.abort(); });
    let root: ContainerRoot | undefined;
    await withRoot(params.id!, async (rt) => {
      root = rt;
      await archivePath(rt, p, params.id!, (st) => {
        res.writeHead(200, { 'X-Docker-Container-Path-Stat': statHeader(st), 'Content-Type': 'application/x-tar' });
      }, flushed(res, ac.signal));
    });
    if (root) event(root.container, 'archive-path');
    if (!res.destroyed) res.end();
  });

  r.add('PUT', '/containers/{id}/archive', async ({ req, res, params, query }) => {
    const p = pathParam(query);
    const { withRoot } = rootOf(s);
    const c = await withRoot(params.id!, async (root) => {
      if (root.container.config.host.readonlyRootfs && !insideMount(root, p)) throw new BerthError('FailedPrecondition', 'container rootfs is marked read-only');
      await extractToDir(root, p, params.id!, rawBodyOf(req) ?? (req as AsyncIterable<Uint8Array>), {
        noOverwriteDirNonDir: boolValue(query, 'noOverwriteDirNonDir'), copyUIDGID: boolValue(query, 'copyUIDGID'),
      });
      return root.container;
    });
    event(c, 'extract-to-dir');
    sendEmpty(res, 200);
  });

  r.get('/containers/{id}/changes', async ({ res, params }) => {
    const { withRoot } = rootOf(s);
    const changes = await withRoot(params.id!, (root) => containerChanges(root));
    sendJson(res, 200, changes.map((c) => ({ Path: c.path, Kind: c.kind })));
  });

  r.get('/containers/{id}/export', async ({ req, res, params }) => {
    req.resume();
    const { withRoot } = rootOf(s);
    const ac = new AbortController();
    res.on('close', () => { if (!res.writableFinished) ac.abort(); });
    const c = await withRoot(params.id!, async (root) => {
      res.writeHead(200, { 'Content-Type': 'application/x-tar' });
      await exportRoot(root, flushed(res, ac.signal));
      return root.container;
    });
    event(c, 'export');
    if (!res.destroyed) res.end();
  });

  r.post('/commit', async ({ req, res, query }) => {
    const body = (await readJson<Record<string, unknown> | null>(req)) ?? undefined;
    const ref = query.get('container') ?? '';
    const { svc, withRoot } = rootOf(s);
    svc.get(ref); // 404 "No such container" before anything else
    const repo = query.get('repo') || undefined;
    const tag = query.get('tag') || undefined;
    if (tag && !repo) throw new BerthError('InvalidArgument', 'refusing to create a tag with no repository');
    const changes = parseChanges(query.getAll('changes').filter(Boolean));
    // moby: pause defaults to true; `pause=0` commits a running container as it goes
    const pause = query.get('pause') === null || query.get('pause') === '' ? true : boolValue(query, 'pause');
    const { id, c } = await withRoot(ref, async (root) => {
      const base = containerImageConfig((s.images.resolve(root.container.imageId).config.config as Record<string, unknown> | undefined) ?? {}, root);
      const set = mergeChanges(base, setFields(body));
      // the changes expand $VAR against the environment they apply to (parsed above only to refuse bad ones early)
      const config = mergeChanges(set, changes && parseChanges(query.getAll('changes').filter(Boolean), (set.Env as string[] | undefined) ?? []));
      const imageId = await commitContainer(s.images, root, { repo, tag, comment: query.get('comment') ?? undefined, author: query.get('author') ?? undefined, config, treeOnUse: true });
      return { id: imageId, c: root.container };
    }, { pause });
    event(c, 'commit', { comment: query.get('comment') ?? '', imageID: id, imageRef: repo ? `${repo}:${tag ?? 'latest'}` : '' });
    sendJson(res, 201, { Id: id });
  });
}

/** The fields of a commit's `config` body that say something (moby merges only those over the container's). */
function setFields(body: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const out = Object.fromEntries(Object.entries(body).filter(([, v]) =>
    v !== null && v !== undefined && v !== '' && v !== false && v !== 0 && !(Array.isArray(v) && v.length === 0) && !(typeof v === 'object' && !Array.isArray(v) && Object.keys(v as object).length === 0)));
  return Object.keys(out).length ? out : undefined;
}

/** A path inside one of the container's bind mounts (writable even when the rootfs is read-only). */
function insideMount(root: ContainerRoot, p: string): boolean {
  const clean = `/${p.split('/').filter((x) => x && x !== '.').join('/')}`;
  for (const dest of root.mounts.keys()) if (clean === dest || clean.startsWith(`${dest}/`)) return true;
  return false;
}

