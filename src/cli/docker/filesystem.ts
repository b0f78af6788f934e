// cli/docker/filesystem: `diff`, `export`, `commit`, `container prune`, `system prune` in docker's
// grammar (docker/cli cli/command/container/diff.go, export.go, commit.go, prune.go; system/prune.go).
// `cp` is in cp.ts (the fast entry carries it).
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Client } from '../../client/index.js';
import { BerthError } from '../../errors.js';
import { parseFlags } from '../args.js';
export { cp } from './cp.js';
import { connect, type Globals } from './connect.js';
import { confirm } from './images.js';
import { tabulate } from './format.js';
import { ago, humanSize } from './output.js';

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

/** `system df -v`: per image, container and volume, as the docker CLI's verbose tables. */
export function dfVerbose(d: { Images: unknown[]; Containers: unknown[]; Volumes: unknown[] }): string {
  type Img = { Id: string; RepoTags?: string[] | null; Created: number; Size: number; SharedSize: number; Containers: number };
  type Ctr = { Id: string; Image: string; Command: string; Created: number; Status: string; Names: string[]; SizeRw?: number; Mounts?: Array<{ Type?: string }> };
  type Vol = { Name: string; UsageData?: { Size: number; RefCount: number } };
  const imgs = (d.Images as Img[]).flatMap((i) => ((i.RepoTags?.length ? i.RepoTags : ['<none>:<none>']).map((t) => {
    const c = t.lastIndexOf(':');
    const shared = i.SharedSize > 0 ? i.SharedSize : 0;
    return [t.slice(0, c), t.slice(c + 1), i.Id.replace(/^sha256:/, '').slice(0, 12), ago(i.Created), humanSize(i.Size), humanSize(shared), humanSize(i.Size - shared), String(i.Containers)].join('\t');
  })));
  const ctrs = (d.Containers as Ctr[]).map((c) => [c.Id.slice(0, 12), c.Image, JSON.stringify(c.Command.length > 19 ? `${c.Command.slice(0, 19)}…` : c.Command),
    String((c.Mounts ?? []).filter((m) => m.Type === 'volume').length), humanSize(c.SizeRw ?? 0), ago(c.Created), c.Status, c.Names.map((n) => n.replace(/^\//, '')).join(',')].join('\t'));
  const vols = (d.Volumes as Vol[]).map((v) => [v.Name, String(v.UsageData?.RefCount ?? 0), humanSize(Math.max(0, v.UsageData?.Size ?? 0))].join('\t'));
  return `Images space usage:\n\n${tabulate(['REPOSITORY\tTAG\tIMAGE ID\tCREATED\tSIZE\tSHARED SIZE\tUNIQUE SIZE\tCONTAINERS', ...imgs])}\n`
    + `Containers space usage:\n\n${tabulate(['CONTAINER ID\tIMAGE\tCOMMAND\tLOCAL VOLUMES\tSIZE\tCREATED\tSTATUS\tNAMES', ...ctrs])}\n`
    + `Local Volumes space usage:\n\n${tabulate(['VOLUME NAME\tLINKS\tSIZE', ...vols])}\n`
    + 'Build cache usage: 0B\n';
}
