// containers/exec: `docker exec` instances. Each runs under a monitor of its own (stdio, attach socket,
// exit status) like a container does, and waits for GO, so a client attaches before any output.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BerthError } from '../errors.js';
import { attach as attachMonitor, launchMonitor, spawnIn, type ExitStatus, type LaunchedMonitor, type Monitor, type MonitorPaths, type StartMonitorOptions } from '../monitor/index.js';
import { privateDir } from '../util/dirs.js';
import { Container as RuntimeContainer } from '../runtime/container.js';
import { execProcess } from '../runtime/exec.js';
import { buildExecPlan, cgroupJoinOps, personalityValue, withHome } from '../runtime/plan/build.js';
import { MSG } from '../runtime/plan/tags.js';
import { HelperSession, HELPER_PATH, socketOnlyHelper } from '../runtime/sync.js';
import { ownCapabilities } from '../runtime/host-facts.js';
import type { StateStore } from '../runtime/state.js';
import { readInRoot } from '../util/in-root.js';
import { newId } from './names.js';
import { trace } from '../util/trace.js';
import { resolveUser } from './spec/user.js';

/** The runtime's helper as the monitor started it. */
export const monitoredHelper = socketOnlyHelper;

export interface ExecConfig {
  cmd: string[];
  env?: string[];
  user?: string;
  workingDir?: string;
  tty?: boolean;
  attachStdin?: boolean;
  privileged?: boolean;
}

export interface ExecInstance {
  id: string;
  containerId: string;
  config: ExecConfig;
  running: boolean;
  exitCode: number | null;
  pid: number;
  attachSocket: string;
}

interface Live extends ExecInstance { files: MonitorPaths; exited?: Promise<ExitStatus> }

/**
 * A monitor launched for the next exec of its kind, its child already spawned: the helper, blocked on its
 * socket until a plan comes. Its files, and the launch (undefined: it failed).
 */
interface Warm { key: string; files: MonitorPaths; mon: Promise<WarmMonitor | undefined> }
interface WarmMonitor { launched: LaunchedMonitor; mon: Monitor; childGone: boolean }

export class Execs {
  private readonly all = new Map<string, Live>();
  /**
   * One monitor started ahead, its child spawned and waiting for a plan: the next exec of the same kind
   * (TTY, stdin) skips the spawner's fork + exec of the monitor, the monitor's fork of the child and the
   * round trips around them (issue 10). Each is used once, for one exec; it keeps no event loop alive.
   * Let go, its child reads the end of its socket and exits, and the monitor, with no child and no
   * daemon, leaves too (no exit file: it was never told which process is the exec's).
   */
  private warm?: Warm;

  private readonly dir: string;

  constructor(private readonly runtime: StateStore, execRoot: string) {
    this.dir = path.join(execRoot, 'exec');
  }

  create(containerId: string, cfg: ExecConfig): string {
    if (!cfg.cmd?.length) throw new BerthError('InvalidArgument', 'No exec command specified');
    const id = newId();
    const files = this.newFiles();
    this.all.set(id, { id, containerId, config: cfg, running: false, exitCode: null, pid: 0, attachSocket: files.attach, files });
    return id;
  }

  get(id: string): ExecInstance {
    const e = this.all.get(id) ?? [...this.all.values()].find((x) => x.id.startsWith(id));
    if (!e) throw new BerthError('NotFound', `No such exec instance: ${id}`);
    const { files: _f, exited: _x, ...view } = e;
    return { ...view };
  }

