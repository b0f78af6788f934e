// cli/docker/volumes: `volume create/ls/inspect/rm/prune` in docker's grammar and output (docker/cli
// cli/command/volume), over /volumes.
import type { VolumeWire } from '../../api/types.js';
import { ApiError } from '../../client/index.js';
import { BerthError } from '../../errors.js';
import { checkArgCount, parseFlags } from '../args.js';
import { connect, type Globals } from './connect.js';
import { checkTemplate, formatRows, printInspect, type Inspected } from './format.js';
import { confirm, filterMap } from './images.js';
import { inspectEach } from './inspect.js';
import { humanSize } from './output.js';

type Cmd = (g: Globals, args: string[]) => Promise<number>;

function keyValues(list: string[] | undefined, flag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const x of list ?? []) {
    const i = x.indexOf('=');
    if (flag === 'opt' && i <= 0) throw new BerthError('InvalidArgument', `invalid argument "${x}" for "-o, --opt" flag: invalid key value pair format in driver options`);
    if (i < 0) out[x] = ''; else out[x.slice(0, i)] = x.slice(i + 1);
  }
  return out;
}

export const create: Cmd = async (g, args) => {
  const p = parseFlags(args, { driver: { short: 'd', type: 'string' }, label: { type: 'list' }, opt: { short: 'o', type: 'list' }, name: { type: 'string' } });
  checkArgCount(p.positionals, 'volume create', 0, 1);
  const name = p.positionals[0] ?? (p.flags.name as string | undefined) ?? '';
  if (p.positionals[0] && p.flags.name && p.flags.name !== p.positionals[0]) throw new BerthError('InvalidArgument', `conflicting options: either specify --name or provide positional arg, not both`);
  const c = connect(g);
  try {
    const v = await c.json<VolumeWire>('POST', '/volumes/create', {
      body: { Name: name, Driver: (p.flags.driver as string | undefined) ?? 'local', DriverOpts: keyValues(p.flags.opt as string[] | undefined, 'opt'), // docker's CLI sends no map for no --label: dockerd then answers Labels null
      Labels: p.flags.label ? keyValues(p.flags.label as string[], 'label') : null },
    });
    process.stdout.write(`${v.Name}\n`);
    return 0;
  } finally { c.close(); }
};

/**
 * docker/cli formatter volumeContext: its fields (no CreatedAt; Group, Availability and Status are a cluster
 * volume's), Links and Size from UsageData (system df -v sends it, volume ls does not), and the Label method.
 */
export function volumeRow(v: VolumeWire) {
  const u = v.UsageData;
  return {
    Name: v.Name, Driver: v.Driver, Scope: v.Scope, Mountpoint: v.Mountpoint,
    Labels: Object.entries(v.Labels ?? {}).map(([k, x]) => `${k}=${x}`).join(','),
    Links: u ? String(u.RefCount) : 'N/A', Size: u ? humanSize(u.Size) : 'N/A', Group: 'N/A', Availability: 'N/A', Status: 'N/A',
    // `{{.Label "k"}}` (JSON leaves a function out)
    Label: (k: unknown) => v.Labels?.[String(k)] ?? '',
  };
}

const HEADERS = { Name: 'VOLUME NAME', Driver: 'DRIVER', Scope: 'SCOPE', Mountpoint: 'MOUNTPOINT', Labels: 'LABELS', Links: 'LINKS', Size: 'SIZE', Group: 'GROUP', Availability: 'AVAILABILITY', Status: 'STATUS' };

