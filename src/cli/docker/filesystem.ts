// cli/docker/filesystem: `diff`, `export`, `commit`, `container prune`, `system prune` in docker's
// grammar (docker/cli cli/command/container/diff.go, export.go, commit.go, prune.go; system/prune.go).
// `cp` is in cp.ts (the fast entry carries it).
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Client } from '../../client/index.js';
import { BerthError } from '../../errors.js';
import { checkArgCount, parseFlags } from '../args.js';
export { cp } from './cp.js';
import { connect, type Globals } from './connect.js';
import { confirm } from './images.js';
import { formatRows, GO_JSON, goMarshalMap, rowContext, tabulate, template } from './format.js';
import { ago, humanSize, humanSize3 } from './output.js';
import { imageRows } from './images.js';
import { psRows } from './containers.js';
import { goTimeString } from './networks.js';
import { volumeRow } from './volumes.js';
import type { ContainerSummary, ImageSummary, VolumeWire } from '../../api/types.js';

export async function diff(g: Globals, args: string[]): Promise<number> {
  const p = parseFlags(args, {});
  if (p.positionals.length !== 1) throw new BerthError('InvalidArgument', '"diff" requires exactly 1 argument.\nUsage:  berth diff CONTAINER');
  const c = connect(g);
  try {
    const changes = (await c.json<Array<{ Path: string; Kind: number }> | null>('GET', `/containers/${encodeURIComponent(p.positionals[0]!)}/changes`)) ?? [];
    process.stdout.write(changes.map((x) => `${'CAD'[x.Kind] ?? '?'} ${x.Path}\n`).join(''));
    return 0;
  } finally { c.close(); }
}

export async function exportCmd(g: Globals, args: string[]): Promise<number> {
  const p = parseFlags(args, { output: { short: 'o', type: 'string' } });
  if (p.positionals.length !== 1) throw new BerthError('InvalidArgument', '"export" requires exactly 1 argument.\nUsage:  berth export [OPTIONS] CONTAINER');
  const out = p.flags.output as string | undefined;
  if (!out && process.stdout.isTTY) throw new BerthError('InvalidArgument', 'cowardly refusing to save to a terminal. Use the -o flag or redirect');
  const c = connect(g);
  try {
    const r = await c.request('GET', `/containers/${encodeURIComponent(p.positionals[0]!)}/export`);
    if (out) {
      const tmp = `${out}.${process.pid}.tmp`;
      const fd = fs.openSync(tmp, 'w', 0o644);
      try { for await (const chunk of r.res) fs.writeSync(fd, chunk as Buffer); } finally { fs.closeSync(fd); }
      fs.renameSync(tmp, out);
    } else {
      for await (const chunk of r.res) if (!process.stdout.write(chunk)) await new Promise((res) => process.stdout.once('drain', res));
    }
    return 0;
  } finally { c.close(); }
}

export async function commit(g: Globals, args: string[]): Promise<number> {
  const p = parseFlags(args, { author: { short: 'a', type: 'string' }, change: { short: 'c', type: 'list' }, message: { short: 'm', type: 'string' }, pause: { short: 'p', type: 'bool' } });
  if (p.positionals.length < 1 || p.positionals.length > 2) throw new BerthError('InvalidArgument', '"commit" requires at least 1 and at most 2 arguments.\nUsage:  berth commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]');
  const [ctr, ref] = p.positionals as [string, string | undefined];
  let repo: string | undefined;
  let tag: string | undefined;
  if (ref) {
    const colon = ref.lastIndexOf(':');
    if (colon > ref.lastIndexOf('/')) { repo = ref.slice(0, colon); tag = ref.slice(colon + 1); } else repo = ref;
  }
  const c = connect(g);
  try {
    const r = await c.json<{ Id: string }>('POST', '/commit', { query: {
      container: ctr, repo, tag, comment: p.flags.message as string | undefined, author: p.flags.author as string | undefined,
      pause: p.flags.pause === false ? 'false' : undefined, changes: (p.flags.change as string[] | undefined) ?? undefined,
    } });
    process.stdout.write(`${r.Id}\n`);
    return 0;
  } finally { c.close(); }
}

