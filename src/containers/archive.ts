// containers/archive: `docker cp` and `docker export` (moby daemon/archive.go): stat a path, tar a path
// out, extract a tar into a directory — all inside a container's root as the container sees it. Every
// path is walked one component at a time through O_PATH fds (util/in-root), symlinks resolved beneath the
// root and bind mounts (volumes) followed to their host source, so a link to /etc/shadow reads the
// container's file and `..` stops at its root. Files stream through in chunks: memory stays bounded.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BerthError, errnoCode } from '../errors.js';
import { TarWriter } from '../snapshots/tar-writer.js';
import { lookupInRoot, resolveInRoot } from '../util/in-root.js';
import type { ContainerRoot } from './root.js';
import type { BodySource } from '../util/http-body.js';
import { isoTime } from '../util/time.js';
import { untar, type Dir } from '../util/untar.js';
import { O_PATH } from '../util/open-flags.js';

type Handle = fs.promises.FileHandle;
const { O_NOFOLLOW, O_DIRECTORY, O_RDONLY, O_NONBLOCK, O_NOCTTY } = fs.constants;
/**
 * Read size of a fresh buffer: under glibc's mmap threshold (128 KiB), so freed chunks come back warm
 * from the heap; a fresh 1 MiB buffer is a fresh mmap each time, and faulting its pages in made reading
 * 100 MB three times slower. A sink that is done with each chunk when it returns gets one reused buffer.
 */
const CHUNK = 64 << 10;
const SCRATCH = 1 << 20;

/**
 * Where a tar goes. `consumed`: the sink is done with a chunk when its promise resolves (the buffer may be
 * reused). `ahead`: with `consumed`, a write's promise resolves once the chunk *before* it is done with (one
 * chunk stays in flight: the next is read while the socket takes this one, from the other of two buffers);
 * `settle` then waits for the last and reports its error.
 */
export interface TarSink { write: (c: Buffer) => void | Promise<void>; consumed?: boolean; ahead?: boolean; settle?: () => Promise<void> }

/** moby's container.PathStat, the X-Docker-Container-Path-Stat header (mode as Go's os.FileMode). */
export interface PathStat { name: string; size: number; mode: number; mtime: string; linkTarget: string }

/** moby daemon/errors.go containerFileNotFound: the CLI shows it as is. */
export const fileNotFound = (file: string, ctr: string) => new BerthError('NotFound', `Could not find the file ${file} in container ${ctr}`);

/** Go's os.FileMode bits for a stat's st_mode. */
export function goFileMode(mode: number): number {
  let m = mode & 0o777;
  const t = mode & 0o170000;
  if (t === 0o040000) m |= 2 ** 31;
  else if (t === 0o120000) m |= 1 << 27;
  else if (t === 0o010000) m |= 1 << 25;
  else if (t === 0o140000) m |= 1 << 24;
  else if (t === 0o060000) m |= 1 << 26;
  else if (t === 0o020000) m |= (1 << 26) | (1 << 21);
  if (mode & 0o4000) m |= 1 << 23;
  if (mode & 0o2000) m |= 1 << 22;
  if (mode & 0o1000) m |= 1 << 20;
  return m >>> 0;
}

/** The name an archive of `p` is rooted at (moby SplitPathDirEntry): its last element, `.` for a directory's content. */
export function archiveBase(p: string): string {
  const clean = path.posix.normalize(`/${p}`);
  // moby SplitPathDirEntry: "/x/." is the directory's content ("./", "./a"); "/" is itself ("/", "/a")
  if (/(^|\/)\.$/.test(p)) return '.';
  if (clean === '/') return '/';
  return path.posix.basename(clean);
}

interface Found { handle: Handle; resolved: string; st: fs.Stats; link?: string; linkText?: string }

async function find(r: ContainerRoot, p: string, ref: string): Promise<Found> {
  const got = await lookupInRoot(r.rootfs, p, { mounts: r.mounts });
  if (!got) throw fileNotFound(p, ref);
  try {
    const st = await got.handle.stat();
    // a trailing slash (or /.) asks for a directory, as lstat(2) does: "/etc/passwd/" is not one
    if (/\/\.?$/.test(p) && p !== '/' && !st.isDirectory() && !st.isSymbolicLink()) throw new BerthError('InvalidArgument', `lstat ${p}: not a directory`);
    let link: string | undefined;
    // moby StatPath: a symlink's LinkTarget is its target fully resolved in the container
    if (st.isSymbolicLink()) link = await resolveInRoot(r.rootfs, p, { mounts: r.mounts });
    return { handle: got.handle, resolved: got.resolved, st, link, linkText: got.link };
  } catch (e) {
    await got.handle.close();
    throw e;
  }
}