  /**
   * Starts the process and returns once it is ready; `beforeRelease` runs while it still waits
   * (the API attaches there): from before the process exists, so a start that fails may follow it
   * (the monitor then hangs up). Resolves `exited` with the exit status.
   */
  async start(id: string, rootfs: string, beforeRelease?: (attachSocket: string) => Promise<void>): Promise<{ exited: Promise<ExitStatus> }> {
    const e = this.all.get(id);
    if (!e) throw new BerthError('NotFound', `No such exec instance: ${id}`);
    if (e.running || e.exitCode !== null) throw new BerthError('Conflict', `Error: Exec command ${id} has already run`);
    trace(`exec ${id.slice(0, 12)}: start`);
    const c = RuntimeContainer.load(this.runtime, e.containerId);
    if (c.status() !== 'running') throw new BerthError('Conflict', `Container ${e.containerId} is not running`);
    const cfg = e.config;
    const user = cfg.user ? resolveUser(cfg.user, await readInRoot(rootfs, '/etc/passwd'), await readInRoot(rootfs, '/etc/group')) : undefined;
    let proc = execProcess(c, {
      args: cfg.cmd, tty: !!cfg.tty, env: cfg.env, cwd: cfg.workingDir || undefined,
      user: user ? { uid: user.uid, gid: user.gid, additionalGids: user.additionalGids } : undefined,
    });
    if (cfg.privileged) { const all = ownCapabilities(); proc = { ...proc, capabilities: { bounding: all, effective: all, permitted: all } }; }
    proc = withHome(proc, user?.home);
    let seccomp: { filter: Buffer; flags: number } | undefined;
    if (c.record.spec.linux?.seccomp && !cfg.privileged) {
      const { compileSeccomp } = await import('../runtime/seccomp/index.js');
      seccomp = compileSeccomp(c.record.spec.linux.seccomp);
    }
    // the helper joins the container's cgroup itself, before it clones: no pid to wait for, so the plan
    // goes into its socket before it even starts, and no daemon round trip sits between its steps
    const plan = [...cgroupJoinOps(c.cgroup().selfJoinWrites()), ...buildExecPlan(proc, c.namespacePaths(), personalityValue(c.record.spec), {
      detach: true, console: cfg.tty ? { fd: 4 } : undefined, seccomp,
    }, 'go')];
    trace(`exec ${id.slice(0, 12)}: plan built`);
    let session: HelperSession | undefined;
    const tty = !!cfg.tty, stdin = !!cfg.attachStdin;
    const warm = await this.takeWarm(kindOf(tty, stdin));
    let mon: Monitor;
    if (warm) {
      e.files = warm.files;
      warm.launched.ref(true);
      mon = warm.mon;
      session = new HelperSession(plan, monitoredHelper(mon.childPid, mon.sockets[0]!));
      session.sendPlan();
    } else {
      this.makeDir();
      const opts: StartMonitorOptions = {
        ...this.monitorOptions(e.files, tty, stdin),
        beforeSpawn: (sockets) => { session = new HelperSession(plan, monitoredHelper(0, sockets[0]!)); session.sendPlan(); },
      };
      mon = await launchMonitor(opts).then((l) => spawnIn(l, opts)).catch((err) => { session?.close(); removeFiles(e.files); throw err; });
    }
    trace(`exec ${id.slice(0, 12)}: monitor ${mon.monitorPid} up${warm ? ' (warm)' : ''}`);
    session ??= new HelperSession(plan, monitoredHelper(mon.childPid, mon.sockets[0]!));
    // the monitor listens already: the client attaches while the helper joins the container, not after
    const attaching = beforeRelease?.(mon.paths.attach);
    attaching?.catch(() => undefined); // awaited below, unless the start fails first
    try {
      e.pid = (await session.expect(MSG.CHILD_PID, 'exec')).readUInt32LE(0);
      mon.containerPid(e.pid);
      trace(`exec ${id.slice(0, 12)}: child pid ${e.pid}`);
      await session.expect(MSG.READY, 'exec');
      e.running = true;
      trace(`exec ${id.slice(0, 12)}: ready`);
      await attaching;
      session.send(MSG.GO);
      trace(`exec ${id.slice(0, 12)}: released`);
    } catch (err) {
      // docker's codes for a process that could not start: 127 not found, 126 not runnable
      e.exitCode = /no such file|not found/i.test((err as Error).message) ? 127 : 126;
      try { process.kill(mon.monitorPid, 'SIGKILL'); } catch { /* gone */ }
      if (e.pid) { try { process.kill(e.pid, 'SIGKILL'); } catch { /* gone */ } }
      removeFiles(e.files);
      throw err;
    } finally {
      session.close();
    }
    e.attachSocket = mon.paths.attach;
    e.exited = mon.exited.then((st) => {
      e.running = false;
      e.exitCode = st.exitCode;
      // off the exit's path: the client's stream ends (and it inspects) once this settles
      removeFiles(e.files);
      return st;
    });
    // the next one's monitor starts once this one is done: not beside it, on the CPU it runs on
    void e.exited.catch(() => undefined).then(() => setImmediate(() => this.warmUp(tty, stdin)));
    return { exited: e.exited };
  }

