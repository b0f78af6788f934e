// Picks the cgroup manager for the host's layout: v2 for a unified hierarchy, v1 for v1 and hybrid.
import type { CgroupManager, ManagerOptions } from './manager.js';
import { cgroup2Mountpoint, detectCgroupMode, readMountinfo, v1Mounts, type CgroupMode } from './mode.js';
import { V1Manager } from './v1.js';
import { V2Manager } from './v2.js';

export interface CgroupManagerOptions extends ManagerOptions {
  /** Skip detection (tests, or a daemon that detected once at start). */
  mode?: CgroupMode;
  /** /proc/self/mountinfo text; read from the host when absent. */
  mountinfo?: string;
  /** Root of the unified hierarchy; default: the cgroup2 mountpoint, else /sys/fs/cgroup. */
  v2Root?: string;
}

/**
 * cgroupsPath: absolute = from the hierarchy root, relative = under /berth,
 * "slice:prefix:name" = NotImplemented (systemd driver). Hybrid hosts get the v1 manager,
 * as with runc's fs driver: the controllers live in the v1 mounts.
 */
export function cgroupManager(cgroupsPath: string, opts: CgroupManagerOptions = {}): CgroupManager {
  const { mode: m, mountinfo: mi, v2Root, ...managerOpts } = opts;
  let mountinfo = mi;
  const info = () => (mountinfo ??= readMountinfo());
  const mode = m ?? detectCgroupMode(info());
  if (mode === 'v2') {
    const root = v2Root ?? cgroup2Mountpoint(info()) ?? '/sys/fs/cgroup';
    return new V2Manager(root, cgroupsPath, managerOpts);
  }
  return new V1Manager(v1Mounts(info()), cgroupsPath, managerOpts);
}
