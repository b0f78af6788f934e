// containers/health: healthchecks (moby daemon/health.go). The config's checks and merge with the image's
// are pure; HealthChecks runs one probe loop per running container through the service's exec, keeps
// State.Health (status, failing streak, the last 5 results) and publishes health_status on a change.
// It never starts, stops or saves a container itself: the service's callbacks do.
import { BerthError } from '../errors.js';
import { attach } from '../monitor/index.js';
import { formatGoDuration } from '../util/go-duration.js';
import { sleep } from '../util/timer.js';
import type { ExitStatus } from '../monitor/index.js';
import type { ExecConfig, ExecInstance } from './exec.js';
import { isoTime } from '../util/time.js';

/** Config.Healthcheck, camelCase; durations in nanoseconds as on the wire, 0 = the default. */
export interface HealthConfig {
  test?: string[];           // [] inherit, ["NONE"], ["CMD", cmd…], ["CMD-SHELL", "cmd"]
  interval?: number;
  timeout?: number;
  retries?: number;
  startPeriod?: number;
  startInterval?: number;
}

export type HealthStatus = 'starting' | 'healthy' | 'unhealthy';
export interface HealthResult { start: string; end: string; exitCode: number; output: string }
export interface Health { status: HealthStatus; failingStreak: number; log: HealthResult[] }

const MS = 1_000_000; // ns
/** moby api/types/container MinimumDuration */
export const MIN_DURATION_NS = MS;
const DEFAULT_INTERVAL_NS = 30_000 * MS;
const DEFAULT_TIMEOUT_NS = 30_000 * MS;
const DEFAULT_START_INTERVAL_NS = 5_000 * MS;
const DEFAULT_RETRIES = 3;
/** moby health.go maxOutputLen, maxLogEntries */
export const MAX_OUTPUT = 4096;
export const MAX_LOG = 5;

type HealthWire = { Test?: string[] | null; Interval?: number | null; Timeout?: number | null; Retries?: number | null; StartPeriod?: number | null; StartInterval?: number | null };

/**
 * The wire's Healthcheck → the stored one, with moby's checks and wording (daemon/container.go
 * validateHealthCheck): a 400 at create, not a probe loop that spins.
 */
export function checkHealthConfig(h: HealthWire | null | undefined): HealthConfig | undefined {
  if (!h) return undefined;
  const d = (v: number | null | undefined, name: string): number | undefined => {
    if (v === null || v === undefined || v === 0) return undefined;
    if (v < MIN_DURATION_NS) throw new BerthError('InvalidArgument', `${name} in Healthcheck cannot be less than 1ms`);
    return v;
  };
  const out: HealthConfig = {
    test: h.Test ?? undefined, interval: d(h.Interval, 'Interval'), timeout: d(h.Timeout, 'Timeout'),
    retries: h.Retries ?? undefined, startPeriod: d(h.StartPeriod, 'StartPeriod'), startInterval: d(h.StartInterval, 'StartInterval'),
  };
  if ((out.retries ?? 0) < 0) throw new BerthError('InvalidArgument', 'Retries in Healthcheck cannot be negative');
  if (!out.retries) delete out.retries;
  // an unknown test type (not NONE, CMD or CMD-SHELL) is accepted, as dockerd does, and runs no probe
  for (const k of Object.keys(out) as Array<keyof HealthConfig>) if (out[k] === undefined) delete out[k];
  return out;
}

/** Back to the wire for inspect (moby omits the zero fields). */
export function healthConfigWire(h: HealthConfig | undefined): HealthWire | undefined {
  if (!h) return undefined;
  return {
    Test: h.test ?? [], ...(h.interval ? { Interval: h.interval } : {}), ...(h.timeout ? { Timeout: h.timeout } : {}),
    ...(h.startPeriod ? { StartPeriod: h.startPeriod } : {}), ...(h.startInterval ? { StartInterval: h.startInterval } : {}),
    ...(h.retries ? { Retries: h.retries } : {}),
  };
}

