// containers/restart: restart policies (moby daemon/internal/restartmanager, daemon/monitor.go): which
// exits a policy restarts, after which backoff, and the timers that wait it out. The decisions are pure
// functions; the Restarts class only keeps the per-container backoff and timers and calls back into the
// service to start a container. It never touches a record's files.
import { BerthError } from '../errors.js';

export const RESTART_POLICIES = ['no', 'on-failure', 'always', 'unless-stopped'] as const;
export type RestartPolicyName = typeof RESTART_POLICIES[number];

/** HostConfig.RestartPolicy, as a container's config keeps it (absent or 'no': never restarted). */
export interface RestartPolicy { name: RestartPolicyName; maximumRetryCount?: number }

const bad = (msg: string) => new BerthError('InvalidArgument', msg);

/**
 * The wire's RestartPolicy → the stored one, with moby's checks and wording (api/types/container
 * ValidateRestartPolicy). An empty name is "no": clients before docker 25 sent it so. Used by create and update.
 */
export function checkRestartPolicy(p: { Name?: string; MaximumRetryCount?: number } | null | undefined): RestartPolicy | undefined {
  if (!p) return undefined;
  const name = p.Name ?? '';
  const count = p.MaximumRetryCount ?? 0;
  switch (name) {
    case 'always': case 'unless-stopped': case 'no':
      if (count !== 0) throw bad(`invalid restart policy: maximum retry count can only be used with 'on-failure'${count < 0 ? ' and cannot be negative' : ''}`);
      return name === 'no' ? undefined : { name };
    case 'on-failure':
      if (count < 0) throw bad('invalid restart policy: maximum retry count cannot be negative');
      return count ? { name, maximumRetryCount: count } : { name };
    case '':
      return undefined;
    default:
      throw bad(`invalid restart policy: unknown policy '${name}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'`);
  }
}

/** Back to the wire shape for inspect. */
export function restartPolicyWire(p: RestartPolicy | undefined): { Name: string; MaximumRetryCount: number } {
  return { Name: p?.name ?? 'no', MaximumRetryCount: p?.maximumRetryCount ?? 0 };
}

/** One run's end, as the policy sees it. */
export interface RunEnd {
  exitCode: number;
  restartCount: number;       // restarts by the policy so far
  manuallyStopped: boolean;   // a user stop/kill since the last user start (docker's HasBeenManuallyStopped)
}

/** moby RestartManager.ShouldRestart's policy switch. */
export function policyRestarts(p: RestartPolicy | undefined, e: RunEnd): boolean {
  switch (p?.name) {
    case 'always': return true;
    case 'unless-stopped': return !e.manuallyStopped;
    case 'on-failure': {
      const max = p.maximumRetryCount ?? 0; // 0: no maximum
      return e.exitCode !== 0 && (max === 0 || e.restartCount < max);
    }
    default: return false;
  }
}

/** moby's backoff: 100 ms, doubling, at most a minute; a run of 10 s or more starts it over. */
export const FIRST_DELAY_MS = 100;
export const MAX_DELAY_MS = 60_000;
export const RESET_AFTER_MS = 10_000;
export function nextDelay(previousMs: number, ranMs: number): number {
  const prev = ranMs >= RESET_AFTER_MS ? 0 : previousMs;
  return prev === 0 ? FIRST_DELAY_MS : Math.min(prev * 2, MAX_DELAY_MS);
}

/** The parts of a container record the manager reads and changes. */
export interface Restartable {
  id: string;
  config: { stopSignal?: string; host: { restartPolicy?: RestartPolicy } };
  state: { status: string; exitCode: number; startedAt: string; finishedAt: string };
  restartCount: number;
  manuallyStopped?: boolean;
}

export class Restarts {
  private readonly delays = new Map<string, number>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  /** Containers whose current run a user stopped: its exit is not the policy's (moby ExitOnNext cancels the manager). */
  private readonly canceled = new Set<string>();
  /** Policy starts under way: a user's stop waits for one, then stops what it started. */
  private readonly starting = new Map<string, Promise<unknown>>();

  /** `start` is the service's start of a container by the policy (it keeps RestartCount). */
  constructor(private readonly o: { start: (id: string) => Promise<unknown>; log?: (msg: string) => void; debug?: (msg: string) => void; still: (id: string) => boolean }) {}

