// containers/stats: samples of a running container's usage — its cgroup's counters, the host's CPU
// time (/proc/stat, what docker's CPU % divides by) and the network counters of its namespace — and the
// pairing of each sample with a previous one (docker's precpu_stats). Docker's stream=false answer waits
// a second for its second sample; here the previous sample comes from a short cache, or, when there is
// none, from a first sample taken PAIR_GAP_MS earlier, so `docker stats --no-stream` never waits a second.
import * as fs from 'node:fs';
import type { CgroupManager, CgroupMetrics } from '../runtime/cgroups/index.js';
import { setTimeout as delay } from 'node:timers/promises';

export interface NetDev { rxBytes: number; rxPackets: number; rxErrors: number; rxDropped: number; txBytes: number; txPackets: number; txErrors: number; txDropped: number }

export interface StatsSample {
  /** wall clock of the read, ms since the epoch (with sub-ms precision from hrtime) */
  readMs: number;
  metrics: CgroupMetrics;
  /** all CPUs' busy + idle time, ns (docker's system_cpu_usage) */
  systemCpuNs: number;
  onlineCpus: number;
  /** interfaces other than lo; undefined when the container has none of its own */
  networks?: Record<string, NetDev>;
}

export interface StatsPair { cur: StatsSample; pre?: StatsSample }

/** What stats needs of a running container. */
export interface StatsTarget { id: string; pid: number; cgroup: () => CgroupManager; ownNetwork: boolean }

// /proc/stat counts USER_HZ ticks, fixed at 100 for user space.
const NS_PER_TICK = 1e9 / 100;

/** The "cpu " line of /proc/stat: the first seven fields (user … softirq) in ns, and the number of cpuN lines (moby readSystemCPUUsage). */
export function parseProcStat(text: string): { systemCpuNs: number; onlineCpus: number } {
  let systemCpuNs = 0, onlineCpus = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith('cpu')) break;
    const f = line.trim().split(/\s+/);
    if (f[0] === 'cpu') systemCpuNs = f.slice(1, 8).reduce((n, v) => n + Number(v), 0) * NS_PER_TICK;
    else onlineCpus++;
  }
  return { systemCpuNs, onlineCpus };
}

/** /proc/<pid>/net/dev: receive bytes packets errs drop fifo frame compressed multicast, then transmit bytes packets errs drop … */
export function parseNetDev(text: string): Record<string, NetDev> {
  const out: Record<string, NetDev> = {};
  for (const line of text.split('\n').slice(2)) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    const f = line.slice(colon + 1).trim().split(/\s+/).map(Number);
    if (!name || name === 'lo' || f.length < 16) continue;
    out[name] = { rxBytes: f[0]!, rxPackets: f[1]!, rxErrors: f[2]!, rxDropped: f[3]!, txBytes: f[8]!, txPackets: f[9]!, txErrors: f[10]!, txDropped: f[11]! };
  }
  return out;
}

const hrBase = process.hrtime.bigint();
const wallBase = Date.now();
const nowMs = () => wallBase + Number(process.hrtime.bigint() - hrBase) / 1e6;

/** One sample now. The container's network counters are read through its first process's /proc entry. */
export function takeSample(t: StatsTarget): StatsSample {
  const metrics = t.cgroup().metrics();
  const readMs = nowMs();
  const sys = parseProcStat(fs.readFileSync('/proc/stat', 'utf8'));
  let networks: Record<string, NetDev> | undefined;
  if (t.ownNetwork && t.pid > 0) {
    try {
      const n = parseNetDev(fs.readFileSync(`/proc/${t.pid}/net/dev`, 'utf8'));
      if (Object.keys(n).length) networks = n;
    } catch { /* exited meanwhile */ }
  }
  return { readMs, metrics, systemCpuNs: sys.systemCpuNs, onlineCpus: sys.onlineCpus || (metrics.cpu.perCpuNs?.length ?? 1), ...(networks ? { networks } : {}) };
}

/** The gap between the two samples of a pair made on demand: long enough for /proc/stat's 10 ms ticks to move. */
export const PAIR_GAP_MS = 100;
/** A cached sample older than this is a stale base for a CPU percentage; a fresh pair is taken instead. */
const MAX_PRE_AGE_MS = 10_000;

export class StatsSampler {
  private readonly last = new Map<string, StatsSample>();

  /**
   * The current sample with a previous one: the last sample of this container if it is recent,
   * otherwise one taken PAIR_GAP_MS before. `withPre` false (docker's one-shot) takes no second sample.
   */
  async pair(t: StatsTarget, withPre = true): Promise<StatsPair> {
    let pre = this.last.get(t.id);
    if (pre && nowMs() - pre.readMs > MAX_PRE_AGE_MS) pre = undefined;
    if (!pre && withPre) {
      pre = takeSample(t);
      await delay(PAIR_GAP_MS);
    }
    const cur = takeSample(t);
    this.last.set(t.id, cur);
    return { cur, ...(pre ? { pre } : {}) };
  }

  /** Successive samples intervalMs apart (docker's collector: 1 s), each with the one before it, until `alive` says no or the signal aborts. */
  async *stream(t: StatsTarget, alive: () => boolean, signal: AbortSignal, intervalMs = 1000): AsyncIterable<StatsPair> {
    let pre: StatsSample | undefined = this.last.get(t.id);
    if (pre && nowMs() - pre.readMs > MAX_PRE_AGE_MS) pre = undefined;
    while (!signal.aborted && alive()) {
      let cur: StatsSample;
      try { cur = takeSample(t); } catch { return; /* the cgroup went away: the container stopped */ }
      this.last.set(t.id, cur);
      yield { cur, ...(pre ? { pre } : {}) };
      pre = cur;
      await delay(intervalMs, undefined, { signal }).catch(() => undefined); // aborted: the loop ends
    }
  }

  forget(id: string): void { this.last.delete(id); }
}
