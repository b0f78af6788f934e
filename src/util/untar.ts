// util/untar: the one extractor of a tar whose content is hostile (issue 10): `docker cp` into a
// container's root (containers/archive, the daemon) and `berth cp` out onto the host (cli/docker/cp, a
// bundle of its own: nothing here may import the daemon). The rules, for both:
// - every entry's name is taken as components below the destination; `..` is refused;
// - each entry is made by name in an O_PATH fd of its parent directory (/proc/self/fd/N/<name>, final
//   component never followed): a directory opened once is the very directory, whatever a name on the way
//   becomes; a directory not opened yet is reached through the caller's lookup (the container's confined
//   walk) or, by default, one component at a time refusing a link (a tar's link entry followed by an entry
//   under it is how a tar writes outside its destination);
// - a hard link's target is found the same way (a link(2) never follows the target's last component);
// - a directory's mode and time are set at the end through the O_PATH fd it was opened as (no link on the
//   way, a later entry cannot redirect it), so a read-only directory still takes its content;
// - header sizes and names are bounded by the parser (snapshots/tar-reader), depth by MAX_DEPTH.
// The syscalls per entry are synchronous, as snapshots/unpack's: each is short, and a thread-pool hop per
// call (lstat, open, fchown, fchmod, write, futimes, close) dominated a copy of many files on a busy host.
// Writing on the thread pool instead (tried: 2–16 MiB windows of chunks, or 1 MiB slabs) took a little
// off the loop but cost more CPU in all (held chunks got promoted and full GCs ran; paused reads made the
// client spin) on a 2-core host where the client needs the other core. Only a directory not seen yet
// through the caller's async lookup waits, with the stream paused; replaced files go to Releases.
import * as fs from 'node:fs';
import { Readable } from 'node:stream';
import { BerthError, errnoCode } from '../errors.js';
import { TarParser } from '../snapshots/tar-reader.js';
import type { TarHeader } from '../snapshots/tar-header.js';
import type { BodySource } from './http-body.js';
import { skipBytes } from './bufs.js';
import { O_PATH } from './open-flags.js';
import { processUmask } from './umask.js';

const { O_NOFOLLOW, O_DIRECTORY, O_WRONLY, O_CREAT, O_EXCL } = fs.constants;
const at = (dir: number, name: string) => `/proc/self/fd/${dir}/${name}`;
/** Directory levels below the destination an entry may have (each one an fd while extracting). */
export const MAX_DEPTH = 1024;

/** An O_PATH directory fd: ours (opened here) or one the caller's walk opened (it closes it its way). */
export interface Dir { fd: number; close(): void | Promise<void> }
export const ownDir = (fd: number): Dir => ({ fd, close: () => fs.closeSync(fd) });

export interface UntarOptions {
  /** Owner of what is made: the entries' own uid/gid, a fixed pair, or (unset) the process's. */
  owner?: 'header' | readonly [number, number];
  /** docker's noOverwriteDirNonDir: a directory is not replaced by a non-directory, nor the reverse. */
  noOverwriteDirNonDir?: boolean;
  /** Device nodes and FIFOs are skipped (cp out, as the docker CLI's Untar) instead of refused. */
  skipSpecial?: boolean;
  /** An entry's components (no `..` among them) as components below the destination (cp out's rebase). */
  rename?: (parts: string[]) => string[];
  /**
   * A directory below the destination not opened yet: the caller's own walk to it (the container's,
   * following links as the container would, inside its root); undefined when it does not exist (made
   * below its parent when `make`). Unset: each component is looked up in its parent and a link refused.
   */
  lookup?: (parts: string[], make: boolean) => Promise<Dir | undefined>;
  /** Who sends the tar, as a message about a stream cut short names it ('the client', the default). */
  peer?: string;
  /** A path below the destination as messages name it. */
  show?: (rel: string) => string;
}

/** Extracts the tar `src` into the directory `dest` (an O_PATH fd, closed with the rest when done). */
export async function untar(dest: Dir, src: AsyncIterable<Uint8Array> | BodySource, o: UntarOptions = {}): Promise<void> {
  const x = new Untar(dest, o);
  try {
    await x.run(src);
  } finally {
    await x.close();
  }
}

/** A tar entry's name as components below the destination; `..` would climb out of it and is refused. */
export function relParts(name: string): string[] {
  const out: string[] = [];
  for (const p of name.split('/')) {
    if (p === '' || p === '.') continue;
    if (p === '..') throw new BerthError('InvalidArgument', `invalid tar entry ${JSON.stringify(name)}: it climbs out of the destination directory`);
    out.push(p);
  }
  return out;
}

