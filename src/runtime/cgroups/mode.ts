// Host discovery: which cgroup layout the host has (v1, hybrid, v2), where each v1 controller
// is mounted, which hugepage sizes exist, and how an OCI cgroupsPath maps into a hierarchy.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BerthError } from '../../errors.js';

export type CgroupMode = 'v1' | 'v2' | 'hybrid';

/** v1 controllers Berth knows; `name=systemd` is the named hierarchy systemd keeps (runc joins it too). */
export const V1_CONTROLLERS = [
  'cpuset', 'devices', 'memory', 'cpu', 'cpuacct', 'pids', 'blkio', 'hugetlb',
  'net_cls', 'net_prio', 'perf_event', 'freezer', 'rdma', 'misc', 'name=systemd',
] as const;
export type V1Controller = (typeof V1_CONTROLLERS)[number];

export interface MountInfoEntry {
  root: string;
  mountpoint: string;
  fstype: string;
  superOptions: string[];
}

// mountinfo escapes space, tab, newline and backslash as octal (proc(5)).
function unescape(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Parse /proc/self/mountinfo (proc(5)): fields, optional fields, "-", fstype, source, super options. */
export function parseMountinfo(text: string): readonly MountInfoEntry[] {
  // the cached mountinfo is parsed for the mode, the v1 mounts and the cgroup mounts of every create;
  // each create also parses a fresh read (bind sources' mount points), which must not push the cached
  // one out: with many containers running both are long, and they alternated parse for parse
  if (text === readMountinfoCached?.text) return readMountinfoCached.entries;
  if (text === lastParsed?.text) return lastParsed.entries;
  const out: MountInfoEntry[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(' ');
    const sep = f.indexOf('-', 6);
    if (f.length < 7 || sep < 0 || f.length < sep + 3) continue;
    out.push({
      root: unescape(f[3]!),
      mountpoint: unescape(f[4]!),
      fstype: f[sep + 1]!,
      superOptions: (f[sep + 3] ?? '').split(','),
    });
  }
  if (text === mountinfoCache) readMountinfoCached = { text, entries: out };
  else lastParsed = { text, entries: out };
  return out;
}
let lastParsed: { text: string; entries: readonly MountInfoEntry[] } | undefined;
let readMountinfoCached: { text: string; entries: readonly MountInfoEntry[] } | undefined;

/**
 * Where each v1 controller is mounted, from mountinfo super options ("rw,cpu,cpuacct").
 * Co-mounted controllers map to the same directory. A mount whose root is not "/" (a bind
 * mount of a sub-cgroup) is used only when no full mount of that hierarchy exists.
 */
export function v1Mounts(mountinfo: string): Record<string, string> {
  const known = new Set<string>(V1_CONTROLLERS);
  const out: Record<string, string> = {};
  const fromRoot: Record<string, boolean> = {};
  for (const m of parseMountinfo(mountinfo)) {
    if (m.fstype !== 'cgroup') continue;
    for (const opt of m.superOptions) {
      if (!known.has(opt)) continue;
      const isRoot = m.root === '/';
      if (out[opt] === undefined || (isRoot && !fromRoot[opt])) {
        out[opt] = m.mountpoint;
        fromRoot[opt] = isRoot;
      }
    }
  }
  return out;
}

/** Mountpoint of the cgroup2 filesystem, preferring /sys/fs/cgroup. */
export function cgroup2Mountpoint(mountinfo: string): string | undefined {
  const mps = parseMountinfo(mountinfo).filter((m) => m.fstype === 'cgroup2').map((m) => m.mountpoint);
  return mps.includes('/sys/fs/cgroup') ? '/sys/fs/cgroup' : mps[0];
}

let mountinfoCache: string | undefined;
/** Read once per process: cgroup mounts do not move under a running engine, and this is on the start path. */
export function readMountinfo(): string {
  return (mountinfoCache ??= fs.readFileSync('/proc/self/mountinfo', 'utf8'));
}

/**
 * v2 when only cgroup2 is mounted; hybrid when v1 controllers and a cgroup2 (usually
 * /sys/fs/cgroup/unified) coexist; v1 otherwise. Hybrid uses the v1 managers for resources,
 * as runc's fs driver does. Reads /proc/self/mountinfo when no text is given.
 */
export function detectCgroupMode(mountinfo?: string): CgroupMode {
  const entries = parseMountinfo(mountinfo ?? readMountinfo());
  const hasV1 = entries.some((m) => m.fstype === 'cgroup');
  const hasV2 = entries.some((m) => m.fstype === 'cgroup2');
  if (hasV1) return hasV2 ? 'hybrid' : 'v1';
  if (hasV2) return 'v2';
  throw new BerthError('FailedPrecondition', 'no cgroup filesystem is mounted (checked /proc/self/mountinfo)');
}

/** Hugepage sizes the kernel offers, named as cgroup files name them ("2MB", "1GB"), like runc's HugePageSizes. */
export function readHugePageSizes(dir = '/sys/kernel/mm/hugepages'): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const units = ['KB', 'MB', 'GB', 'TB', 'PB'];
  const out: string[] = [];
  for (const n of names) {
    const m = /^hugepages-(\d+)kB$/.exec(n);
    if (!m) continue;
    let v = Number(m[1]);
    let u = 0;
    while (v >= 1024 && v % 1024 === 0 && u < units.length - 1) {
      v /= 1024;
      u++;
    }
    out.push(`${v}${units[u]}`);
  }
  return out;
}

export const DEFAULT_CGROUP_PARENT = '/berth';

/** The cgroupsPath Berth uses when the spec gives none. */
export function defaultCgroupsPath(id: string): string {
  return `${DEFAULT_CGROUP_PARENT}/${id}`;
}

/**
 * runtime-spec config-linux.md "Cgroups path": absolute paths are relative to the hierarchy
 * root; relative paths go under a runtime default parent (/berth). The systemd driver's
 * "slice:prefix:name" form is not implemented. Returns a normalized absolute path.
 */
export function resolveCgroupsPath(cgroupsPath: string): string {
  if (!cgroupsPath) {
    throw new BerthError('InvalidArgument', 'linux.cgroupsPath: must not be empty (use defaultCgroupsPath(id))');
  }
  if (!cgroupsPath.includes('/') && cgroupsPath.split(':').length === 3) {
    throw new BerthError(
      'NotImplemented',
      `linux.cgroupsPath "${cgroupsPath}": the systemd form slice:prefix:name needs the systemd cgroup driver, which Berth does not implement`,
    );
  }
  if (cgroupsPath.split('/').includes('..')) {
    throw new BerthError('InvalidArgument', `linux.cgroupsPath "${cgroupsPath}": must not contain ".."`);
  }
  const abs = cgroupsPath.startsWith('/') ? cgroupsPath : `${DEFAULT_CGROUP_PARENT}/${cgroupsPath}`;
  const norm = path.posix.normalize(abs).replace(/\/+$/, '');
  if (norm === '' || norm === '/') {
    throw new BerthError('InvalidArgument', `linux.cgroupsPath "${cgroupsPath}": must not be the hierarchy root`);
  }
  return norm;
}
