// runtime/mount-rules: where a container may not mount (runc libcontainer/rootfs_linux.go
// checkProcMount): on /proc unless it is a procfs, inside /proc except the few files lxcfs
// emulates, and on or under a masked path. Pure: the runtime's validate and the check of a
// Docker config at create both ask it, so `docker create` and `berth runtime create` agree.
import * as path from 'node:path';

/** runc's validProcMounts: files a FUSE filesystem (lxcfs) emulates so top and free see the container. */
export const PROC_MOUNTS_ALLOWED = [
  '/proc/cpuinfo', '/proc/diskstats', '/proc/meminfo', '/proc/stat', '/proc/swaps', '/proc/uptime',
  '/proc/loadavg', '/proc/slabinfo', '/proc/sys/kernel/ns_last_pid', '/proc/sys/crypto/fips_enabled',
];

export interface MountTarget {
  destination: string;
  /** the filesystem type: 'proc', 'tmpfs', 'bind', … */
  type?: string;
  bind: boolean;
  /** a bind whose source is on a procfs */
  procfsSource?: boolean;
}

/** A destination cleaned lexically, as the spec says it: '..' cannot climb above '/', no trailing '/'. */
export const cleanDestination = (d: string): string => path.posix.normalize(`/${d}`).replace(/(.)\/+$/, '$1');

/** Why `m` may not be mounted, in runc's words; undefined if it may. */
export function mountRefusal(m: MountTarget, maskedPaths: readonly string[] = []): string | undefined {
  const dest = cleanDestination(m.destination);
  if (dest === '/proc') {
    if (m.bind ? m.procfsSource : m.type === 'proc') return undefined;
    return `"${dest}" cannot be mounted because it is not of type proc`;
  }
  if (dest.startsWith('/proc/') && !PROC_MOUNTS_ALLOWED.includes(dest)) return `"${dest}" cannot be mounted because it is inside /proc`;
  // a mount there would hide what the mask shows, or be hidden by it: either way not what was asked
  const masked = maskedPaths.find((p) => dest === p || dest.startsWith(`${p}/`));
  if (masked) return `"${dest}" cannot be mounted because it is on the masked path ${masked}`;
  return undefined;
}

/** A spec mount as mountRefusal sees it; `isProcfs` is the host fact for a bind's source. */
export function mountTarget(m: { destination: string; source?: string; type?: string; options?: string[] }, isProcfs?: (source: string) => boolean): MountTarget {
  const bind = m.type === 'bind' || !!m.options?.some((o) => o === 'bind' || o === 'rbind');
  return { destination: m.destination, type: m.type, bind, procfsSource: bind && !!isProcfs?.(m.source ?? '') };
}
