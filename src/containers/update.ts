// containers/update: `docker update` — validate the new limits (the same checks as create, then
// moby's container.UpdateContainer conflicts), merge them into the stored HostConfig, and say which
// cgroup resources a running container needs rewritten. Pure; the service applies and stores.
import { BerthError } from '../errors.js';
import type { LinuxResources, Spec } from '../runtime/spec-types.js';
import type { ContainerConfig, HostConfig } from './config.js';
import { withResources } from './spec/index.js';
import { applyRestartUpdate } from './restart.js';
import { checkLimits } from './validate.js';


/** The fields of POST /containers/{id}/update; absent or 0 means "leave as is" (moby), pidsLimit 0 or -1 means unlimited. */
export interface ResourceUpdate {
  memory?: number;
  memorySwap?: number;
  memoryReservation?: number;
  nanoCpus?: number;
  cpuShares?: number;
  cpuQuota?: number;
  cpuPeriod?: number;
  cpusetCpus?: string;
  cpusetMems?: string;
  pidsLimit?: number;
  blkioWeight?: number;
  /** the wire's RestartPolicy, checked by containers/restart.ts */
  restartPolicy?: { Name?: string; MaximumRetryCount?: number };
}

type Host = HostConfig;

const bad = (msg: string) => new BerthError('InvalidArgument', msg);
// moby container.UpdateContainer's refusals are conflictingUpdateOptions: 409 (the service names the container)
const conflict = (msg: string) => new BerthError('Conflict', msg);

/** "0-2,4" -> [0,1,2,4]; undefined when malformed. */
export function parseCpuList(s: string): number[] | undefined {
  const out: number[] = [];
  for (const part of s.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) return undefined;
    const a = Number(m[1]), b = m[2] !== undefined ? Number(m[2]) : a;
    if (b < a || b - a > 4096) return undefined;
    for (let i = a; i <= b; i++) out.push(i);
  }
  return out;
}

function checkCpuset(want: string | undefined, available: string, what: 'CPUs' | 'memory nodes'): void {
  if (!want) return;
  const w = parseCpuList(want);
  if (!w) throw bad(`Invalid value ${want} for cpuset ${what === 'CPUs' ? 'cpus' : 'mems'}`);
  const have = new Set(parseCpuList(available) ?? []);
  if (w.some((x) => !have.has(x))) throw bad(`Requested ${what} are not available - requested ${want}, available: ${available}`);
}

/** Docker's stored MemorySwap: what create made of an unset one (twice the memory) when a memory limit is set. */
function effectiveSwap(h: Host): number {
  if (h.memorySwap) return h.memorySwap;
  return h.memory ? h.memory * 2 : 0;
}

export interface UpdatePlan {
  host: Host;
  warnings: string[];
  /** the resource groups the update changes */
  touched: Set<ResourceGroup>;
  /** what a running container's cgroup must be given; undefined when no resource changed */
  resources?: LinuxResources;
}

/**
 * The merged HostConfig and the resources to write, or InvalidArgument with docker's wording before
 * anything changes. `host` is the facts create checks against (CPUs, cpuset.cpus/mems of the host).
 */