function filtersOf(list: string[] | undefined): string | undefined {
  if (!list?.length) return undefined;
  const f: Record<string, Record<string, boolean>> = {};
  for (const x of list) {
    const i = x.indexOf('=');
    if (i <= 0) throw new BerthError('InvalidArgument', `invalid argument "${x}" for "--filter" flag: bad format of filter (expected name=value)`);
    (f[x.slice(0, i)] ??= {})[x.slice(i + 1)] = true;
  }
  return JSON.stringify(f);
}

async function pruneContainers(c: Client, filters: string | undefined): Promise<number> {
  const r = await c.json<{ ContainersDeleted: string[] | null; SpaceReclaimed: number }>('POST', '/containers/prune', { query: { filters } });
  if (r.ContainersDeleted?.length) process.stdout.write(`Deleted Containers:\n${r.ContainersDeleted.join('\n')}\n\n`);
  return r.SpaceReclaimed;
}

export async function containerPrune(g: Globals, args: string[]): Promise<number> {
  const p = parseFlags(args, { force: { short: 'f', type: 'bool' }, filter: { type: 'list' } });
  checkArgCount(p.positionals, 'container prune', 0);
  const filters = filtersOf(p.flags.filter as string[] | undefined);
  if (!p.flags.force && !(await confirm('WARNING! This will remove all stopped containers.\nAre you sure you want to continue?'))) return 0;
  const c = connect(g);
  try {
    process.stdout.write(`Total reclaimed space: ${humanSize(await pruneContainers(c, filters))}\n`);
    return 0;
  } finally { c.close(); }
}

export async function systemPrune(g: Globals, args: string[]): Promise<number> {
  const p = parseFlags(args, { all: { short: 'a', type: 'bool' }, force: { short: 'f', type: 'bool' }, volumes: { type: 'bool' }, filter: { type: 'list' } });
  checkArgCount(p.positionals, 'system prune', 0);
  const filters = filtersOf(p.flags.filter as string[] | undefined);
  if (!p.flags.force) {
    const items = ['all stopped containers', ...(p.flags.volumes ? ['all anonymous volumes not used by at least one container'] : []),
      p.flags.all ? 'all images without at least one container associated to them' : 'all dangling images'];
    if (!(await confirm(`WARNING! This will remove:\n${items.map((x) => `  - ${x}\n`).join('')}\nAre you sure you want to continue?`))) return 0;
  }
  const c = connect(g);
  try {
    let total = await pruneContainers(c, filters);
    if (p.flags.volumes) {
      const v = await c.json<{ VolumesDeleted: string[] | null; SpaceReclaimed: number }>('POST', '/volumes/prune', { query: { filters } });
      if (v.VolumesDeleted?.length) process.stdout.write(`Deleted Volumes:\n${v.VolumesDeleted.join('\n')}\n\n`);
      total += v.SpaceReclaimed;
    }
    const base = filters ? JSON.parse(filters) as Record<string, Record<string, boolean>> : {};
    const imgFilters = JSON.stringify({ ...base, dangling: { [p.flags.all ? 'false' : 'true']: true } });
    const i = await c.json<{ ImagesDeleted: Array<{ Untagged?: string; Deleted?: string }> | null; SpaceReclaimed: number }>('POST', '/images/prune', { query: { filters: imgFilters } });
    if (i.ImagesDeleted?.length) process.stdout.write(`Deleted Images:\n${i.ImagesDeleted.map((d) => (d.Untagged ? `untagged: ${d.Untagged}` : `deleted: ${d.Deleted}`)).join('\n')}\n\n`);
    total += i.SpaceReclaimed;
    process.stdout.write(`Total reclaimed space: ${humanSize(total)}\n`);
    return 0;
  } finally { c.close(); }
}

type DfImage = { Id: string; RepoTags?: string[] | null; Created: number; Size: number; SharedSize: number; Containers: number };
type DfContainer = { Id: string; Image: string; Command: string; Created: number; State?: string; Status: string; Names: string[]; SizeRw?: number; Mounts?: Array<{ Type?: string; Driver?: string }> };
type DfVolume = { Name: string; UsageData?: { Size: number; RefCount: number } | null };
type DfCache = { ID: string; Type?: string; Size: number; CreatedAt?: string; LastUsedAt?: string | null; UsageCount?: number; InUse?: boolean; Shared?: boolean;
  Parent?: string; Parents?: string[] | null; Description?: string };
export interface DfAnswer { LayersSize?: number; Images: unknown[]; Containers: unknown[]; Volumes: unknown[]; BuildCache: unknown[] }

