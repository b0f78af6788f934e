// cli/docker/cp: `cp` in docker's grammar (docker/cli cli/command/container/cp.go). The daemon resolves
// paths inside the container; this side tars and untars the local end, as the docker CLI does, and never
// follows a link out of the local destination it was given. A bundle of its own that the fast entry
// (cli/fast.ts) requires for cp: what a copy costs is mostly start-up and the bytes (issue 10, bench/toolbox-cp.sh).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import type { Client } from '../../client/index.js';
import { ApiError } from '../../client/index.js';
import { BerthError } from '../../errors.js';
import { TarParser } from '../../snapshots/tar-reader.js';
import { encodeHeader, header, type TarHeader } from '../../snapshots/tar-header.js';
import { HelpRequested, parseFlags } from '../args.js';
import { connect, report, type Globals } from './connect.js';
import { skipBytes } from '../../util/bufs.js';

interface PathStat { name: string; size: number; mode: number; mtime: string; linkTarget: string }
const GO_DIR = 2 ** 31;
const GO_SYMLINK = 1 << 27;
const isDir = (st: PathStat) => Math.floor(st.mode / GO_DIR) % 2 === 1;
const isLink = (st: PathStat) => (st.mode & GO_SYMLINK) !== 0;

/** `ctr:path` → [ctr, path]; a local path (absolute, ./relative, or without a colon) → [undefined, path]. */
function splitCpArg(a: string): [string | undefined, string] {
  if (a.startsWith('/') || a.startsWith('.')) return [undefined, a];
  const i = a.indexOf(':');
  return i > 0 ? [a.slice(0, i), a.slice(i + 1)] : [undefined, a];
}

async function statRemote(c: Client, ctr: string, p: string): Promise<PathStat | undefined> {
  try {
    const r = await c.request('HEAD', `/containers/${encodeURIComponent(ctr)}/archive`, { query: { path: p } });
    r.res.resume();
    return JSON.parse(Buffer.from(String(r.headers['x-docker-container-path-stat'] ?? ''), 'base64').toString()) as PathStat;
  } catch (e) {
    if (e instanceof ApiError && e.status === 404 && !/No such container/.test(e.message)) return undefined;
    throw e;
  }
}

/** cp for the fast entry (cli/fast.ts), which loads this file as a bundle of its own: undefined for --help. */
export async function fastCp(g: Globals, args: string[]): Promise<number | undefined> {
  try { return await cp(g, args); } catch (e) {
    if (e instanceof HelpRequested) return undefined; // flags are checked before any request: nothing happened yet
    return report(e);
  }
}

export async function cp(g: Globals, args: string[]): Promise<number> {
  const p = parseFlags(args, { archive: { short: 'a', type: 'bool' }, 'follow-link': { short: 'L', type: 'bool' }, quiet: { short: 'q', type: 'bool' } });
  if (p.positionals.length !== 2) throw new BerthError('InvalidArgument', '"cp" requires exactly 2 arguments.\nUsage:  berth cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-\n\tberth cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH');
  const [srcCtr, src] = splitCpArg(p.positionals[0]!);
  const [dstCtr, dst] = splitCpArg(p.positionals[1]!);
  if (srcCtr && dstCtr) throw new BerthError('InvalidArgument', 'copying between containers is not supported');
  if (!srcCtr && !dstCtr) throw new BerthError('InvalidArgument', 'must specify at least one container source');
  if (!src || !dst) throw new BerthError('InvalidArgument', 'filepath can not be empty');
  const c = connect(g);
  try {
    if (srcCtr) await copyFromContainer(c, srcCtr, src, dst, !!p.flags['follow-link']);
    else await copyToContainer(c, src, dstCtr!, dst, !!p.flags.archive, !!p.flags['follow-link']);
    return 0;
  } finally { c.close(); }
}

