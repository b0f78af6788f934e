// containers/validate: the semantic checks of a container's settings, in one place for create (and
// update): ranges and relations the JSON types cannot say. moby daemon/daemon_unix.go
// verifyPlatformContainerResources / verifyPlatformContainerSettings, with docker's wording (clients
// show it as is); where docker leaves a bound to the kernel, the bound is the kernel's, so a value it
// would refuse (or silently wrap) is a 400 at create instead of a failed start. Pure.
import { BerthError } from '../errors.js';
import { RLIMITS } from '../runtime/linux.js';

/** The settings checked here, camelCase; `memorySwappiness` and `stopTimeout` travel beside HostConfig. */
export interface Limits {
  memory?: number;
  memorySwap?: number;
  memoryReservation?: number;
  memorySwappiness?: number | null;
  oomKillDisable?: boolean;
  nanoCpus?: number;
  cpuShares?: number;
  cpuPeriod?: number;
  cpuQuota?: number;
  pidsLimit?: number | null;
  blkioWeight?: number;
  oomScoreAdj?: number;
  shmSize?: number;
  ulimits?: Array<{ name: string; soft: number; hard: number }>;
  hostname?: string;
  stopTimeout?: number | null;
}

export interface HostLimits { ncpu: number }

/** moby linuxMinMemory */
export const MIN_MEMORY = 6 * 1024 * 1024;
/** The kernel's cpu.shares bounds (kernel/sched MIN_SHARES/MAX_SHARES); above it cgroup v2's weight overflows. */
export const MAX_CPU_SHARES = 262144;
/** kernel/sched/core.c max_cfs_runtime: (1 << 44) - 1 µs; a larger quota is EINVAL. */
export const MAX_CPU_QUOTA = 2 ** 44 - 1;
/** kernel/cgroup/pids.c: pids.max must be below PIDS_MAX = PID_MAX_LIMIT + 1 (4 Mi + 1). */
export const MAX_PIDS = 4 * 1024 * 1024;
/** The longest stop timeout docker can express: Go's time.Duration holds 2^63-1 ns, about 292 years. */
export const MAX_STOP_TIMEOUT = Math.floor((2 ** 63 - 1) / 1e9);
/** HOST_NAME_MAX (include/uapi/linux/limits.h) */
const MAX_HOSTNAME = 64;

const bad = (msg: string) => new BerthError('InvalidArgument', msg);
const set = (v: number | null | undefined): v is number => v !== undefined && v !== null && v !== 0;

/** A stop timeout in seconds (create's StopTimeout, stop/restart `t`): negative waits forever, as docker. */
export function checkStopTimeout(t: number | null | undefined, what = 'stop timeout'): void {
  if (t === undefined || t === null) return;
  if (!Number.isSafeInteger(t)) throw bad(`invalid ${what} ${t}: must be an integer number of seconds`);
  if (t > MAX_STOP_TIMEOUT) throw bad(`invalid ${what} ${t}: the maximum is ${MAX_STOP_TIMEOUT} seconds`);
}

/**
 * Throws InvalidArgument for the first setting out of range; returns docker's warnings for the
 * accepted ones. 0 (or absent) means "not set" for every limit, as in moby.
 */
