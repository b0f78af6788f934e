// snapshots/unpack: applies one layer tar to an empty directory in overlay form (whiteouts become
// 0:0 char devices, opaque markers trusted.overlay.opaque=y), refusing any entry that would land
// outside the directory. Plain files, dirs, links and metadata are written here with sync calls;
// mknod and setxattr, which Node lacks, are batched into one berth-helper run confined by ROOT.
import { createHash, type Hash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BerthError, errnoCode } from '../errors.js';
import { makedev, S_IFBLK, S_IFCHR, S_IFIFO } from '../runtime/linux.js';
import type { Op } from '../runtime/plan/encode.js';
import { runHostOps } from '../runtime/sync.js';
import type { TarHeader } from './tar-header.js';
import { TarParser } from './tar-reader.js';
import { processUmask } from '../util/umask.js';

const WH_PREFIX = '.wh.';
/** fsyncs in flight at once (LayerWriter.durableByFsync): libuv's pool has 4 threads. */
const FSYNC_LANES = 4;
/** Files this big and more are reported by LayerWriter.takeWritten(): there the data outweighs a helper op. */
const WRITTEN_MIN = 64 << 10;
const WH_OPAQUE = '.wh..wh..opq';
const CREATE = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW;

export interface UnpackResult {
  diffId: string; size: number; tarSize: number; entries: number;
  /**
   * Makes the tree durable in place of the syncfs Snapshotter.publish runs otherwise (it calls this only
   * for a layer it keeps): a layer berth writes itself whose tree can be fsynced inode by inode.
   */
  makeDurable?: () => Promise<void>;
}
export interface UnpackOptions {
  /** chown entries to their tar owner (default: when running as root) */
  chown?: boolean;
  /** called with uncompressed bytes consumed, for progress */
  onBytes?: (n: number) => void;
  /** the process umask (default: read here; a worker thread must be told) */
  umask?: number;
}

/** What is left of a layer after its entries are written: the helper's mknod/setxattr ops and the times set last. */
export interface LayerTail { ops: Op[]; lateTimes: Array<[string, number]>; dirTimes: Array<[string, number]> }

function breakout(name: string, why: string): BerthError {
  return new BerthError('InvalidArgument', `layer entry ${JSON.stringify(name)} ${why}`);
}

/** Clean relative path components, or a refusal for absolute paths and `..`. */
export function cleanName(name: string, what = 'path'): string[] {
  if (name.startsWith('/')) throw breakout(name, `has an absolute ${what}`);
  const parts: string[] = [];
  for (const p of name.split('/')) {
    if (p === '' || p === '.') continue;
    if (p === '..') throw breakout(name, `escapes the layer (${what} contains '..')`);
    parts.push(p);
  }
  return parts;
}

/**
 * A whiteout is an empty regular file (image-spec layer.md "Whiteouts") naming a sibling: `.wh.`,
 * `.wh..` and `.wh...` would name nothing, the directory itself or its parent, and a body would have
 * nowhere to go. `.wh..wh.` names are markers (the opaque one) or aufs bookkeeping and name no sibling.
 */
function checkWhiteout(h: TarHeader, base: string): void {
  if (h.type !== 'file' || h.size !== 0) throw breakout(h.name, `is a malformed whiteout: it must be an empty regular file, not ${h.type === 'file' ? `one of ${h.size} bytes` : `a ${h.type}`}`);
  if (base.startsWith('.wh..wh.')) return;
  const target = base.slice(WH_PREFIX.length);
  if (target === '' || target === '.' || target === '..') throw breakout(h.name, `is a malformed whiteout: it names ${target === '' ? 'no file' : JSON.stringify(target)}`);
}

class Unpacker {
  readonly dirs = new Set<string>(['']);                  // relative paths known to be real directories
  readonly dirTimes: Array<[string, number]> = [];
  readonly lateTimes: Array<[string, number]> = [];
  readonly ops: Op[] = [];
  private readonly setgidDirs = new Set<string>();
  private fd = -1;
  private cur: TarHeader | undefined;
  private curParent = '';
  size = 0;
  entries = 0;
  /** with LayerWriter's `track`: the regular files of WRITTEN_MIN bytes and more closed since the last takeWritten() */
  written: string[] | undefined;
  /** with `track`: every regular file written, and whether an inode no fd can reach was made (see LayerWriter.durableByFsync) */
  files: string[] | undefined;
  special = false;

  constructor(private readonly root: string, private readonly chown: boolean, private readonly umask: number) {}

