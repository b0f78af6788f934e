// cgroup v1 manager: one directory per mounted controller, carrying out planV1's writes
// (runc libcontainer/cgroups/fs). Synchronous except the freeze and removal waits.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BerthError, errnoCode } from '../../errors.js';
import type { LinuxResources } from '../spec-types.js';
import {
  allPids, killAll, makeDir, pollUntil, rawWrite, readFile, readKeyed, readNumber, removeTree, writeError, writeFile, writePid,
  type CgroupManager, type CgroupSetUp, type CgroupStats, type ManagerOptions,
} from './manager.js';
import { readHugePageSizes, resolveCgroupsPath, V1_CONTROLLERS } from './mode.js';
import { planV1, type V1PlanOptions, type V1Write } from './plan-v1.js';
import { readV1Metrics, type CgroupMetrics } from './metrics.js';

// Why a file can be missing on a v1 kernel; appended to the "does not support" error.
const HINTS: Record<string, string> = {
  'memory.memsw.limit_in_bytes': 'swap accounting is off; boot with swapaccount=1',
  'blkio.weight': 'needs the BFQ or CFQ I/O scheduler',
  'blkio.weight_device': 'needs the BFQ or CFQ I/O scheduler',
  'blkio.leaf_weight': 'needs the CFQ I/O scheduler',
  'blkio.leaf_weight_device': 'needs the CFQ I/O scheduler',
  'cpu.cfs_burst_us': 'needs Linux 5.14',
  'cpu.idle': 'needs Linux 5.15',
  'cpu.rt_period_us': 'needs CONFIG_RT_GROUP_SCHED',
  'cpu.rt_runtime_us': 'needs CONFIG_RT_GROUP_SCHED',
  'memory.kmem.tcp.limit_in_bytes': 'kernel memory accounting is not available',
};

function unsupported(file: string, why?: string): BerthError {
  const hint = why ?? HINTS[file];
  return new BerthError('InvalidArgument', `linux.resources: the kernel does not support ${file}${hint ? ` (${hint})` : ''}`);
}

// Controller whose cgroup.procs lists the container's processes, first mounted wins.
const PROCS_FROM = ['pids', 'memory', 'freezer', 'cpu', 'devices', 'cpuset', 'blkio', 'cpuacct', 'name=systemd'];

export class V1Manager implements CgroupManager {
  readonly path: string;
  private readonly dirs = new Map<string, string>();

  /** mounts: controller -> mountpoint, as v1Mounts(mountinfo) returns. */
  constructor(
    private readonly mounts: Record<string, string>,
    cgroupsPath: string,
    private readonly opts: ManagerOptions = {},
  ) {
    this.path = resolveCgroupsPath(cgroupsPath);
    const known = new Set<string>(V1_CONTROLLERS);
    // joined as strings: a mount point is the kernel's normal form and this.path a normalized absolute
    // path, and path.join's normalizing pass (baseline code in berthd) ran ~30 times per create
    for (const [ctrl, mp] of Object.entries(mounts)) if (known.has(ctrl)) this.dirs.set(ctrl, mp === '/' ? this.path : `${mp}${this.path}`);
  }

  /** The directory for a controller, or undefined when it is not mounted. */
  dir(controller: string): string | undefined {
    return this.dirs.get(controller);
  }

  // Co-mounted controllers (cpu,cpuacct) share one directory.
  private uniqueDirs(): string[] {
    return [...new Set(this.dirs.values())];
  }

  create(): void {
    this.createDirs(this.uniqueDirs());
  }

  private createDirs(dirs: string[]): void {
    const cpusetDir = this.dirs.get('cpuset');
    for (const dir of dirs) {
      if (dir === cpusetDir) this.createCpuset(this.mounts['cpuset']!);
      else makeDir(dir, true);
    }
  }

  // Kept here: every directory with a write other than the device rules (a memory limit reads the
  // current one; a missing file gets its "does not support" error, an EINVAL its retry), and cpuset
  // unless only its leaf is missing. The rest — most of a container's directories, the ~10 device rule
  // writes, the cpuset leaf with its parent's values read here — the helper does: plain mkdirs and
  // writes, no reads, no retries. berthd's thread then makes no cgroupfs change on a plain start
  // (a mkdir there can wait ms on the kernel's cgroup locks while other cgroups come and go).
  setUp(r: LinuxResources): CgroupSetUp {
    const own = new Set<string>();
    // which controllers it writes does not depend on the current memory limit (only their order does)
    const first = planV1(r, this.planOptions(r, 0));
    for (const w of first) {
      const dir = this.dirs.get(w.controller);
      if (dir && w.controller !== 'devices') own.add(dir);
    }
    const cpusetDir = this.dirs.get('cpuset');
    const cpuset = cpusetDir && !own.has(cpusetDir) ? this.cpusetLeaf(cpusetDir) : undefined;
    if (cpusetDir && !cpuset) own.add(cpusetDir);
    const byHelper = (dir: string | undefined) => dir !== undefined && !own.has(dir);
    this.createDirs([...own]);
    // the limit in place now orders a memory section's writes; with none, the first plan is the plan
    // (a second planV1 was ~40% of setUp's time and allocations per create)
    const plan = r.memory ? this.plan(r) : first;
    this.applyPlan(plan.filter((w) => !byHelper(this.dirs.get(w.controller))));
    return {
      mkdirs: this.uniqueDirs().filter(byHelper),
      writes: [
        ...(cpuset ?? []),
        ...plan.filter((w) => byHelper(this.dirs.get(w.controller))).map((w) => ({ path: `${this.dirs.get(w.controller)!}/${w.file}`, value: w.value })),
      ],
    };
  }