async function copyFromContainer(c: Client, ctr: string, src: string, dst: string, follow: boolean): Promise<void> {
  let srcPath = src;
  let rebase: string | undefined;
  if (follow) {
    const st = await statRemote(c, ctr, src);
    if (st && isLink(st)) { srcPath = st.linkTarget; rebase = path.posix.basename(src); }
  }
  const r = await c.request('GET', `/containers/${encodeURIComponent(ctr)}/archive`, { query: { path: srcPath } });
  if (dst === '-') {
    for await (const chunk of r.res) if (!process.stdout.write(chunk)) await new Promise((res) => process.stdout.once('drain', res));
    return;
  }
  const st = JSON.parse(Buffer.from(String(r.headers['x-docker-container-path-stat'] ?? ''), 'base64').toString()) as PathStat;
  const srcBase = (st.name === '/' ? '.' : /\/\.?$/.test(srcPath) && isDir(st) ? '.' : path.posix.basename(path.posix.normalize(`/${srcPath}`))) || '.';
  // docker cp's CopyInfo rules: into an existing directory under the source's name, else as the destination's name
  let into = dst;
  let top = rebase ?? srcBase;
  let dstSt: fs.Stats | undefined;
  try { dstSt = fs.statSync(dst); } catch { /* a new name */ }
  if (dstSt?.isDirectory()) {
    if (srcBase === '.') top = '.';
  } else {
    if (/\/$/.test(dst)) throw new BerthError('InvalidArgument', `destination directory ${dst} does not exist`);
    if (dstSt && isDir(st)) throw new BerthError('InvalidArgument', 'cannot copy a directory to a file');
    into = path.dirname(dst);
    top = path.basename(dst);
    if (!fs.existsSync(into)) throw new BerthError('InvalidArgument', `destination directory ${into} does not exist`);
  }
  await untarLocal(r.res, into, srcBase, top);
}

/** Bytes of a file's data held before one writev: the answer arrives in socket reads of up to 64 KiB. */
const WRITE_WINDOW = 1 << 20;
/** Chunks held at most before a write (what they keep alive stays a few MiB). */
const WRITE_CHUNKS = 64;

/**
 * Extracts a tar from a container into `dir`, renaming its first component `from` to `to` (the docker CLI's
 * RebaseArchiveEntries). The tar is the container's, so hostile: an entry may not climb out with `..`, nor
 * be made (or link to a file) through a symbolic link below `dir` — a link entry followed by an entry
 * under it is how a tar writes outside its destination. Header sizes are bounded by the parser; file data
 * is held up to WRITE_WINDOW before each writev. Modes are set exactly (not through the umask), as the
 * docker CLI's Untar does; owners are not (it does not chown either).
 */
export async function untarLocal(src: AsyncIterable<Uint8Array> | Readable, dir: string, from: string, to: string): Promise<void> {
  let file: { fd: number; target: string; mtime: number; held: Buffer[]; heldLen: number } | undefined;
  const dirTimes: Array<[string, number, number]> = [];
  /** directories below `dir` seen to be real directories (not links); forgotten when a link is made */
  const realDirs = new Set<string>();
  const rename = (name: string): string[] => {
    const parts = name.split('/').filter((x) => x !== '' && x !== '.');
    if (parts.includes('..')) throw new BerthError('InvalidArgument', `invalid tar entry ${JSON.stringify(name)}: it climbs out of the destination`);
    if (from !== '.' && parts[0] === from) parts[0] = to;
    else if (from === '.' && to !== '.') parts.unshift(to);
    return parts;
  };
  /** `parts` as a path under `dir`, its parents checked to be directories and none of them a link. */
  const confined = (name: string, parts: string[]): string => {
    let p = dir;
    for (let i = 0; i < parts.length - 1; i++) {
      p = path.join(p, parts[i]!);
      if (realDirs.has(p)) continue;
      let st: fs.Stats | undefined;
      try { st = fs.lstatSync(p); } catch { /* missing: made below */ }
      if (st?.isSymbolicLink()) throw new BerthError('InvalidArgument', `invalid tar entry ${JSON.stringify(name)}: it leads through the symbolic link ${p}`);
      if (!st) fs.mkdirSync(p, { mode: 0o755 });
      else if (!st.isDirectory()) throw new BerthError('InvalidArgument', `invalid tar entry ${JSON.stringify(name)}: ${p} is not a directory`);
      realDirs.add(p);
    }
    return parts.length ? path.join(dir, ...parts) : dir;
  };
  const flush = () => {
    if (!file || !file.heldLen) return;
    let bufs = file.held;
    let left = file.heldLen;
    file.held = [];
    file.heldLen = 0;
    while (left > 0) {
      const n = bufs.length === 1 ? fs.writeSync(file.fd, bufs[0]!) : fs.writevSync(file.fd, bufs);
      left -= n;
      if (left > 0) bufs = skipBytes(bufs, n);
    }
  };
  const parser = new TarParser({
    entry(h: TarHeader) {
      const target = confined(h.name, rename(h.name));
      if (target !== dir) {
        try {
          const st = fs.lstatSync(target);
          if (!(st.isDirectory() && h.type === 'dir')) { fs.rmSync(target, { recursive: true, force: true }); realDirs.delete(target); }
        } catch { /* new */ }
      }
      if (h.type === 'dir') {
        if (target !== dir) { try { fs.mkdirSync(target, { mode: 0o700 }); } catch (e) { if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e; } }
        realDirs.add(target);
        dirTimes.push([target, h.mode, h.mtime]);
      } else if (h.type === 'file') {
        const fd = fs.openSync(target, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, 0o600);
        file = { fd, target, mtime: h.mtime, held: [], heldLen: 0 };
        fs.fchmodSync(fd, h.mode & 0o7777);
      } else if (h.type === 'symlink') {
        fs.symlinkSync(h.linkname, target);
        realDirs.clear(); // a name checked before may lead through this link now
        fs.lutimesSync(target, h.mtime, h.mtime);
      } else if (h.type === 'link') {
        const parts = rename(h.linkname);
        fs.linkSync(confined(h.linkname, parts), target);
      }
      // devices and FIFOs are not recreated locally
    },
    data(b: Buffer) {
      if (!file) return;
      file.held.push(b);
      file.heldLen += b.length;
      if (file.heldLen >= WRITE_WINDOW || file.held.length >= WRITE_CHUNKS) flush();
    },
    end() {
      if (!file) return;
      const f = file;
      try { flush(); } finally { fs.closeSync(f.fd); file = undefined; }
      fs.utimesSync(f.target, f.mtime, f.mtime);
    },
  });
  try {
    if (src instanceof Readable) await flow(src, (b) => parser.push(b));
    else for await (const chunk of src) parser.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
    parser.close();
  } finally {
    if (file) { fs.closeSync(file.fd); file = undefined; }
  }
  // directories get their modes and times last; a later entry may have put a link in a place of one (or of
  // a parent), so each is set only if it is still a real directory all the way down, through an fd of its own
  for (const [d, mode, t] of dirTimes.reverse()) {
    const fd = openRealDir(dir, d);
    if (fd === undefined) continue;
    try { fs.fchmodSync(fd, mode & 0o7777); fs.futimesSync(fd, t, t); } finally { fs.closeSync(fd); }
  }
}

