// util/in-root: the one confined reader of files inside a container's root. The container owns every
// byte there (it can make /etc/passwd a FIFO, /dev/zero, a 1 GB sparse file or a symlink to the host's
// /etc/shadow), so a read is: resolved beneath the root with no symlink escape, regular files only,
// size-capped, and never blocking the event loop. Node has no openat2(RESOLVE_IN_ROOT); we walk the
// path one component at a time, each opened O_PATH|O_NOFOLLOW relative to the directory fd before it
// (through /proc/self/fd/N/<name>), so a directory swapped for a symlink mid-walk cannot move us out.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BerthError, errnoCode } from '../errors.js';
import { O_PATH } from './open-flags.js';

const { O_NOFOLLOW, O_DIRECTORY, O_RDONLY, O_NONBLOCK, O_NOCTTY } = fs.constants;
/** the kernel's own limit on symlinks followed in one lookup (MAXSYMLINKS) */
const MAX_HOPS = 40;
/** directories held open at once while walking (one fd each); no real path comes near it */
const MAX_DEPTH = 256;

/**
 * The cap for small configuration files (passwd, group, hosts). A passwd line is ~50–100 bytes, so
 * 4 MiB holds tens of thousands of users — far past any image seen in practice — while bounding what
 * one start or exec can make the daemon hold (and parse) for a file the container controls.
 */
export const SMALL_FILE_CAP = 4 << 20;

const refuse = (p: string, why: string, cause?: unknown, verb = 'read') =>
  new BerthError('FailedPrecondition', `cannot ${verb} ${p} in the container: ${why}`, { cause });

function kindOf(st: fs.Stats): string {
  if (st.isFIFO()) return 'a FIFO';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  if (st.isDirectory()) return 'a directory';
  if (st.isSymbolicLink()) return 'a symbolic link';
  return 'not a regular file';
}

type Handle = fs.promises.FileHandle;
const at = (dir: number, name: string) => `/proc/self/fd/${dir}/${name}`;

export interface WalkHooks {
  /** called after each component is opened; tests use it to race a rename against the walk */
  afterStep?: (done: string[]) => Promise<void>;
  /**
   * The container's bind mounts (volumes, binds, /etc/hosts …) by destination: reaching one of these
   * container paths continues in its host source, as the container sees it (`cp` into a volume).
   */
  mounts?: ReadonlyMap<string, string>;
  /** directories already walked to, shared by several walks beneath one root (see DirCache) */
  dirs?: DirCache;
}

/**
 * O_PATH fds of the directories walks beneath one root have reached, by their resolved container path:
 * a container's ~10 mount targets share /dev, /etc, /sys, and each walk opened the root and those again
 * (issue 13). A cached fd is the directory as it was first reached, as a walk's own held fd would be.
 * Not with `mounts` (a mount's source stands in for a path there). The owner closes it.
 */
export class DirCache {
  readonly fds = new Map<string, number>();
  close(): void {
    for (const fd of this.fds.values()) fs.closeSync(fd);
    this.fds.clear();
  }
}

interface Walked {
  /** O_PATH fd of what `p` names; undefined if a component is missing, `p` is the root itself or keepFd is false; the caller closes it */
  fd?: number;
  /** the components resolved, symlinks followed: the container's path of what was reached */
  resolved: string[];
  /** what is left from the first missing component on, unresolved */
  rest: string[];
}

const openPath = (p: string, flags = 0): number | undefined => {
  try { return fs.openSync(p, O_PATH | flags); } catch { return undefined; }
};

/**
 * Walks `p` beneath `root`, symlinks resolved as the container would see them ('..' and absolute
 * targets stop at the root), each component opened O_PATH|O_NOFOLLOW relative to the one before.
 * The steps are synchronous: an O_PATH open, fstat and readlink only look up names (no file is
 * opened for I/O, nothing can block as a FIFO would), and a walk costs ~3 syscalls per component,
 * where a libuv thread round trip for each made checking one container's ~15 mount targets and
 * reading its passwd and group most of berthd's own time on `start` (bench/start-steps.sh).
 */
