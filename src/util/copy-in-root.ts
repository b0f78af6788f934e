// util/copy-in-root: copies a directory inside a container's root out to a host directory (a volume's
// first-mount copy-up). The content is image-controlled, so the start is resolved by the confined walk
// (resolveInRoot: no symlink leads out of the root) and the tree is walked with lstat, never following a
// link: directories and regular files are copied (files opened O_NOFOLLOW and checked by fstat), symlinks
// recreated as links, devices/FIFOs/sockets skipped unopened. Owners, modes and times are kept.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { resolveInRoot } from './in-root.js';

export async function copyOutOfRoot(root: string, p: string, dest: string): Promise<void> {
  const inRoot = await resolveInRoot(root, p);
  const src = path.join(root, inRoot);
  let st: fs.Stats;
  try { st = fs.lstatSync(src); } catch { return; } // nothing at that path in the image
  if (!st.isDirectory()) return;
  copyTree(src, dest);
  keepAttrs(dest, st);
}

function keepAttrs(p: string, st: fs.Stats): void {
  fs.lchownSync(p, st.uid, st.gid);
  fs.chmodSync(p, st.mode & 0o7777);
  fs.utimesSync(p, st.atime, st.mtime);
}

function copyTree(src: string, dest: string): void {
  for (const name of fs.readdirSync(src)) {
    const s = path.join(src, name);
    const d = path.join(dest, name);
    const st = fs.lstatSync(s);
    if (st.isDirectory()) {
      fs.mkdirSync(d, { mode: 0o700 });
      copyTree(s, d);
      keepAttrs(d, st);
    } else if (st.isSymbolicLink()) {
      fs.symlinkSync(fs.readlinkSync(s), d);
      fs.lchownSync(d, st.uid, st.gid);
    } else if (st.isFile()) {
      copyFile(s, d, st);
    } // devices, FIFOs, sockets: not opened, not copied
  }
}

function copyFile(s: string, d: string, st: fs.Stats): void {
  const fin = fs.openSync(s, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK);
  try {
    if (!fs.fstatSync(fin).isFile()) return; // swapped since lstat: skip, never read a device
    const fout = fs.openSync(d, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
    try {
      const buf = Buffer.allocUnsafe(1 << 16);
      for (let n; (n = fs.readSync(fin, buf, 0, buf.length, null)) > 0;) fs.writeSync(fout, buf, 0, n);
    } finally { fs.closeSync(fout); }
  } finally { fs.closeSync(fin); }
  keepAttrs(d, st);
}
