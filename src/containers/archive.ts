// containers/archive: `docker cp` and `docker export` (moby daemon/archive.go): stat a path, tar a path
// out, extract a tar into a directory — all inside a container's root as the container sees it. Every
// path is walked one component at a time through O_PATH fds (util/in-root), symlinks resolved beneath the
// root and bind mounts (volumes) followed to their host source, so a link to /etc/shadow reads the
// container's file and `..` stops at its root. Files stream through in chunks: memory stays bounded.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { BerthError, errnoCode } from '../errors.js';
import { TarParser } from '../snapshots/tar-reader.js';
import type { TarHeader } from '../snapshots/tar-header.js';
import { TarWriter } from '../snapshots/tar-writer.js';
import { lookupInRoot, resolveInRoot } from '../util/in-root.js';
import type { ContainerRoot } from './root.js';
import type { BodySource } from '../api/raw-body.js';
import { isoTime } from '../util/time.js';
import { skipBytes } from '../util/bufs.js';

type Handle = fs.promises.FileHandle;
const O_PATH = 0o10000000;
const { O_NOFOLLOW, O_DIRECTORY, O_RDONLY, O_NONBLOCK, O_NOCTTY, O_WRONLY, O_CREAT, O_EXCL } = fs.constants;
/**
 * Read size of a fresh buffer: under glibc's mmap threshold (128 KiB), so freed chunks come back warm
 * from the heap; a fresh 1 MiB buffer is a fresh mmap each time, and faulting its pages in made reading
 * 100 MB three times slower. A sink that is done with each chunk when it returns gets one reused buffer.
 */
const CHUNK = 64 << 10;
const SCRATCH = 1 << 20;

/** Where a tar goes; `consumed`: the sink is done with a chunk when its promise resolves (the buffer may be reused). */
export interface TarSink { write: (c: Buffer) => void | Promise<void>; consumed?: boolean }

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
    const tree = new TreeTar(w, r.mounts, sink.consumed);
    await tree.entry(top, f.handle.fd, f.st, f.resolved, f.linkText);
    await w.finish();
  } finally {
    await f.handle.close();
  }
}

/** GET export: the whole root filesystem as one tar (bind mounts are not part of it, as docker's). */
export async function exportRoot(r: ContainerRoot, sink: TarSink): Promise<void> {
  const w = new TarWriter(sink.write);
  const root = await fs.promises.open(r.rootfs, O_PATH | O_DIRECTORY);
  try {
    await new TreeTar(w, new Map(), sink.consumed).children('', root.fd, '/');
  } finally {
    await root.close();
  }
  await w.finish();
}

/**
 * Writes a tree of O_PATH fds as tar entries; never follows a link, reads regular files only. The
 * metadata calls are synchronous: each is short, and a thread-pool hop per call is what made a tree of
 * small files slow on a loaded host. The tar's sink awaits the client, which gives the loop its turns.
 */
