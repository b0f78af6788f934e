// containers/exec: `docker exec` instances. Each runs under a monitor of its own (stdio, attach socket,
// exit status) like a container does, and waits for GO, so a client attaches before any output.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BerthError } from '../errors.js';
import { attach as attachMonitor, startMonitor, type ExitStatus } from '../monitor/index.js';
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

interface Live extends ExecInstance { dir: string; exited?: Promise<ExitStatus> }

export class Execs {
  private readonly all = new Map<string, Live>();

  constructor(private readonly runtime: StateStore, private readonly execRoot: string) {}

  create(containerId: string, cfg: ExecConfig): string {
    if (!cfg.cmd?.length) throw new BerthError('InvalidArgument', 'No exec command specified');
    const id = newId();
    const dir = path.join(this.execRoot, 'exec', id.slice(0, 12));
    this.all.set(id, { id, containerId, config: cfg, running: false, exitCode: null, pid: 0, attachSocket: path.join(dir, 'attach.sock'), dir });
    return id;
  }

  get(id: string): ExecInstance {
    const e = this.all.get(id) ?? [...this.all.values()].find((x) => x.id.startsWith(id));
    if (!e) throw new BerthError('NotFound', `No such exec instance: ${id}`);
    const { dir: _d, exited: _x, ...view } = e;
    return { ...view };
  }

  /**
   * Starts the process and returns once it is ready; `beforeRelease` runs while it still waits
   * (the API attaches there). Resolves `exited` with the exit status.
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
    fs.mkdirSync(e.dir, { recursive: true, mode: 0o700 });
    let session: HelperSession | undefined;
    const mon = await startMonitor({
      dir: e.dir, tty: !!cfg.tty, argv: [HELPER_PATH, 'init'], env: [], fds: ['pipe'], stdin: !!cfg.attachStdin, stderr: 'ignore', syncExit: false, helperInProcess: true,
      beforeSpawn: (sockets) => { session = new HelperSession(plan, monitoredHelper(0, sockets[0]!)); session.sendPlan(); },
    }).catch((err) => { session?.close(); throw err; });
    trace(`exec ${id.slice(0, 12)}: monitor ${mon.monitorPid} up`);
    session ??= new HelperSession(plan, monitoredHelper(mon.childPid, mon.sockets[0]!));
    try {
      e.pid = (await session.expect(MSG.CHILD_PID, 'exec')).readUInt32LE(0);
      mon.containerPid(e.pid);
      trace(`exec ${id.slice(0, 12)}: child pid ${e.pid}`);
      await session.expect(MSG.READY, 'exec');
      e.running = true;
      trace(`exec ${id.slice(0, 12)}: ready`);
      if (beforeRelease) await beforeRelease(mon.paths.attach);
      session.send(MSG.GO);
      trace(`exec ${id.slice(0, 12)}: released`);
    } catch (err) {
      // docker's codes for a process that could not start: 127 not found, 126 not runnable
      e.exitCode = /no such file|not found/i.test((err as Error).message) ? 127 : 126;
      try { process.kill(mon.monitorPid, 'SIGKILL'); } catch { /* gone */ }
      if (e.pid) { try { process.kill(e.pid, 'SIGKILL'); } catch { /* gone */ } }
      throw err;
    } finally {
      session.close();
    }
    e.attachSocket = mon.paths.attach;
    e.exited = mon.exited.then((st) => {
      e.running = false;
      e.exitCode = st.exitCode;
      // off the exit's path: the client's stream ends (and it inspects) once this settles
      void fs.promises.rm(e.dir, { recursive: true, force: true }).catch(() => undefined);
      return st;
    });
    return { exited: e.exited };
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