/**
 * Feeds `src` to `feed` chunk by chunk, in order; a promise from `feed` pauses the stream until it
 * settles. A Readable is read through its 'data' events: a promise per chunk (the async iterator's)
 * cost more than the parsing of a 100 MB copy, and through an iterator the stream was over its 16 KiB
 * mark at every 64 KiB socket read (paused and resumed at each). Stops at `done()` (the tar's end): the
 * rest is left to the caller (the HTTP server discards what follows).
 */
async function pump(src: AsyncIterable<Uint8Array>, feed: (b: Buffer) => void | Promise<void>, done: () => boolean, peer: string): Promise<void> {
  if (!(src instanceof Readable)) {
    for await (const c of src) {
      await feed(Buffer.from(c.buffer, c.byteOffset, c.length));
      if (done()) return;
    }
    return;
  }
  if (src.readableEnded) return;
  const early = () => new BerthError('Unavailable', `the archive stream ended early: ${peer} went away`);
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
    // closed before its end: the other end went away mid-copy
    const onClose = () => finish(early());
    src.on('data', onData).on('end', stop).on('error', stop).on('close', onClose);
  });
}

const isBodySource = (src: AsyncIterable<Uint8Array> | BodySource): src is BodySource =>
  !(src instanceof Readable) && !(Symbol.asyncIterator in src) && typeof (src as BodySource).read === 'function';

type Event = { t: 'entry'; h: TarHeader } | { t: 'data'; b: Buffer } | { t: 'end' };

/** A file being written: its data is held in `held` and written with one pwritev per window. */
interface OpenFile { fd: number; mtime: number; pos: number; held: Buffer[]; heldLen: number }

/**
 * Bytes of a file held before one pwritev: a tar arrives in 32–64 KiB reads, and a pwrite per chunk
 * (~5,000 for 100 MB) cost more in syscalls than the copying they do on this kind of VM.
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
 * Removes the directory `name` in `parent` and everything below it, never through a link. fs.rmSync walks
 * by path: a running container that swaps a subdirectory for a link to `/` between its lstat and its
 * readdir would have it list and unlink the host's files (the daemon is not chrooted). Here each level is
 * pinned by an fd opened O_NOFOLLOW and its entries are named through that fd: a name swapped meanwhile
 * is unlinked as the link it now is, and an rmdir of a name that is no longer the directory fails.
 */
export function removeTree(parent: number, name: string, depth = 0): void {
  const target = at(parent, name);
  let fd: number;
  try { fd = fs.openSync(target, O_PATH | O_NOFOLLOW | O_DIRECTORY); } catch (e) {
    const c = errnoCode(e);
    if (c === 'ENOENT') return;
    if (c === 'ENOTDIR' || c === 'ELOOP') { unlinkGone(target); return; } // not (or no longer) a directory
    throw e;
  }
  try {
    if (depth > MAX_DEPTH) throw new BerthError('InvalidArgument', `cannot remove ${name}: deeper than ${MAX_DEPTH} directories`);
    for (const n of fs.readdirSync(`/proc/self/fd/${fd}`)) {
      let st: fs.Stats;
      try { st = fs.lstatSync(at(fd, n)); } catch (e) { if (errnoCode(e) === 'ENOENT') continue; throw e; }
      if (st.isDirectory()) removeTree(fd, n, depth + 1); else unlinkGone(at(fd, n));
    }
  } finally {
    fs.closeSync(fd);
  }
  try { fs.rmdirSync(target); } catch (e) { if (errnoCode(e) !== 'ENOENT') throw e; }
}

function unlinkGone(p: string): void {
  try { fs.unlinkSync(p); } catch (e) { if (errnoCode(e) !== 'ENOENT') throw e; }
}

class Untar {
  /** directories by their path relative to the destination ('' is the destination itself) */
  private readonly dirs = new Map<string, Dir>();
  /** fds no longer in `dirs` (replaced, or their name removed): still named by dirModes, closed at the end */
  private readonly stale: Dir[] = [];
  /** directories made or met by a dir entry: [fd, mode, mtime], applied at the end, the last first */
  private readonly dirModes: Array<[number, number, number]> = [];
  private readonly releases = new Releases();
  private file: OpenFile | undefined;
  /** chunks of a Readable are ours to keep (nothing reuses them); an iterable's may be reused once fed */
  private owned = false;
  private readonly q: Event[] = [];
  private qi = 0;
  /** directories (by their Dir) that are not setgid: files made in them take this process's group */
  private readonly plainDirs = new WeakMap<Dir, boolean>();
  private readonly umask = processUmask();
  private readonly uid = process.geteuid?.() ?? -1;
  private readonly gid = process.getegid?.() ?? -1;

