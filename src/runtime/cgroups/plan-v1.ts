// cgroup v1 planner: OCI LinuxResources -> ordered controller file writes, as runc's
// libcontainer/cgroups/fs does them. Pure: no fs; the manager (v1.ts) carries the writes out.
import type { LinuxResources } from '../spec-types.js';
import { BerthError } from '../../errors.js';
import { isAllDevices, normalizeDeviceRules, v1DeviceLines } from './devices.js';
import type { V1Controller } from './mode.js';
import { num, validateResources, type PlanOptions } from './validate.js';

export interface V1Write {
  controller: V1Controller;
  file: string;
  value: string;
  /** Written instead when `file` does not exist (blkio.bfq.weight -> blkio.weight). */
  fallback?: { file: string; value: string };
  /** Skipped silently when the file does not exist: the user did not ask for it explicitly. */
  optional?: boolean;
  /** On EINVAL, retried once right after this other file is written (runc fs/cpu.go, cfs period vs quota). */
  retryAfter?: string;
}

export interface V1PlanOptions extends PlanOptions {
  /** Current memory.limit_in_bytes (-1 or absent = unlimited): decides the limit/memsw order. */
  currentMemoryLimit?: number;
}

export function planV1(r: LinuxResources, opts: V1PlanOptions = {}): V1Write[] {
  validateResources(r, opts);
  if (r.unified && Object.keys(r.unified).length > 0) {
    throw new BerthError('InvalidArgument', 'linux.resources.unified: requires cgroup v2 (this host uses cgroup v1)');
  }
  const out: V1Write[] = [];
  const w = (controller: V1Controller, file: string, value: string, extra: Partial<V1Write> = {}) =>
    out.push({ controller, file, value, ...extra });

  // runc's subsystem order: cpuset, devices, memory, cpu, pids, blkio, hugetlb, net_cls, net_prio, rdma.
  const c = r.cpu;
  if (c?.cpus) w('cpuset', 'cpuset.cpus', c.cpus);
  if (c?.mems) w('cpuset', 'cpuset.mems', c.mems);

  if (r.devices !== undefined) {
    // Start from deny-all, then apply the rules in order, as the kernel evaluates them
    // (Documentation/admin-guide/cgroup-v1/devices.rst). Leading deny-alls are already done.
    w('devices', 'devices.deny', 'a');
    const rules = normalizeDeviceRules(r.devices);
    let start = 0;
    while (start < rules.length && !rules[start]!.allow && isAllDevices(rules[start]!)) start++;
    for (const rule of rules.slice(start)) {
      for (const line of v1DeviceLines(rule)) w('devices', rule.allow ? 'devices.allow' : 'devices.deny', line);
    }
  }

  const m = r.memory;
  if (m) {
    const limit = m.limit ?? 0;
    let swap = m.swap ?? 0;
    let swapOptional = false;
    // runc fs/memory.go: an unlimited memory with no swap given means unlimited swap too,
    // written only where swap accounting exists.
    if (limit === -1 && swap === 0) {
      swap = -1;
      swapOptional = true;
    }
    const limitW: V1Write | undefined = limit !== 0 ? { controller: 'memory', file: 'memory.limit_in_bytes', value: num(limit) } : undefined;
    const swapW: V1Write | undefined = swap !== 0
      ? { controller: 'memory', file: 'memory.memsw.limit_in_bytes', value: num(swap), ...(swapOptional ? { optional: true } : {}) }
      : undefined;
    // The kernel requires memsw >= limit at every step, so when both change, raise memsw first
    // if it grows past the current limit (runc setMemoryAndSwap).
    const cur = opts.currentMemoryLimit;
    const swapFirst = limitW && swapW && (swap === -1 || (cur !== undefined && cur !== -1 && cur < swap));
    for (const x of swapFirst ? [swapW, limitW] : [limitW, swapW]) if (x) out.push(x);
    // Kernel memory limits are deprecated (removed in Linux 6.x); runc ignores them too.
    if (m.kernelTCP !== undefined && m.kernelTCP !== 0) w('memory', 'memory.kmem.tcp.limit_in_bytes', num(m.kernelTCP));
    if (m.reservation !== undefined && m.reservation !== 0) w('memory', 'memory.soft_limit_in_bytes', num(m.reservation));
    if (m.disableOOMKiller) w('memory', 'memory.oom_control', '1');
    if (m.swappiness !== undefined && m.swappiness !== -1) w('memory', 'memory.swappiness', String(m.swappiness));
  }

  if (c) {
    if (c.shares) w('cpu', 'cpu.shares', String(c.shares));
    const hasQuota = c.quota !== undefined && c.quota !== 0;
    // A shorter period can be rejected while the old quota still applies; runc retries it after the quota.
    if (c.period) w('cpu', 'cpu.cfs_period_us', String(c.period), hasQuota ? { retryAfter: 'cpu.cfs_quota_us' } : {});
    if (hasQuota) w('cpu', 'cpu.cfs_quota_us', c.quota! < 0 ? '-1' : String(c.quota));
    // Burst must not exceed the quota (kernel tg_set_cfs_bandwidth), so it follows it.
    if (c.burst !== undefined) w('cpu', 'cpu.cfs_burst_us', String(c.burst));
    if (c.idle !== undefined) w('cpu', 'cpu.idle', String(c.idle));
    if (c.realtimePeriod) w('cpu', 'cpu.rt_period_us', String(c.realtimePeriod));
    if (c.realtimeRuntime) w('cpu', 'cpu.rt_runtime_us', String(c.realtimeRuntime));
  }

  if (r.pids) w('pids', 'pids.max', r.pids.limit > 0 ? String(r.pids.limit) : 'max');

  const b = r.blockIO;
  if (b) {
    // runc prefers the BFQ files when the kernel has them, else the CFQ-era names.
    if (b.weight) w('blkio', 'blkio.bfq.weight', String(b.weight), { fallback: { file: 'blkio.weight', value: String(b.weight) } });
    if (b.leafWeight) w('blkio', 'blkio.leaf_weight', String(b.leafWeight));
    for (const d of b.weightDevice ?? []) {
      const v = `${d.major}:${d.minor} ${d.weight}`;
      if (d.weight) w('blkio', 'blkio.bfq.weight_device', v, { fallback: { file: 'blkio.weight_device', value: v } });
      if (d.leafWeight) w('blkio', 'blkio.leaf_weight_device', `${d.major}:${d.minor} ${d.leafWeight}`);
    }
    const throttle = [
      ['throttleReadBpsDevice', 'blkio.throttle.read_bps_device'],
      ['throttleWriteBpsDevice', 'blkio.throttle.write_bps_device'],
      ['throttleReadIOPSDevice', 'blkio.throttle.read_iops_device'],
      ['throttleWriteIOPSDevice', 'blkio.throttle.write_iops_device'],
    ] as const;
    for (const [key, file] of throttle) {
      for (const d of b[key] ?? []) w('blkio', file, `${d.major}:${d.minor} ${num(d.rate)}`);
    }
  }

  for (const h of r.hugepageLimits ?? []) w('hugetlb', `hugetlb.${h.pageSize}.limit_in_bytes`, num(h.limit));

  if (r.network?.classID !== undefined) w('net_cls', 'net_cls.classid', String(r.network.classID));
  for (const p of r.network?.priorities ?? []) w('net_prio', 'net_prio.ifpriomap', `${p.name} ${p.priority}`);

  for (const [dev, lim] of Object.entries(r.rdma ?? {})) {
    const parts = [dev];
    if (lim.hcaHandles !== undefined) parts.push(`hca_handle=${lim.hcaHandles}`);
    if (lim.hcaObjects !== undefined) parts.push(`hca_object=${lim.hcaObjects}`);
    if (parts.length > 1) w('rdma', 'rdma.max', parts.join(' '));
  }
  return out;
}
