// runtime/create: bundle -> a container whose process waits on exec.fifo (runtime-spec runtime.md "create").
// On any failure it leaves nothing: the process is killed, the cgroup and the state directory removed.
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import type { StdioOptions } from 'node:child_process';
import { BerthError, errnoCode } from '../errors.js';
import { cgroupManager, compileDeviceFilter, normalizeDeviceRules, type CgroupManager } from './cgroups/index.js';
import { cgroup2Mountpoint, detectCgroupMode, parseMountinfo, readMountinfo, resolveCgroupsPath, v1Mounts } from './cgroups/mode.js';
import { withDeviceRules } from './defaults.js';
import { nsenterFlags, runHooks } from './hooks.js';
import { buildInitPlan, cgroupJoinOps, cgroupLeaveOps, cgroupSetUpOps, type CgroupMountInfo } from './plan/build.js';
import { MSG } from './plan/tags.js';
import type { Spec } from './spec-types.js';
import { pidStartTime, specText, StateStore, ociState, type ContainerRecord } from './state.js';
import { HelperSession, spawnHelper, type HelperProcess } from './sync.js';
import { validateSpec } from './validate.js';
import { compileSeccompCached } from './seccomp-cache.js';
import { isProcfs } from './host-facts.js';
import { cleanDestination, mountRefusal, mountTarget } from './mount-rules.js';
import { writeFileAtomicSync } from '../util/fs.js';
import { DirCache, homeOf, resolveInRoot } from '../util/in-root.js';
import { detached, trace, waitOn } from '../util/trace.js';
import { isoTime } from '../util/time.js';

export interface CreateOptions {
  id: string;
  bundle: string;
  pidFile?: string;
  consoleSocket?: string;
  /** stdin, stdout, stderr of the container process (default: this process's) */
  stdio?: StdioOptions;
  /** `run`: the helper stays as the process's parent and reports its exit status */
  foreground?: boolean;
  /** the spec itself (the daemon), instead of bundle/config.json */
  spec?: Spec;
  /**
   * starts the helper elsewhere (the daemon's monitor, so the container becomes its child). Called first
   * thing: the helper waits for its plan, so its start overlaps the checks and the cgroup set-up.
   */
  spawnHelper?: () => Promise<HelperProcess>;
  /** the fd the helper has its console socket at, when spawnHelper set one up */
  consoleFd?: number;
  /** 'go': the caller releases the process over the sync socket (no exec.fifo); default: fifo unless foreground */
  release?: 'fifo' | 'go';
  /** a directory that keeps compiled seccomp filters across processes (the `berth runtime` CLI) */
  seccompCache?: string;
  /**
   * Mount destinations as written -> where they resolve beneath root.path, from the root's owner when it
   * knows the root is as an earlier one was (berthd: a container's first start, its writable layer still
   * empty over the same image). Destinations not in it are resolved here and added to it.
   */
  resolvedTargets?: Map<string, string>;
}

export interface Created {
  record: ContainerRecord;
  session: HelperSession;
  cgroup: CgroupManager;
}

