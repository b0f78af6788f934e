// plan/mount-options: OCI mount options -> mount(2) flags, propagation and data (runc's parseMountOptions). Pure.
import { BerthError } from '../../errors.js';
import { MS } from '../linux.js';

export interface ParsedMount {
  flags: number;        // flags for the mount itself (MS_BIND, MS_REC, MS_RDONLY, MS_NOSUID, …)
  propagation: number[]; // each a separate mount(2) call after the mount
  data: string;         // options passed through to the filesystem
}

const SET: Record<string, number> = {
  ro: MS.RDONLY, nosuid: MS.NOSUID, nodev: MS.NODEV, noexec: MS.NOEXEC, sync: MS.SYNCHRONOUS,
  remount: MS.REMOUNT, mand: MS.MANDLOCK, dirsync: MS.DIRSYNC, noatime: MS.NOATIME, nodiratime: MS.NODIRATIME,
  bind: MS.BIND, rbind: MS.BIND | MS.REC, relatime: MS.RELATIME, strictatime: MS.STRICTATIME,
  nosymfollow: MS.NOSYMFOLLOW, lazytime: MS.LAZYTIME, silent: MS.SILENT,
};
const CLEAR: Record<string, number> = {
  rw: MS.RDONLY, suid: MS.NOSUID, dev: MS.NODEV, exec: MS.NOEXEC, async: MS.SYNCHRONOUS, nomand: MS.MANDLOCK,
  atime: MS.NOATIME, diratime: MS.NODIRATIME, norelatime: MS.RELATIME, nostrictatime: MS.STRICTATIME,
  symfollow: MS.NOSYMFOLLOW, nolazytime: MS.LAZYTIME, loud: MS.SILENT,
};
const PROPAGATION: Record<string, number> = {
  private: MS.PRIVATE, rprivate: MS.PRIVATE | MS.REC, shared: MS.SHARED, rshared: MS.SHARED | MS.REC,
  slave: MS.SLAVE, rslave: MS.SLAVE | MS.REC, unbindable: MS.UNBINDABLE, runbindable: MS.UNBINDABLE | MS.REC,
};
// Recursive attributes and id-mapped mounts need mount_setattr(2): not carried out yet, so refused, never ignored.
const UNSUPPORTED = new Set(['rro', 'rrw', 'rnosuid', 'rsuid', 'rnodev', 'rdev', 'rnoexec', 'rexec', 'rnodiratime',
  'rdiratime', 'rrelatime', 'rnorelatime', 'rnoatime', 'ratime', 'rstrictatime', 'rnostrictatime', 'rnosymfollow',
  'rsymfollow', 'idmap', 'ridmap', 'tmpcopyup']);

export function parseMountOptions(options: string[] | undefined, field: string): ParsedMount {
  let flags = 0;
  const propagation: number[] = [];
  const data: string[] = [];
  (options ?? []).forEach((o, i) => {
    if (o in SET) flags |= SET[o]!;
    else if (o in CLEAR) flags &= ~CLEAR[o]!;
    else if (o in PROPAGATION) propagation.push(PROPAGATION[o]!);
    else if (UNSUPPORTED.has(o)) throw new BerthError('NotImplemented', `${field}.options[${i}]: mount option "${o}" is not supported`);
    else data.push(o);
  });
  return { flags, propagation, data: data.join(',') };
}

/** rootfsPropagation value -> flags for "/" (runc: rslave when unset). */
export function rootPropagation(value: string | undefined): number {
  if (value === undefined || value === '') return MS.SLAVE | MS.REC;
  const f = PROPAGATION[value];
  if (f === undefined) throw new BerthError('InvalidArgument', `linux.rootfsPropagation: unknown propagation "${value}"`);
  return f;
}