/** The image config's Healthcheck (PascalCase, as in the image JSON). */
export function imageHealthConfig(imageConfig: Record<string, unknown> | undefined): HealthConfig | undefined {
  const h = imageConfig?.Healthcheck as HealthWire | undefined;
  if (!h || typeof h !== 'object') return undefined;
  try { return checkHealthConfig(h); } catch { return undefined; /* an image's bad healthcheck is no check */ }
}

/** moby daemon/commit.go merge: the container's fields win, the image's fill what it left unset. */
export function mergeHealthConfig(own: HealthConfig | undefined, image: HealthConfig | undefined): HealthConfig | undefined {
  if (!image) return own;
  if (!own) return { ...image };
  const out = { ...own };
  if (!out.test?.length && image.test) out.test = image.test;
  for (const k of ['interval', 'timeout', 'startPeriod', 'startInterval', 'retries'] as const) if (!out[k] && image[k]) out[k] = image[k];
  return out;
}

/** The command a probe runs, or undefined for no probe (none, NONE, an empty CMD). */
export function probeCommand(h: HealthConfig | undefined): string[] | undefined {
  const t = h?.test;
  if (!t?.length || t.length < 2) return undefined;
  if (t[0] === 'CMD') return t.slice(1);
  if (t[0] === 'CMD-SHELL') return ['/bin/sh', '-c', ...t.slice(1)];
  return undefined;
}

/** moby handleProbeResult: the new health after one probe. Pure. */
export function applyResult(h: Health, r: HealthResult, cfg: HealthConfig | undefined, startedAt: string): Health {
  const retries = cfg?.retries && cfg.retries > 0 ? cfg.retries : DEFAULT_RETRIES;
  const log = [...h.log, r].slice(-MAX_LOG);
  if (r.exitCode === 0) return { status: 'healthy', failingStreak: 0, log };
  // a container that never passed a check is not failing while inside its start period
  const inStartPeriod = h.status === 'starting' && Date.parse(r.start) - Date.parse(startedAt) < (cfg?.startPeriod ?? 0) / MS;
  if (inStartPeriod) return { ...h, log };
  const failingStreak = h.failingStreak + 1;
  return { status: failingStreak >= retries ? 'unhealthy' : h.status, failingStreak, log };
}

/** moby monitor's getInterval: the start interval while starting inside the start period. */
export function probeDelayMs(cfg: HealthConfig | undefined, h: Health | undefined, startedAt: string, now = Date.now()): number {
  const interval = (cfg?.interval ?? DEFAULT_INTERVAL_NS) / MS;
  if (now - Date.parse(startedAt) >= (cfg?.startPeriod ?? 0) / MS) return interval;
  return h?.status === 'starting' ? (cfg?.startInterval ?? DEFAULT_START_INTERVAL_NS) / MS : interval;
}

/** The parts of a record the checks read and change. */
export interface Checked {
  id: string;
  config: { healthcheck?: HealthConfig };
  state: { status: string; startedAt: string; health?: Health };
}

/** What the service lends the checks: its exec, its record store and its events. */
export interface HealthHost {
  get(id: string): Checked | undefined;
  execCreate(id: string, cfg: ExecConfig): Promise<string>;
  execStart(execId: string, beforeRelease?: (attachSocket: string) => Promise<void>): Promise<{ exited: Promise<ExitStatus> }>;
  execInspect(execId: string): ExecInstance;
  execDone(execId: string): void;
  save(c: Checked): void;
  event(c: Checked, action: string): void;
  log?(msg: string): void;
}

export class HealthChecks {
  private readonly runs = new Map<string, { stopped: boolean; wake: AbortController }>();

  constructor(private readonly host: HealthHost) {}