async function walk(root: string, p: string, hooks: WalkHooks, verb = 'read', keepFd = true): Promise<Walked> {
  const cache = hooks.mounts ? undefined : hooks.dirs?.fds;
  // the fds the walk holds; those that are the cache's are not closed here
  const shared = new Set<number>();
  const cachedRoot = cache?.get('/');
  const stack: number[] = [cachedRoot ?? fs.openSync(root, O_PATH | O_DIRECTORY)];
  if (cache) { if (cachedRoot === undefined) cache.set('/', stack[0]!); shared.add(stack[0]!); }
  const close = (fd: number) => { if (!shared.has(fd)) fs.closeSync(fd); };
  const names: string[] = [];
  const parts = p.split('/').filter((x) => x !== '' && x !== '.');
  let hops = 0;
  try {
    while (parts.length > 0) {
      const name = parts.shift()!;
      if (name === '..') {
        if (stack.length > 1) { close(stack.pop()!); names.pop(); }
        continue;
      }
      const dir = stack[stack.length - 1]!;
      const key = `/${[...names, name].join('/')}`;
      const hit = cache?.get(key);
      if (hit !== undefined) {
        shared.add(hit);
        stack.push(hit);
        names.push(name);
        if (stack.length > MAX_DEPTH) throw refuse(p, `more than ${MAX_DEPTH} directories deep`, undefined, verb);
        if (hooks.afterStep) await hooks.afterStep(names);
        continue;
      }
      const mounted = hooks.mounts?.get(key);
      // The end of a walk that keeps no fd (resolveInRoot: a start's ~10 mount targets) only needs to know
      // what is there: one lstat through the parent's fd, not an open, fstat and close (or a cached fd
      // held until the cache closes). A symlink there is followed below as before.
      if (parts.length === 0 && !keepFd && mounted === undefined && !hooks.afterStep) {
        let st: fs.Stats;
        try { st = fs.lstatSync(at(dir, name)); } catch (e) {
          if (errnoCode(e) !== 'ENOENT') throw refuse(p, (e as Error).message, e, verb);
          return { resolved: names, rest: [name] };
        }
        if (!st.isSymbolicLink()) { names.push(name); continue; }
        const target = fs.readlinkSync(at(dir, name));
        if (++hops > MAX_HOPS) throw refuse(p, 'too many levels of symbolic links', undefined, verb);
        if (target.startsWith('/')) { while (stack.length > 1) close(stack.pop()!); names.length = 0; }
        parts.unshift(...target.split('/').filter((x) => x !== '' && x !== '.'));
        continue;
      }
      let h: number | undefined;
      let fromMount = false;
      try {
        h = fs.openSync(at(dir, name), O_PATH | O_NOFOLLOW);
      } catch (e) {
        if (errnoCode(e) !== 'ENOENT') throw refuse(p, (e as Error).message, e, verb);
        // a mount point not made yet (a created container's volume at a path its image lacks): what is
        // there is the mount's source, as docker's cp of a stopped container sees it
        h = mounted === undefined ? undefined : openPath(mounted);
        if (h === undefined) return { resolved: names, rest: [name, ...parts] };
        fromMount = true;
      }
      let st = fs.fstatSync(h);
      if (mounted !== undefined && !fromMount && !st.isSymbolicLink()) {
        // the source is the host path the runtime mounted there: trusted, chosen by the admin
        // (one not made yet — a container's hosts file before its first start — leaves the root's own)
        const src = openPath(mounted);
        if (src !== undefined) { fs.closeSync(h); h = src; st = fs.fstatSync(h); }
      }
      if (st.isSymbolicLink()) {
        let target: string;
        try { target = fs.readlinkSync(at(dir, name)); } finally { fs.closeSync(h); }
        if (++hops > MAX_HOPS) throw refuse(p, 'too many levels of symbolic links', undefined, verb);
        if (target.startsWith('/')) { while (stack.length > 1) close(stack.pop()!); names.length = 0; }
        parts.unshift(...target.split('/').filter((x) => x !== '' && x !== '.'));
        continue;
      }
      // a file where a directory should be (ENOTDIR): what follows does not exist
      if (parts.length > 0 && !st.isDirectory()) { fs.closeSync(h); return { resolved: [...names, name], rest: parts }; }
      if (cache && st.isDirectory()) { cache.set(key, h); shared.add(h); }
      stack.push(h);
      names.push(name);
      if (stack.length > MAX_DEPTH) throw refuse(p, `more than ${MAX_DEPTH} directories deep`, undefined, verb);
      if (hooks.afterStep) await hooks.afterStep(names);
    }
    // the root itself is no file to read; a cached fd is the cache's, so the caller gets its own
    const last = stack.length > 1 && keepFd ? stack.pop()! : undefined;
    return { fd: last !== undefined && shared.has(last) ? fs.openSync(`/proc/self/fd/${last}`, O_PATH) : last, resolved: names, rest: [] };
  } finally {
    for (const h of stack) close(h);
  }
}

