// The CgroupManager role and the cgroupfs file operations both managers share (write with
// errors naming file and value, keyed reads, recursive pids, leaf-first removal).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BerthError, errnoCode, type ErrorKind } from '../../errors.js';
import type { LinuxResources } from '../spec-types.js';
import { sleepSync } from '../../util/fs.js';
import type { CgroupMetrics } from './metrics.js';

// Not node:timers/promises: one module less for every cold `berth runtime` start to load (issue 13) for
// two retry waits. Ref'd, unlike util/timer's sleep: a cold CLI process must not end in the middle of
// removing a cgroup.
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface CgroupStats {
  /** Limits are -1 when unlimited. */
  memory: { usage: number; limit: number; maxUsage?: number; oomKills: number };
  pids: { current: number; limit: number };
  cpu: { usageNs: number };
}

export interface CgroupManager {
  /** The resolved cgroupsPath, absolute within the hierarchy ("/berth/<id>"). */
  readonly path: string;
  create(): void;
  apply(r: LinuxResources): void;
  /**
   * create() and apply(r) for a new container, less what its helper can do itself before it joins:
   * the directories that need no reads and the writes that need no retries are handed back (the helper
   * makes and writes them as plan ops, so berthd's thread spends no cgroupfs syscalls on them).
   */
  setUp(r: LinuxResources): CgroupSetUp;
  join(pid: number): void;
  /**
   * The writes by which a single-threaded process moves itself in (value "0": the writer): a helper
   * about to clone joins before it clones, so nobody waits for its pid to write it.
   */
  selfJoinWrites(): { path: string; value: string }[];
  /** Resolves once the kernel reports the cgroup frozen; thaws again and throws Unavailable on timeout. */
  freeze(): Promise<void>;
  thaw(): void;
  state(): 'frozen' | 'thawed';
  /** Every process in the cgroup and its descendants. */
  pids(): number[];
  stats(): CgroupStats;
  /** Every usage counter `docker stats` reports (cpu, memory.stat, pids, blkio). */
  metrics(): CgroupMetrics;
  oomKillCount(): number;
  /** Kills what is left, then removes the directories leaf-first; fine if already gone. */
  destroy(): Promise<void>;
  exists(): boolean;
}

/** What setUp leaves to the helper: directories to make (with their parents), then files to write, in order. */
export interface CgroupSetUp {
  mkdirs: string[];
  writes: { path: string; value: string }[];
}

export interface ManagerOptions {
  /** How long freeze() waits for the kernel (default 5000 ms). */
  freezeTimeoutMs?: number;
  /** Hugepage sizes the kernel offers; read from /sys/kernel/mm/hugepages when absent. */
  hugePageSizes?: string[];
  /**
   * Removes one empty cgroup directory (default fs.rmdirSync). cgroupfs removes its interface
   * files with the directory; tests on a plain temp dir pass a remover that deletes them.
   */
  removeDir?: (dir: string) => void;
}

function kindOf(code: string | undefined): ErrorKind {
  switch (code) {
    case 'EINVAL':
    case 'ERANGE':
    case 'ENOSPC':
      return 'InvalidArgument';
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return 'PermissionDenied';
    case 'EBUSY':
      return 'Conflict';
    case 'ENOENT':
      return 'NotFound';
    default:
      return 'Internal';
  }
}

/** "EBUSY: resource busy or locked, write" -> "resource busy or locked" */
function reason(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  return /^[A-Z0-9]+: ([^,]+)/.exec(msg)?.[1] ?? msg;
}

export function writeError(dir: string, file: string, value: string, e: unknown): BerthError {
  const code = errnoCode(e) ?? 'error';
  const v = value.length > 80 ? `${value.slice(0, 77)}...` : value;
  return new BerthError(kindOf(code), `write ${file}=${v}: ${code}: ${reason(e)} (in ${dir})`, { cause: e });
}

/**
 * One write(2) of the whole value, opened O_WRONLY|O_TRUNC without O_CREAT like runc's
 * cgroups.WriteFile: cgroupfs takes one value per write, and a missing file must stay missing.
 * Throws the raw Node error; callers wrap it with writeError.
 */
export function rawWrite(dir: string, file: string, value: string): void {
  const fd = fs.openSync(path.join(dir, file), fs.constants.O_WRONLY | fs.constants.O_TRUNC);
  try {
    fs.writeSync(fd, value);
  } finally {
    fs.closeSync(fd);
  }
}

export function writeFile(dir: string, file: string, value: string): void {
  try {
    rawWrite(dir, file, value);
  } catch (e) {
    throw writeError(dir, file, value, e);
  }
}

export function readFile(dir: string, file: string): string | undefined {
  try {
    return fs.readFileSync(path.join(dir, file), 'utf8').trim();
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return undefined;
    throw new BerthError('Internal', `read ${path.join(dir, file)}: ${reason(e)}`, { cause: e });
  }
}