  /**
   * The cpuset leaf's writes when the helper can make it: its parent is there with cpus and mems set
   * and the leaf is not (createCpuset keeps a leaf's own values); else undefined, and createCpuset runs.
   */
  private cpusetLeaf(dir: string): { path: string; value: string }[] | undefined {
    const parent = path.dirname(dir);
    if (fs.existsSync(dir) || !fs.existsSync(parent)) return undefined;
    const out: { path: string; value: string }[] = [];
    for (const f of ['cpuset.cpus', 'cpuset.mems']) {
      const v = readFile(parent, f);
      if (!v) return undefined;
      out.push({ path: path.join(dir, f), value: v });
    }
    return out;
  }

  // A new cpuset cgroup starts with empty cpus/mems and refuses tasks (ENOSPC) until they are
  // set, so each level copies its parent's values when empty (runc fs/cpuset.go ensureParent).
  // A level made here is not read back (empty, or its parent's under clone_children: the same
  // values either way), and a level's values serve as the next one's parent's: 2 reads, not 6.
  private createCpuset(mount: string): void {
    let cur = mount;
    let above: Record<string, string | undefined> = {};
    for (const seg of this.path.split('/').filter(Boolean)) {
      const parent = cur;
      cur = path.join(cur, seg);
      const made = makeDir(cur, false);
      const here: Record<string, string | undefined> = {};
      for (const f of ['cpuset.cpus', 'cpuset.mems']) {
        const own = made ? '' : readFile(cur, f);
        if (own !== '') { here[f] = own; continue; }
        const v = above[f] ?? readFile(parent, f);
        if (v) writeFile(cur, f, v);
        here[f] = v;
      }
      above = here;
    }
  }

  apply(r: LinuxResources): void {
    this.applyPlan(this.plan(r));
  }

  private plan(r: LinuxResources): V1Write[] {
    const mem = this.dirs.get('memory');
    return planV1(r, this.planOptions(r, mem && r.memory ? readNumber(mem, 'memory.limit_in_bytes') : 0));
  }

  private planOptions(r: LinuxResources, currentMemoryLimit: number): V1PlanOptions {
    return {
      ...(currentMemoryLimit !== 0 ? { currentMemoryLimit } : {}),
      ...(r.hugepageLimits?.length ? { hugePageSizes: this.opts.hugePageSizes ?? readHugePageSizes() } : {}),
    };
  }

  private applyPlan(plan: V1Write[]): void {
    const deferred: V1Write[] = [];
    this.fds = new Map();
    try {
      for (const w of plan) {
        try {
          this.exec(w);
        } catch (e) {
          if (!(w.retryAfter && errnoCode((e as Error).cause) === 'EINVAL')) throw e;
          deferred.push(w);
        }
        for (const d of deferred.filter((x) => x.retryAfter === w.file)) this.exec(d);
      }
    } finally {
      for (const fd of this.fds.values()) fs.closeSync(fd);
      this.fds = undefined;
    }
  }

  /** During apply: a file written again keeps its fd (devices.allow takes one rule per write: ~10 per container). */
  private fds?: Map<string, number>;

  private write(dir: string, file: string, value: string): void {
    if (!this.fds) { rawWrite(dir, file, value); return; }
    const p = path.join(dir, file);
    let fd = this.fds.get(p);
    if (fd === undefined) {
      fd = fs.openSync(p, fs.constants.O_WRONLY | fs.constants.O_TRUNC);
      this.fds.set(p, fd);
    }
    fs.writeSync(fd, value, 0); // each write at offset 0, as a fresh open's would be
  }

