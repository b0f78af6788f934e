// test/helpers/leaks: what a daemon may leave behind — berth-helper processes, cgroup directories,
// mounts, open fds — read from /proc and /sys, for tests that kill things and check nothing is left.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cgroupDirs } from './bundle.js';

export interface Proc { pid: number; argv: string[] }

/** Every live process (zombies excluded) whose argv[0] ends in berth-helper, with its mode in argv[1]. */
export function helperProcesses(): Proc[] {
  const out: Proc[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const argv = fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0');
      if (path.basename(argv[0] ?? '') === 'berth-helper' && !isZombie(Number(name))) out.push({ pid: Number(name), argv });
    } catch { /* exited meanwhile */ }
  }
  return out;
}

/** `berth-helper monitor` processes whose exit file is under `dir` (a daemon's root or one container's directory). */
export function monitorsUnder(dir: string): Proc[] {
  return helperProcesses().filter((p) => p.argv[1] === 'monitor' && (p.argv[p.argv.indexOf('--exit') + 1] ?? '').startsWith(dir + '/'));
}

export function isZombie(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return /^[ZX]/.test(stat.slice(stat.lastIndexOf(')') + 2));
  } catch {
    return false;
  }
}

/** Alive and not a zombie. */
export function running(pid: number): boolean {
  return pid > 0 && fs.existsSync(`/proc/${pid}`) && !isZombie(pid);
}

/** The cgroup directories of a daemon's container that exist now (v1 controllers and v2). */
export function containerCgroups(id: string): string[] {
  return [...cgroupDirs(`/berth/${id}`), path.join('/sys/fs/cgroup', 'berth', id)].filter((d) => fs.existsSync(d));
}

/** Mount points at or below `dir` in this mount namespace. */
export function mountsUnder(dir: string): string[] {
  return fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4] ?? '')
    .filter((m) => m === dir || m.startsWith(dir + '/'));
}

export function fdCount(pid: number): number {
  return fs.readdirSync(`/proc/${pid}/fd`).length;
}

/** The sockets a process holds open (their inodes): a monitor's attach clients are the sockets beyond its own (the
 *  listener, the daemon's control), so a test can wait until an attach is really being served. */
export function socketInodes(pid: number): Set<string> {
  return new Set(fdTargets(pid).map((t) => /:socket:\[(\d+)\]/.exec(t)?.[1]).filter((i): i is string => !!i));
}

/** How many of a process's sockets were not among `before`: counted by inode, since one it closes meanwhile (a
 *  monitor whose daemon died drops its control socket) would hide a new one from a plain count. */
export function newSockets(pid: number, before: Set<string>): number {
  return [...socketInodes(pid)].filter((i) => !before.has(i)).length;
}

/** What a process's fds point at, for a failure message. */
export function fdTargets(pid: number): string[] {
  return fs.readdirSync(`/proc/${pid}/fd`).map((n) => { try { return `${n}:${fs.readlinkSync(`/proc/${pid}/fd/${n}`)}`; } catch { return n; } });
}

/** Polls `check` (every `every` ms) until it returns true, at most `ms`; returns its last answer (the caller asserts
 *  on it). For a state that stays once reached: a transient one can fall between two polls. */
export async function eventually(check: () => boolean | Promise<boolean>, ms = 10_000, every = 100): Promise<boolean> {
  const end = Date.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, every));
  }
}