  /**
   * An exec's monitor files: its attach socket and exit file, side by side in one private dir made once
   * (no dir per exec to make and remove); the log goes nowhere, as docker keeps no log of an exec.
   */
  private newFiles(): MonitorPaths {
    const base = path.join(this.dir, newId().slice(0, 12));
    return { attach: `${base}.sock`, exit: `${base}.exit`, log: '/dev/null' };
  }

  /** How an exec's monitor runs (see startMonitor); TTY and stdin are all that differ between execs. */
  private monitorOptions(files: MonitorPaths, tty: boolean, stdin: boolean): StartMonitorOptions {
    return { dir: this.dir, paths: files, tty, stdin, argv: [HELPER_PATH, 'init'], env: [], fds: ['pipe'], stderr: 'ignore', syncExit: false, helperInProcess: true };
  }

  private made = false;
  private makeDir(): void {
    if (!this.made) privateDir(this.dir);
    this.made = true;
  }

  /** The warm monitor for `key`, if there is one whose monitor and child are alive; an unusable one is let go. */
  private async takeWarm(key: string): Promise<(WarmMonitor & { files: MonitorPaths }) | undefined> {
    const w = this.warm;
    if (!w || w.key !== key) return undefined;
    this.warm = undefined;
    const m = await w.mon;
    if (m && !m.launched.gone && !m.childGone) return { ...m, files: w.files };
    m?.launched.discard();
    return undefined;
  }

  /** Launches the monitor for the next exec of this kind (one at a time; another kind's is let go). */
  private warmUp(tty: boolean, stdin: boolean): void {
    const key = kindOf(tty, stdin);
    if (this.warm?.key === key) return;
    void this.warm?.mon.then((m) => m?.launched.discard());
    const files = this.newFiles();
    const mon = (async (): Promise<WarmMonitor> => {
      this.makeDir();
      const opts = this.monitorOptions(files, tty, stdin);
      const launched = await launchMonitor(opts);
      const m: WarmMonitor = { launched, mon: await spawnIn(launched, opts), childGone: false };
      launched.ref(false);
      // a child that died waiting (killed, OOM) must not take the next exec's plan: its socket's end tells
      // (it sends nothing before a plan, so reading now loses nothing)
      const child = m.mon.sockets[0]!;
      child.once('close', () => { m.childGone = true; }).resume();
      return m;
    })().catch((err: Error) => { trace(`exec: warm monitor: ${err.message}`); return undefined; });
    this.warm = { key, files, mon };
  }

  async resize(id: string, height: number, width: number): Promise<void> {
    const e = this.all.get(id);
    if (!e?.running) throw new BerthError('Conflict', `exec ${id} is not running`);
    const a = await attachMonitor(e.attachSocket);
    a.resize(height, width);
    a.close();
  }

  /** An instance nobody will inspect (a healthcheck probe's, once it ended) is forgotten. */
  drop(id: string): void { this.all.delete(id); }

  /** Exec instances of a container that is gone are forgotten with it. */
  forget(containerId: string): void {
    for (const [id, e] of this.all) if (e.containerId === containerId) this.all.delete(id);
  }
}

/** What a warm monitor must match: the two launch options that differ between execs. */
const kindOf = (tty: boolean, stdin: boolean) => `${tty}/${stdin}`;

/** An exec's monitor removes its socket; the exit file is ours to remove (the log is /dev/null). */
function removeFiles(f: MonitorPaths): void {
  for (const p of [f.exit, f.attach]) void fs.promises.unlink(p).catch(() => undefined);
}