  private abs(rel: string): string { return rel === '' ? this.root : path.join(this.root, rel); }

  /** Makes sure every parent of parts exists as a real directory inside root, never via a symlink. */
  private parents(parts: string[], name: string): string {
    let rel = '';
    for (let i = 0; i < parts.length - 1; i++) {
      rel = rel ? `${rel}/${parts[i]}` : parts[i]!;
      if (this.dirs.has(rel)) continue;
      let st: fs.Stats | undefined;
      try { st = fs.lstatSync(this.abs(rel)); } catch (e) { if (errnoCode(e) !== 'ENOENT') throw e; }
      if (!st) fs.mkdirSync(this.abs(rel), 0o755);
      else if (st.isSymbolicLink()) throw breakout(name, `escapes the layer (through the symlink ${rel})`);
      else if (!st.isDirectory()) throw breakout(name, `has a parent ${rel} that is not a directory`);
      this.dirs.add(rel);
    }
    return rel;
  }

  /** Removes whatever an earlier entry left at rel (tar semantics: the last entry wins). */
  private clear(rel: string, keepDir: boolean): void {
    let st: fs.Stats;
    try { st = fs.lstatSync(this.abs(rel)); } catch (e) { if (errnoCode(e) === 'ENOENT') return; throw e; }
    if (st.isDirectory()) {
      if (keepDir) return;
      fs.rmSync(this.abs(rel), { recursive: true, force: true });
      for (const d of [...this.dirs]) if (d === rel || d.startsWith(`${rel}/`)) this.dirs.delete(d);
    } else fs.unlinkSync(this.abs(rel));
  }

  entry(h: TarHeader): void {
    this.entries++;
    const parts = cleanName(h.name);
    if (parts.length === 0) return; // "./": the layer root itself
    const parent = this.parents(parts, h.name);
    const base = parts[parts.length - 1]!;
    const rel = parts.join('/');

    if (base.startsWith(WH_PREFIX)) {
      checkWhiteout(h, base);
      this.special = true; // a device node, or an xattr on a directory the walk may have made implicitly
      if (base === WH_OPAQUE) {
        this.ops.push({ op: 'SETXATTR', args: { inroot: 1, path: parent || '.', name: 'trusted.overlay.opaque', value: Buffer.from('y') } });
      } else if (!base.startsWith('.wh..wh.')) {
        const target = parent ? `${parent}/${base.slice(WH_PREFIX.length)}` : base.slice(WH_PREFIX.length);
        this.clear(target, false);
        this.ops.push({ op: 'MKNOD', args: { mode: S_IFCHR, dev: 0n, uid: this.chown ? h.uid : process.getuid?.() ?? 0, gid: this.chown ? h.gid : process.getgid?.() ?? 0, inroot: 1, path: target } });
        this.lateTimes.push([target, h.mtime]);
      }
      return; // other .wh..wh. entries are aufs bookkeeping
    }

    const p = this.abs(rel);
    switch (h.type) {
      case 'dir': {
        // mkdir first, clear only on EEXIST (as for files): no lstat per directory
        let made = false;
        if (!this.dirs.has(rel)) {
          try { fs.mkdirSync(p, h.mode); made = true; } catch (e) {
            if (errnoCode(e) !== 'EEXIST') throw e;
            this.clear(rel, true);
            try { fs.mkdirSync(p, h.mode); made = true; } catch (e2) { if (errnoCode(e2) !== 'EEXIST') throw e2; }
          }
        }
        this.dirs.add(rel);
        // a directory this mkdir made is 0:0 with mode & ~umask (no setuid/setgid bits), unless a setgid
        // parent handed down its group and its setgid bit: then the lchown and chmod change nothing
        const plain = made && !this.setgidDirs.has(parent);
        if (h.mode & 0o2000) this.setgidDirs.add(rel); else this.setgidDirs.delete(rel);
        const chown = this.chown && (!plain || h.uid !== 0 || h.gid !== 0);
        if (chown) fs.lchownSync(p, h.uid, h.gid);
        if (!plain || chown || (h.mode & (this.umask | 0o6000)) !== 0) fs.chmodSync(p, h.mode);
        this.dirTimes.push([rel, h.mtime]);
        break;
      }
      case 'file': {
        // create first, clear only on EEXIST: a fresh layer rarely repeats a path, so no lstat per file
        try { this.fd = fs.openSync(p, CREATE, h.mode); } catch (e) {
          if (errnoCode(e) !== 'EEXIST') throw e;
          this.clear(rel, false);
          this.fd = fs.openSync(p, CREATE, h.mode);
        }
        this.cur = h;
        this.curParent = parent;
        this.size += h.size;
        return; // finished in end()
      }
      case 'symlink': {
        this.special = true;
        try { fs.symlinkSync(h.linkname, p); } catch (e) {
          if (errnoCode(e) !== 'EEXIST') throw e;
          this.clear(rel, false);
          fs.symlinkSync(h.linkname, p);
        }
        // root makes a symlink 0:0, unless a setgid parent hands down its group
        if (this.chown && (h.uid !== 0 || h.gid !== 0 || this.setgidDirs.has(parent))) fs.lchownSync(p, h.uid, h.gid);
        fs.lutimesSync(p, h.mtime, h.mtime);
        break;
      }
      case 'link': {
        this.special = true;
        const tparts = cleanName(h.linkname, 'link target');
        if (tparts.length === 0) throw breakout(h.name, 'links to the layer root');
        this.parents(tparts, h.linkname);
        const target = this.abs(tparts.join('/'));
        let st: fs.Stats;
        try { st = fs.lstatSync(target); } catch { throw breakout(h.name, `links to ${h.linkname}, which is not in the layer`); }
        if (st.isDirectory()) throw breakout(h.name, 'is a hard link to a directory');
        this.clear(rel, false);
        fs.linkSync(target, p);
        break;
      }
      case 'char': case 'block': case 'fifo': {
        this.special = true;
        this.clear(rel, false);
        const kind = h.type === 'char' ? S_IFCHR : h.type === 'block' ? S_IFBLK : S_IFIFO;
        this.ops.push({ op: 'MKNOD', args: { mode: kind | h.mode, dev: h.type === 'fifo' ? 0n : makedev(h.devmajor, h.devminor), uid: this.chown ? h.uid : process.getuid?.() ?? 0, gid: this.chown ? h.gid : process.getgid?.() ?? 0, inroot: 1, path: rel } });
        this.lateTimes.push([rel, h.mtime]);
        break;
      }
    }
    this.xattrs(rel, h);
  }

