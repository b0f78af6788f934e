// cgroup v2 manager: one directory in the unified hierarchy, carrying out planV2's writes
// (runc libcontainer/cgroups/fs2). Synchronous except the freeze and removal waits.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BerthError, errnoCode } from '../../errors.js';
import type { LinuxResources } from '../spec-types.js';
import {
  allPids, killAll, makeDir, pollUntil, rawWrite, readFile, readKeyed, readNumber, removeTree, writeError, writeFile, writePid,
  type CgroupManager, type CgroupSetUp, type CgroupStats, type ManagerOptions,
} from './manager.js';
import { readHugePageSizes, resolveCgroupsPath } from './mode.js';
import { planV2, type V2Write } from './plan-v2.js';
import { readV2Metrics, type CgroupMetrics } from './metrics.js';

/** Controllers Berth enables for its cgroups; devices and freezer are built into every v2 cgroup. */
export const V2_CONTROLLERS = ['cpuset', 'cpu', 'io', 'memory', 'pids', 'hugetlb', 'rdma', 'misc'];

const words = (s: string | undefined) => (s ?? '').split(/\s+/).filter(Boolean);

export class V2Manager implements CgroupManager {
  readonly path: string;
  /** The cgroup's directory: root + path. */
  readonly dir: string;

  constructor(
    private readonly root: string,
    cgroupsPath: string,
    private readonly opts: ManagerOptions = {},
  ) {
    this.path = resolveCgroupsPath(cgroupsPath);
    this.dir = path.join(root, this.path);
  }

  // A controller's files appear in a cgroup only when its parent lists the controller in
  // cgroup.subtree_control, so every ancestor enables what it has (cgroup-v2.rst "Enabling and
  // Disabling"; runc fs2/create.go). Failures are left for apply() to report per file.
  create(): void {
    let cur = this.root;
    for (const seg of this.path.split('/').filter(Boolean)) {
      this.enableControllers(cur);
      cur = path.join(cur, seg);
      makeDir(cur, false);
    }
  }

  private enableControllers(dir: string): void {
    const enabled = new Set(words(readFile(dir, 'cgroup.subtree_control')));
    const missing = words(readFile(dir, 'cgroup.controllers')).filter((c) => V2_CONTROLLERS.includes(c) && !enabled.has(c));
    if (missing.length === 0) return;
    try {
      rawWrite(dir, 'cgroup.subtree_control', missing.map((c) => `+${c}`).join(' '));
    } catch {
      // One refused controller fails the whole write; enable the others one by one like runc.
      for (const c of missing) {
        try {
          rawWrite(dir, 'cgroup.subtree_control', `+${c}`);
        } catch {
          /* reported by apply() if a resource needs it */
        }
      }
    }
  }

  // one directory, whose making reads each level's controllers: nothing for the helper to take over
  setUp(r: LinuxResources): CgroupSetUp {
    this.create();
    this.apply(r);
    return { mkdirs: [], writes: [] };
  }

  apply(r: LinuxResources): void {
    const plan = planV2(r, r.hugepageLimits?.length ? { hugePageSizes: this.opts.hugePageSizes ?? readHugePageSizes() } : {});
    for (const w of plan) this.exec(w);
  }

  private exec(w: V2Write): void {
    try {
      rawWrite(this.dir, w.file, w.value);
      return;
    } catch (e) {
      if (errnoCode(e) !== 'ENOENT') throw writeError(this.dir, w.file, w.value, e);
    }
    if (!fs.existsSync(this.dir)) throw new BerthError('FailedPrecondition', `cgroup ${this.dir} does not exist (create it first)`);
    if (w.fallback) {
      try {
        rawWrite(this.dir, w.fallback.file, w.fallback.value);
        return;
      } catch (e) {
        if (errnoCode(e) !== 'ENOENT') throw writeError(this.dir, w.fallback.file, w.fallback.value, e);
        throw this.unsupported(w.fallback.file);
      }
    }
    if (w.optional) return;
    throw this.unsupported(w.file);
  }

