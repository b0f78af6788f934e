// containers/changes-diff: what a container changed, read from its overlay upper dir (moby's overlay2
// Changes): `docker diff` and the layer `commit` writes. A 0:0 character device is a whiteout (deleted);
// an upper directory hiding what the layers below hold (an opaque directory, made by rm -rf + mkdir) is
// found by comparing the merged view with the lower layers, so no xattr has to be read. Nothing here
// follows a link: the upper dir and the merged view belong to a container that may be running (and
// swapping a directory for a link to / meanwhile), so they are walked through O_PATH directory fds
// (openBeneath); the image's layers do not change and are walked with lstat below real directories.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { errnoCode } from '../errors.js';
import type { ContainerRoot } from './root.js';
import { O_PATH } from '../util/open-flags.js';

/** moby's archive.ChangeType: 0 modified, 1 added, 2 deleted. */
export type ChangeKind = 0 | 1 | 2;
export interface Change { path: string; kind: ChangeKind }

export interface Visit {
  /** path inside the container, with a leading '/' */
  path: string;
  /** the file's path in the upper dir, relative to it, for openBeneath (undefined for deletions found through an opaque directory) */
  upper?: string;
  st?: fs.Stats;
  kind: ChangeKind;
  /** a directory whose lower content is hidden: commit writes an opaque marker */
  opaque?: boolean;
  /** a whiteout: the file below is deleted */
  whiteout?: boolean;
}

const lstat = (p: string): fs.Stats | undefined => {
  try { return fs.lstatSync(p); } catch (e) { if (errnoCode(e) === 'ENOENT' || errnoCode(e) === 'ENOTDIR') return undefined; throw e; }
};
const list = (p: string): string[] => {
  try { return fs.readdirSync(p); } catch (e) { if (errnoCode(e) === 'ENOENT' || errnoCode(e) === 'ENOTDIR') return []; throw e; }
};
const isWhiteout = (st: fs.Stats) => st.isCharacterDevice() && st.rdev === 0;
const { O_NOFOLLOW, O_DIRECTORY } = fs.constants;
const fdPath = (fd: number, name?: string) => (name === undefined ? `/proc/self/fd/${fd}` : `/proc/self/fd/${fd}/${name}`);

/**
 * Opens `rel` beneath the directory `root`, each directory component O_PATH|O_NOFOLLOW through the fd
 * before it, so no link (even one swapped in while we walk) leads out; the last component is opened
 * with `flags` | O_NOFOLLOW. Undefined when a component is missing or not a directory.
 */
export function openBeneath(root: string, rel: string, flags: number): number | undefined {
  const parts = rel.split('/').filter((x) => x !== '' && x !== '.');
  if (parts.includes('..')) return undefined;
  let dir = fs.openSync(root, O_PATH | O_DIRECTORY);
  try {
    for (let i = 0; i < parts.length; i++) {
      const last = i === parts.length - 1;
      let next: number;
      try { next = fs.openSync(fdPath(dir, parts[i]), last ? flags | O_NOFOLLOW : O_PATH | O_NOFOLLOW | O_DIRECTORY); } catch (e) {
        const c = errnoCode(e);
        if (c === 'ENOENT' || c === 'ENOTDIR' || c === 'ELOOP') return undefined;
        throw e;
      }
      fs.closeSync(dir);
      dir = next;
    }
    const out = dir;
    dir = -1;
    return out;
  } finally {
    if (dir >= 0) fs.closeSync(dir);
  }
}

/** A directory's names beneath `root`, read through an fd (empty when it is gone or not a directory). */
function listBeneath(root: string, rel: string): string[] {
  const fd = openBeneath(root, rel, O_PATH | O_DIRECTORY);
  if (fd === undefined) return [];
  try { return fs.readdirSync(fdPath(fd)); } catch { return []; } finally { fs.closeSync(fd); }
}

/**
 * Mount points the runtime makes in a fresh root (docker keeps these in its "-init" layer, so neither
 * diff nor commit shows them): left out while they are empty and were not in the image.
 */
const INIT_PATHS = new Set(['/dev', '/dev/pts', '/dev/shm', '/dev/mqueue', '/dev/console', '/proc', '/sys', '/etc/hosts', '/etc/hostname', '/etc/resolv.conf', '/etc/mtab', '/.dockerenv']);