  /** A user's start: counting and backoff start over, and the manual stop is forgotten (moby ResetRestartManager). */
  userStart(c: Restartable): void {
    this.cancel(c.id);
    this.delays.delete(c.id);
    c.restartCount = 0;
    c.manuallyStopped = false;
  }

  /**
   * A user's kill or stop (signal number `sig`): remembered for unless-stopped, and the run's exit is not
   * restarted — unless the signal is neither SIGKILL nor the container's stop signal (moby killWithSignal).
   */
  userKill(c: Restartable, sig: number, stopSignal: number | undefined): void {
    c.manuallyStopped = true;
    if (sig === 9 || stopSignal === undefined || sig === stopSignal) this.canceled.add(c.id);
  }

  /**
   * A run ended: true when the policy restarts it. Then RestartCount is one more and a start is scheduled
   * after the backoff; the caller shows the container as `restarting` meanwhile.
   */
  afterExit(c: Restartable, exitCode: number, ranMs: number): boolean {
    const canceled = this.canceled.delete(c.id);
    if (canceled || !policyRestarts(c.config.host.restartPolicy, { exitCode, restartCount: c.restartCount, manuallyStopped: !!c.manuallyStopped })) {
      this.delays.delete(c.id);
      return false;
    }
    const delay = nextDelay(this.delays.get(c.id) ?? 0, ranMs);
    this.delays.set(c.id, delay);
    c.restartCount++;
    this.schedule(c.id, delay);
    return true;
  }

  /** Starts a container the policy restarts now (daemon start), through the same timer path. */
  schedule(id: string, delayMs: number): void {
    this.cancel(id);
    const t = setTimeout(() => {
      this.timers.delete(id);
      if (!this.o.still(id)) return; // removed meanwhile
      this.o.debug?.(`container ${id}: start by its restart policy`);
      const p = this.o.start(id).catch((e: Error) => this.o.log?.(`container ${id}: restart by its policy failed: ${e.message}`))
        .finally(() => { if (this.starting.get(id) === p) this.starting.delete(id); });
      this.starting.set(id, p);
    }, delayMs);
    this.timers.set(id, t);
  }

  /** Resolves once no policy start of the container is under way. */
  async settled(id: string): Promise<void> {
    await this.starting.get(id);
  }

  /** Drops a pending restart; true when there was one. */
  cancel(id: string): boolean {
    const t = this.timers.get(id);
    if (t) clearTimeout(t);
    this.canceled.delete(id);
    return this.timers.delete(id);
  }

  /** The container is gone: forget it. */
  forget(id: string): void {
    this.cancel(id);
    this.delays.delete(id);
  }
}

/**
 * At daemon start, for a container that is not running: does its policy bring it back? moby
 * restore → container.ShouldRestart with a fresh manager: always, unless-stopped when not stopped by
 * a user, on-failure after a failure with retries left; only containers that ever ran.
 */
export function restartsAtDaemonStart(c: Restartable, never: string): boolean {
  if (c.state.status === 'restarting') return true; // the daemon died while it waited to restart it
  if (c.state.status !== 'exited' || c.state.startedAt === never) return false;
  return policyRestarts(c.config.host.restartPolicy, { exitCode: c.state.exitCode, restartCount: c.restartCount, manuallyStopped: !!c.manuallyStopped });
}

/**
 * `docker update --restart` (moby Container.UpdateContainer): sets the stored policy, which the next exit
 * reads (so a running container's next exit follows the new one, like moby's UpdateMonitor). A request
 * without a policy name leaves it. For the update service: call it on the record, then save the record.
 */
export function applyRestartUpdate(host: { restartPolicy?: RestartPolicy; autoRemove?: boolean }, p: { Name?: string; MaximumRetryCount?: number } | null | undefined): void {
  if (!p?.Name) return;
  const policy = checkRestartPolicy(p);
  if (host.autoRemove && policy) throw new BerthError('Conflict', 'Restart policy cannot be updated because AutoRemove is enabled for the container');
  if (policy) host.restartPolicy = policy;
  else delete host.restartPolicy;
}