  constructor(dest: Dir, private readonly o: UntarOptions) {
    this.dirs.set('', dest);
  }

  async run(src: AsyncIterable<Uint8Array> | BodySource): Promise<void> {
    const parser = new TarParser({
      entry: (h) => this.q.push({ t: 'entry', h }),
      data: (b) => this.q.push({ t: 'data', b }),
      end: () => this.q.push({ t: 'end' }),
    });
    const feed = (chunk: Buffer) => { parser.push(chunk); return this.drain(); };
    if (isBodySource(src)) {
      // a body read into one buffer (api/raw-body; client/http1's rawAnswer): what a read held is
      // written before the next read
      this.owned = true;
      await src.read(feed, () => parser.finished, () => { if (this.file) flush(this.file); });
    } else {
      this.owned = src instanceof Readable;
      await pump(src as AsyncIterable<Uint8Array>, feed, () => parser.finished, this.o.peer ?? 'the client');
    }
    parser.close();
    await this.drain();
    await this.releases.idle();
    if (this.releases.error !== undefined) throw this.releases.error;
    // through the O_PATH fd's magic link: the very directory made or met, whatever its name leads to now
    for (let i = this.dirModes.length - 1; i >= 0; i--) {
      const [fd, mode, t] = this.dirModes[i]!;
      try {
        fs.chmodSync(`/proc/self/fd/${fd}`, mode & 0o7777);
        fs.utimesSync(`/proc/self/fd/${fd}`, t, t);
      } catch (e) { if (errnoCode(e) !== 'ENOENT') throw e; /* removed by a later entry */ }
    }
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

  private parts(name: string): string[] {
    const p = relParts(name);
    const out = this.o.rename && p.length ? this.o.rename(p) : p;
    if (out.length > MAX_DEPTH) throw new BerthError('InvalidArgument', `invalid tar entry ${JSON.stringify(name.slice(0, 200))}: deeper than ${MAX_DEPTH} directories`);
    return out;
  }

  private entry(h: TarHeader): void | Promise<void> {
    const parts = this.parts(h.name);
    if (parts.length === 0) {
      // "./": the destination itself, kept as it is (moby's Unpack skips an existing ".")
      if (h.type === 'dir') return;
      throw new BerthError('InvalidArgument', `invalid tar entry ${JSON.stringify(h.name)}: it names no file`);
    }
    const base = parts.pop()!;
    const parent = this.dirs.get(parts.join('/'));
    if (parent && h.type !== 'link') { this.place(h, parts, base, parent); return; }
    return (async () => {
      const dir = parent ?? await this.dir(parts, true);
      let linked: string | undefined;
      if (h.type === 'link') {
        const lp = this.parts(h.linkname);
        if (lp.length === 0) throw new BerthError('InvalidArgument', `invalid hardlink ${JSON.stringify(h.linkname)} in the archive`);
        const lbase = lp.pop()!;
        linked = at((await this.dir(lp, false)).fd, lbase);
      }
      this.place(h, parts, base, dir, linked);
    })();
  }

  /**
   * Whether a file made in `parent` is already owned by `own`: the owner asked for is this process's own
   * (docker cp's 0:0 from a root daemon) and the directory is not setgid (a new file takes a setgid
   * directory's group). Checked once per directory: the fchown per file it saves cost ~20 µs on overlayfs.
   * A directory the container makes setgid meanwhile gives what is made after its group, as it would to
   * any file made there.
   */
  private madeAs(parent: Dir, own: readonly [number, number]): boolean {
    if (own[0] !== this.uid || own[1] !== this.gid) return false;
    let plain = this.plainDirs.get(parent);
    if (plain === undefined) {
      plain = (fs.fstatSync(parent.fd).mode & 0o2000) === 0;
      this.plainDirs.set(parent, plain);
    }
    return plain;
  }

  private owner(h: TarHeader): readonly [number, number] | undefined {
    const o = this.o.owner;
    return o === 'header' ? [h.uid, h.gid] : o;
  }

  private show(rel: string): string {
    return this.o.show ? this.o.show(rel) : rel;
  }

  /** Makes entry `h` as `base` in the directory `parent` (`linked`: a hard link's existing file). */
  private place(h: TarHeader, parts: string[], base: string, parent: Dir, linked?: string): void {
    const target = at(parent.fd, base);
    const rel = parts.length ? `${parts.join('/')}/${base}` : base;
    const own = this.owner(h);
    // no exception for a new name (most entries): building one cost more than the lstat
    const existing = fs.lstatSync(target, { throwIfNoEntry: false });
    if (existing) {
      const dir = existing.isDirectory();
      if (this.o.noOverwriteDirNonDir && dir && h.type !== 'dir') throw new BerthError('InvalidArgument', `cannot overwrite directory ${JSON.stringify(this.show(rel))} with non-directory ${JSON.stringify(h.name)}`);
      if (this.o.noOverwriteDirNonDir && !dir && h.type === 'dir') throw new BerthError('InvalidArgument', `cannot overwrite non-directory ${JSON.stringify(this.show(rel))} with directory ${JSON.stringify(h.name)}`);
      if (dir && h.type !== 'dir') { removeTree(parent.fd, base); this.forget(rel); }
      else if (!dir) {
        this.remove(target, existing);
        // a link the container's walk went through (to a directory cached by this name) is gone
        if (existing.isSymbolicLink()) this.forget(rel);
      }
    }
    const mtime = h.mtime;
    switch (h.type) {
      case 'dir': {
        if (!existing?.isDirectory()) fs.mkdirSync(target, { mode: 0o700 });
        const fd = fs.openSync(target, O_PATH | O_NOFOLLOW | O_DIRECTORY);
        this.cacheDir(rel, ownDir(fd));
        if (own) fs.chownSync(`/proc/self/fd/${fd}`, own[0], own[1]);
        this.dirModes.push([fd, h.mode, mtime]);
        return;
      }
      case 'file': {
        // open(2)'s mode is the final one when the umask takes nothing from it and no setuid, setgid or
        // sticky bit is asked for (fchown would clear the first two): then no fchmod (as snapshots/unpack)
        const mode = h.mode & 0o7777;
        const exact = (mode & (this.umask | 0o7000)) === 0;
        const fd = fs.openSync(target, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, exact ? mode : 0o600);
        try {
          if (own && !this.madeAs(parent, own)) fs.fchownSync(fd, own[0], own[1]);
          if (!exact) fs.fchmodSync(fd, mode);
        } catch (e) { fs.closeSync(fd); throw e; }
        // times are set once written: the data comes after this header
        if (h.size === 0) { try { fs.futimesSync(fd, mtime, mtime); } finally { fs.closeSync(fd); } return; }
        this.file = { fd, mtime, pos: 0, held: [], heldLen: 0 };
        return;
      }
      case 'symlink':
        fs.symlinkSync(h.linkname, target);
        if (own) fs.lchownSync(target, own[0], own[1]);
        try { fs.lutimesSync(target, mtime, mtime); } catch { /* kept */ }
        return;
      case 'link':
        fs.linkSync(linked!, target);
        return;
      default:
        if (this.o.skipSpecial) return;
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

  private cacheDir(rel: string, d: Dir): void {
    const old = this.dirs.get(rel);
    this.dirs.set(rel, d);
    // the old fd stays open while dirModes may still name it; it is closed with the rest
    if (old) this.stale.push(old);
  }

  /** A removed directory's cached fds (its own and those below it): later entries look their names up again. */
  private forget(rel: string): void {
    for (const [k, d] of this.dirs) {
      if (k === rel || k.startsWith(`${rel}/`)) { this.dirs.delete(k); this.stale.push(d); }
    }
  }

  /**
   * The directory `parts` below the destination: from the cache, else the caller's lookup, else made
   * (when `make`, 0755) or opened below its parent, one component, never through a link.
   */
  private async dir(parts: string[], make: boolean): Promise<Dir> {
    const rel = parts.join('/');
    const hit = this.dirs.get(rel);
    if (hit) return hit;
    const got = await this.o.lookup?.(parts, make);
    if (got) { this.dirs.set(rel, got); return got; }
    const parent = await this.dir(parts.slice(0, -1), make);
    const target = at(parent.fd, parts[parts.length - 1]!);
    const st = fs.lstatSync(target, { throwIfNoEntry: false });
    if (st?.isSymbolicLink()) throw new BerthError('InvalidArgument', `cannot extract into ${this.show(rel)}: it leads through a symbolic link`);
    if (st && !st.isDirectory()) throw new BerthError('InvalidArgument', `cannot extract into ${this.show(rel)}: not a directory`);
    if (!st) {
      if (!make) throw new BerthError('NotFound', `cannot extract: ${this.show(rel)} does not exist`);
      try { fs.mkdirSync(target, { mode: 0o755 }); } catch (e) { if (errnoCode(e) !== 'EEXIST') throw e; }
    }
    const d = ownDir(fs.openSync(target, O_PATH | O_NOFOLLOW | O_DIRECTORY));
    this.dirs.set(rel, d);
    return d;
  }
}
