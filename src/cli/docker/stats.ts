// cli/docker/stats: `stats`, `top`, `pause`, `unpause`, `update` in docker's grammar and output
// (docker/cli cli/command/container/stats*.go, top.go, update.go). Translation only.
import type { ContainerTopResponse, ContainerUpdateRequest, ContainerUpdateResponse } from '../../api/types.js';
import { jsonMessages, type Client } from '../../client/index.js';
import { BerthError } from '../../errors.js';
import { parseFlags } from '../args.js';
import { connect, report, type Globals } from './connect.js';
import { each, ramInBytes, nanoCpus } from './containers.js';
import { formatRows, tabulate } from './format.js';
import { bytesSize, humanSize3 } from './output.js';

/** The part of a StatsResponse the table reads. */
interface StatsJson {
  id: string; name: string; read: string;
  pids_stats?: { current?: number };
  blkio_stats?: { io_service_bytes_recursive?: Array<{ op: string; value: number }> | null };
  cpu_stats?: { cpu_usage?: { total_usage?: number; percpu_usage?: number[] }; system_cpu_usage?: number; online_cpus?: number };
  precpu_stats?: { cpu_usage?: { total_usage?: number }; system_cpu_usage?: number };
  memory_stats?: { usage?: number; limit?: number; stats?: Record<string, number> };
  networks?: Record<string, { rx_bytes: number; tx_bytes: number }>;
}

export interface StatsRow { ID: string; Container: string; Name: string; CPUPerc: string; MemUsage: string; MemPerc: string; NetIO: string; BlockIO: string; PIDs: string }

const HEADERS: Record<string, string> = {
  ID: 'CONTAINER ID', Container: 'CONTAINER', Name: 'NAME', CPUPerc: 'CPU %', MemUsage: 'MEM USAGE / LIMIT', MemPerc: 'MEM %', NetIO: 'NET I/O', BlockIO: 'BLOCK I/O', PIDs: 'PIDS',
};
const DEFAULT_FORMAT = 'table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}';

/** docker/cli calculateMemUsageUnixNoCache: the page cache that can be dropped does not count. */
function memUsage(m: NonNullable<StatsJson['memory_stats']>): number {
  const usage = m.usage ?? 0;
  const inactive = m.stats?.total_inactive_file ?? m.stats?.inactive_file;
  return inactive !== undefined && inactive < usage ? usage - inactive : usage;
}

/** docker/cli calculateCPUPercentUnix */
export function cpuPercent(s: StatsJson): number {
  const cpuDelta = (s.cpu_stats?.cpu_usage?.total_usage ?? 0) - (s.precpu_stats?.cpu_usage?.total_usage ?? 0);
  const sysDelta = (s.cpu_stats?.system_cpu_usage ?? 0) - (s.precpu_stats?.system_cpu_usage ?? 0);
  const online = s.cpu_stats?.online_cpus || s.cpu_stats?.cpu_usage?.percpu_usage?.length || 0;
  return sysDelta > 0 && cpuDelta > 0 ? (cpuDelta / sysDelta) * online * 100 : 0;
}