/** `d` (below `dir`) opened as a directory when no component from `dir` down is a link; else undefined. */
function openRealDir(dir: string, d: string): number | undefined {
  let p = dir;
  for (const part of path.relative(dir, d).split(path.sep).filter(Boolean)) {
    p = path.join(p, part);
    try { if (!fs.lstatSync(p).isDirectory()) return undefined; } catch { return undefined; }
  }
  try { return fs.openSync(d, fs.constants.O_RDONLY | fs.constants.O_DIRECTORY | fs.constants.O_NOFOLLOW); } catch { return undefined; }
}

/**
 * Feeds a stream's chunks to `f` in flowing mode, to its end. Read through an async iterator, the stream
 * is over its 16 KiB mark at every 64 KiB socket read, and the socket was paused and resumed at each: the
 * daemon's 1 MiB writes then waited on this process's wake-ups, ~4x the docker CLI's time for a 100 MB
 * copy out on a loaded host. A throw from `f` ends the stream and is the error.
 */
function flow(src: Readable, f: (b: Buffer) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const fail = (e: unknown) => { src.off('data', onData); src.destroy(); reject(e); };
    const onData = (b: Buffer) => { try { f(b); } catch (e) { fail(e); } };
    src.on('data', onData).once('end', resolve).once('error', fail);
    src.once('close', () => { if (!src.readableEnded) fail(Object.assign(new Error('the daemon closed the archive stream early'), { code: 'ECONNRESET' })); });
  });
}

async function copyToContainer(c: Client, src: string, ctr: string, dst: string, archive: boolean, follow: boolean): Promise<void> {
  const put = (dir: string, body: AsyncIterable<Uint8Array> | NodeJS.ReadableStream, length?: number) => c.request('PUT', `/containers/${encodeURIComponent(ctr)}/archive`, {
    query: { path: dir, noOverwriteDirNonDir: 'true', copyUIDGID: archive ? 'true' : undefined }, raw: body,
    headers: length === undefined ? undefined : { 'Content-Length': String(length) },
  }).then((r) => { r.res.resume(); });
  if (src === '-') { await put(dst, process.stdin); return; }
  let dstSt = await statRemote(c, ctr, dst);
  let dstPath = dst;
  if (dstSt && isLink(dstSt)) {
    dstPath = dstSt.linkTarget;
    dstSt = await statRemote(c, ctr, dstPath);
  }
  const local = follow ? fs.statSync(src) : fs.lstatSync(src);
  let dir: string;
  let name: string;
  if (dstSt && isDir(dstSt)) { dir = dstPath; name = /\/\.$/.test(src) && local.isDirectory() ? '.' : path.basename(src); }
  else {
    if (dstSt && local.isDirectory()) throw new BerthError('InvalidArgument', 'cannot copy a directory to a file');
    if (/\/$/.test(dst) && !dstSt) throw new BerthError('InvalidArgument', `destination directory ${dst} does not exist`);
    dir = path.posix.dirname(path.posix.normalize(`/${dstPath}`));
    name = path.posix.basename(dstPath);
  }
  const plan = planTar(src, name, local);
  await put(dir, tarBody(plan), plan.length);
}