class TreeTar {
  private readonly links = new Map<string, string>();
  private readonly scratch: Buffer | undefined;
  constructor(private readonly w: TarWriter, private readonly mounts: ReadonlyMap<string, string>, reuse = false) {
    this.scratch = reuse ? Buffer.allocUnsafe(SCRATCH) : undefined;
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
        const size = fs.fstatSync(rfd).size;
        await this.w.entry({ ...base, type: 'file', size }, readExactly(rfd, size, this.scratch));
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
export async function* readExactly(fd: number, size: number, scratch?: Buffer): AsyncGenerator<Uint8Array> {
  let left = size;
  let pos = 0;
  while (left > 0) {
    const buf = scratch ? scratch.subarray(0, Math.min(scratch.length, left)) : Buffer.allocUnsafe(Math.min(CHUNK, left));
    const bytesRead = fs.readSync(fd, buf, 0, buf.length, pos);
    if (bytesRead === 0) { yield Buffer.alloc(left); return; }
    left -= bytesRead;
    pos += bytesRead;
    yield buf.subarray(0, bytesRead);
  }
}

export interface ExtractOptions { noOverwriteDirNonDir?: boolean; copyUIDGID?: boolean }

/**
 * PUT archive: extracts a tar into the directory `p` names (symlinks followed inside the root). Entry
 * names are relative to it and may not climb out with `..`; each entry's parent is resolved inside the
 * root as the container sees it (a symlinked directory leads where it leads in the container, never out).
 * Without copyUIDGID, what is made belongs to the container's root user (docker cp's documented rule).
 */
export async function extractToDir(r: ContainerRoot, p: string, ref: string, src: AsyncIterable<Uint8Array> | BodySource, o: ExtractOptions = {}): Promise<void> {
  const dest = await lookupInRoot(r.rootfs, `${p.replace(/\/+$/, '')}/`, { mounts: r.mounts });
  if (!dest) throw fileNotFound(p, ref);
  if (!(await dest.handle.stat()).isDirectory()) { await dest.handle.close(); throw new BerthError('InvalidArgument', 'extraction point is not a directory'); }
  const x = new Extractor(r, dest.handle, dest.resolved, o);
  try {
    await x.run(src);
  } finally {
    await x.close();
  }
}

/**
 * Feeds `src` to `feed` chunk by chunk, in order; a promise from `feed` pauses the stream until it
 * settles. A Readable is read through its 'data' events: a promise per chunk (the async iterator's)
 * cost more than the parsing of a 100 MB copy. Stops at `done()` (the tar's end): the rest is left to
 * the caller (the HTTP server discards what follows).
 */
async function pump(src: AsyncIterable<Uint8Array>, feed: (b: Buffer) => void | Promise<void>, done: () => boolean): Promise<void> {
  if (!(src instanceof Readable)) {
    for await (const c of src) {
      await feed(Buffer.from(c.buffer, c.byteOffset, c.length));
      if (done()) return;
    }
    return;
  }
  if (src.readableEnded) return;
  const early = () => new BerthError('Unavailable', 'the archive stream ended early: the client went away');
  // gone before we listen: its 'close' has been and will not come again
  if (src.destroyed) throw early();
  await new Promise<void>((resolve, reject) => {
    let over = false;
    let busy: Promise<void> | undefined;
    const finish = (e?: unknown) => {
      if (over) return;
      over = true;
      src.off('data', onData).off('end', stop).off('error', stop).off('close', onClose);
      // a chunk still being applied finishes first: the caller closes what it uses only after us
      const settle = () => (e ? reject(e) : resolve());
      if (busy) busy.then(settle, (e2: unknown) => reject(e ?? e2)); else settle();
    };
    const stop = (e?: unknown) => finish(e);
    const onData = (c: Buffer) => {
      let wait: void | Promise<void>;
      try { wait = feed(c); } catch (e) { finish(e); return; }
      if (wait) {
        src.pause();
        busy = wait.then(() => { busy = undefined; if (done()) finish(); else if (!over) src.resume(); }, (e: unknown) => { busy = undefined; finish(e); });
      } else if (done()) finish();
    };
    // closed before its end: the client went away mid-copy
    const onClose = () => finish(early());
    src.on('data', onData).on('end', stop).on('error', stop).on('close', onClose);
  });
}

const isBodySource = (src: AsyncIterable<Uint8Array> | BodySource): src is BodySource =>
  !(src instanceof Readable) && !(Symbol.asyncIterator in src) && typeof (src as BodySource).read === 'function';

type Event = { t: 'entry'; h: TarHeader } | { t: 'data'; b: Buffer } | { t: 'end' };

/** An O_PATH directory fd: ours (opened here) or a FileHandle from the confined walk. */
interface Dir { fd: number; close(): void | Promise<void> }
const ownDir = (fd: number): Dir => ({ fd, close: () => fs.closeSync(fd) });
const walkedDir = (h: Handle): Dir => ({ fd: h.fd, close: () => h.close() });

/** A file being written: its data is held in `held` and written with one pwritev per window. */
interface OpenFile { fd: number; mtime: number; pos: number; held: Buffer[]; heldLen: number }

/**
 * Bytes of a file held before one pwritev: the CLI's tar arrives in 32 KiB HTTP chunks, and a pwrite
 * per chunk (~5,000 for 100 MB) cost more in syscalls than the copying they do on this kind of VM.
 */
const WRITE_WINDOW = 1 << 20;
/**
 * Chunks held at most: a client sending tiny HTTP chunks gets a write per this many, and what the
 * held slices keep alive (each its socket read's buffer, 64 KiB at most) stays a few MiB.
 */
const WRITE_CHUNKS = 64;

/** Writes what `f` holds at its position (a short write is continued). */
function flush(f: OpenFile): void {
  let bufs = f.held;
  let left = f.heldLen;
  f.held = [];
  f.heldLen = 0;
  while (left > 0) {
    const n = bufs.length === 1 ? fs.writeSync(f.fd, bufs[0]!, 0, bufs[0]!.length, f.pos) : fs.writevSync(f.fd, bufs, f.pos);
    f.pos += n;
    left -= n;
    bufs = skipBytes(bufs, n);
  }
}

/** A replaced file at least this big is let go on the thread pool (freeing its pages is what costs). */
const RELEASE_ASYNC = 64 << 10;

/**
 * Replaced files let go on the thread pool: an O_PATH fd held across the unlink is the inode's last
 * reference, so its close (there) frees the pages — ~0.5 ms per MiB that kept the event loop from
 * reading the stream. Every close is awaited before the extraction reports success.
 */
class Releases {
  error: unknown;
  private pending = 0;
  private wake: (() => void) | undefined;

  add(fd: number): void {
    this.pending++;
    fs.close(fd, (e) => {
      if (e) this.error ??= e;
      this.pending--;
      if (this.pending === 0) this.wake?.();
    });
  }

  idle(): Promise<void> | void {
    if (this.pending === 0) return;
    return new Promise<void>((resolve) => { this.wake = resolve; });
  }
}

/**
 * The syscalls per entry are synchronous, as snapshots/unpack's: each is short, and a thread-pool hop
 * per call (lstat, open, fchown, fchmod, write, futimes, close) dominated a copy of many files on a busy
 * host. Writing on the thread pool instead (tried: 2–16 MiB windows of chunks, or 1 MiB slabs) took a
 * little off the loop but cost more CPU in all (held chunks got promoted and full GCs ran; paused reads
 * made the client spin) on a 2-core host where the client needs the other core. Only a directory not seen
 * yet (a confined walk from the root) waits, with the stream paused; replaced files go to Releases.
 */
class Extractor {
  /** directories by their path relative to the destination ('' is the destination itself) */
  private readonly dirs = new Map<string, Dir>();
  private readonly dirTimes: Array<[number, number]> = [];
  private readonly releases = new Releases();
  private file: OpenFile | undefined;
  /** chunks of a Readable are ours to keep (nothing reuses them); an iterable's may be reused once fed */
  private owned = false;
  private readonly q: Event[] = [];
  private qi = 0;

  constructor(private readonly r: ContainerRoot, dest: Handle, private readonly destPath: string, private readonly o: ExtractOptions) {
    this.dirs.set('', walkedDir(dest));
  }

  async run(src: AsyncIterable<Uint8Array> | BodySource): Promise<void> {
    const parser = new TarParser({
      entry: (h) => this.q.push({ t: 'entry', h }),
      data: (b) => this.q.push({ t: 'data', b }),
      end: () => this.q.push({ t: 'end' }),
    });
    const feed = (chunk: Buffer) => { parser.push(chunk); return this.drain(); };
    if (isBodySource(src)) {
      // a body read into one buffer (api/raw-body): what a read held is written before the next read
      this.owned = true;
      await src.read(feed, () => parser.finished, () => { if (this.file) flush(this.file); });
    } else {
      this.owned = src instanceof Readable;
      await pump(src as AsyncIterable<Uint8Array>, feed, () => parser.finished);
    }
    parser.close();
    await this.drain();
    await this.releases.idle();
    if (this.releases.error !== undefined) throw this.releases.error;
    for (const [fd, t] of this.dirTimes.reverse()) { try { fs.utimesSync(`/proc/self/fd/${fd}`, t, t); } catch { /* gone */ } }
  }

  async close(): Promise<void> {
    if (this.file) { try { fs.closeSync(this.file.fd); } catch { /* closed */ } this.file = undefined; }
    await this.releases.idle();
    // every fd is closed when the copy returns
    await Promise.all([...new Set([...this.dirs.values(), ...this.stale])].map(async (d) => { try { await d.close(); } catch { /* closed */ } }));
  }

  /** Applies the parsed events; synchronous unless an entry needs a directory looked up. */
  private drain(): void | Promise<void> {
    while (this.qi < this.q.length) {
      const e = this.q[this.qi++]!;
      const wait = this.apply(e);
      if (wait) return wait.then(() => this.drain());
    }
    this.q.length = 0;
    this.qi = 0;
    // a chunk that may be reused once this feed returns is written now
    if (!this.owned && this.file) flush(this.file);
  }

  private apply(e: Event): void | Promise<void> {
    const f = this.file;
    if (e.t === 'data') {
      if (f) { f.held.push(e.b); f.heldLen += e.b.length; if (f.heldLen >= WRITE_WINDOW || f.held.length >= WRITE_CHUNKS) flush(f); }
      return;
    }
    if (e.t === 'end') {
      if (f) { this.file = undefined; try { flush(f); fs.futimesSync(f.fd, f.mtime, f.mtime); } finally { fs.closeSync(f.fd); } }
      return;
    }
    return this.entry(e.h);
  }

  private owner(h: TarHeader): [number, number] {
    return this.o.copyUIDGID ? [h.uid, h.gid] : [0, 0];
  }

  private entry(h: TarHeader): void | Promise<void> {
    const parts = relParts(h.name);
    if (parts.length === 0) {
      if (h.type === 'dir') return; // "./": the destination itself
      throw new BerthError('InvalidArgument', `invalid tar entry ${JSON.stringify(h.name)}: it names no file`);
    }
    const base = parts.pop()!;
    const parent = this.dirs.get(parts.join('/'));
    if (parent && h.type !== 'link') { this.place(h, parts, base, parent); return; }
    return (async () => {
      const dir = parent ?? await this.dir(parts);
      let linked: string | undefined;
      if (h.type === 'link') {
        const lp = relParts(h.linkname);
        if (lp.length === 0) throw new BerthError('InvalidArgument', `invalid hardlink ${JSON.stringify(h.linkname)} in the archive`);
        const lbase = lp.pop()!;
        linked = `/proc/self/fd/${(await this.dir(lp, false)).fd}/${lbase}`;
      }
      this.place(h, parts, base, dir, linked);
    })();
  }

  /** Makes entry `h` as `base` in the directory `parent` (`linked`: a hard link's existing file). */
  private place(h: TarHeader, parts: string[], base: string, parent: Dir, linked?: string): void {
    const target = `/proc/self/fd/${parent.fd}/${base}`;
    const [uid, gid] = this.owner(h);
    let existing: fs.Stats | undefined;
    try { existing = fs.lstatSync(target); } catch (e) { if (errnoCode(e) !== 'ENOENT') throw e; }
    if (existing) {
      const dir = existing.isDirectory();
      if (this.o.noOverwriteDirNonDir && dir && h.type !== 'dir') throw new BerthError('InvalidArgument', `cannot overwrite directory ${JSON.stringify(this.ctr(parts, base))} with non-directory ${JSON.stringify(h.name)}`);
      if (this.o.noOverwriteDirNonDir && !dir && h.type === 'dir') throw new BerthError('InvalidArgument', `cannot overwrite non-directory ${JSON.stringify(this.ctr(parts, base))} with directory ${JSON.stringify(h.name)}`);
      if (dir && h.type !== 'dir') fs.rmSync(target, { recursive: true, force: true });
      else if (!dir) this.remove(target, existing);
    }
    const mtime = h.mtime;
    switch (h.type) {
      case 'dir': {
        if (!existing?.isDirectory()) fs.mkdirSync(target, { mode: 0o700 });
        const fd = fs.openSync(target, O_PATH | O_NOFOLLOW | O_DIRECTORY);
        this.cacheDir([...parts, base].join('/'), ownDir(fd));
        // through the O_PATH fd's magic link: the very directory, even if a name was swapped meanwhile
        fs.chownSync(`/proc/self/fd/${fd}`, uid, gid);
        fs.chmodSync(`/proc/self/fd/${fd}`, h.mode & 0o7777);
        this.dirTimes.push([fd, mtime]);
        return;
      }
      case 'file': {
        const fd = fs.openSync(target, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o600);
        try {
          fs.fchownSync(fd, uid, gid);
          fs.fchmodSync(fd, h.mode & 0o7777);
        } catch (e) { fs.closeSync(fd); throw e; }
        // times are set once written: the data comes after this header
        if (h.size === 0) { try { fs.futimesSync(fd, mtime, mtime); } finally { fs.closeSync(fd); } return; }
        this.file = { fd, mtime, pos: 0, held: [], heldLen: 0 };
        return;
      }
      case 'symlink':
        fs.symlinkSync(h.linkname, target);
        fs.lchownSync(target, uid, gid);
        try { fs.lutimesSync(target, mtime, mtime); } catch { /* kept */ }
        return;
      case 'link':
        fs.linkSync(linked!, target);
        return;
      default:
        // device nodes and FIFOs need mknod(2), which Node lacks; docker cp of one is rare: refuse clearly
        throw new BerthError('InvalidArgument', `cannot copy ${h.name}: a ${h.type === 'fifo' ? 'FIFO' : 'device node'} (not supported by berth cp)`);
    }
  }

  /**
   * Removes the non-directory at `target` (docker replaces, never writes into, an existing file). A big
   * file's name goes here, its inode with the thread pool's close of an O_PATH fd held across the unlink.
   */
  private remove(target: string, st: fs.Stats): void {
    if (!st.isFile() || st.nlink > 1 || st.size < RELEASE_ASYNC) { fs.unlinkSync(target); return; }
    const fd = fs.openSync(target, O_PATH | O_NOFOLLOW);
    try { fs.unlinkSync(target); } catch (e) { fs.closeSync(fd); throw e; }
    this.releases.add(fd);
  }

  private ctr(parts: string[], base: string): string {
    return path.posix.join(this.destPath, ...parts, base);
  }

  private cacheDir(rel: string, d: Dir): void {
    const old = this.dirs.get(rel);
    this.dirs.set(rel, d);
    // the old fd stays open while dirTimes may still name it; it is closed with the rest
    if (old) this.stale.push(old);
  }

  private readonly stale: Dir[] = [];

  /**
   * The directory `parts` below the destination: from the cache, or resolved inside the container's root
   * (a symlinked component leads where the container would go, never out), missing ones made 0755.
   */
  private async dir(parts: string[], make = true): Promise<Dir> {
    const rel = parts.join('/');
    const hit = this.dirs.get(rel);
    if (hit) return hit;
    const got = await lookupInRoot(this.r.rootfs, `${path.posix.join(this.destPath, rel)}/`, { mounts: this.r.mounts });
    if (got) {
      if (!(await got.handle.stat()).isDirectory()) { await got.handle.close(); throw new BerthError('InvalidArgument', `cannot extract into ${path.posix.join(this.destPath, rel)}: not a directory`); }
      const d = walkedDir(got.handle);
      this.dirs.set(rel, d);
      return d;
    }
    if (!make || parts.length === 0) throw fileNotFound(path.posix.join(this.destPath, rel), this.r.container.name);
    const parent = await this.dir(parts.slice(0, -1));
    const name = parts[parts.length - 1]!;
    try { fs.mkdirSync(`/proc/self/fd/${parent.fd}/${name}`, { mode: 0o755 }); } catch (e) { if (errnoCode(e) !== 'EEXIST') throw e; }
    const d = ownDir(fs.openSync(`/proc/self/fd/${parent.fd}/${name}`, O_PATH | O_NOFOLLOW | O_DIRECTORY));
    this.dirs.set(rel, d);
    return d;
  }
}

/** A tar entry's name as components below the destination; `..` would climb out of it and is refused. */
function relParts(name: string): string[] {
  const out: string[] = [];
  for (const p of name.split('/')) {
    if (p === '' || p === '.') continue;
    if (p === '..') throw new BerthError('InvalidArgument', `invalid tar entry ${JSON.stringify(name)}: it climbs out of the destination directory`);
    out.push(p);
  }
  return out;
}
