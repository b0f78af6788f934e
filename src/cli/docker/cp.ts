// cli/docker/cp: `cp` in docker's grammar (docker/cli cli/command/container/cp.go). The daemon resolves
// paths inside the container; this side tars and untars the local end, as the docker CLI does, and never
// follows a link out of the local destination it was given. A bundle of its own that the fast entry
// (cli/fast.ts) requires for cp: what a copy costs is mostly start-up and the bytes (issue 10, bench/toolbox-cp.sh).
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import type { Client, Response } from '../../client/index.js';
import type { BodySource } from '../../util/http-body.js';
import { ApiError } from '../../client/index.js';
import { BerthError } from '../../errors.js';
import { encodeHeader, header, type TarHeader } from '../../snapshots/tar-header.js';
import { HelpRequested, checkArgCount, parseFlags, usageMistake } from '../args.js';
import { connect, report, type Globals } from './connect.js';
import { O_PATH } from '../../util/open-flags.js';
import { ownDir, untar } from '../../util/untar.js';

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
    // flags and arguments are checked before any request: nothing happened yet, the full CLI words it
    if (e instanceof HelpRequested || (e instanceof Error && usageMistake(e.message))) return undefined;
    return report(e);
  }
}

export async function cp(g: Globals, args: string[]): Promise<number> {
  const p = parseFlags(args, { archive: { short: 'a', type: 'bool' }, 'follow-link': { short: 'L', type: 'bool' }, quiet: { short: 'q', type: 'bool' } });
  checkArgCount(p.positionals, 'cp', 2);
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
  const toStdout = dst === '-';
  const r = await c.request('GET', `/containers/${encodeURIComponent(ctr)}/archive`, { query: { path: srcPath }, rawAnswer: !toStdout });
  if (toStdout) {
    for await (const chunk of r.res) if (!process.stdout.write(chunk)) await new Promise((res) => process.stdout.once('drain', res));
    return;
  }
  try {
    await extractAnswer(r, srcPath, dst, rebase);
  } catch (e) {
    // the rest of the answer is not wanted: its socket goes now, not once the daemon has sent it all
    r.res.destroy();
    throw e;
  }
}

async function extractAnswer(r: Response, srcPath: string, dst: string, rebase: string | undefined): Promise<void> {
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
  await untarLocal(r.source ?? r.res, into, srcBase, top);
}

/**
 * Extracts a tar from a container into `dir`, renaming its first component `from` to `to` (the docker CLI's
 * RebaseArchiveEntries), through util/untar (the daemon's extractor too). The tar is the container's, so
 * hostile: an entry may not climb out with `..`, nor be made (or link to a file) through a symbolic link
 * below `dir`. Modes are set exactly (not through the umask), as the docker CLI's Untar does; owners are
 * not (it does not chown either); devices and FIFOs are not recreated.
 */
export async function untarLocal(src: AsyncIterable<Uint8Array> | Readable | BodySource, dir: string, from: string, to: string): Promise<void> {
  const rename = (parts: string[]): string[] => {
    if (from !== '.' && parts[0] === from) parts[0] = to;
    else if (from === '.' && to !== '.') parts.unshift(to);
    return parts;
  };
  const fd = fs.openSync(dir, O_PATH | fs.constants.O_DIRECTORY);
  try {
    await untar(ownDir(fd), src, { rename, skipSpecial: true, peer: 'the daemon', show: (rel) => path.join(dir, rel) });
  } catch (e) {
    // the rest of the answer is not wanted: its socket goes now, not once the daemon has sent it all
    if (src instanceof Readable) src.destroy();
    throw e;
  }
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
 * file data read straight into it with pread(2). Two buffers serve the whole copy, taken in turn: a piece
 * is filled while the one before it is in the socket (client/http1 writes one while asking for the next,
 * and asks for the one after only once the socket took it). A file that shrank since the plan is padded
 * with zeros, one that grew is cut: the length sent is the one planned.
 */
export async function* tarBody(plan: TarPlan): AsyncGenerator<Uint8Array> {
  const size = Math.min(PIECE, plan.length);
  const bufs = [Buffer.allocUnsafe(size), Buffer.allocUnsafe(size)];
  let turn = 0;
  let buf = bufs[0]!;
  let n = 0;
  /** the full piece, handed out; the next is filled in the other buffer */
  const full = (): Buffer => { const b = buf; buf = bufs[++turn & 1]!; n = 0; return b; };
  // copies `b` in, yielding each full piece
  function* put(b: Buffer): Generator<Buffer> {
    let off = 0;
    while (off < b.length) {
      const k = b.copy(buf, n, off);
      n += k; off += k;
      if (n === buf.length) yield full();
    }
  }
  function* zeros(count: number): Generator<Buffer> {
    while (count > 0) {
      const k = Math.min(count, buf.length - n);
      buf.fill(0, n, n + k);
      n += k; count -= k;
      if (n === buf.length) yield full();
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
        if (n === buf.length) yield full();
      }
      yield* zeros(left + ((512 - (e.size % 512)) % 512));
    } finally { fs.closeSync(fd); }
  }
  yield* zeros(1024);
  if (n) yield buf.subarray(0, n);
}