// docker/cli formatter/disk_usage.go (v28): a container counts as active running, paused or restarting
const activeCtr = (c: DfContainer) => c.State === 'running' || c.State === 'paused' || c.State === 'restarting';
/** "1.2MB (50%)": docker adds the share once the total is above 0 (integer division, as Go's). */
const reclaim = (r: number, total: number) => (total > 0 ? `${humanSize(r)} (${Math.trunc((r * 100) / total)}%)` : humanSize(r));
// the CLI adds only the cache records that are not shared (cli/command/system/df.go)
const cacheSize = (bc: DfCache[]) => bc.reduce((n, b) => n + (b.Shared ? 0 : b.Size), 0);

/** `system df [--format]`: docker/cli DiskUsageContext's rows (Type, TotalCount, Active, Size, Reclaimable). */
export async function dfSummary(d: DfAnswer, format?: string): Promise<string> {
  const images = d.Images as DfImage[], ctrs = d.Containers as DfContainer[], vols = d.Volumes as DfVolume[], bc = d.BuildCache as DfCache[];
  const layers = d.LayersSize ?? 0;
  const used = images.reduce((n, i) => n + (i.Containers !== 0 && i.Size !== -1 && i.SharedSize !== -1 ? i.Size - i.SharedSize : 0), 0);
  const ctrSize = ctrs.reduce((n, c) => n + (c.SizeRw ?? 0), 0);
  const known = vols.filter((v) => v.UsageData && v.UsageData.Size !== -1);
  const volSize = known.reduce((n, v) => n + v.UsageData!.Size, 0);
  const bsz = cacheSize(bc);
  const row = (Type: string, total: number, active: number, Size: string, Reclaimable: string) => ({ Type, TotalCount: String(total), Active: String(active), Size, Reclaimable });
  const rows = [
    row('Images', images.length, images.filter((i) => i.Containers > 0).length, humanSize(layers), reclaim(layers - used, layers)),
    row('Containers', ctrs.length, ctrs.filter(activeCtr).length, humanSize(ctrSize), reclaim(ctrs.reduce((n, c) => n + (activeCtr(c) ? 0 : c.SizeRw ?? 0), 0), ctrSize)),
    row('Local Volumes', vols.length, vols.filter((v) => (v.UsageData?.RefCount ?? 0) > 0).length, humanSize(volSize), reclaim(known.reduce((n, v) => n + (v.UsageData!.RefCount === 0 ? v.UsageData!.Size : 0), 0), volSize)),
    // Reclaimable is not a share here in docker's either
    row('Build Cache', bc.length, bc.filter((b) => b.InUse).length, humanSize(bsz), humanSize(bsz - bc.reduce((n, b) => n + (b.InUse && !b.Shared ? b.Size : 0), 0))),
  ];
  // formatter.NewDiskUsageFormat: `raw` is a template of its own
  const raw = 'type: {{.Type}}\ntotal: {{.TotalCount}}\nactive: {{.Active}}\nsize: {{.Size}}\nreclaimable: {{.Reclaimable}}\n';
  return formatRows(rows, format === 'raw' ? raw : format, 'table {{.Type}}\t{{.TotalCount}}\t{{.Active}}\t{{.Size}}\t{{.Reclaimable}}', { Type: 'TYPE', TotalCount: 'TOTAL', Active: 'ACTIVE', Size: 'SIZE', Reclaimable: 'RECLAIMABLE' }, '*formatter.diskUsageImagesContext');
}

/** formatter.buildCacheSort: never used first, then by last use, ties by ID. */
const cacheSorted = (bc: DfCache[]) => [...bc].sort((a, b) => {
  const la = a.LastUsedAt ? Date.parse(a.LastUsedAt) : undefined, lb = b.LastUsedAt ? Date.parse(b.LastUsedAt) : undefined;
  if (la === lb) return a.ID < b.ID ? -1 : a.ID > b.ID ? 1 : 0;
  return la === undefined ? -1 : lb === undefined ? 1 : la - lb;
});

