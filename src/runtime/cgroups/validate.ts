// Resource validation shared by the v1 and v2 planners: InvalidArgument naming the OCI field. Pure.
import type { LinuxResources } from '../spec-types.js';
import { BerthError } from '../../errors.js';
import { normalizeDeviceRules } from './devices.js';

const F = 'linux.resources';

function bad(field: string, msg: string): never {
  throw new BerthError('InvalidArgument', `${F}.${field}: ${msg}`);
}

function int(v: unknown, field: string, min: number, max = Number.MAX_VALUE): void {
  if (v === undefined) return;
  if (typeof v !== 'number' || !Number.isInteger(v)) bad(field, `must be an integer, got ${JSON.stringify(v)}`);
  if (v < min) bad(field, min === 0 ? 'must not be negative' : `must be >= ${min}`);
  if (v > max) bad(field, `must be <= ${max}`);
}

/** Decimal text of an integer, without exponent notation for values past 2^53. */
export function num(n: number): string {
  return Number.isSafeInteger(n) ? String(n) : BigInt(n).toString();
}

/** "0-3,5" cpuset list syntax (kernel cpuset(7) "List format"). */
const CPU_LIST = /^\d+(-\d+)?(,\d+(-\d+)?)*$/;

/** A cgroup hugetlb page size name ("2MB", "1GB"): a power of two in KB/MB/GB units. */
export function hugePageBytes(size: string): number | undefined {
  const m = /^(\d+)(KB|MB|GB|TB|PB)$/.exec(size);
  if (!m) return undefined;
  const bytes = Number(m[1]) * 1024 ** (['KB', 'MB', 'GB', 'TB', 'PB'].indexOf(m[2]!) + 1);
  return bytes > 0 && Number.isInteger(Math.log2(bytes)) ? bytes : undefined;
}

export interface PlanOptions {
  /** Page sizes the kernel offers (readHugePageSizes()); when given, others are rejected. */
  hugePageSizes?: string[];
}

/** Checks every value a kernel would reject or that the planners cannot convert. */
export function validateResources(r: LinuxResources, opts: PlanOptions = {}): void {
  const m = r.memory;
  if (m) {
    int(m.limit, 'memory.limit', -1);
    int(m.reservation, 'memory.reservation', -1);
    int(m.swap, 'memory.swap', -1);
    int(m.kernel, 'memory.kernel', -1);
    int(m.kernelTCP, 'memory.kernelTCP', -1);
    if (m.swappiness !== undefined && m.swappiness !== -1) int(m.swappiness, 'memory.swappiness', 0, 100);
    if (m.swap !== undefined && m.swap > 0) {
      // OCI swap is memory+swap (the v1 memsw meaning), so it needs a limit to be relative to.
      if (m.limit === undefined || m.limit <= 0) bad('memory.swap', 'requires a memory limit');
      if (m.swap < m.limit) bad('memory.swap', 'must be >= memory limit');
    }
  }
  const c = r.cpu;
  if (c) {
    int(c.shares, 'cpu.shares', 0);
    // kernel MIN_SHARES / MAX_SHARES; v1 clamps silently, which runc reports as an error.
    if (c.shares !== undefined && c.shares !== 0 && (c.shares < 2 || c.shares > 262144)) bad('cpu.shares', 'must be between 2 and 262144');
    int(c.quota, 'cpu.quota', -1);
    if (c.quota !== undefined && c.quota > 0 && c.quota < 1000) bad('cpu.quota', 'must be >= 1000 (1ms) or -1');
    int(c.period, 'cpu.period', 0);
    if (c.period === 0 && c.quota !== undefined && c.quota !== 0) bad('cpu.period', 'must be > 0 when quota is set');
    // kernel/sched/core.c: the CFS period is 1ms..1s.
    if (c.period !== undefined && c.period !== 0 && (c.period < 1000 || c.period > 1000000)) bad('cpu.period', 'must be between 1000 and 1000000');
    int(c.burst, 'cpu.burst', 0);
    int(c.realtimeRuntime, 'cpu.realtimeRuntime', -1);
    int(c.realtimePeriod, 'cpu.realtimePeriod', 0);
    int(c.idle, 'cpu.idle', 0, 1);
    if (c.cpus && !CPU_LIST.test(c.cpus)) bad('cpu.cpus', `invalid cpu list "${c.cpus}"`);
    if (c.mems && !CPU_LIST.test(c.mems)) bad('cpu.mems', `invalid memory node list "${c.mems}"`);
  }
  if (r.pids) int(r.pids.limit, 'pids.limit', Number.MIN_SAFE_INTEGER);
  const b = r.blockIO;
  if (b) {
    const weight = (v: number | undefined, field: string) => {
      int(v, field, 0);
      // blkio/io weight range (kernel CFQ_WEIGHT_MIN..MAX); 0 means unset.
      if (v !== undefined && v !== 0 && (v < 10 || v > 1000)) bad(field, 'must be between 10 and 1000');
    };
    weight(b.weight, 'blockIO.weight');
    weight(b.leafWeight, 'blockIO.leafWeight');
    (b.weightDevice ?? []).forEach((d, i) => {
      int(d.major, `blockIO.weightDevice[${i}].major`, 0);
      int(d.minor, `blockIO.weightDevice[${i}].minor`, 0);
      weight(d.weight, `blockIO.weightDevice[${i}].weight`);
      weight(d.leafWeight, `blockIO.weightDevice[${i}].leafWeight`);
    });
    for (const k of ['throttleReadBpsDevice', 'throttleWriteBpsDevice', 'throttleReadIOPSDevice', 'throttleWriteIOPSDevice'] as const) {
      (b[k] ?? []).forEach((d, i) => {
        int(d.major, `blockIO.${k}[${i}].major`, 0);
        int(d.minor, `blockIO.${k}[${i}].minor`, 0);
        int(d.rate, `blockIO.${k}[${i}].rate`, 0);
      });
    }
  }
  (r.hugepageLimits ?? []).forEach((h, i) => {
    const field = `hugepageLimits[${i}]`;
    const known = opts.hugePageSizes;
    if (hugePageBytes(h.pageSize) === undefined || (known && !known.includes(h.pageSize))) {
      bad(`${field}.pageSize`, `unknown hugepage size "${h.pageSize}"${known ? ` (supported: ${known.join(', ') || 'none'})` : ''}`);
    }
    int(h.limit, `${field}.limit`, -1);
  });
  for (const key of Object.keys(r.unified ?? {})) {
    // runc fs2 setUnified: a key is a file name of the form CONTROLLER.PARAMETER.
    if (!/^[a-z_]+\.[A-Za-z0-9_.-]+$/.test(key) || key.includes('..')) {
      bad(`unified["${key}"]`, 'must be a cgroup file name of the form controller.parameter');
    }
    if (typeof r.unified![key] !== 'string') bad(`unified["${key}"]`, 'value must be a string');
  }
  if (r.network) {
    int(r.network.classID, 'network.classID', 0);
    (r.network.priorities ?? []).forEach((p, i) => {
      if (!p.name || /\s/.test(p.name)) bad(`network.priorities[${i}].name`, 'must be an interface name');
      int(p.priority, `network.priorities[${i}].priority`, 0);
    });
  }
  for (const [dev, lim] of Object.entries(r.rdma ?? {})) {
    if (!dev || /\s/.test(dev)) bad(`rdma["${dev}"]`, 'must be a device name');
    int(lim.hcaHandles, `rdma["${dev}"].hcaHandles`, 0);
    int(lim.hcaObjects, `rdma["${dev}"].hcaObjects`, 0);
  }
  normalizeDeviceRules(r.devices);
}