/** A FileHandle of the file an fd of ours names (reopened through its magic link); the fd is closed. */
async function handleOf(fd: number, flags = O_PATH): Promise<Handle> {
  try { return await fs.promises.open(`/proc/self/fd/${fd}`, flags); } finally { fs.closeSync(fd); }
}

/**
 * The path `p` names inside the container, symlinks in `root` followed as the container sees them;
 * the part from the first missing component on is kept as written. Runtimes resolve a mount's
 * destination so before judging it (runc: securejoin before checkProcMount).
 */
export async function resolveInRoot(root: string, p: string, hooks: WalkHooks = {}): Promise<string> {
  const w = await walk(root, p, hooks, 'resolve', false);
  return path.posix.normalize(`/${[...w.resolved, ...w.rest].join('/')}`);
}

export interface OpenedInRoot { handle: Handle; size: number }

export interface PathInRoot {
  /** O_PATH fd of what `p` names (its last component not followed when it is a symlink); the caller closes it */
  handle: Handle;
  /** the container's path of `handle`, symlinks before the last component resolved */
  resolved: string;
  /** the text of the symlink `handle` is, when it is one */
  link?: string;
}

/**
 * What `p` names inside `root`, for `cp`: the parent resolved as the container sees it, the last
 * component itself (a symlink is not followed, as lstat); undefined when it does not exist. A path
 * ending in `/` or `/.` follows the last component too (moby's container.ResolvePath).
 */
export async function lookupInRoot(root: string, p: string, hooks: WalkHooks = {}): Promise<PathInRoot | undefined> {
  const clean = path.posix.normalize(`/${p}`);
  const follow = /\/\.?$/.test(p) || clean === '/';
  const dir = follow ? clean : path.posix.dirname(clean);
  const w = await walk(root, dir, hooks, 'resolve');
  if (w.rest.length > 0) { if (w.fd !== undefined) fs.closeSync(w.fd); return undefined; }
  const base = follow ? undefined : path.posix.basename(clean);
  const parent = w.fd ?? fs.openSync(root, O_PATH | O_DIRECTORY);
  if (!base) return { handle: await handleOf(parent), resolved: `/${w.resolved.join('/')}` };
  try {
    if (!fs.fstatSync(parent).isDirectory()) return undefined;
    const resolved = `/${[...w.resolved, base].join('/')}`;
    const mounted = hooks.mounts?.get(resolved);
    try {
      const src = mounted === undefined ? undefined : openPath(mounted);
      const fd = src ?? fs.openSync(at(parent, base), O_PATH | O_NOFOLLOW);
      // a symlink's text is read through its parent (readlink of the fd's magic link would name the fd)
      let link: string | undefined;
      try { link = src === undefined && fs.fstatSync(fd).isSymbolicLink() ? fs.readlinkSync(at(parent, base)) : undefined; } catch (e) { fs.closeSync(fd); throw e; }
      // a symlink's own O_PATH fd cannot be reopened through /proc (that follows it): opened again by name
      const handle = link !== undefined
        ? await fs.promises.open(at(parent, base), O_PATH | O_NOFOLLOW).finally(() => fs.closeSync(fd))
        : await handleOf(fd);
      return { handle, resolved, ...(link !== undefined ? { link } : {}) };
    } catch (e) {
      if (errnoCode(e) === 'ENOENT' || errnoCode(e) === 'ENOTDIR') return undefined;
      throw refuse(p, (e as Error).message, e, 'resolve');
    }
  } finally {
    fs.closeSync(parent);
  }
}