/** Walks the writable layer in path order, calling visit for every change (parents before children). */
export async function walkChanges(r: ContainerRoot, visit: (v: Visit) => Promise<void> | void): Promise<void> {
  // collected first (metadata only): a directory is a change only when something below it is, or itself
  const top = fs.openSync(r.upper, O_PATH | O_DIRECTORY);
  let all: Visit[];
  try { all = walkDir(r, '', top, r.lowers); } finally { fs.closeSync(top); }
  for (const v of all) await visit(v);
}

function walkDir(r: ContainerRoot, rel: string, dirFd: number, lowers: string[]): Visit[] {
  const out: Visit[] = [];
  let names: string[];
  try { names = fs.readdirSync(fdPath(dirFd)).sort(); } catch { return out; }
  for (const name of names) {
    const childRel = rel ? `${rel}/${name}` : name;
    const upper = childRel;
    const st = lstat(fdPath(dirFd, name));
    if (!st) continue;
    const ctrPath = `/${childRel}`;
    if (isWhiteout(st)) { out.push({ path: ctrPath, upper, st, kind: 2, whiteout: true }); continue; }
    const below = lowers.map((l) => path.join(l, name));
    const lowerSt = below.map(lstat).find((x) => x !== undefined);
    const inLower = lowerSt !== undefined;
    if (!inLower && INIT_PATHS.has(ctrPath) && (st.isDirectory() || (st.isFile() && st.size === 0))) {
      if (st.isDirectory()) out.push(...walkInto(r, childRel, dirFd, name, []));
      continue;
    }
    if (!st.isDirectory()) { out.push({ path: ctrPath, upper, st, kind: inLower ? 0 : 1 }); continue; }
    let lowerDirs = below.filter((l) => lstat(l)?.isDirectory());
    // opaque: a name the layers below hold that neither the merged view shows nor a whiteout explains
    const hidden = new Set<string>();
    if (lowerDirs.length > 0) {
      const merged = new Set(listBeneath(r.rootfs, childRel));
      const inUpper = new Set(listBeneath(r.upper, childRel));
      const gone = new Set<string>(); // whited out by a higher layer: hidden already
      for (const l of lowerDirs) {
        for (const n of list(l)) {
          if (gone.has(n) || merged.has(n) || inUpper.has(n)) continue;
          const lst = lstat(path.join(l, n));
          if (lst && isWhiteout(lst)) gone.add(n); else hidden.add(n);
        }
      }
    }
    const opaque = hidden.size > 0;
    const below2: Visit[] = [];
    if (opaque) {
      for (const n of [...hidden].sort()) below2.push({ path: `${ctrPath}/${n}`, kind: 2 });
      lowerDirs = [];
    }
    below2.push(...walkInto(r, childRel, dirFd, name, lowerDirs));
    // a directory copied up only to hold a change below it is reported for that change (moby's rule)
    const self = !inLower || opaque || !lowerSt!.isDirectory() || (lowerSt!.mode !== st.mode || lowerSt!.uid !== st.uid || lowerSt!.gid !== st.gid);
    if (self || below2.length > 0) out.push({ path: ctrPath, upper, st, kind: inLower ? 0 : 1, opaque }, ...below2);
  }
  return out;
}

/** The walk one directory down, through an O_PATH fd of it (a name swapped for a link is skipped). */
function walkInto(r: ContainerRoot, rel: string, parentFd: number, name: string, lowers: string[]): Visit[] {
  let fd: number;
  try { fd = fs.openSync(fdPath(parentFd, name), O_PATH | O_NOFOLLOW | O_DIRECTORY); } catch { return []; }
  try { return walkDir(r, rel, fd, lowers); } finally { fs.closeSync(fd); }
}

/** `docker diff`: every change, sorted by path. */
export async function containerChanges(r: ContainerRoot): Promise<Change[]> {
  const out: Change[] = [];
  await walkChanges(r, (v) => { out.push({ path: v.path, kind: v.kind }); });
  return out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
}

/** Bytes of file content in a directory tree (SizeRw of a writable layer, `system df`), links not followed. */
export function treeSize(dir: string): number {
  let total = 0;
  const seen = new Set<string>();
  const walk = (d: string) => {
    for (const n of list(d)) {
      const p = path.join(d, n);
      const st = lstat(p);
      if (!st) continue;
      if (st.isDirectory()) { walk(p); continue; }
      if (st.nlink > 1) { const k = `${st.dev}:${st.ino}`; if (seen.has(k)) continue; seen.add(k); }
      if (st.isFile() || st.isSymbolicLink()) total += st.size;
    }
  };
  walk(dir);
  return total;
}