  private unsupported(file: string): BerthError {
    const ctrl = file.split('.')[0]!;
    const have = words(readFile(this.dir, 'cgroup.controllers'));
    const why = ctrl !== 'cgroup' && !have.includes(ctrl)
      ? `the ${ctrl} controller is not enabled for ${this.path} (available: ${have.join(' ') || 'none'})`
      : 'the kernel does not support it';
    return new BerthError('InvalidArgument', `linux.resources: cannot set ${file}: ${why}`);
  }

  join(pid: number): void {
    writePid(this.dir, pid);
  }

  // a domain cgroup takes whole processes only: cgroup.procs, "0" for the writer
  selfJoinWrites(): { path: string; value: string }[] {
    return [{ path: path.join(this.dir, 'cgroup.procs'), value: '0' }];
  }

  // cgroup-v2.rst "Core Interface Files": writing 1 to cgroup.freeze starts freezing;
  // cgroup.events shows "frozen 1" once every task has stopped.
  async freeze(): Promise<void> {
    try {
      rawWrite(this.dir, 'cgroup.freeze', '1');
    } catch (e) {
      if (errnoCode(e) === 'ENOENT' && fs.existsSync(this.dir)) {
        throw new BerthError('InvalidArgument', `freeze ${this.path}: the kernel does not support cgroup.freeze (needs Linux 5.2)`);
      }
      throw writeError(this.dir, 'cgroup.freeze', '1', e);
    }
    const timeout = this.opts.freezeTimeoutMs ?? 5000;
    if (!(await pollUntil(() => this.state() === 'frozen', timeout))) {
      writeFile(this.dir, 'cgroup.freeze', '0');
      throw new BerthError('Unavailable', `freeze ${this.path}: cgroup.events did not report frozen after ${timeout}ms; thawed again`);
    }
  }

  thaw(): void {
    writeFile(this.dir, 'cgroup.freeze', '0');
  }

  state(): 'frozen' | 'thawed' {
    return readKeyed(this.dir, 'cgroup.events', 'frozen') === 1 ? 'frozen' : 'thawed';
  }

  pids(): number[] {
    return allPids(this.dir);
  }

  stats(): CgroupStats {
    const d = this.dir;
    const peak = readFile(d, 'memory.peak'); // Linux 5.19+
    return {
      memory: {
        usage: readNumber(d, 'memory.current'),
        limit: readNumber(d, 'memory.max', -1),
        ...(peak !== undefined ? { maxUsage: readNumber(d, 'memory.peak') } : {}),
        oomKills: this.oomKillCount(),
      },
      pids: { current: readNumber(d, 'pids.current'), limit: readNumber(d, 'pids.max', -1) },
      cpu: { usageNs: (readKeyed(d, 'cpu.stat', 'usage_usec') ?? 0) * 1000 },
    };
  }

  metrics(): CgroupMetrics {
    return readV2Metrics(this.dir);
  }

  /** oom_kill of memory.events (hierarchical: includes descendants). */
  oomKillCount(): number {
    return readKeyed(this.dir, 'memory.events', 'oom_kill') ?? 0;
  }

  // cgroup.kill (Linux 5.14) SIGKILLs the whole subtree atomically; older kernels get runc's
  // freeze, kill each pid, thaw. rmdir then retries EBUSY until the tasks are gone.
  async destroy(): Promise<void> {
    if (!fs.existsSync(this.dir)) return;
    if (fs.existsSync(path.join(this.dir, 'cgroup.kill'))) {
      writeFile(this.dir, 'cgroup.kill', '1');
    } else if (this.pids().length > 0) {
      const canFreeze = fs.existsSync(path.join(this.dir, 'cgroup.freeze'));
      if (canFreeze) await this.freeze().catch(() => undefined);
      killAll(this.pids());
      if (canFreeze) this.thaw();
    }
    await removeTree(this.dir, this.opts.removeDir);
  }

  exists(): boolean {
    return fs.existsSync(this.dir);
  }
}