  private xattrs(rel: string, h: TarHeader): void {
    for (const [name, value] of Object.entries(h.xattrs)) {
      this.ops.push({ op: 'SETXATTR', args: { inroot: 1, path: rel, name, value } });
    }
  }

  data(chunk: Buffer): void {
    if (this.fd < 0) throw new BerthError('Internal', `layer entry ${JSON.stringify(this.cur?.name ?? '')}: data without an open file`);
    let off = 0;
    while (off < chunk.length) off += fs.writeSync(this.fd, chunk, off);
  }

  end(): void {
    const h = this.cur;
    if (!h) return;
    this.cur = undefined;
    const fd = this.fd;
    this.fd = -1;
    try {
      // root creates files as 0:0 already, unless a setgid parent hands down its group
      const chown = this.chown && (h.uid !== 0 || h.gid !== 0 || this.setgidDirs.has(this.curParent));
      if (chown) fs.fchownSync(fd, h.uid, h.gid);
      if (chown || (h.mode & this.umask) !== 0) fs.fchmodSync(fd, h.mode); // after chown, which clears setuid bits
      fs.futimesSync(fd, h.mtime, h.mtime);
    } finally {
      fs.closeSync(fd);
    }
    const rel = cleanName(h.name).join('/');
    if (this.written && h.size >= WRITTEN_MIN) this.written.push(rel);
    this.files?.push(rel);
    this.xattrs(rel, h);
  }

  closeOpen(): void {
    if (this.fd >= 0) { try { fs.closeSync(this.fd); } catch { /* closing on error */ } this.fd = -1; }
  }
}

/**
 * Unpacks an uncompressed tar stream into dir (which should be new and empty) and returns its
 * diffID. The caller owns dir and removes it on error: nothing here is published.
 */
export async function applyLayer(src: AsyncIterable<Uint8Array>, dir: string, opts: UnpackOptions = {}): Promise<UnpackResult> {
  const { result, tail } = await writeLayer(src, dir, opts);
  await finishLayer(dir, tail);
  return result;
}

/**
 * The entries of a layer, written into dir with plain syscalls (no helper, no process.umask(mask)), so
 * it can run on a worker thread; finishLayer completes the tree.
 */