/** formatter.buildCacheContext's fields. */
function cacheRow(b: DfCache, trunc: boolean, now: number) {
  const short = (id: string) => (trunc ? id.slice(0, 12) : id);
  const parent = b.Parents?.length ? b.Parents.join(', ') : b.Parent ?? '';
  return {
    ID: `${short(b.ID)}${b.InUse ? '*' : ''}`, Parent: short(parent), CacheType: b.Type ?? '', Description: b.Description ?? '',
    Size: humanSize3(b.Size), CreatedAt: b.CreatedAt ? goTimeString(b.CreatedAt) : '', CreatedSince: b.CreatedAt ? ago(Date.parse(b.CreatedAt) / 1000, now) : '',
    LastUsedAt: b.LastUsedAt ? goTimeString(b.LastUsedAt) : '', LastUsedSince: b.LastUsedAt ? ago(Date.parse(b.LastUsedAt) / 1000, now) : '',
    UsageCount: String(b.UsageCount ?? 0), InUse: String(!!b.InUse), Shared: String(!!b.Shared),
  };
}

/** formatter.NewDiskUsageFormat(raw, verbose): each section's raw row template in a range. */
const RAW_VERBOSE = '{{range .Images}}type: Image\nrepository: {{ .Repository }}\ntag: {{.Tag}}\ndigest: {{.Digest}}\nimage_id: {{.ID}}\ncreated_at: {{.CreatedAt}}\nvirtual_size: {{.Size}}\n\n{{end -}}\n'
  + '{{range .Containers}}type: Container\ncontainer_id: {{.ID}}\nimage: {{.Image}}\ncommand: {{.Command}}\ncreated_at: {{.CreatedAt}}\nstate: {{- pad .State 1 0}}\n'
  + 'status: {{- pad .Status 1 0}}\nnames: {{.Names}}\nlabels: {{- pad .Labels 1 0}}\nports: {{- pad .Ports 1 0}}\nsize: {{.Size}}\n\n{{end -}}\n'
  + '{{range .Volumes}}type: Volume\nname: {{.Name}}\ndriver: {{.Driver}}\n\n{{end -}}\n'
  + '{{range .BuildCache}}type: Build Cache\nbuild_cache_id: {{.ID}}\nparent_id: {{.Parent}}\nbuild_cache_type: {{.CacheType}}\ndescription: {{.Description}}\n'
  + 'created_at: {{.CreatedAt}}\ncreated_since: {{.CreatedSince}}\nlast_used_at: {{.LastUsedAt}}\nlast_used_since: {{.LastUsedSince}}\nusage_count: {{.UsageCount}}\n'
  + 'in_use: {{.InUse}}\nshared: {{.Shared}}\n\n{{end -}}';

/**
 * `system df -v --format F` (formatter.DiskUsageContext.verboseWrite): `table` alone prints the four tables;
 * any other template runs once over {Images, Containers, Volumes, BuildCache}, each a list of that section's
 * row contexts (those of `images`, `ps`, `volume ls`, build cache), with no newline added. A `table …`
 * template only drops the word and keeps IDs short.
 */
export async function dfVerboseFormat(d: DfAnswer, format: string, now = Date.now()): Promise<string> {
  if (format === 'table') return dfVerbose(d, now);
  const trunc = format.startsWith('table');
  const Images = (d.Images as ImageSummary[]).map((i) => {
    // the first tag only (a dangling image is <none> <none>); no digest
    const t = i.RepoTags?.[0] && i.RepoTags[0] !== '<none>:<none>' ? i.RepoTags[0] : '<none>:<none>';
    const c = t.lastIndexOf(':');
    return { ...imageRows([{ ...i, RepoTags: [] , RepoDigests: [] }], { noTrunc: !trunc })[0]!, Repository: t.slice(0, c), Tag: t.slice(c + 1), Digest: '' };
  });
  // docker leaves the virtual size out here
  const Containers = psRows((d.Containers as ContainerSummary[]).map((x) => ({ ...x, SizeRootFs: 0 })), { noTrunc: !trunc, now });
  const Volumes = (d.Volumes as VolumeWire[]).map(volumeRow);
  const BuildCache = cacheSorted(d.BuildCache as DfCache[]).map((b) => cacheRow(b, trunc, now));
  // each row marshals itself (`{{json .Volumes}}`, `{{range .Images}}{{json .}}{{end}}`)
  // each row names its docker/cli context type in a template's error (`{{range .Images}}{{.Nope}}{{end}}`)
  const typed = (type: string) => (r: object) => rowContext(r, type);
  const ctx = {
    Images: Images.map(typed('*formatter.imageContext')), Containers: Containers.map(typed('*formatter.ContainerContext')),
    Volumes: Volumes.map(typed('*formatter.volumeContext')), BuildCache: BuildCache.map(typed('*formatter.buildCacheContext')),
  };
  // `{{json .}}`: the struct with each row as its context marshals itself
  const json = () => `{${Object.entries(ctx).map(([k, rows]) => `"${k}":[${rows.map((r) => goMarshalMap(r as Record<string, unknown>)).join(',')}]`).join(',')}}`;
  Object.defineProperty(ctx, GO_JSON, { value: json, enumerable: false });
  const tpl = format === 'raw' ? RAW_VERBOSE : format === 'json' ? '{{json .}}' : (trunc ? format.slice(5) : format).replace(/^ +| +$/g, '');
  // verboseWrite wraps a parse error, and returns Execute's as it is
  try { return (await template()).render(tpl, ctx, '*formatter.diskUsageContext'); } catch (e) {
    throw (e as { parsing?: boolean }).parsing ? (await template()).templateError(e, 'template parsing error: ') : e;
  }
}