export function planUpdate(cur: Host, u: ResourceUpdate, host: { ncpu: number; cpus: string; mems: string }): UpdatePlan {
  const warnings = checkLimits({
    memory: u.memory, memorySwap: u.memorySwap, memoryReservation: u.memoryReservation, nanoCpus: u.nanoCpus, cpuShares: u.cpuShares,
    cpuPeriod: u.cpuPeriod, cpuQuota: u.cpuQuota, pidsLimit: u.pidsLimit, blkioWeight: u.blkioWeight,
  }, { ncpu: host.ncpu });
  checkCpuset(u.cpusetCpus, host.cpus, 'CPUs');
  checkCpuset(u.cpusetMems, host.mems, 'memory nodes');
  // moby container.UpdateContainer: NanoCPUs and period/quota exclude each other across updates too
  if ((u.nanoCpus ?? 0) > 0 && (cur.cpuPeriod ?? 0) > 0) throw conflict('Conflicting options: Nano CPUs cannot be updated as CPU Period has already been set');
  if ((u.nanoCpus ?? 0) > 0 && (cur.cpuQuota ?? 0) > 0) throw conflict('Conflicting options: Nano CPUs cannot be updated as CPU Quota has already been set');
  if ((u.cpuPeriod ?? 0) > 0 && (cur.nanoCpus ?? 0) > 0) throw conflict('Conflicting options: CPU Period cannot be updated as NanoCPUs has already been set');
  if ((u.cpuQuota ?? 0) > 0 && (cur.nanoCpus ?? 0) > 0) throw conflict('Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set');
  const swap = effectiveSwap(cur);
  if (u.memory && u.memory > swap && !u.memorySwap) {
    throw conflict('Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time');
  }
  const next: Host = { ...cur };
  // the swap docker stored at create stays what it was when only the memory changes
  if (u.memory && !u.memorySwap && cur.memory && !cur.memorySwap) next.memorySwap = swap;
  const given = <K extends keyof ResourceUpdate>(k: K) => u[k] !== undefined && u[k] !== 0 && u[k] !== '';
  for (const k of ['memory', 'memorySwap', 'memoryReservation', 'nanoCpus', 'cpuShares', 'cpuQuota', 'cpuPeriod', 'cpusetCpus', 'cpusetMems', 'blkioWeight'] as const) {
    if (given(k)) (next as Record<string, unknown>)[k] = u[k];
  }
  // moby stores 0 for every unlimited value, so inspect shows PidsLimit 0 after such an update
  if (u.pidsLimit !== undefined) next.pidsLimit = u.pidsLimit > 0 ? u.pidsLimit : 0;
  applyRestartUpdate(next, u.restartPolicy);
  // the merged limits must hold together as at create (a new reservation above the kept memory, …)
  checkLimits({ memory: next.memory, memorySwap: next.memorySwap, memoryReservation: next.memoryReservation }, { ncpu: host.ncpu });

  const touched = new Set<ResourceGroup>();
  if (given('memory') || given('memorySwap') || given('memoryReservation')) touched.add('memory');
  if (['nanoCpus', 'cpuShares', 'cpuQuota', 'cpuPeriod', 'cpusetCpus', 'cpusetMems'].some((k) => given(k as keyof ResourceUpdate))) touched.add('cpu');
  if (u.pidsLimit !== undefined) touched.add('pids');
  if (given('blkioWeight')) touched.add('blockIO');
  return { host: next, warnings, touched, ...(touched.size ? { resources: resourcesOf(next, touched) } : {}) };
}

export type ResourceGroup = 'memory' | 'cpu' | 'pids' | 'blockIO';

/**
 * The cgroup values of `host` for the given groups, as create's spec carries them, with "unlimited"
 * spelled out where create would write nothing: these overwrite a live cgroup (an update, or the
 * rollback of a failed one).
 */
export function resourcesOf(host: Host, groups: Set<ResourceGroup>): LinuxResources {
  const s = { linux: { resources: {}, cgroupsPath: '/x' } } as unknown as Spec;
  withResources(s, { host } as ContainerConfig, undefined as never);
  const all = s.linux!.resources!;
  const r: LinuxResources = {};
  // (an unset reservation is left alone: v2's memory.low has no "unset" but 0, and -1 would mean max)
  if (groups.has('memory')) r.memory = { ...(host.memory ? {} : { limit: -1 }), ...all.memory };
  if (groups.has('cpu')) r.cpu = { ...(host.nanoCpus || host.cpuQuota ? {} : { quota: -1 }), ...all.cpu };
  if (groups.has('pids')) r.pids = { limit: host.pidsLimit && host.pidsLimit > 0 ? host.pidsLimit : -1 };
  if (groups.has('blockIO') && all.blockIO) r.blockIO = all.blockIO;
  return r;
}
