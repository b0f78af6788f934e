// containers/changes-diff: what a container changed, read from its overlay upper dir (moby's overlay2
// Changes): `docker diff` and the layer `commit` writes. A 0:0 character device is a whiteout (deleted);
// an upper directory hiding what the layers below hold (an opaque directory, made by rm -rf + mkdir) is
// found by comparing the merged view with the lower layers, so no xattr has to be read. Nothing here
// follows a link: the layer directories are walked with lstat, each lower only below real directories.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { errnoCode } from '../errors.js';
import type { ContainerRoot } from './root.js';

/** moby's archive.ChangeType: 0 modified, 1 added, 2 deleted. */
export type ChangeKind = 0 | 1 | 2;
export interface Change { path: string; kind: ChangeKind }

export interface Visit {
  /** path inside the container, with a leading '/' */
  path: string;
  /** the file in the upper dir (undefined for deletions found through an opaque directory) */
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

/**
 * Mount points the runtime makes in a fresh root (docker keeps these in its "-init" layer, so neither
 * diff nor commit shows them): left out while they are empty and were not in the image.
 */
const INIT_PATHS = new Set(['/dev', '/dev/pts', '/dev/shm', '/dev/mqueue', '/dev/console', '/proc', '/sys', '/etc/hosts', '/etc/hostname', '/etc/resolv.conf', '/etc/mtab', '/.dockerenv']);

/** Walks the writable layer in path order, calling visit for every change (parents before children). */
export async function walkChanges(r: ContainerRoot, visit: (v: Visit) => Promise<void> | void): Promise<void> {
  // collected first (metadata only): a directory is a change only when something below it is, or itself
  for (const v of walkDir(r, '', r.lowers)) await visit(v);
}

function walkDir(r: ContainerRoot, rel: string, lowers: string[]): Visit[] {
  const out: Visit[] = [];
  const upperDir = path.join(r.upper, rel);
  for (const name of list(upperDir).sort()) {
    const childRel = rel ? `${rel}/${name}` : name;
    const upper = path.join(upperDir, name);
    const st = lstat(upper);
    if (!st) continue;
    const ctrPath = `/${childRel}`;
    if (isWhiteout(st)) { out.push({ path: ctrPath, upper, st, kind: 2, whiteout: true }); continue; }
    const below = lowers.map((l) => path.join(l, name));
    const lowerSt = below.map(lstat).find((x) => x !== undefined);
    const inLower = lowerSt !== undefined;
    if (!inLower && INIT_PATHS.has(ctrPath) && (st.isDirectory() || (st.isFile() && st.size === 0))) {
      if (st.isDirectory()) out.push(...walkDir(r, childRel, []));
      continue;
    }
    if (!st.isDirectory()) { out.push({ path: ctrPath, upper, st, kind: inLower ? 0 : 1 }); continue; }
    let lowerDirs = below.filter((l) => lstat(l)?.isDirectory());
    // opaque: a name the layers below hold that neither the merged view shows nor a whiteout explains
    const hidden = new Set<string>();
    if (lowerDirs.length > 0) {
      const merged = new Set(list(path.join(r.rootfs, childRel)));
      const inUpper = new Set(list(upper));
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
    below2.push(...walkDir(r, childRel, lowerDirs));
    // a directory copied up only to hold a change below it is reported for that change (moby's rule)
    const self = !inLower || opaque || !lowerSt!.isDirectory() || (lowerSt!.mode !== st.mode || lowerSt!.uid !== st.uid || lowerSt!.gid !== st.gid);
    if (self || below2.length > 0) out.push({ path: ctrPath, upper, st, kind: inLower ? 0 : 1, opaque }, ...below2);
  }
  return out;
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