export const ls: Cmd = async (g, args) => {
  const p = parseFlags(args, { quiet: { short: 'q', type: 'bool' }, filter: { short: 'f', type: 'list' }, format: { type: 'string' }, cluster: { type: 'bool' } });
  checkArgCount(p.positionals, 'volume ls', 0);
  const c = connect(g);
  try {
    const r = await c.json<{ Volumes: VolumeWire[] | null }>('GET', '/volumes', { query: { filters: JSON.stringify(filterMap(p.flags.filter as string[] | undefined) ?? {}) } });
    const vols = [...(r.Volumes ?? [])].sort((a, b) => a.Name.localeCompare(b.Name));
    if (p.flags.quiet) { process.stdout.write(vols.map((v) => `${v.Name}\n`).join('')); return 0; }
    const rows = vols.map(volumeRow);
    process.stdout.write(await formatRows(rows, p.flags.format as string | undefined, 'table {{.Driver}}\t{{.Name}}', HEADERS, '*formatter.volumeContext'));
    return 0;
  } finally { c.close(); }
};

/** docker/cli prints a volume by marshalling its Go struct (volume.Volume), whose fields are in this order. */
const VOLUME_FIELDS = ['ClusterVolume', 'CreatedAt', 'Driver', 'Labels', 'Mountpoint', 'Name', 'Options', 'Scope', 'Status', 'UsageData'];
function goFieldOrder(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  const o = v as Record<string, unknown>;
  const rank = (k: string) => { const i = VOLUME_FIELDS.indexOf(k); return i < 0 ? VOLUME_FIELDS.length : i; };
  return Object.fromEntries(Object.keys(o).sort((a, b) => rank(a) - rank(b)).map((k) => [k, o[k]]));
}

export const inspect: Cmd = async (g, args) => {
  const p = parseFlags(args, { format: { short: 'f', type: 'string' } });
  if (!p.positionals.length) throw new BerthError('InvalidArgument', '"volume inspect" requires at least 1 argument');
  await checkTemplate(p.flags.format as string | undefined);
  const c = connect(g);
  let items: Inspected[];
  try { items = await inspectEach(p.positionals, async (n) => goFieldOrder(await c.json('GET', `/volumes/${encodeURIComponent(n)}`))); } finally { c.close(); }
  // docker/cli volume inspect hands the typed volume only (no JSON fallback): its Go type names a missing field
  return printInspect(items, p.flags.format as string | undefined, 'volume.Volume');
};

export const rm: Cmd = async (g, args) => {
  const p = parseFlags(args, { force: { short: 'f', type: 'bool' } });
  if (!p.positionals.length) throw new BerthError('InvalidArgument', '"volume rm" requires at least 1 argument');
  const c = connect(g);
  let rc = 0;
  try {
    for (const n of p.positionals) {
      try {
        await c.drain('DELETE', `/volumes/${encodeURIComponent(n)}`, { query: { force: p.flags.force ? true : undefined } });
        process.stdout.write(`${n}\n`);
      } catch (e) {
        if (!(e instanceof ApiError)) throw e;
        process.stderr.write(`Error response from daemon: ${e.message}\n`);
        rc = 1;
      }
    }
  } finally { c.close(); }
  return rc;
};

export const prune: Cmd = async (g, args) => {
  const p = parseFlags(args, { all: { short: 'a', type: 'bool' }, force: { short: 'f', type: 'bool' }, filter: { type: 'list' } });
  checkArgCount(p.positionals, 'volume prune', 0);
  if (!p.flags.force) {
    const what = p.flags.all ? 'all local volumes not used by at least one container' : 'anonymous local volumes not used by at least one container';
    if (!(await confirm(`WARNING! This will remove ${what}.\nAre you sure you want to continue?`))) return 0;
  }
  const filters = filterMap(p.flags.filter as string[] | undefined, p.flags.all ? { all: ['true'] } : {}) ?? {};
  const c = connect(g);
  try {
    const r = await c.json<{ VolumesDeleted: string[] | null; SpaceReclaimed: number }>('POST', '/volumes/prune', { query: { filters: JSON.stringify(filters) } });
    if (r.VolumesDeleted?.length) process.stdout.write(`Deleted Volumes:\n${r.VolumesDeleted.map((n) => `${n}\n`).join('')}\n`);
    process.stdout.write(`Total reclaimed space: ${humanSize(r.SpaceReclaimed)}\n`);
    return 0;
  } finally { c.close(); }
};

