// api/routes/volumes: /volumes over volumes/store (the `local` driver).
import { BerthError } from '../../errors.js';
import type { Volume, VolumeStore } from '../../volumes/store.js';
import { readJson, sendEmpty, sendJson } from '../http.js';
import { boolValue, checkFilters, filterBool, matchLabels, parseFilters, type Filters } from '../query.js';
import type { Router } from '../router.js';
import type { ApiServices } from '../server.js';
import type { VolumeWire } from '../types.js';

/** moby volume/service/convert.go: CreatedAt in RFC 3339 to the second. */
export const volumeCreatedAt = (v: Volume): string => v.createdAt.replace(/\.\d+Z$/, 'Z');

/** moby api/types/volume.Volume, its fields in Go's order: Labels as the create gave them (null for none). */
export const volumeWire = (v: Volume): VolumeWire => ({
  CreatedAt: volumeCreatedAt(v), Driver: v.driver,
  // moby marks an anonymous volume with this label; clients (compose, prune) read it
  Labels: v.anonymous ? { 'com.docker.volume.anonymous': '', ...v.labels } : v.labelsNull ? null : v.labels,
  Mountpoint: v.mountpoint, Name: v.name, Options: Object.keys(v.options).length ? v.options : null, Scope: 'local',
});
const wire = volumeWire;

/** moby volume/service/convert.go filtersToBy: dangling, name (substring), label, driver. */
function matches(store: VolumeStore, f: Filters, v: Volume): boolean {
  const dangling = filterBool(f, 'dangling');
  if (dangling !== undefined && (store.usedBy(v.name).length === 0) !== dangling) return false;
  if (f.has('name') && ![...f.get('name')!].some((n) => v.name.includes(n))) return false;
  if (f.has('driver') && !f.get('driver')!.has(v.driver)) return false;
  if (f.has('label') && !matchLabels(f.get('label'), v.labels)) return false;
  return true;
}

export function volumeRoutes(r: Router, s: ApiServices): void {
  const store = (): VolumeStore => {
    if (!s.volumes) throw new BerthError('NotImplemented', 'volumes are not available');
    return s.volumes;
  };
  r.post('/volumes/create', async ({ req, res }) => {
    const b = (await readJson<{ Name?: string | null; Driver?: string | null; DriverOpts?: Record<string, string> | null; Labels?: Record<string, string> | null }>(req, 'volumeCreate', { required: true })) ?? {};
    const v = store().create({ name: b.Name ?? undefined, driver: b.Driver ?? undefined, options: b.DriverOpts ?? undefined, labels: b.Labels });
    sendJson(res, 201, wire(v));
  });
  r.get('/volumes', ({ res, query }) => {
    const f = parseFilters(query.get('filters'));
    checkFilters(f, ['dangling', 'name', 'label', 'driver']);
    sendJson(res, 200, { Volumes: store().list().filter((v) => matches(store(), f, v)).map(wire), Warnings: null });
  });
  r.post('/volumes/prune', async ({ req, res, query }) => {
    req.resume();
    const f = parseFilters(query.get('filters'));
    checkFilters(f, ['label', 'all']);
    const all = filterBool(f, 'all') ?? false;
    f.delete('all');
    sendJson(res, 200, await store().prune((v) => matches(store(), f, v), all));
  });
  r.get('/volumes/{name:.+}', ({ res, params }) => {
    // `docker inspect X` asks here too: without volumes, X is simply not one
    if (!s.volumes) throw new BerthError('NotFound', `get ${params.name}: no such volume`);
    sendJson(res, 200, wire(s.volumes.get(params.name!)));
  });
  r.delete('/volumes/{name:.+}', async ({ res, params, query }) => {
    await store().remove(params.name!, boolValue(query, 'force'));
    sendEmpty(res, 204);
  });
}
