// api/routes/disk-usage: real sizes for `size=1` (ps, inspect), `system df`, and the prune routes
// `docker system prune` calls (containers here; images and volumes have their own). Translation only.
import type { Container } from '../../containers/types.js';
import { treeSize } from '../../containers/changes-diff.js';
import { snapshotKey } from '../../containers/service.js';
import { BuildCache } from '../../build/cache.js';
import { BerthError } from '../../errors.js';
import type { ContainerSizes } from '../container-wire.js';
import { toSummary } from '../container-wire.js';
import { sendJson } from '../http.js';
import { checkFilters, matchLabels, parseFilters } from '../query.js';
import type { Router } from '../router.js';
import type { ApiServices } from '../server.js';
import type { DiskUsage } from '../types.js';
import { containerService } from './containers.js';
import { LayerSizes, layerSizes, listImages } from '../../images/inspect.js';
import { timestampMs } from '../../util/timestamp.js';
import { volumeWire } from './volumes.js';

/** An image's size as inspect shows it (images/inspect layerSizes: a layer not unpacked yet counts too). */
function imageSize(s: ApiServices, imageId: string, known?: LayerSizes): number {
  const seen = known?.byImage.get(imageId);
  if (seen) return [...seen.values()].reduce((n, x) => n + x, 0);
  try { return layerSizes(s.images, s.images.resolve(imageId)).reduce((n, x) => n + x, 0); } catch { return 0; }
}

/** moby's SharedSize (image list with shared-size, as df asks): the bytes of an image's layers that another image uses too. */
function sharedSizes(chains: Map<string, Map<string, number>>): Map<string, number> {
  const refs = new Map<string, number>();
  for (const cs of chains.values()) for (const ch of cs.keys()) refs.set(ch, (refs.get(ch) ?? 0) + 1);
  return new Map([...chains].map(([id, cs]) => [id, [...cs].reduce((n, [ch, size]) => n + ((refs.get(ch) ?? 0) > 1 ? size : 0), 0)]));
}

/** df's LayersSize: the layer snapshots, and the images' layers not unpacked yet (images/lazy-layers). */
function layersSize(s: ApiServices, chains: Map<string, Map<string, number>>): number {
  const here = s.images.snapshots.list().filter((x) => x.kind === 'layer');
  const counted = new Set(here.map((x) => x.name));
  let n = here.reduce((t, x) => t + x.size, 0);
  for (const cs of chains.values()) for (const [ch, size] of cs) if (!counted.has(ch)) { counted.add(ch); n += size; }
  return n;
}

/** SizeRw: the bytes in the container's writable layer; SizeRootFs: those and its image's (from `known` when it has them). */
export function containerSizes(s: ApiServices, c: Container, known?: LayerSizes): ContainerSizes {
  let rw = 0;
  try { rw = treeSize(s.images.snapshots.fsPath(snapshotKey(c.id))); } catch { /* no snapshot (removed meanwhile) */ }
  return { rw, rootFs: rw + imageSize(s, c.imageId, known) };
}

/** moby daemon/prune.go: until (created before) and label / label! filters. */
function pruneMatch(f: Map<string, Set<string>>, created: string, labels: Record<string, string> | undefined): boolean {
  if (f.has('until')) {
    const now = Date.now();
    const until = Math.min(...[...f.get('until')!].map((v) => timestampMs(v, now)));
    if (!(Date.parse(created) < until)) return false;
  }
  if (f.has('label') && !matchLabels(f.get('label'), labels)) return false;
  if (f.has('label!')) {
    const neg = f.get('label!')!;
    for (const l of neg) if (matchLabels(new Set([l]), labels)) return false;
  }
  return true;
}

export function diskUsageRoutes(r: Router, s: ApiServices): void {
  r.get('/system/df', async ({ res }) => {
    const svc = s.containers && 'create' in s.containers ? s.containers : undefined;
    const containers = svc?.list({ all: true }) ?? [];
    // one pass over the images' layers: the list's sizes, then shared sizes, LayersSize and SizeRootFs from what it read
    const sizes = new LayerSizes(s.images);
    const images = listImages(s.images, { all: true }, sizes);
    const using = new Map<string, number>();
    for (const c of containers) using.set(c.imageId, (using.get(c.imageId) ?? 0) + 1);
    const chains = sizes.byImage;
    const shared = sharedSizes(chains);
    const volumes = (s.volumes?.list() ?? []).map((v) => ({
      ...volumeWire(v),
      UsageData: { Size: treeSize(v.mountpoint), RefCount: s.volumes!.usedBy(v.name).length },
    }));
    const body: DiskUsage = {
      LayersSize: layersSize(s, chains),
      Images: images.map((i) => ({ ...i, SharedSize: shared.get((i as { Id: string }).Id) ?? 0, Containers: using.get((i as { Id: string }).Id) ?? 0 })),
      Containers: containers.map((c) => toSummary(c, { size: containerSizes(s, c, sizes) })),
      Volumes: volumes,
      BuildCache: new BuildCache(s.root).records((id) => !!s.images.store.get(id)),
    };
    sendJson(res, 200, body);
  });

  r.post('/containers/prune', async ({ req, res, query }) => {
    req.resume();
    const f = parseFilters(query.get('filters'));
    checkFilters(f, ['until', 'label', 'label!']);
    const svc = containerService(s);
    const deleted: string[] = [];
    let reclaimed = 0;
    for (const c of svc.list({ all: true })) {
      if (c.state.status === 'running' || c.state.status === 'paused' || c.state.status === 'restarting') continue;
      if (!pruneMatch(f, c.created, c.config.labels)) continue;
      const size = containerSizes(s, c).rw;
      try {
        await svc.remove(c.id);
      } catch (e) {
        if (e instanceof BerthError && (e.kind === 'NotFound' || e.kind === 'Conflict')) continue; // gone or started meanwhile
        throw e;
      }
      deleted.push(c.id);
      reclaimed += size;
    }
    s.events.publish('container', 'prune', '', { reclaimed: String(reclaimed) });
    sendJson(res, 200, { ContainersDeleted: deleted.length ? deleted : null, SpaceReclaimed: reclaimed });
  });

  // `docker system prune` calls this too and stops at the first error (networks/prune is routes/networks.ts)
  r.post('/build/prune', ({ req, res }) => { req.resume(); sendJson(res, 200, { CachesDeleted: null, SpaceReclaimed: 0 }); });
}
