// cgroup v2 planner: OCI LinuxResources -> ordered unified-hierarchy file writes, with the
// v1->v2 conversions runc's libcontainer/cgroups/fs2 applies. Pure: no fs.
import type { LinuxResources, ThrottleDevice } from '../spec-types.js';
import { BerthError } from '../../errors.js';
import { normalizeDeviceRules, type DeviceRule } from './devices.js';
import { num, validateResources, type PlanOptions } from './validate.js';

export interface V2Write {
  file: string;
  value: string;
  /** Written instead when `file` does not exist (io.bfq.weight -> io.weight, converted). */
  fallback?: { file: string; value: string };
  /** Skipped silently when the file does not exist (no swap accounting, no hugetlb rsvd). */
  optional?: boolean;
}

/**
 * cpu.shares [2..262144] -> cpu.weight [1..10000]. The quadratic fit on log2(shares) that maps
 * 2->1, 1024->100 (both defaults) and 262144->10000, used by runc >= 1.3 (opencontainers/cgroups,
 * runc PR #4785) and crun; it replaced the linear 1 + (shares-2)*9999/262142, which gave 1024->39.
 */
export function cpuSharesToWeight(shares: number): number {
  if (shares === 0) return 0;
  if (shares <= 2) return 1;
  if (shares >= 262144) return 10000;
  const l = Math.log2(shares);
  return Math.ceil(10 ** ((l * l + 125 * l) / 612 - 7 / 34));
}

/** blkio weight [10..1000] -> io.weight [1..10000] (runc ConvertBlkIOToIOWeightValue). */
export function blkioWeightToIOWeight(weight: number): number {
  if (weight === 0) return 0;
  return 1 + Math.floor(((weight - 10) * 9999) / 990);
}

/**
 * OCI memory.swap is memory+swap (the v1 memsw meaning); v2 memory.swap.max is swap alone
 * (runc ConvertMemorySwapToCgroupV2Value). Returns -1 for "max", 0 for unset.
 */
export function memorySwapToV2(swap: number, limit: number): number {
  if (limit === -1 && swap === 0) return -1; // unlimited memory, swap not given: both unlimited
  if (swap === -1 || swap === 0) return swap;
  return swap - limit; // validateResources checked limit > 0 and swap >= limit
}

/** The rules a v2 device eBPF program must implement, in order, on top of deny-all. */
export function v2DeviceRules(r: LinuxResources): DeviceRule[] {
  return normalizeDeviceRules(r.devices);
}

const maxOr = (n: number) => (n === -1 ? 'max' : num(n));

export function planV2(r: LinuxResources, opts: PlanOptions = {}): V2Write[] {
  validateResources(r, opts);
  const out: V2Write[] = [];
  const w = (file: string, value: string, extra: Partial<V2Write> = {}) => out.push({ file, value, ...extra });
  const c = r.cpu;
  if (c?.realtimePeriod || c?.realtimeRuntime) {
    throw new BerthError('InvalidArgument', `linux.resources.cpu.${c.realtimeRuntime ? 'realtimeRuntime' : 'realtimePeriod'}: realtime scheduling is not supported on cgroup v2`);
  }
  if (r.network) throw new BerthError('InvalidArgument', 'linux.resources.network: net_cls/net_prio do not exist on cgroup v2');

  // runc fs2 Set order: pids, memory, io, cpu, devices, cpuset, hugetlb, rdma, unified (last, so it overrides).
  if (r.pids) w('pids.max', r.pids.limit > 0 ? String(r.pids.limit) : 'max');

  const m = r.memory;
  if (m) {
    const limit = m.limit ?? 0;
    const swap = memorySwapToV2(m.swap ?? 0, limit);
    // swap === 0 with a swap given means memory == memory+swap: no swap at all.
    if (swap !== 0 || (m.swap ?? 0) > 0) {
      const v = maxOr(swap);
      // runc ignores a missing memory.swap.max (no swap accounting) only for "max" and "0".
      w('memory.swap.max', v, v === 'max' || v === '0' ? { optional: true } : {});
    }
    if (limit !== 0) w('memory.max', maxOr(limit));
    if (m.reservation) w('memory.low', maxOr(m.reservation));
    // swappiness, disableOOMKiller and kernel memory have no v2 file; runc and crun ignore them too.
  }

  const b = r.blockIO;
  if (b) {
    if (b.weight) {
      w('io.bfq.weight', String(b.weight), { fallback: { file: 'io.weight', value: String(blkioWeightToIOWeight(b.weight)) } });
    }
    for (const d of b.weightDevice ?? []) {
      if (!d.weight) continue;
      const dev = `${d.major}:${d.minor}`;
      w('io.bfq.weight', `${dev} ${d.weight}`, { fallback: { file: 'io.weight', value: `${dev} ${blkioWeightToIOWeight(d.weight)}` } });
    }
    // One io.max line per device with every limit on it; a v1 rate of 0 (no limit) is "max" here.
    const lines = new Map<string, string[]>();
    const add = (list: ThrottleDevice[] | undefined, key: string) => {
      for (const d of list ?? []) {
        const dev = `${d.major}:${d.minor}`;
        lines.set(dev, [...(lines.get(dev) ?? []), `${key}=${d.rate === 0 ? 'max' : num(d.rate)}`]);
      }
    };
    add(b.throttleReadBpsDevice, 'rbps');
    add(b.throttleWriteBpsDevice, 'wbps');
    add(b.throttleReadIOPSDevice, 'riops');
    add(b.throttleWriteIOPSDevice, 'wiops');
    for (const [dev, kv] of lines) w('io.max', `${dev} ${kv.join(' ')}`);
  }

  if (c) {
    if (c.shares) w('cpu.weight', String(cpuSharesToWeight(c.shares)));
    if ((c.quota !== undefined && c.quota !== 0) || c.period) {
      const q = c.quota !== undefined && c.quota > 0 ? String(c.quota) : 'max';
      w('cpu.max', c.period ? `${q} ${c.period}` : q);
    }
    if (c.burst !== undefined) w('cpu.max.burst', String(c.burst));
    if (c.idle !== undefined) w('cpu.idle', String(c.idle));
  }

  // Device rules have no file on v2: runtime/create.ts attaches compileDeviceFilter(rules) (device-bpf.ts) through berth-helper.

  if (c?.cpus) w('cpuset.cpus', c.cpus);
  if (c?.mems) w('cpuset.mems', c.mems);

  for (const h of r.hugepageLimits ?? []) {
    w(`hugetlb.${h.pageSize}.max`, maxOr(h.limit));
    // Reservation accounting (Linux 5.7+) must be capped too, or reserved pages escape the limit.
    w(`hugetlb.${h.pageSize}.rsvd.max`, maxOr(h.limit), { optional: true });
  }

  for (const [dev, lim] of Object.entries(r.rdma ?? {})) {
    const parts = [dev];
    if (lim.hcaHandles !== undefined) parts.push(`hca_handle=${lim.hcaHandles}`);
    if (lim.hcaObjects !== undefined) parts.push(`hca_object=${lim.hcaObjects}`);
    if (parts.length > 1) w('rdma.max', parts.join(' '));
  }

  for (const [k, v] of Object.entries(r.unified ?? {})) w(k, v);
  return out;
}