/** HEAD/GET archive: the stat of `p` (NotFound in docker's words when it is missing). */
export async function statPath(r: ContainerRoot, p: string, ref: string): Promise<PathStat> {
  const f = await find(r, p, ref);
  await f.handle.close();
  return toStat(p, f);
}

function toStat(p: string, f: Found): PathStat {
  const clean = path.posix.normalize(`/${p}`);
  return { name: clean === '/' ? '/' : path.posix.basename(clean), size: f.st.size, mode: goFileMode(f.st.mode), mtime: isoTime(f.st.mtime.getTime()), linkTarget: f.link ?? '' };
}

/**
 * GET archive: the stat (for the header, sent before any byte of the tar) and then the tar of `p`,
 * rooted at its base name, through `sink`. A symlink as the last element is archived as a link.
 */
export async function archivePath(r: ContainerRoot, p: string, ref: string, onStat: (s: PathStat) => void | Promise<void>, sink: TarSink): Promise<void> {
  const f = await find(r, p, ref);
  try {
    await onStat(toStat(p, f));
    const w = new TarWriter(sink.write);
    const top = archiveBase(p);
    const tree = new TreeTar(w, r.mounts, sink);
    await tree.entry(top, f.handle.fd, f.st, f.resolved, f.linkText);
    await w.finish();
    await sink.settle?.();
  } finally {
    await f.handle.close();
  }
}

/** GET export: the whole root filesystem as one tar (bind mounts are not part of it, as docker's). */
export async function exportRoot(r: ContainerRoot, sink: TarSink): Promise<void> {
  const w = new TarWriter(sink.write);
  const root = await fs.promises.open(r.rootfs, O_PATH | O_DIRECTORY);
  try {
    await new TreeTar(w, new Map(), sink).children('', root.fd, '/');
  } finally {
    await root.close();
  }
  await w.finish();
  await sink.settle?.();
}

/**
 * Writes a tree of O_PATH fds as tar entries; never follows a link, reads regular files only. The
 * metadata calls are synchronous: each is short, and a thread-pool hop per call is what made a tree of
 * small files slow on a loaded host. The tar's sink awaits the client, which gives the loop its turns.
 */
class TreeTar {
  private readonly links = new Map<string, string>();
  private readonly scratch: (() => Buffer) | undefined;
  constructor(private readonly w: TarWriter, private readonly mounts: ReadonlyMap<string, string>, sink: TarSink) {
    if (sink.consumed && sink.ahead) {
      // two buffers, taken in turn: the one read into is never the one in flight
      const bufs = [Buffer.allocUnsafe(SCRATCH), Buffer.allocUnsafe(SCRATCH)];
      let i = 0;
      this.scratch = () => bufs[i++ & 1]!;
    } else if (sink.consumed) {
      const buf = Buffer.allocUnsafe(SCRATCH);
      this.scratch = () => buf;
    }
  }

  async entry(name: string, fd: number, st: fs.Stats, ctrPath: string, linkText?: string): Promise<void> {
    const base = { name, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: Math.floor(st.mtimeMs / 1000) };
    if (st.isDirectory()) {
      if (name !== '') await this.w.entry({ ...base, name: name.endsWith('/') ? name : `${name}/`, type: 'dir' });
      await this.children(name, fd, ctrPath);
    } else if (st.isSymbolicLink()) {
      await this.w.entry({ ...base, type: 'symlink', linkname: linkText ?? '' });
    } else if (st.isFile()) {
      const key = `${st.dev}:${st.ino}`;
      if (st.nlink > 1 && this.links.has(key)) { await this.w.entry({ ...base, type: 'link', linkname: this.links.get(key)! }); return; }
      if (st.nlink > 1) this.links.set(key, name);
      const rfd = fs.openSync(`/proc/self/fd/${fd}`, O_RDONLY | O_NONBLOCK | O_NOCTTY);
      try {
        // the size the O_PATH fd's stat gave: a second fstat per file bought nothing (the file may change
        // while it is read either way, and readExactly pads or cuts it to the header's size)
        await this.w.entry({ ...base, type: 'file', size: st.size }, readExactly(rfd, st.size, this.scratch));
      } finally { fs.closeSync(rfd); }
    } else if (st.isCharacterDevice() || st.isBlockDevice() || st.isFIFO()) {
      const dev = BigInt(st.rdev);
      const devmajor = Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn));
      const devminor = Number((dev & 0xffn) | ((dev >> 12n) & ~0xffn));
      await this.w.entry({ ...base, type: st.isFIFO() ? 'fifo' : st.isCharacterDevice() ? 'char' : 'block', devmajor, devminor });
    } // sockets are not archived (Go's archive/tar cannot either)
  }

  async children(prefix: string, dir: number, ctrPath: string): Promise<void> {
    const names = fs.readdirSync(`/proc/self/fd/${dir}`).sort();
    for (const n of names) {
      const childPath = ctrPath === '/' ? `/${n}` : `${ctrPath}/${n}`;
      const mounted = this.mounts.get(childPath);
      let fd: number | undefined;
      if (mounted !== undefined) { try { fd = fs.openSync(mounted, O_PATH); } catch { /* not made yet: the root's own */ } }
      try {
        fd ??= fs.openSync(`/proc/self/fd/${dir}/${n}`, O_PATH | O_NOFOLLOW);
      } catch (e) {
        if (errnoCode(e) === 'ENOENT') continue; // removed while we walked
        throw e;
      }
      try {
        const st = fs.fstatSync(fd);
        const link = st.isSymbolicLink() ? fs.readlinkSync(`/proc/self/fd/${dir}/${n}`) : undefined;
        await this.entry(prefix === '' || prefix.endsWith('/') ? `${prefix}${n}` : `${prefix}/${n}`, fd, st, childPath, link);
      } finally { fs.closeSync(fd); }
    }
  }
}