/**
 * Opens `p` inside `root` for reading: a regular file no larger than `maxBytes`, opened O_NONBLOCK
 * (a file swapped for a FIFO after the check still cannot block). Undefined if it does not exist;
 * a refusal (FIFO, device, directory, symlink loop, too large) throws FailedPrecondition naming `p`.
 * The caller closes the handle. For a stream (`cp`), pass maxBytes = Infinity and read the handle.
 */
export async function openInRoot(root: string, p: string, maxBytes: number, hooks: WalkHooks = {}): Promise<OpenedInRoot | undefined> {
  const opath = await checkedFileInRoot(root, p, maxBytes, hooks);
  if (opath === undefined) return undefined;
  // reopening the O_PATH fd through its magic link gets the very inode checked above
  const handle = await handleOf(opath, O_RDONLY | O_NONBLOCK | O_NOCTTY);
  return { handle, size: (await handle.stat()).size };
}

/** The O_PATH fd of `p` inside `root` once it is known to be a regular file of at most maxBytes (see openInRoot). */
async function checkedFileInRoot(root: string, p: string, maxBytes: number, hooks: WalkHooks): Promise<number | undefined> {
  const opath = (await walk(root, p, hooks)).fd;
  if (opath === undefined) return undefined;
  try {
    const st = fs.fstatSync(opath);
    if (!st.isFile()) throw refuse(p, `${kindOf(st)}, not a regular file`);
    if (st.size > maxBytes) throw refuse(p, `${st.size} bytes, over the limit of ${maxBytes}`);
  } catch (e) {
    fs.closeSync(opath);
    throw e;
  }
  return opath;
}

/** An opened file as readAll reads it: through a FileHandle, or an fd read synchronously. */
interface Reader { size: number; read(buf: Buffer, off: number, len: number, pos: number): number | Promise<number>; close(): unknown }

async function readerInRoot(root: string, p: string, maxBytes: number, hooks: WalkHooks, sync: boolean): Promise<Reader | undefined> {
  if (!sync) {
    const f = await openInRoot(root, p, maxBytes, hooks);
    return f && { size: f.size, read: async (b, off, len, pos) => (await f.handle.read(b, off, len, pos)).bytesRead, close: () => f.handle.close() };
  }
  const opath = await checkedFileInRoot(root, p, maxBytes, hooks);
  if (opath === undefined) return undefined;
  let fd: number;
  try { fd = fs.openSync(`/proc/self/fd/${opath}`, O_RDONLY | O_NONBLOCK | O_NOCTTY); } finally { fs.closeSync(opath); }
  try {
    return { size: fs.fstatSync(fd).size, read: (b, off, len, pos) => fs.readSync(fd, b, off, len, pos), close: () => fs.closeSync(fd) };
  } catch (e) {
    fs.closeSync(fd);
    throw e;
  }
}

/** Reads an opened file to its end and closes it; a file that grows past the cap while read is refused. */
async function readAll(f: Reader, p: string, maxBytes: number): Promise<Buffer> {
  try {
    // one byte more than the file should hold: reading it means the file grew since fstat
    let buf = Buffer.alloc(Math.min(maxBytes, f.size) + 1);
    for (let n = 0; ;) {
      if (n === buf.length) {
        if (n > maxBytes) throw refuse(p, `grew past the limit of ${maxBytes} bytes while read`);
        const bigger = Buffer.alloc(Math.min(maxBytes + 1, buf.length * 2));
        buf.copy(bigger);
        buf = bigger;
      }
      const bytesRead = await f.read(buf, n, buf.length - n, n);
      if (bytesRead === 0) return buf.subarray(0, n);
      n += bytesRead;
    }
  } finally {
    await f.close();
  }
}

