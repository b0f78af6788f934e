// snapshots/mount: the one executor for Mount[] — turns them into berth-helper MOUNT ops.
import type { Op } from '../runtime/plan/encode.js';
import { runHostOps } from '../runtime/sync.js';

/** containerd's mount.Mount: what to mount, never mounted by the snapshotter itself. */
export interface Mount { type: string; source: string; options: string[] }

const MS_RDONLY = 1, MS_NOSUID = 2, MS_NODEV = 4, MS_REMOUNT = 32, MS_BIND = 4096, MS_REC = 16384;
const MNT_DETACH = 2;
// options that are mount(2) flags, not filesystem data
const FLAG_OPTS: Record<string, number> = { ro: MS_RDONLY, rw: 0, nosuid: MS_NOSUID, nodev: MS_NODEV };

/** Pure: mounts at target -> helper ops. */
export function mountOps(mounts: Mount[], target: string): Op[] {
  const ops: Op[] = [];
  for (const m of mounts) {
    let flags = 0;
    for (const o of m.options) flags |= FLAG_OPTS[o] ?? 0;
    if (m.type === 'bind') {
      ops.push({ op: 'MOUNT', args: { flags: MS_BIND | (m.options.includes('rbind') ? MS_REC : 0), inroot: 0, mkdir: 0, src: m.source, dst: target, fstype: '', data: '' } });
      // a bind mount ignores MS_RDONLY, MS_NOSUID and MS_NODEV until remounted
      if (flags) ops.push({ op: 'MOUNT', args: { flags: MS_REMOUNT | MS_BIND | flags, inroot: 0, mkdir: 0, src: '', dst: target, fstype: '', data: '' } });
    } else {
      const data = m.options.filter((o) => !(o in FLAG_OPTS)).join(',');
      ops.push({ op: 'MOUNT', args: { flags, inroot: 0, mkdir: 0, src: m.source, dst: target, fstype: m.type, data } });
    }
  }
  return ops;
}

export async function mountAll(mounts: Mount[], target: string): Promise<void> {
  await runHostOps(mountOps(mounts, target));
}

export async function unmount(target: string, detach = false): Promise<void> {
  await runHostOps([{ op: 'UMOUNT', args: { flags: detach ? MNT_DETACH : 0, path: target } }]);
}