export function checkLimits(l: Limits, host: HostLimits): string[] {
  const warnings: string[] = [];
  if (l.hostname !== undefined && Buffer.byteLength(l.hostname) > MAX_HOSTNAME) throw bad(`hostname ${JSON.stringify(l.hostname.slice(0, 80))}${l.hostname.length > 80 ? '…' : ''} is too long (maximum ${MAX_HOSTNAME} bytes)`);
  checkStopTimeout(l.stopTimeout, 'StopTimeout');

  // memory
  const mem = l.memory ?? 0, swap = l.memorySwap ?? 0, reservation = l.memoryReservation ?? 0;
  if (mem !== 0 && mem < MIN_MEMORY) throw bad('Minimum memory limit allowed is 6MB');
  if (swap < -1) throw bad(`invalid memory swap limit ${swap}: use -1 for unlimited swap`);
  if (mem > 0 && swap > 0 && swap < mem) throw bad('Minimum memoryswap limit should be larger than memory limit, see usage');
  if (mem === 0 && swap > 0) throw bad('You should always set the Memory limit when using Memoryswap limit, see usage');
  // moby fixMemorySwappiness: -1 is "unset"
  const swappiness = l.memorySwappiness;
  if (swappiness !== undefined && swappiness !== null && swappiness !== -1 && (swappiness < 0 || swappiness > 100)) throw bad(`Invalid value: ${swappiness}, valid memory swappiness range is 0-100`);
  if (reservation !== 0 && reservation < MIN_MEMORY) throw bad('Minimum memory reservation allowed is 6MB');
  if (mem > 0 && reservation > 0 && mem < reservation) throw bad('Minimum memory limit can not be less than memory reservation limit, see usage');
  if (l.oomKillDisable && mem === 0) warnings.push('OOM killer is disabled for the container, but no memory limit is set, this can result in the system running out of resources.');

  // cpu
  const nano = l.nanoCpus ?? 0;
  if (nano > 0 && set(l.cpuPeriod)) throw bad('Conflicting options: Nano CPUs and CPU Period cannot both be set');
  if (nano > 0 && (l.cpuQuota ?? 0) > 0) throw bad('Conflicting options: Nano CPUs and CPU Quota cannot both be set');
  // docker sets no lower bound above 0 (the kernel's is 1ms of quota per 100ms: 0.01 CPU); we check it here
  if (nano !== 0 && (nano < 0.01e9 || nano > host.ncpu * 1e9)) throw bad(`Range of CPUs is from 0.01 to ${host.ncpu}.00, as there are only ${host.ncpu} CPUs available`);
  const shares = l.cpuShares ?? 0;
  if (shares < 0) throw bad(`invalid CPU shares (${shares}): value must be a positive integer`);
  if (shares > MAX_CPU_SHARES) throw bad(`invalid CPU shares (${shares}): the maximum is ${MAX_CPU_SHARES}`);
  const period = l.cpuPeriod ?? 0, quota = l.cpuQuota ?? 0;
  if (period !== 0 && (period < 1000 || period > 1000000)) throw bad('CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)');
  if (quota > 0 && quota < 1000) throw bad('CPU cfs quota can not be less than 1ms (i.e. 1000)');
  if (quota < -1) throw bad(`invalid CPU cfs quota ${quota}: use -1 for no limit`);
  if (quota > MAX_CPU_QUOTA) throw bad(`CPU cfs quota can not be larger than ${MAX_CPU_QUOTA}`);

  // pids: 0 or negative is unlimited (moby getPidsLimit)
  if ((l.pidsLimit ?? 0) > MAX_PIDS) throw bad(`invalid PIDs limit ${l.pidsLimit}: the maximum is ${MAX_PIDS}`);

  // blkio
  const weight = l.blkioWeight ?? 0;
  if (weight !== 0 && (weight < 10 || weight > 1000)) throw bad('Range of blkio weight is from 10 to 1000');

  // settings
  if ((l.shmSize ?? 0) < 0) throw bad('SHM size can not be less than 0');
  const oom = l.oomScoreAdj ?? 0;
  if (oom < -1000 || oom > 1000) throw bad(`Invalid value ${oom}, range for oom score adj is [-1000, 1000]`);

  // ulimits: go-units' names and relation (compared as numbers, as go-units and spec/ do)
  for (const u of l.ulimits ?? []) {
    if (!(`RLIMIT_${String(u.name).toUpperCase()}` in RLIMITS)) throw bad(`invalid ulimit type: ${u.name}`);
    if (u.soft < -1 || u.hard < -1) throw bad(`invalid ulimit ${u.name}: values must be -1 (unlimited) or at least 0`);
    if (u.soft > u.hard) throw bad(`ulimit soft limit must be less than or equal to hard limit: ${u.soft} > ${u.hard}`);
  }
  return warnings;
}

// ---- stored records ----