/** One tar entry to send: its header block(s), and for a regular file the path and size its data has. */
interface Planned { header: Buffer; file?: string; size: number }
export interface TarPlan { entries: Planned[]; length: number }

/**
 * The tar of a local file or tree, its top named `name` (`.`: a directory's content), as a list of
 * entries whose length is known before a byte is sent: the request has a Content-Length and the daemon
 * no chunked framing to take apart. Links are archived as links; a file with more than one link is data
 * once and hard links after. Sockets, devices and FIFOs are left out (as this CLI always did).
 */
export function planTar(src: string, name: string, top: fs.Stats): TarPlan {
  const entries: Planned[] = [];
  let length = 1024; // the two zero blocks that end it
  const links = new Map<string, string>();
  const add = (h: Partial<TarHeader> & { name: string }, file?: string, size = 0) => {
    const b = encodeHeader(header({ ...h, size }));
    entries.push({ header: b, file, size });
    length += b.length + size + ((512 - (size % 512)) % 512);
  };
  const walk = (p: string, entry: string, st: fs.Stats) => {
    const base = { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: Math.floor(st.mtimeMs / 1000) };
    if (st.isDirectory()) {
      if (entry !== '.') add({ ...base, name: `${entry}/`, type: 'dir' });
      for (const n of fs.readdirSync(p).sort()) {
        const child = path.join(p, n);
        walk(child, entry === '.' ? n : `${entry}/${n}`, fs.lstatSync(child));
      }
    } else if (st.isSymbolicLink()) {
      add({ ...base, name: entry, type: 'symlink', linkname: fs.readlinkSync(p) });
    } else if (st.isFile()) {
      const key = `${st.dev}:${st.ino}`;
      const first = st.nlink > 1 ? links.get(key) : undefined;
      if (first !== undefined) { add({ ...base, name: entry, type: 'link', linkname: first }); return; }
      if (st.nlink > 1) links.set(key, entry);
      add({ ...base, name: entry, type: 'file' }, p, st.size);
    }
  };
  walk(src, name, top);
  return { entries, length };
}

/** Bytes per piece of the body: each one write; file data is read into it in place (no copy after). */
const PIECE = 1 << 20;

/**
 * The planned tar as pieces of PIECE bytes (the last shorter), each filled in place: headers copied in,
 * file data read straight into it with pread(2). One buffer serves the whole copy: a piece yielded is
 * filled again once the next is asked for (http1 asks only when the socket has taken it). A file that
 * shrank since the plan is padded with zeros, one that grew is cut: the length sent is the one planned.
 */
export async function* tarBody(plan: TarPlan): AsyncGenerator<Uint8Array> {
  const buf = Buffer.allocUnsafe(Math.min(PIECE, plan.length));
  let n = 0;
  // copies `b` in, yielding each full piece
  function* put(b: Buffer): Generator<Buffer> {
    let off = 0;
    while (off < b.length) {
      const k = b.copy(buf, n, off);
      n += k; off += k;
      if (n === buf.length) { yield buf; n = 0; }
    }
  }
  function* zeros(count: number): Generator<Buffer> {
    while (count > 0) {
      const k = Math.min(count, buf.length - n);
      buf.fill(0, n, n + k);
      n += k; count -= k;
      if (n === buf.length) { yield buf; n = 0; }
    }
  }
  for (const e of plan.entries) {
    yield* put(e.header);
    if (e.file === undefined) continue;
    const fd = fs.openSync(e.file, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW | fs.constants.O_NOCTTY);
    try {
      let left = e.size;
      let pos = 0;
      while (left > 0) {
        const got = fs.readSync(fd, buf, n, Math.min(left, buf.length - n), pos);
        if (got === 0) break;
        n += got; pos += got; left -= got;
        if (n === buf.length) { yield buf; n = 0; }
      }
      yield* zeros(left + ((512 - (e.size % 512)) % 512));
    } finally { fs.closeSync(fd); }
  }
  yield* zeros(1024);
  if (n) yield buf.subarray(0, n);
}
