// runtime/exec: runs another process inside a running container, joining all its namespaces and its cgroup.
import * as fs from 'node:fs';
import type { StdioOptions } from 'node:child_process';
import { BerthError } from '../errors.js';
import { Container } from './container.js';
import { homeOf } from '../util/in-root.js';
import { connectConsole, ownCgroupFiles } from './create.js';
import { buildExecPlan, cgroupJoinOps, cgroupLeaveOps, personalityValue, withHome } from './plan/build.js';
import { MSG } from './plan/tags.js';
import type { Process } from './spec-types.js';
import { HelperSession } from './sync.js';
import { compileSeccompCached } from './seccomp-cache.js';
import { validateProcess } from './validate.js';
import { writeFileAtomicSync } from '../util/fs.js';

export interface ExecOptions {
  /** a whole process.json (runc exec --process), or args and overrides on the container's process */
  processFile?: string;
  args?: string[];
  tty?: boolean;
  cwd?: string;
  env?: string[];
  user?: { uid: number; gid: number; additionalGids?: number[] };
  capAdd?: string[];
  noNewPrivileges?: boolean;
  detach?: boolean;
  pidFile?: string;
  consoleSocket?: string;
  stdio?: StdioOptions;
  /** a directory that keeps compiled seccomp filters across processes (the `berth runtime` CLI) */
  seccompCache?: string;
}

/** runc's rule: exec inherits the container's process settings unless told otherwise. */
export function execProcess(c: Container, o: ExecOptions): Process {
  if (o.processFile) {
    let raw: unknown;
    try { raw = JSON.parse(fs.readFileSync(o.processFile, 'utf8')); } catch (e) {
      throw new BerthError('InvalidArgument', `--process ${o.processFile}: ${(e as Error).message}`);
    }
    validateProcess(raw, 'process', true);
    return raw as Process;
  }
  const base = c.record.spec.process!;
  const caps = structuredClone(base.capabilities ?? {});
  for (const cap of o.capAdd ?? []) for (const set of ['bounding', 'effective', 'permitted'] as const) caps[set] = [...new Set([...(caps[set] ?? []), cap])];
  const env = [...(base.env ?? [])];
  for (const e of o.env ?? []) {
    const key = e.slice(0, e.indexOf('='));
    const i = env.findIndex((x) => x.startsWith(`${key}=`));
    if (i >= 0) env[i] = e; else env.push(e);
  }
  const p: Process = {
    ...structuredClone(base),
    args: o.args,
    terminal: !!o.tty,
    cwd: o.cwd ?? base.cwd,
    env,
    capabilities: caps,
    user: o.user ? { ...base.user, ...o.user } : base.user,
    noNewPrivileges: o.noNewPrivileges ?? base.noNewPrivileges,
  };
  delete p.consoleSize;
  validateProcess(p, 'process', true);
  return p;
}

/** Starts the process; resolves with its exit status when it ran in the foreground, else with its pid. */
export async function exec(c: Container, o: ExecOptions): Promise<{ pid: number; exitCode?: number }> {
  const status = c.status();
  if (status !== 'running' && status !== 'created') throw new BerthError('FailedPrecondition', `cannot exec in a ${status} container`);
  const proc = execProcess(c, o);
  if (proc.terminal && o.detach && !o.consoleSocket) throw new BerthError('InvalidArgument', 'cannot allocate a tty for a detached exec without --console-socket');
  if (!proc.terminal && o.consoleSocket) throw new BerthError('InvalidArgument', '--console-socket given, but the process has no terminal (-t)');
  const seccomp = c.record.spec.linux?.seccomp ? await compileSeccompCached(c.record.spec.linux.seccomp, o.seccompCache) : undefined;
  const consoleSock = o.consoleSocket ? await connectConsole(o.consoleSocket) : undefined;
  const plan = buildExecPlan(withHome(proc, await homeOf(c.record.rootfs, proc.user.uid)), c.namespacePaths(), personalityValue(c.record.spec), {
    detach: !!o.detach, console: proc.terminal ? (consoleSock ? { fd: 4 } : 'relay') : undefined, seccomp,
  });
  const stdio: unknown[] = Array.isArray(o.stdio) ? [...o.stdio] : ['inherit', 'inherit', 'inherit'];
  if (consoleSock) stdio[4] = consoleSock;
  // The helper joins the container's cgroups itself, before it enters the namespaces (host paths still
  // mean the host's), and a foreground one moves back to ours after CLONE, as create's does: our write of
  // its pid to cgroup.procs waited an RCU grace period, ~10 ms of every exec (issue 13).
  const cgroupOps = [...(o.detach ? [] : cgroupLeaveOps(ownCgroupFiles())), ...cgroupJoinOps(c.cgroup().selfJoinWrites())];
  const session = HelperSession.spawn('init', [...cgroupOps, ...plan], stdio as StdioOptions);
  consoleSock?.destroy();
  try {
    session.sendPlan();
    const pid = (await session.expect(MSG.CHILD_PID, 'exec')).readUInt32LE(0);
    await session.expect(MSG.READY, 'exec');
    if (o.pidFile) writeFileAtomicSync(o.pidFile, String(pid));
    if (o.detach) { session.close(); return { pid }; }
    const forward = (sig: NodeJS.Signals) => session.kill(sig);
    process.on('SIGINT', forward).on('SIGTERM', forward).on('SIGHUP', forward);
    try {
      const exitCode = await session.exited;
      return { pid, exitCode };
    } finally {
      process.off('SIGINT', forward).off('SIGTERM', forward).off('SIGHUP', forward);
      session.close();
    }
  } catch (e) {
    session.kill('SIGKILL');
    session.close();
    throw e;
  }
}