type Kind = 'string' | 'number' | 'boolean' | 'strings' | 'stringMap' | 'object' | 'array';
const kindOk: Record<Kind, (v: unknown) => boolean> = {
  string: (v) => typeof v === 'string',
  number: (v) => typeof v === 'number' && Number.isFinite(v),
  boolean: (v) => typeof v === 'boolean',
  strings: (v) => Array.isArray(v) && v.every((x) => typeof x === 'string'),
  stringMap: (v) => isObject(v) && Object.values(v).every((x) => typeof x === 'string'),
  object: (v) => isObject(v),
  array: (v) => Array.isArray(v),
};
function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The record's fields the readers use (list, inspect, restore); a `!` marks the ones it must have. */
type Field = Kind | `${Kind}!`;
const RECORD: Record<string, Field> = { id: 'string!', name: 'string!', created: 'string!', image: 'string!', imageId: 'string!', path: 'string!', args: 'strings!', logPath: 'string', restartCount: 'number', state: 'object!', config: 'object!' };
const STATE: Record<string, Field> = { status: 'string!', pid: 'number', exitCode: 'number', error: 'string', startedAt: 'string', finishedAt: 'string' };
const CONFIG: Record<string, Field> = {
  image: 'string!', cmd: 'strings', entrypoint: 'strings', env: 'strings', workingDir: 'string', user: 'string', tty: 'boolean', openStdin: 'boolean',
  hostname: 'string', domainname: 'string', labels: 'stringMap', stopSignal: 'string', stopTimeout: 'number', healthcheck: 'object', host: 'object!',
  networks: 'object',
};
const HOST: Record<string, Field> = {
  memory: 'number', memorySwap: 'number', memoryReservation: 'number', oomKillDisable: 'boolean', nanoCpus: 'number', cpuShares: 'number',
  cpuQuota: 'number', cpuPeriod: 'number', cpusetCpus: 'string', cpusetMems: 'string', pidsLimit: 'number', blkioWeight: 'number',
  privileged: 'boolean', capAdd: 'strings', capDrop: 'strings', securityOpt: 'strings', readonlyRootfs: 'boolean', tmpfs: 'stringMap',
  shmSize: 'number', ulimits: 'array', devices: 'array', networkMode: 'string', binds: 'strings', oomScoreAdj: 'number', sysctls: 'stringMap',
  cgroupParent: 'string', cgroupnsMode: 'string', ipcMode: 'string', pidMode: 'string', utsMode: 'string', init: 'boolean', autoRemove: 'boolean', groupAdd: 'strings',
  restartPolicy: 'object',
  dns: 'strings', dnsSearch: 'strings', dnsOptions: 'strings', extraHosts: 'strings',
};
function fieldsProblem(o: Record<string, unknown>, table: Record<string, Field>, at: string): string | undefined {
  for (const [k, f] of Object.entries(table)) {
    const v = o[k];
    const kind = f.replace('!', '') as Kind;
    if (v === undefined || v === null) { if (f.endsWith('!')) return `${at}${k} is missing`; continue; }
    if (!kindOk[kind](v)) return `${at}${k} is not ${kind === 'strings' ? 'a list of strings' : kind === 'stringMap' ? 'a map of strings' : `a ${kind}`}`;
  }
  return undefined;
}

/**
 * Why a stored container record cannot be used, or undefined when its shape is sound. The service
 * skips (and logs) such a record, so one bad file cannot break `ps` or restore for every container.
 */
export function recordProblem(r: unknown): string | undefined {
  if (!isObject(r)) return 'not a JSON object';
  const p = fieldsProblem(r, RECORD, '') ?? fieldsProblem(r.state as Record<string, unknown>, STATE, 'state.')
    ?? fieldsProblem(r.config as Record<string, unknown>, CONFIG, 'config.') ?? fieldsProblem((r.config as Record<string, unknown>).host as Record<string, unknown>, HOST, 'config.host.');
  if (p) return p;
  const host = (r.config as { host: Record<string, unknown> }).host;
  for (const u of (host.ulimits as unknown[] | undefined) ?? []) if (!isObject(u) || typeof u.name !== 'string' || typeof u.soft !== 'number' || typeof u.hard !== 'number') return 'config.host.ulimits holds a malformed entry';
  for (const d of (host.devices as unknown[] | undefined) ?? []) if (!isObject(d) || typeof d.pathOnHost !== 'string') return 'config.host.devices holds a malformed entry';
  if (r.mounts !== undefined && !Array.isArray(r.mounts)) return 'mounts is not a list';
  for (const [name, e] of Object.entries(((r.config as { networks?: Record<string, unknown> }).networks) ?? {}))
    if (!isObject(e)) return `config.networks.${name} is not an object`;
  return undefined;
}