/** `system df -v`: docker's four sections (formatter.DiskUsageContext.verboseWriteTable), each with its header even when empty. */
export function dfVerbose(d: DfAnswer, now = Date.now()): string {
  const imgs = (d.Images as DfImage[]).map((i) => {
    // the first tag only; a dangling image is <none> <none>
    const t = i.RepoTags?.[0] && i.RepoTags[0] !== '<none>:<none>' ? i.RepoTags[0] : '<none>:<none>';
    const c = t.lastIndexOf(':');
    const na = (v: number, f: (n: number) => string) => (v === -1 ? 'N/A' : f(v));
    return [t.slice(0, c), t.slice(c + 1), i.Id.replace(/^sha256:/, '').slice(0, 12), ago(i.Created, now), humanSize3(i.Size),
      na(i.SharedSize, humanSize), i.SharedSize === -1 ? 'N/A' : humanSize(i.Size - i.SharedSize), na(i.Containers, String)].join('\t');
  });
  const ctrs = (d.Containers as DfContainer[]).map((c) => {
    const names = c.Names.map((n) => n.replace(/^\//, ''));
    const cmd = [...c.Command].length > 20 ? `${[...c.Command].slice(0, 19).join('')}…` : c.Command;
    return [c.Id.slice(0, 12), c.Image, JSON.stringify(cmd), String((c.Mounts ?? []).filter((m) => m.Driver === 'local').length),
      humanSize3(c.SizeRw ?? 0), ago(c.Created, now), c.Status, names.find((n) => !n.includes('/')) ?? names.join(',')].join('\t');
  });
  const vols = (d.Volumes as DfVolume[]).map((v) => [v.Name, v.UsageData ? String(v.UsageData.RefCount) : 'N/A', v.UsageData ? humanSize(v.UsageData.Size) : 'N/A'].join('\t'));
  const bc = cacheSorted(d.BuildCache as DfCache[]).map((b) => [`${b.ID.slice(0, 12)}${b.InUse ? '*' : ''}`, b.Type ?? '', humanSize3(b.Size), b.CreatedAt ? ago(Date.parse(b.CreatedAt) / 1000, now) : '',
    b.LastUsedAt ? ago(Date.parse(b.LastUsedAt) / 1000, now) : '', String(b.UsageCount ?? 0), String(!!b.Shared)].join('\t'));
  return `Images space usage:\n\n${tabulate(['REPOSITORY\tTAG\tIMAGE ID\tCREATED\tSIZE\tSHARED SIZE\tUNIQUE SIZE\tCONTAINERS', ...imgs], 10)}\n`
    + `Containers space usage:\n\n${tabulate(['CONTAINER ID\tIMAGE\tCOMMAND\tLOCAL VOLUMES\tSIZE\tCREATED\tSTATUS\tNAMES', ...ctrs], 10)}\n`
    + `Local Volumes space usage:\n\n${tabulate(['VOLUME NAME\tLINKS\tSIZE', ...vols], 10)}\n`
    + `Build cache usage: ${humanSize(cacheSize(d.BuildCache as DfCache[]))}\n\n${tabulate(['CACHE ID\tCACHE TYPE\tSIZE\tCREATED\tLAST USED\tUSAGE\tSHARED', ...bc], 10)}`;
}