export async function writeLayer(src: AsyncIterable<Uint8Array>, dir: string, opts: UnpackOptions & { hash?: boolean } = {}): Promise<{ result: UnpackResult; tail: LayerTail }> {
  const w = new LayerWriter(dir, opts);
  try {
    for await (const c of src) w.push(Buffer.from(c.buffer, c.byteOffset, c.length));
    return w.finish();
  } finally {
    w.closeOpen();
  }
}

/**
 * writeLayer for a tar pushed chunk by chunk (a layer berth writes itself: commit, build). Without
 * `hash`, the diffID is left empty: the caller hashes the same bytes already (an uncompressed blob's
 * digest is its diffID), and hashing 100 MB twice was a third of a commit's time.
 */
export class LayerWriter {
  private readonly u: Unpacker;
  private readonly parser: TarParser;
  private readonly hash: Hash | undefined;
  private tarSize = 0;

  /** `track`: takeWritten() lists the big files written so far (for an early write-out, images/layers). */
  constructor(private readonly dir: string, private readonly opts: UnpackOptions & { hash?: boolean; track?: boolean } = {}) {
    this.u = new Unpacker(dir, opts.chown ?? process.getuid?.() === 0, opts.umask ?? processUmask());
    if (opts.track) { this.u.written = []; this.u.files = []; }
    this.parser = new TarParser(this.u);
    this.hash = opts.hash === false ? undefined : createHash('sha256');
  }

  push(chunk: Buffer): void {
    this.hash?.update(chunk);
    this.tarSize += chunk.length;
    if (!this.parser.finished) this.parser.push(chunk);
    this.opts.onBytes?.(chunk.length);
  }

  finish(): { result: UnpackResult; tail: LayerTail } {
    this.parser.close();
    this.u.closeOpen();
    const u = this.u;
    return {
      result: { diffId: this.hash ? `sha256:${this.hash.digest('hex')}` : '', size: u.size, tarSize: this.tarSize, entries: u.entries },
      tail: { ops: u.ops, lateTimes: u.lateTimes, dirTimes: u.dirTimes },
    };
  }

  /** With `track`: the files of 64 KiB and more completed since the last call, relative to dir. */
  takeWritten(): string[] { return this.u.written?.splice(0) ?? []; }

  /**
   * With `track`, after finish(): the tree's regular files and directories, when an fsync of each makes
   * the whole tree durable, and there are at most `max`; else undefined (a syncfs must). Not so when the
   * tree has an inode no fd can be opened on to fsync it: a symlink, a device node or whiteout, a fifo,
   * a hard link (a second name for an inode fsynced before it). Files first, then directories deepest first.
   */
  durableByFsync(max: number): (() => Promise<void>) | undefined {
    const files = this.u.files;
    if (!files || this.u.special || files.length + this.u.dirs.size > max) return undefined;
    const dir = this.dir;
    const all: Array<[string, number]> = [...files.map((f): [string, number] => [f, 0]), ...[...this.u.dirs].map((d): [string, number] => [d, fs.constants.O_DIRECTORY])];
    return async () => {
      // FSYNC_LANES at once on libuv's pool: the device merges their cache flushes (one at a time, each
      // file's flush came on its own: 100 files ~125-310 ms where 4 at once took ~10-50 ms, data written)
      let next = 0;
      const lane = async () => {
        while (next < all.length) {
          const [rel, flags] = all[next++]!;
          const fd = fs.openSync(rel === '' ? dir : path.join(dir, rel), fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NONBLOCK | flags);
          try { await new Promise<void>((resolve, reject) => fs.fsync(fd, (e) => (e ? reject(e) : resolve()))); } finally { fs.closeSync(fd); }
        }
      };
      await Promise.all(Array.from({ length: Math.min(FSYNC_LANES, all.length) }, lane));
    };
  }

  /** Closes a file left open by an error. */
  closeOpen(): void { this.u.closeOpen(); }
}

/** Device nodes, whiteouts and xattrs through one helper run confined to dir, then the times they changed. */
export async function finishLayer(dir: string, tail: LayerTail): Promise<void> {
  const abs = (rel: string) => (rel === '' ? dir : path.join(dir, rel));
  if (tail.ops.length) await runHostOps([{ op: 'ROOT', args: { path: dir } }, ...tail.ops]);
  for (const [rel, t] of tail.lateTimes) fs.lutimesSync(abs(rel), t, t);
  // directories last and deepest first: creating children changed their mtimes
  for (let i = tail.dirTimes.length - 1; i >= 0; i--) {
    const [rel, t] = tail.dirTimes[i]!;
    fs.lutimesSync(abs(rel), t, t);
  }
}