  /**
   * A container started (or was found running by a new daemon, `resume`): a fresh start is `starting`
   * (moby initHealthMonitor); a resumed one keeps the health it had, so a restart of berthd does not flap it.
   */
  start(c: Checked, resume = false): void {
    this.stop(c.id);
    const cmd = probeCommand(c.config.healthcheck);
    const type = c.config.healthcheck?.test?.[0];
    if (!cmd && type && !['NONE', 'CMD', 'CMD-SHELL'].includes(type)) this.host.log?.(`container ${c.id}: unknown healthcheck type '${type}' (expected CMD or CMD-SHELL): no probes`);
    if (!cmd) return;
    if (!resume || !c.state.health) c.state.health = { status: 'starting', failingStreak: 0, log: c.state.health?.log ?? [] };
    const run = { stopped: false, wake: new AbortController() };
    this.runs.set(c.id, run);
    const schedule = () => {
      const now = this.host.get(c.id);
      if (run.stopped || !now) return;
      // sleep(): an interval past setTimeout's 24.8 days must not fire at once
      void sleep(probeDelayMs(now.config.healthcheck, now.state.health, now.state.startedAt), run.wake.signal).then(() => { if (!run.stopped) void tick(); });
    };
    const tick = async () => {
      const now = this.host.get(c.id);
      if (run.stopped || !now || now.state.status !== 'running') { schedule(); return; } // paused: no probes
      const start = isoTime();
      let r: { exitCode: number; output: string };
      try { r = await this.probe(now, cmd); } catch (e) { r = { exitCode: -1, output: (e as Error).message }; }
      if (run.stopped) return;
      const before = now.state.health ?? { status: 'starting' as const, failingStreak: 0, log: [] };
      const after = applyResult(before, { start, end: isoTime(), ...r }, now.config.healthcheck, now.state.startedAt);
      now.state.health = after;
      this.host.save(now);
      if (after.status !== before.status) this.host.event(now, `health_status: ${after.status}`);
      schedule();
    };
    schedule();
  }

  stop(id: string): void {
    const run = this.runs.get(id);
    if (!run) return;
    run.stopped = true;
    run.wake.abort();
    this.runs.delete(id);
  }

  /** One probe: exec the command, keep its first 4096 bytes of output, kill it at the timeout. */
  private async probe(c: Checked, cmd: string[]): Promise<{ exitCode: number; output: string }> {
    const timeoutNs = c.config.healthcheck?.timeout ?? DEFAULT_TIMEOUT_NS;
    const execId = await this.host.execCreate(c.id, { cmd });
    const chunks: Buffer[] = [];
    let size = 0;
    let hungUp: Promise<void> = Promise.resolve();
    try {
      const { exited } = await this.host.execStart(execId, async (sock) => {
        const a = await attach(sock);
        const keep = (d: Buffer) => { if (size < MAX_OUTPUT) { const part = d.subarray(0, MAX_OUTPUT - size); chunks.push(part); size += part.length; } };
        a.on('stdout', keep);
        a.on('stderr', keep);
        // the monitor hangs up after the last output: wait for it, so no output is lost to the race with the exit
        hungUp = new Promise((r) => a.once('close', () => r()));
      });
      const done = new AbortController();
      const timedOut = sleep(timeoutNs / MS, done.signal).then(() => 'timeout' as const);
      const first = await Promise.race([exited, timedOut]);
      done.abort();
      if (first === 'timeout') {
        const pid = this.host.execInspect(execId).pid;
        try { if (pid) process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
        await exited.catch(() => undefined); // a dying probe must not pile up behind the next
        const out = Buffer.concat(chunks).toString();
        return { exitCode: -1, output: `Health check exceeded timeout (${formatGoDuration(timeoutNs)})${out ? `: ${out}` : ''}` };
      }
      await Promise.race([hungUp, new Promise((r) => setTimeout(r, 1000))]);
      return { exitCode: first.exitCode, output: Buffer.concat(chunks).toString() };
    } finally {
      this.host.execDone(execId);
    }
  }
}