export function statsRow(s: StatsJson, noTrunc = false): StatsRow {
  const mem = s.memory_stats ?? {};
  const used = memUsage(mem);
  const limit = mem.limit ?? 0;
  let rx = 0, tx = 0;
  for (const n of Object.values(s.networks ?? {})) { rx += n.rx_bytes; tx += n.tx_bytes; }
  let rd = 0, wr = 0;
  for (const e of s.blkio_stats?.io_service_bytes_recursive ?? []) {
    const op = e.op.toLowerCase();
    if (op === 'read') rd += e.value;
    else if (op === 'write') wr += e.value;
  }
  const running = s.read !== '0001-01-01T00:00:00Z';
  return {
    ID: noTrunc ? s.id : s.id.slice(0, 12), Container: noTrunc ? s.id : s.id.slice(0, 12), Name: s.name.replace(/^\//, ''),
    CPUPerc: running ? `${cpuPercent(s).toFixed(2)}%` : '--',
    MemUsage: running ? `${bytesSize(used)} / ${bytesSize(limit)}` : '-- / --',
    MemPerc: running ? `${(limit > 0 ? (used / limit) * 100 : 0).toFixed(2)}%` : '--',
    NetIO: running ? `${humanSize3(rx)} / ${humanSize3(tx)}` : '--',
    BlockIO: running ? `${humanSize3(rd)} / ${humanSize3(wr)}` : '--',
    PIDs: running ? String(s.pids_stats?.current ?? 0) : '--',
  };
}

async function targets(c: Client, names: string[], all: boolean): Promise<string[]> {
  if (names.length) return names;
  return (await c.json<Array<{ Id: string }>>('GET', '/containers/json', { query: { all } })).map((x) => x.Id);
}

/** `stats [-a] [--no-stream] [--no-trunc] [--format] [CONTAINER...]` */
export async function stats(g: Globals, args: string[]): Promise<number> {
  const p = parseFlags(args, { all: { short: 'a', type: 'bool' }, 'no-stream': { type: 'bool' }, 'no-trunc': { type: 'bool' }, format: { type: 'string' } });
  const format = p.flags.format as string | undefined;
  const noTrunc = !!p.flags['no-trunc'];
  const c = connect(g);
  try {
    const ids = await targets(c, p.positionals, !!p.flags.all);
    if (p.flags['no-stream']) {
      const rows = await Promise.all(ids.map(async (id) => statsRow(await c.json<StatsJson>('GET', `/containers/${encodeURIComponent(id)}/stats`, { query: { stream: false } }), noTrunc)));
      process.stdout.write(await formatRows(rows, format, DEFAULT_FORMAT, HEADERS, '*container.statsContext'));
      return 0;
    }
    // live: one stream per container, the table redrawn each second as docker does
    const latest = new Map<string, StatsRow>();
    const stop = new AbortController();
    const onInt = () => stop.abort();
    process.once('SIGINT', onInt);
    const streams = ids.map(async (id) => {
      const r = await c.request('GET', `/containers/${encodeURIComponent(id)}/stats`, { query: { stream: true } });
      stop.signal.addEventListener('abort', () => r.res.destroy(), { once: true });
      try { for await (const s of jsonMessages<StatsJson>(r.res)) latest.set(id, statsRow(s, noTrunc)); } catch { /* closed */ }
    });
    // one screen after another: formatting may wait for the template engine to load
    let drawn = Promise.resolve();
    const draw = () => {
      const rows = ids.map((id) => latest.get(id)).filter((x): x is StatsRow => !!x);
      drawn = drawn.then(async () => { process.stdout.write(`${process.stdout.isTTY ? '\x1b[2J\x1b[H' : ''}${await formatRows(rows, format, DEFAULT_FORMAT, HEADERS, '*container.statsContext')}`); });
    };
    const timer = setInterval(draw, 1000);
    try { await Promise.all(streams); } finally { clearInterval(timer); process.off('SIGINT', onInt); }
    draw();
    await drawn;
    return 0;
  } finally { c.close(); }
}

/** `top CONTAINER [ps OPTIONS]` */
export async function top(g: Globals, args: string[]): Promise<number> {
  const p = parseFlags(args, {}, 1);
  if (p.positionals.length < 1) throw new BerthError('InvalidArgument', '"berth top" requires at least 1 argument.\nUsage:  berth top CONTAINER [ps OPTIONS]');
  const c = connect(g);
  try {
    const t = await c.json<ContainerTopResponse>('GET', `/containers/${encodeURIComponent(p.positionals[0]!)}/top`, { query: { ps_args: p.rest.length ? p.rest.join(' ') : undefined } });
    // docker/cli top.go: tabwriter.NewWriter(out, 20, 1, 3, ' ', 0)
    process.stdout.write(tabulate([t.Titles.join('\t'), ...t.Processes.map((r) => r.join('\t'))], 20));
    return 0;
  } finally { c.close(); }
}

function pauseLike(verb: 'pause' | 'unpause'): (g: Globals, args: string[]) => Promise<number> {
  return async (g, args) => {
    const p = parseFlags(args, {});
    if (p.positionals.length < 1) throw new BerthError('InvalidArgument', `"berth ${verb}" requires at least 1 argument.\nUsage:  berth ${verb} CONTAINER [CONTAINER...]`);
    const c = connect(g);
    try {
      return await each(p.positionals, async (n) => { await c.drain('POST', `/containers/${encodeURIComponent(n)}/${verb}`); });
    } finally { c.close(); }
  };
}
export const pause = pauseLike('pause');
export const unpause = pauseLike('unpause');

/** `update [OPTIONS] CONTAINER [CONTAINER...]` — docker/cli update.go's flags. */
export async function update(g: Globals, args: string[]): Promise<number> {
  const p = parseFlags(args, {
    memory: { short: 'm', type: 'string' }, 'memory-swap': { type: 'string' }, 'memory-reservation': { type: 'string' }, cpus: { type: 'string' },
    'cpu-shares': { short: 'c', type: 'string' }, 'cpu-quota': { type: 'string' }, 'cpu-period': { type: 'string' }, 'cpuset-cpus': { type: 'string' },
    'cpuset-mems': { type: 'string' }, 'pids-limit': { type: 'string' }, 'blkio-weight': { type: 'string' }, restart: { type: 'string' },
  });
  if (p.positionals.length < 1) throw new BerthError('InvalidArgument', '"berth update" requires at least 1 argument.\nUsage:  berth update [OPTIONS] CONTAINER [CONTAINER...]');
  const f = p.flags as Record<string, string | undefined>;
  const int = (name: string) => {
    const v = f[name];
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n)) throw new BerthError('InvalidArgument', `invalid argument "${v}" for "--${name}" flag: strconv.ParseInt: parsing "${v}": invalid syntax`);
    return n;
  };
  const body: ContainerUpdateRequest = {
    ...(f.memory ? { Memory: ramInBytes(f.memory, '-m, --memory') } : {}),
    ...(f['memory-swap'] ? { MemorySwap: f['memory-swap'].trim() === '-1' ? -1 : ramInBytes(f['memory-swap'], '--memory-swap') } : {}),
    ...(f['memory-reservation'] ? { MemoryReservation: ramInBytes(f['memory-reservation'], '--memory-reservation') } : {}),
    ...(f.cpus ? { NanoCpus: nanoCpus(f.cpus) } : {}),
    ...(f['cpu-shares'] !== undefined ? { CpuShares: int('cpu-shares') } : {}),
    ...(f['cpu-quota'] !== undefined ? { CpuQuota: int('cpu-quota') } : {}),
    ...(f['cpu-period'] !== undefined ? { CpuPeriod: int('cpu-period') } : {}),
    ...(f['cpuset-cpus'] ? { CpusetCpus: f['cpuset-cpus'] } : {}),
    ...(f['cpuset-mems'] ? { CpusetMems: f['cpuset-mems'] } : {}),
    ...(f['pids-limit'] !== undefined ? { PidsLimit: int('pids-limit') } : {}),
    ...(f['blkio-weight'] !== undefined ? { BlkioWeight: int('blkio-weight') } : {}),
  };
  if (f.restart !== undefined) {
    const [name, count] = f.restart.split(':');
    body.RestartPolicy = { Name: name!, MaximumRetryCount: count !== undefined ? Number(count) : 0 };
  }
  const c = connect(g);
  let rc = 0;
  try {
    for (const n of p.positionals) {
      try {
        const r = await c.json<ContainerUpdateResponse>('POST', `/containers/${encodeURIComponent(n)}/update`, { body });
        for (const w of r.Warnings ?? []) process.stderr.write(`WARNING: ${w}\n`);
        process.stdout.write(`${n}\n`);
      } catch (e) { rc = report(e); }
    }
    return rc;
  } finally { c.close(); }
}