/** A number from a cgroup file; "max" and v1's page-rounded LONG_MAX mean unlimited (-1). */
export function readNumber(dir: string, file: string, ifMissing = 0): number {
  const s = readFile(dir, file);
  if (s === undefined) return ifMissing;
  if (s === '') return 0;
  if (s === 'max') return -1;
  const n = Number(s);
  return n >= 2 ** 62 ? -1 : Number.isFinite(n) ? n : 0;
}

/** Value of `key` in a "key value" file (memory.events, memory.oom_control, cgroup.events, cpu.stat). */
export function readKeyed(dir: string, file: string, key: string): number | undefined {
  const s = readFile(dir, file);
  for (const line of s?.split('\n') ?? []) {
    const [k, v] = line.trim().split(/\s+/);
    if (k === key && v !== undefined) return Number(v);
  }
  return undefined;
}

/** Move a process in: runc retries EINVAL, which a task still in TASK_NEW returns. */
export function writePid(dir: string, pid: number): void {
  if (!Number.isInteger(pid) || pid <= 0) throw new BerthError('InvalidArgument', `join: invalid pid ${pid}`);
  if (!fs.existsSync(dir)) throw new BerthError('FailedPrecondition', `join pid ${pid}: cgroup ${dir} does not exist (create it first)`);
  for (let i = 0; ; i++) {
    try {
      rawWrite(dir, 'cgroup.procs', String(pid));
      return;
    } catch (e) {
      if (errnoCode(e) === 'EINVAL' && i < 4) {
        sleepSync(30);
        continue;
      }
      throw writeError(dir, 'cgroup.procs', String(pid), e);
    }
  }
}

/** Processes in dir and every descendant cgroup (runc GetAllPids), each once. */
export function allPids(dir: string): number[] {
  const seen = new Set<number>();
  const walk = (d: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch (e) {
      if (errnoCode(e) === 'ENOENT') return;
      throw e;
    }
    for (const line of (readFile(d, 'cgroup.procs') ?? '').split('\n')) {
      const n = Number(line);
      if (line !== '' && Number.isInteger(n) && n > 0) seen.add(n);
    }
    for (const ent of entries) if (ent.isDirectory()) walk(path.join(d, ent.name));
  };
  walk(dir);
  return [...seen];
}

/** SIGKILL each pid; a pid that is already gone is fine. */
export function killAll(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch (e) {
      if (errnoCode(e) !== 'ESRCH') throw e;
    }
  }
}

/**
 * rmdir children before parents; EBUSY (tasks still exiting) is retried with backoff, as runc's
 * RemovePath does. A directory that is already gone is fine.
 */
export async function removeTree(dir: string, removeDir: (d: string) => void = fs.rmdirSync): Promise<void> {
  // Most often the directory has no sub-cgroups and no tasks left: one rmdir. A v1 directory lists ~25 control
  // files, and listing each of a container's 9 (as Dirents) before its rmdir cost a cold `runtime run`
  // ~0.3-0.6 ms. Anything else (EBUSY: children or tasks; an error) takes the walk below, as before.
  try {
    removeDir(dir);
    return;
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return;
  }
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') return;
    throw new BerthError('Internal', `remove cgroup ${dir}: ${reason(e)}`, { cause: e });
  }
  for (const ent of entries) if (ent.isDirectory()) await removeTree(path.join(dir, ent.name), removeDir);
  for (let i = 0, delay = 10; ; i++, delay *= 2) {
    try {
      removeDir(dir);
      return;
    } catch (e) {
      const code = errnoCode(e);
      if (code === 'ENOENT') return;
      if (code === 'EBUSY' && i < 6) {
        await sleep(delay);
        continue;
      }
      throw new BerthError(kindOf(code), `remove cgroup ${dir}: ${code ?? ''}: ${reason(e)}`, { cause: e });
    }
  }
}

/** Poll until done() or the deadline; the kernel offers no blocking wait on these files. */
export async function pollUntil(done: () => boolean, timeoutMs: number, onTick?: (i: number) => void): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (let i = 0, delay = 1; ; i++, delay = Math.min(delay * 2, 10)) {
    if (done()) return true;
    if (Date.now() >= deadline) return false;
    onTick?.(i);
    await sleep(delay);
  }
}

/** mkdir that tolerates an existing directory; whether it made one (recursive: any level). */
export function makeDir(dir: string, recursive: boolean): boolean {
  try {
    if (recursive) return fs.mkdirSync(dir, { recursive, mode: 0o755 }) !== undefined;
    fs.mkdirSync(dir, { mode: 0o755 });
    return true;
  } catch (e) {
    const code = errnoCode(e);
    if (code === 'EEXIST') return false;
    throw new BerthError(kindOf(code), `create cgroup ${dir}: ${code ?? ''}: ${reason(e)}`, { cause: e });
  }
}