export function readSpec(bundle: string): Spec {
  const file = path.join(bundle, 'config.json');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new BerthError(errnoCode(e) === 'ENOENT' ? 'NotFound' : 'Internal', `read ${file}: ${(e as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new BerthError('InvalidArgument', `${file}: invalid JSON: ${(e as Error).message}`);
  }
  return validateSpec(raw, { isProcfs });
}

/**
 * The mount point that holds p: the longest mount point in our mountinfo that is p or a parent of it.
 * One mountinfo read per create, not per mount: with many containers running it is long.
 */
function mountPointFinder(): (p: string) => string {
  let mounts: ReturnType<typeof parseMountinfo> | undefined;
  return (p) => {
    mounts ??= parseMountinfo(fs.readFileSync('/proc/self/mountinfo', 'utf8'));
    let best = '/';
    for (const m of mounts) {
      if ((p === m.mountpoint || p.startsWith(`${m.mountpoint}/`)) && m.mountpoint.length > best.length) best = m.mountpoint;
    }
    return best;
  };
}

function sourceIsDir(src: string): boolean | undefined {
  try { return fs.statSync(src).isDirectory(); } catch { return undefined; }
}

/**
 * Where the container's own cgroup directories are on the host, for `cgroup` mounts: the directories its
 * cgroup manager makes (a relative cgroupsPath under DEFAULT_CGROUP_PARENT). Joined as strings, as the v1
 * manager's: a mount point is the kernel's normal form and the resolved path a normalized absolute one;
 * path.join's normalizing pass over each v1 hierarchy's ~80-character path was berthd's largest path.join
 * cost per start (issue 13: half of its samples in a profile of 80 create + start, loaded host).
 */
export function cgroupMountInfo(cgroupsPath: string): CgroupMountInfo {
  const layout = cgroupLayout();
  const rel = resolveCgroupsPath(cgroupsPath);
  const under = (mnt: string) => (mnt === '/' ? rel : `${mnt}${rel}`);
  if (layout.v2Root !== undefined) return { v2Dir: under(layout.v2Root) };
  return { v1: layout.v1!.map(({ mnt, name, links }) => ({ name, hostDir: under(mnt), links })) };
}

/**
 * The host's cgroup mounts, worked out once: readMountinfo is read once per process, and a create
 * went through all its lines again (mode, then v1 mounts: ~0.25 ms per container, issue 13).
 */
function cgroupLayout(): { v2Root?: string; v1?: Array<{ mnt: string; name: string; links: string[] }> } {
  if (layoutCache) return layoutCache;
  const mi = readMountinfo();
  if (detectCgroupMode(mi) === 'v2') return (layoutCache = { v2Root: cgroup2Mountpoint(mi) ?? '/sys/fs/cgroup' });
  const byMount = new Map<string, string[]>();
  for (const [ctrl, mnt] of Object.entries(v1Mounts(mi))) byMount.set(mnt, [...(byMount.get(mnt) ?? []), ctrl]);
  return (layoutCache = { v1: [...byMount].map(([mnt, links]) => ({ mnt, name: path.basename(mnt), links })) });
}
let layoutCache: ReturnType<typeof cgroupLayout> | undefined;

/**
 * The files by which a process moves itself into this process's own cgroups (LEAVE_CGROUP): a v1
 * hierarchy's `tasks` ("0" there moves the writing thread, and the kernel takes no global lock for
 * it), the unified hierarchy's cgroup.procs on a v2 host.
 */
export function ownCgroupFiles(): string[] {
  const mi = readMountinfo();
  const v1 = v1Mounts(mi);
  const v2root = detectCgroupMode(mi) === 'v2' ? cgroup2Mountpoint(mi) : undefined;
  const files: string[] = [];
  for (const line of fs.readFileSync('/proc/self/cgroup', 'utf8').split('\n')) {
    const m = /^\d+:([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    const mount = m[1] === '' ? v2root : v1[m[1]!.split(',')[0]!];
    if (mount) files.push(path.join(mount, m[2]!, m[1] === '' ? 'cgroup.procs' : 'tasks'));
  }
  return files;
}

export async function connectConsole(p: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(p, () => resolve(s));
    s.on('error', (e) => reject(new BerthError('InvalidArgument', `--console-socket ${p}: ${e.message}`)));
  });
}

function writeIdMap(pid: number, file: 'uid_map' | 'gid_map', maps: Array<{ containerID: number; hostID: number; size: number }>): void {
  fs.writeFileSync(`/proc/${pid}/${file}`, maps.map((m) => `${m.containerID} ${m.hostID} ${m.size}`).join('\n') + '\n');
}

/**
 * validate judged each mount's destination as written; a symlink in the rootfs can lead it elsewhere
 * (an image's /data -> /proc/sys), so judge where it really lands too (runc: securejoin, then
 * checkProcMount). proc and sysfs go on an ordinary directory only, as runc requires.
 */
async function checkMountTargets(spec: Spec, rootfs: string, known?: Map<string, string>): Promise<void> {
  // The walks run at once (each is a chain of thread-pool round trips: ~40 in turn for docker's 8 mounts);
  // the error reported is still the first mount's, as in order.
  // One set of directory fds for all the walks: the targets share their first components (/dev, /etc, /sys)
  const dirs = new DirCache();
  const checks = (spec.mounts ?? []).map(async (m, i): Promise<BerthError | undefined> => {
    const field = `mounts[${i}].destination`;
    const lexical = cleanDestination(m.destination);
    let real = known?.get(m.destination);
    if (real === undefined) {
      try { real = await resolveInRoot(rootfs, m.destination, { dirs }); } catch (e) { return new BerthError('InvalidArgument', `${field}: ${(e as Error).message}`, { cause: e }); }
      known?.set(m.destination, real);
    }
    if (real === lexical) return undefined;
    if (m.type === 'proc' || m.type === 'sysfs')
      return new BerthError('InvalidArgument', `${field}: filesystem "${m.type}" must be mounted on ordinary directory (${m.destination} is a symlink to ${real})`);
    const why = mountRefusal({ ...mountTarget(m, isProcfs), destination: real }, spec.linux?.maskedPaths ?? []);
    return why ? new BerthError('InvalidArgument', `${field}: ${m.destination} resolves to ${real} in the rootfs: ${why}`) : undefined;
  });
  const refused = (await Promise.all(checks).finally(() => dirs.close())).find((e) => e !== undefined);
  if (refused) throw refused;
}

export async function create(store: StateStore, opts: CreateOptions): Promise<Created> {
  trace(`create ${opts.id}: start`);
  const launched = opts.spawnHelper && detached(opts.spawnHelper);
  launched?.catch(() => undefined); // awaited below; a launch failing while the checks run must not go unhandled
  try {
    return await createWith(store, opts, launched);
  } catch (e) {
    // a helper started for a create that failed before its session took it over
    const h = await launched?.catch(() => undefined);
    if (h && !h.socket.destroyed) { h.kill('SIGKILL'); h.socket.destroy(); }
    throw e;
  }
}

async function createWith(store: StateStore, opts: CreateOptions, launched: Promise<HelperProcess> | undefined): Promise<Created> {
  const bundle = path.resolve(opts.bundle);
  // the caller's spec is checked as it is (validateSpec changes nothing): a JSON copy of it (the seccomp
  // profile is most of its ~20 kB) cost every daemon start a stringify and a parse
  const spec = opts.spec ? validateSpec(opts.spec, { isProcfs }) : readSpec(bundle);
  const proc = spec.process!;
  const rootfs = path.resolve(bundle, spec.root!.path);
  if (!sourceIsDir(rootfs)) throw new BerthError('InvalidArgument', `root.path: ${rootfs} is not a directory`);
  // the process's home (for HOME) is read beneath the root while the mount targets are checked; only
  // when the spec sets no HOME (berthd's always does): a passwd read less per start
  const home = proc.env?.some((e) => e.startsWith('HOME=')) ? Promise.resolve(undefined) : homeOf(rootfs, proc.user.uid);
  home.catch(() => undefined); // awaited below, unless a check fails first
  await checkMountTargets(spec, rootfs, opts.resolvedTargets);
  if (proc.terminal && !opts.consoleSocket && !opts.foreground && opts.consoleFd === undefined)
    throw new BerthError('InvalidArgument', 'process.terminal: cannot allocate a tty for a detached container without --console-socket');
  if (!proc.terminal && opts.consoleSocket)
    throw new BerthError('InvalidArgument', '--console-socket given, but process.terminal is false');
  const seccomp = spec.linux?.seccomp ? await compileSeccompCached(spec.linux.seccomp, opts.seccompCache) : undefined;

  const dir = store.claim(opts.id);
  const hooks = spec.hooks ?? {};
  const record: ContainerRecord = {
    id: opts.id, pid: 0, pidStart: '', bundle, rootfs, created: isoTime(),
    cgroupsPath: spec.linux?.cgroupsPath || `/berth/${opts.id}`, spec, creating: true,
  };
  let session: HelperSession | undefined;
  let cgroup: CgroupManager | undefined;
  let consoleSock: net.Socket | undefined;
  // the spec stays as it is through create: its text is made once for the record's saves
  const specJson = specText(spec);
  try {
    store.save(record, specJson);
    trace(`create ${opts.id}: spec read and checked`);
    const stdio: unknown[] = Array.isArray(opts.stdio) ? [...opts.stdio] : ['inherit', 'inherit', 'inherit'];
    if (opts.consoleSocket) consoleSock = await connectConsole(opts.consoleSocket);
    const hookSync = !!(hooks.prestart?.length || hooks.createRuntime?.length || hooks.createContainer?.length);
    const cgroupInfo = cgroupMountInfo(record.cgroupsPath);
    const plan = buildInitPlan(spec, {
      rootfs,
      // `run` releases the process itself over the sync socket; `create` leaves it waiting on the fifo for `start`
      execFifo: opts.foreground || opts.release === 'go' ? undefined : path.join(dir, 'exec.fifo'),
      sourceIsDir,
      mountPointOf: mountPointFinder(),
      cgroup: cgroupInfo,
      deviceFilter: cgroupInfo.v2Dir ? { cgroup: cgroupInfo.v2Dir, program: compileDeviceFilter(normalizeDeviceRules(withDeviceRules(spec).devices)) } : undefined,
      hookSync,
      home: await home,
      detach: !opts.foreground,
      console: proc.terminal ? (opts.consoleFd !== undefined ? { fd: opts.consoleFd } : consoleSock ? { fd: 4 } : 'relay') : undefined,
      seccomp,
    });
    if (consoleSock) stdio[4] = consoleSock;
    // The helper starts first and waits for its plan: its start overlaps the cgroup set-up below.
    trace(`create ${opts.id}: plan of ${plan.length} ops built`);
    const helper = launched ? await waitOn('helper launch', launched) : spawnHelper('init', stdio as StdioOptions);
    cgroup = cgroupManager(record.cgroupsPath);
    // the session owns the helper from here: a failure below kills it (cleanupFailed)
    // The helper makes the cgroup directories and device rules that need no reads (setUp makes the
    // rest here), then joins the cgroup itself, first thing (plan writes before CLONE): the namespaces
    // are made inside it, so a new cgroup namespace is rooted at it and every byte the process
    // allocates is charged to it; and no write of ours waits for its pid. A helper that stays as the
    // parent (run) moves back out after CLONE, before the child runs: a waiting parent must not count
    // against the container's limits (pids.max above all). This process wrote its pid to cgroup.procs
    // for that at CHILD_PID: the kernel's threadgroup lock waited an RCU grace period, ~10 ms of every
    // `runtime run` (issue 13).
    const leave = opts.foreground ? cgroupLeaveOps(ownCgroupFiles()) : [];
    session = new HelperSession([], helper);
    trace(`create ${opts.id}: helper ${session.pid} spawned`);
    const setUp = cgroup.setUp(withDeviceRules(spec));
    session.ops.push(...leave, ...cgroupSetUpOps(setUp), ...cgroupJoinOps(cgroup.selfJoinWrites()), ...plan);
    trace(`create ${opts.id}: cgroup ${record.cgroupsPath} made`);
    session.sendPlan();
    trace(`create ${opts.id}: plan sent`);
    const pidMsg = await session.expect(MSG.CHILD_PID, 'create');
    record.pid = pidMsg.readUInt32LE(0);
    record.pidStart = pidStartTime(record.pid);
    trace(`create ${opts.id}: child pid ${record.pid}`);
    const ns = spec.linux?.namespaces ?? [];
    const userns = ns.some((n) => n.type === 'user' && !n.path);
    // On disk now only when something may look before READY (a hook; `state` while maps are written);
    // else READY's save below carries the pid. A create killed in between leaves a record whose
    // cgroup still ends the process at delete.
    if (userns || hookSync) store.save(record, specJson);
    if (userns) {
      writeIdMap(record.pid, 'uid_map', spec.linux!.uidMappings!);
      writeIdMap(record.pid, 'gid_map', spec.linux!.gidMappings!);
      session.send(MSG.GO);
    }
    if (hookSync) {
      await session.expect(MSG.HOOK, 'create');
      const state = ociState(record, 'creating');
      await runHooks('prestart', hooks.prestart, state);
      await runHooks('createRuntime', hooks.createRuntime, state);
      // not --pid: a pid namespace only takes children, and the hook need not be one
      const flags = nsenterFlags(ns.filter((n) => n.type !== 'pid'));
      await runHooks('createContainer', hooks.createContainer, state, { pid: record.pid, flags });
      session.send(MSG.GO);
    }
    await session.expect(MSG.READY, 'create');
    trace(`create ${opts.id}: ready`);
    delete record.creating;
    store.save(record, specJson);
    if (opts.pidFile) writeFileAtomicSync(path.resolve(opts.pidFile), String(record.pid));
    consoleSock?.destroy();
    return { record, session, cgroup };
  } catch (e) {
    consoleSock?.destroy();
    await cleanupFailed(store, record, session, cgroup);
    throw e;
  }
}

async function cleanupFailed(store: StateStore, record: ContainerRecord, session?: HelperSession, cgroup?: CgroupManager): Promise<void> {
  if (record.pid) { try { process.kill(record.pid, 'SIGKILL'); } catch { /* gone */ } }
  if (session) {
    session.kill('SIGKILL');
    session.close();
    await session.exited;
  }
  if (cgroup) await cgroup.destroy().catch(() => undefined);
  store.remove(record.id);
}