/** The bytes of `p` inside `root` (see openInRoot); a file that grows past the cap while read is refused. */
export async function readBytesInRoot(root: string, p: string, maxBytes = SMALL_FILE_CAP, hooks: WalkHooks = {}): Promise<Buffer | undefined> {
  const f = await readerInRoot(root, p, maxBytes, hooks, false);
  return f && readAll(f, p, maxBytes);
}

/**
 * The text of a small file inside `root` (passwd, group, hosts); undefined if it does not exist. Read
 * with synchronous calls after the same walk and checks: a regular file of at most `maxBytes` (the 4 MiB
 * cap by default), opened O_NONBLOCK, so the read is bounded and nothing can hold it as a FIFO would;
 * through fs/promises each of its ~5 steps was a libuv thread round trip, and passwd and group are read
 * at every container start (issue 13, bench/start-steps.sh).
 */
export async function readInRoot(root: string, p: string, maxBytes = SMALL_FILE_CAP): Promise<string | undefined> {
  const f = await readerInRoot(root, p, maxBytes, {}, true);
  return f && (await readAll(f, p, maxBytes)).toString('utf8');
}

export interface PasswdEntry { name: string; uid: number; gid: number; home: string }

export function parsePasswd(text: string): PasswdEntry[] {
  return text.split('\n').flatMap((line) => {
    const f = line.split(':');
    if (f.length < 7 || line.startsWith('#')) return [];
    return [{ name: f[0]!, uid: Number(f[2]), gid: Number(f[3]), home: f[5]! }];
  });
}

/**
 * The home directory of `uid` in the rootfs's /etc/passwd. Only `berth runtime` asks, for a spec whose env
 * has no HOME (berthd's always has one); readInRoot's synchronous read keeps that cold process off libuv's
 * thread pool and the modules fs/promises loads (issue 13, bench/runtime.sh).
 */
export async function homeOf(rootfs: string, uid: number): Promise<string | undefined> {
  const text = await readInRoot(rootfs, '/etc/passwd');
  return text ? parsePasswd(text).find((e) => e.uid === uid)?.home : undefined;
}

/**
 * Makes directory `p` and its missing parents inside `root` (mode 0755, owned by the caller), each
 * component resolved as the container sees it, so a symlink in the path leads where the container
 * would go, never out of the root: moby's container.SetupWorkingDirectory for a missing WorkingDir.
 */
export async function mkdirAllInRoot(root: string, p: string): Promise<void> {
  const parts = path.posix.normalize(`/${p}`).split('/').filter(Boolean);
  const notDir = () => new BerthError('InvalidArgument', `Cannot mkdir: ${p} is not a directory`);
  for (let i = 1; i <= parts.length; i++) {
    const here = await lookupInRoot(root, `/${parts.slice(0, i).join('/')}/`).catch(() => undefined);
    if (here) {
      const isDir = (await here.handle.stat()).isDirectory();
      await here.handle.close();
      if (!isDir) throw notDir();
      continue;
    }
    const parent = await lookupInRoot(root, `/${parts.slice(0, i - 1).join('/')}/`);
    if (!parent) throw notDir();
    try {
      if (!(await parent.handle.stat()).isDirectory()) throw notDir();
      try { await fs.promises.mkdir(at(parent.handle.fd, parts[i - 1]!), { mode: 0o755 }); } catch (e) { if (errnoCode(e) !== 'EEXIST') throw e; }
    } finally { await parent.handle.close(); }
    // what is there now (a directory we made, or a dangling link or file that was there) is checked next
    const made = await lookupInRoot(root, `/${parts.slice(0, i).join('/')}/`).catch(() => undefined);
    if (!made) throw notDir();
    const ok = (await made.handle.stat()).isDirectory();
    await made.handle.close();
    if (!ok) throw notDir();
  }
}