  private exec(w: V1Write): void {
    const dir = this.dirs.get(w.controller);
    if (!dir) {
      if (w.optional) return;
      throw unsupported(w.file, `the ${w.controller} controller is not mounted`);
    }
    try {
      this.write(dir, w.file, w.value);
      return;
    } catch (e) {
      if (errnoCode(e) !== 'ENOENT') throw writeError(dir, w.file, w.value, e);
    }
    if (!fs.existsSync(dir)) throw new BerthError('FailedPrecondition', `cgroup ${dir} does not exist (create it first)`);
    if (w.fallback) {
      try {
        this.write(dir, w.fallback.file, w.fallback.value);
        return;
      } catch (e) {
        if (errnoCode(e) !== 'ENOENT') throw writeError(dir, w.fallback.file, w.fallback.value, e);
        throw unsupported(w.fallback.file);
      }
    }
    if (w.optional) return;
    throw unsupported(w.file);
  }

  join(pid: number): void {
    for (const dir of this.uniqueDirs()) writePid(dir, pid);
  }

  // `tasks`, not cgroup.procs: "0" there moves only the writing thread (the whole helper, which has
  // one), and the kernel then skips the global threadgroup lock a cgroup.procs write takes
  // (cgroup_procs_write_start: pid 0 without threadgroup), whose RCU wait cost ms per join.
  selfJoinWrites(): { path: string; value: string }[] {
    return this.uniqueDirs().map((dir) => ({ path: `${dir}/tasks`, value: '0' }));
  }

  private freezerDir(verb: string): string {
    const dir = this.dirs.get('freezer');
    if (!dir) throw new BerthError('InvalidArgument', `${verb} ${this.path}: the freezer controller is not mounted`);
    return dir;
  }

  // Documentation/admin-guide/cgroup-v1/freezer-subsystem.rst: FREEZING until every task stops.
  // Rewriting FROZEN retries tasks that were busy, and runc thaws and refreezes now and then to
  // kick tasks stuck in uninterruptible states.
  async freeze(): Promise<void> {
    const dir = this.freezerDir('freeze');
    const timeout = this.opts.freezeTimeoutMs ?? 5000;
    writeFile(dir, 'freezer.state', 'FROZEN');
    const ok = await pollUntil(() => readFile(dir, 'freezer.state') === 'FROZEN', timeout, (i) => {
      if (i % 50 === 49) writeFile(dir, 'freezer.state', 'THAWED');
      writeFile(dir, 'freezer.state', 'FROZEN');
    });
    if (!ok) {
      writeFile(dir, 'freezer.state', 'THAWED');
      throw new BerthError('Unavailable', `freeze ${this.path}: tasks still FREEZING after ${timeout}ms; thawed again`);
    }
  }

  thaw(): void {
    writeFile(this.freezerDir('thaw'), 'freezer.state', 'THAWED');
  }

  state(): 'frozen' | 'thawed' {
    const dir = this.dirs.get('freezer');
    return dir && readFile(dir, 'freezer.state') === 'FROZEN' ? 'frozen' : 'thawed';
  }

  pids(): number[] {
    const ctrl = PROCS_FROM.find((c) => this.dirs.has(c));
    return ctrl ? allPids(this.dirs.get(ctrl)!) : [];
  }

  stats(): CgroupStats {
    const mem = this.dirs.get('memory');
    const pids = this.dirs.get('pids');
    const acct = this.dirs.get('cpuacct');
    return {
      memory: mem
        ? {
            usage: readNumber(mem, 'memory.usage_in_bytes'),
            limit: readNumber(mem, 'memory.limit_in_bytes', -1),
            maxUsage: readNumber(mem, 'memory.max_usage_in_bytes'),
            oomKills: this.oomKillCount(),
          }
        : { usage: 0, limit: -1, oomKills: 0 },
      pids: pids ? { current: readNumber(pids, 'pids.current'), limit: readNumber(pids, 'pids.max', -1) } : { current: 0, limit: -1 },
      cpu: { usageNs: acct ? readNumber(acct, 'cpuacct.usage') : 0 },
    };
  }

  metrics(): CgroupMetrics {
    return readV1Metrics((c) => this.dirs.get(c));
  }

  /** The oom_kill line of memory.oom_control (Linux 4.13+); 0 when the kernel lacks it. */
  oomKillCount(): number {
    const mem = this.dirs.get('memory');
    return (mem && readKeyed(mem, 'memory.oom_control', 'oom_kill')) || 0;
  }

  // runc signalAllProcesses: freeze so nothing forks while we kill, SIGKILL all, thaw so the
  // signals are delivered, then remove every controller's directory.
  async destroy(): Promise<void> {
    if (this.pids().length > 0) {
      const freezer = this.dirs.get('freezer');
      const canFreeze = freezer !== undefined && fs.existsSync(freezer);
      if (canFreeze) await this.freeze().catch(() => undefined);
      killAll(this.pids());
      if (canFreeze) this.thaw();
    }
    for (const dir of this.uniqueDirs()) await removeTree(dir, this.opts.removeDir);
  }

  exists(): boolean {
    return this.uniqueDirs().some((d) => fs.existsSync(d));
  }
}
