// cgroups/metrics: a cgroup's usage counters read from its v1 or v2 files (what containerd's cgroups
// package Stat() returns, and what `docker stats` shows). The parsers are pure; the readers only read.
import { readFile, readNumber } from './manager.js';

export interface BlkioEntry { major: number; minor: number; op: string; value: number }

export interface CgroupMetrics {
  cgroupVersion: 1 | 2;
  cpu: {
    totalNs: number;
    /** v1 only (cpuacct.usage_percpu); v2 has no per-CPU counter. */
    perCpuNs?: number[];
    kernelNs: number;
    userNs: number;
    throttling: { periods: number; throttledPeriods: number; throttledTimeNs: number };
  };
  memory: {
    usage: number;
    /** v1 max_usage_in_bytes, v2 memory.peak (Linux 5.19+); absent when the kernel has none. */
    maxUsage?: number;
    /** -1 when unlimited */
    limit: number;
    failcnt: number;
    /** memory.stat as it is: v1 keys (cache, rss, total_inactive_file…) or v2 keys (anon, file, inactive_file…) */
    stats: Record<string, number>;
  };
  /** limit -1 when unlimited */
  pids: { current: number; limit: number };
  blkio: { serviceBytes: BlkioEntry[]; serviced: BlkioEntry[] };
}

/** "key value" lines (memory.stat, cpu.stat, cpuacct.stat, memory.events) into a record. */
export function parseFlatKeyed(text: string | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of (text ?? '').split('\n')) {
    const [k, v, extra] = line.trim().split(/\s+/);
    if (!k || v === undefined || extra !== undefined) continue;
    const n = Number(v);
    if (Number.isFinite(n)) out[k] = n;
  }
  return out;
}

/** v1 blkio "8:0 Read 4096" lines; the closing "Total N" line has no device and is left out, as runc does. */
export function parseV1Blkio(text: string | undefined): BlkioEntry[] {
  const out: BlkioEntry[] = [];
  for (const line of (text ?? '').split('\n')) {
    const f = line.trim().split(/\s+/);
    const dev = /^(\d+):(\d+)$/.exec(f[0] ?? '');
    if (!dev) continue;
    if (f.length === 3) out.push({ major: Number(dev[1]), minor: Number(dev[2]), op: f[1]!, value: Number(f[2]) });
    else if (f.length === 2) out.push({ major: Number(dev[1]), minor: Number(dev[2]), op: '', value: Number(f[1]) });
  }
  return out;
}

/**
 * v2 io.stat ("8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0") as docker's v2 blkio entries:
 * ops "read"/"write" in lower case (moby daemon/stats_unix.go statsV2).
 */
export function parseIoStat(text: string | undefined): { serviceBytes: BlkioEntry[]; serviced: BlkioEntry[] } {
  const serviceBytes: BlkioEntry[] = [];
  const serviced: BlkioEntry[] = [];
  for (const line of (text ?? '').split('\n')) {
    const [devField, ...kvs] = line.trim().split(/\s+/);
    const dev = /^(\d+):(\d+)$/.exec(devField ?? '');
    if (!dev) continue;
    const kv: Record<string, number> = {};
    for (const p of kvs) { const [k, v] = p.split('='); if (k && v !== undefined) kv[k] = Number(v); }
    const major = Number(dev[1]), minor = Number(dev[2]);
    serviceBytes.push({ major, minor, op: 'read', value: kv.rbytes ?? 0 }, { major, minor, op: 'write', value: kv.wbytes ?? 0 });
    serviced.push({ major, minor, op: 'read', value: kv.rios ?? 0 }, { major, minor, op: 'write', value: kv.wios ?? 0 });
  }
  return { serviceBytes, serviced };
}

// cpuacct.stat counts USER_HZ ticks; Linux fixes USER_HZ at 100 for user space (times(2)).
const NS_PER_TICK = 1e9 / 100;

