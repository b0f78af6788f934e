// api/stats-wire: a stats sample pair as docker's StatsResponse (moby api/types/container/stats.go,
// filled as daemon/stats_unix.go statsV1/statsV2 fill it). Translation only.
import type { BlkioEntry, CgroupMetrics } from '../runtime/cgroups/index.js';
import type { StatsPair, StatsSample } from '../containers/stats.js';
import type { Container } from '../containers/types.js';
import { isoTime } from '../util/time.js';

const ZERO_TIME = '0001-01-01T00:00:00Z';

/** RFC 3339 with nanoseconds, from fractional ms since the epoch. */
export function rfc3339Nano(ms: number): string {
  const whole = Math.floor(ms);
  const ns = String(Math.round((ms - whole) * 1e6)).padStart(6, '0').slice(0, 6);
  return isoTime(whole).replace(/\.(\d{3})Z$/, (_, m: string) => `.${m}${ns}Z`);
}

const blkio = (e: BlkioEntry[]) => (e.length ? e.map((x) => ({ major: x.major, minor: x.minor, op: x.op, value: x.value })) : null);

function emptyBlkio(): Record<string, null> {
  return {
    io_service_bytes_recursive: null, io_serviced_recursive: null, io_queue_recursive: null, io_service_time_recursive: null,
    io_wait_time_recursive: null, io_merged_recursive: null, io_time_recursive: null, sectors_recursive: null,
  };
}

function cpuStats(s: StatsSample | undefined): object {
  if (!s) return { cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 }, throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 } };
  const c = s.metrics.cpu;
  return {
    cpu_usage: { total_usage: c.totalNs, ...(c.perCpuNs ? { percpu_usage: c.perCpuNs } : {}), usage_in_kernelmode: c.kernelNs, usage_in_usermode: c.userNs },
    system_cpu_usage: s.systemCpuNs,
    online_cpus: s.onlineCpus,
    throttling_data: { periods: c.throttling.periods, throttled_periods: c.throttling.throttledPeriods, throttled_time: c.throttling.throttledTimeNs },
  };
}

// moby: an unlimited (or larger than the host) memory limit is reported as the host's memory
function memoryStats(m: CgroupMetrics, memTotal: number): object {
  const limit = m.memory.limit < 0 || (memTotal > 0 && m.memory.limit > memTotal) ? memTotal : m.memory.limit;
  return {
    usage: m.memory.usage,
    ...(m.memory.maxUsage !== undefined && m.cgroupVersion === 1 ? { max_usage: m.memory.maxUsage } : {}),
    stats: m.memory.stats,
    ...(m.memory.failcnt ? { failcnt: m.memory.failcnt } : {}),
    limit,
  };
}

/** One StatsResponse; `p` undefined for a container that is not running (moby answers zeros). */
export function statsWire(c: Container, p: StatsPair | undefined, memTotal: number): object {
  const base = { name: `/${c.name}`, id: c.id };
  if (!p) {
    return {
      ...base, read: ZERO_TIME, preread: ZERO_TIME, pids_stats: {}, blkio_stats: emptyBlkio(), num_procs: 0, storage_stats: {},
      cpu_stats: cpuStats(undefined), precpu_stats: cpuStats(undefined), memory_stats: {},
    };
  }
  const m = p.cur.metrics;
  const net = p.cur.networks;
  return {
    ...base,
    read: rfc3339Nano(p.cur.readMs),
    preread: p.pre ? rfc3339Nano(p.pre.readMs) : ZERO_TIME,
    pids_stats: { current: m.pids.current, ...(m.pids.limit > 0 ? { limit: m.pids.limit } : {}) },
    blkio_stats: { ...emptyBlkio(), io_service_bytes_recursive: blkio(m.blkio.serviceBytes), io_serviced_recursive: blkio(m.blkio.serviced) },
    num_procs: 0,
    storage_stats: {},
    cpu_stats: cpuStats(p.cur),
    precpu_stats: cpuStats(p.pre),
    memory_stats: memoryStats(m, memTotal),
    ...(net ? {
      networks: Object.fromEntries(Object.entries(net).map(([k, n]) => [k, {
        rx_bytes: n.rxBytes, rx_packets: n.rxPackets, rx_errors: n.rxErrors, rx_dropped: n.rxDropped,
        tx_bytes: n.txBytes, tx_packets: n.txPackets, tx_errors: n.txErrors, tx_dropped: n.txDropped,
      }])),
    } : {}),
  };
}