/**
 * Exactly `size` bytes of a file: a file that shrank meanwhile is padded with zeros, one that grew is cut.
 * Read with pread(2) on the event loop: a page-cache read of 64 KiB is shorter than a thread-pool round trip.
 */
export async function* readExactly(fd: number, size: number, scratch?: Buffer | (() => Buffer)): AsyncGenerator<Uint8Array> {
  let left = size;
  let pos = 0;
  const next = typeof scratch === 'function' ? scratch : scratch ? () => scratch : undefined;
  while (left > 0) {
    const s = next?.();
    const buf = s ? s.subarray(0, Math.min(s.length, left)) : Buffer.allocUnsafe(Math.min(CHUNK, left));
    const bytesRead = fs.readSync(fd, buf, 0, buf.length, pos);
    if (bytesRead === 0) { yield Buffer.alloc(left); return; }
    left -= bytesRead;
    pos += bytesRead;
    yield buf.subarray(0, bytesRead);
  }
}

export interface ExtractOptions { noOverwriteDirNonDir?: boolean; copyUIDGID?: boolean }

/**
 * PUT archive: extracts a tar into the directory `p` names (symlinks followed inside the root), through
 * util/untar (the extractor `berth cp` out uses too). Entry names are relative to it and may not climb
 * out with `..`; a directory not met yet is resolved inside the root as the container sees it (a
 * symlinked directory leads where it leads in the container, never out). Without copyUIDGID, what is
 * made belongs to the container's root user (docker cp's documented rule).
 */
export async function extractToDir(r: ContainerRoot, p: string, ref: string, src: AsyncIterable<Uint8Array> | BodySource, o: ExtractOptions = {}): Promise<void> {
  const dest = await lookupInRoot(r.rootfs, `${p.replace(/\/+$/, '')}/`, { mounts: r.mounts });
  if (!dest) throw fileNotFound(p, ref);
  if (!(await dest.handle.stat()).isDirectory()) { await dest.handle.close(); throw new BerthError('InvalidArgument', 'extraction point is not a directory'); }
  const destPath = dest.resolved;
  const show = (rel: string) => path.posix.join(destPath, rel);
  await untar(walkedDir(dest.handle), src, {
    owner: o.copyUIDGID ? 'header' : [0, 0],
    noOverwriteDirNonDir: o.noOverwriteDirNonDir,
    show,
    // the container's walk: links followed inside its root, bind mounts to their sources
    lookup: async (parts, make) => {
      const rel = parts.join('/');
      const got = await lookupInRoot(r.rootfs, `${show(rel)}/`, { mounts: r.mounts });
      if (!got) {
        if (!make || parts.length === 0) throw fileNotFound(show(rel), r.container.name);
        return undefined;
      }
      if (!(await got.handle.stat()).isDirectory()) { await got.handle.close(); throw new BerthError('InvalidArgument', `cannot extract into ${show(rel)}: not a directory`); }
      return walkedDir(got.handle);
    },
  });
}

/** A FileHandle from the confined walk as util/untar's directory. */
const walkedDir = (h: Handle): Dir => ({ fd: h.fd, close: () => h.close() });