/** v1: each controller's directory, or undefined when it is not mounted. */
export function readV1Metrics(dir: (controller: string) => string | undefined): CgroupMetrics {
  const acct = dir('cpuacct');
  const cpu = dir('cpu');
  const mem = dir('memory');
  const pids = dir('pids');
  const blkio = dir('blkio');
  const acctStat = parseFlatKeyed(acct ? readFile(acct, 'cpuacct.stat') : undefined);
  const cpuStat = parseFlatKeyed(cpu ? readFile(cpu, 'cpu.stat') : undefined);
  const perCpu = (acct ? readFile(acct, 'cpuacct.usage_percpu') ?? '' : '').split(/\s+/).filter(Boolean).map(Number);
  // the CFQ counters are empty under other schedulers: docker (through runc) then reports the throttle ones
  const pick = (cfq: string, throttle: string) => {
    if (!blkio) return [];
    const a = parseV1Blkio(readFile(blkio, cfq));
    return a.length ? a : parseV1Blkio(readFile(blkio, throttle));
  };
  return {
    cgroupVersion: 1,
    cpu: {
      totalNs: acct ? readNumber(acct, 'cpuacct.usage') : 0,
      ...(perCpu.length ? { perCpuNs: perCpu } : {}),
      kernelNs: (acctStat.system ?? 0) * NS_PER_TICK,
      userNs: (acctStat.user ?? 0) * NS_PER_TICK,
      throttling: { periods: cpuStat.nr_periods ?? 0, throttledPeriods: cpuStat.nr_throttled ?? 0, throttledTimeNs: cpuStat.throttled_time ?? 0 },
    },
    memory: mem
      ? {
          usage: readNumber(mem, 'memory.usage_in_bytes'),
          maxUsage: readNumber(mem, 'memory.max_usage_in_bytes'),
          limit: readNumber(mem, 'memory.limit_in_bytes', -1),
          failcnt: readNumber(mem, 'memory.failcnt'),
          stats: parseFlatKeyed(readFile(mem, 'memory.stat')),
        }
      : { usage: 0, limit: -1, failcnt: 0, stats: {} },
    pids: pids ? { current: readNumber(pids, 'pids.current'), limit: readNumber(pids, 'pids.max', -1) } : { current: 0, limit: -1 },
    blkio: {
      serviceBytes: pick('blkio.io_service_bytes_recursive', 'blkio.throttle.io_service_bytes_recursive'),
      serviced: pick('blkio.io_serviced_recursive', 'blkio.throttle.io_serviced_recursive'),
    },
  };
}

/** v2: the cgroup's one directory (cgroup-v2.rst "Controllers"). */
export function readV2Metrics(d: string): CgroupMetrics {
  const cpuStat = parseFlatKeyed(readFile(d, 'cpu.stat'));
  const events = parseFlatKeyed(readFile(d, 'memory.events'));
  const peak = readFile(d, 'memory.peak');
  return {
    cgroupVersion: 2,
    cpu: {
      totalNs: (cpuStat.usage_usec ?? 0) * 1000,
      kernelNs: (cpuStat.system_usec ?? 0) * 1000,
      userNs: (cpuStat.user_usec ?? 0) * 1000,
      throttling: { periods: cpuStat.nr_periods ?? 0, throttledPeriods: cpuStat.nr_throttled ?? 0, throttledTimeNs: (cpuStat.throttled_usec ?? 0) * 1000 },
    },
    memory: {
      usage: readNumber(d, 'memory.current'),
      ...(peak !== undefined ? { maxUsage: readNumber(d, 'memory.peak') } : {}),
      limit: readNumber(d, 'memory.max', -1),
      // moby reports memory.events "oom" as the failure count on v2
      failcnt: events.oom ?? 0,
      stats: parseFlatKeyed(readFile(d, 'memory.stat')),
    },
    pids: { current: readNumber(d, 'pids.current'), limit: readNumber(d, 'pids.max', -1) },
    blkio: parseIoStat(readFile(d, 'io.stat')),
  };
}
