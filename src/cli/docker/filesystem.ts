// cli/docker/filesystem: `cp`, `diff`, `export`, `commit`, `container prune`, `system prune` in docker's
// grammar (docker/cli cli/command/container/cp.go, diff.go, export.go, commit.go, prune.go; system/prune.go).
// Translation only: the daemon resolves paths inside the container; this side tars and untars the local
// end, as the docker CLI does, and never follows a link out of the local destination it was given.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Client } from '../../client/index.js';
import { ApiError } from '../../client/index.js';
import { BerthError } from '../../errors.js';
import { TarParser } from '../../snapshots/tar-reader.js';
import type { TarHeader } from '../../snapshots/tar-header.js';
import { TarWriter } from '../../snapshots/tar-writer.js';
import { parseFlags } from '../args.js';
import { connect, type Globals } from './connect.js';
import { confirm } from './images.js';
import { humanSize } from './output.js';

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

/** Extracts a tar into `dir`, renaming its first component `from` to `to` (the docker CLI's RebaseArchiveEntries). */
async function untarLocal(src: AsyncIterable<Uint8Array>, dir: string, from: string, to: string): Promise<void> {
  let fd: number | undefined;
  let fileTimes: [string, number] | undefined;
  const dirTimes: Array<[string, number, number]> = [];
  const rename = (name: string) => {
    const parts = name.split('/').filter((x) => x !== '' && x !== '.');
    if (parts.includes('..')) throw new BerthError('InvalidArgument', `invalid tar entry ${JSON.stringify(name)}`);
    if (from !== '.' && parts[0] === from) parts[0] = to;
    else if (from === '.' && to !== '.') parts.unshift(to);
    return parts.length ? path.join(dir, ...parts) : dir;
  };
  const parser = new TarParser({
    entry(h: TarHeader) {
      const target = rename(h.name);
      if (target !== dir) {
        try { const st = fs.lstatSync(target); if (!(st.isDirectory() && h.type === 'dir')) fs.rmSync(target, { recursive: true, force: true }); } catch { /* new */ }
      }
      if (h.type === 'dir') { fs.mkdirSync(target, { recursive: true, mode: 0o700 }); dirTimes.push([target, h.mode, h.mtime]); }
      else if (h.type === 'file') { fd = fs.openSync(target, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, h.mode & 0o7777); fileTimes = [target, h.mtime]; }
      else if (h.type === 'symlink') fs.symlinkSync(h.linkname, target);
      else if (h.type === 'link') fs.linkSync(rename(h.linkname), target);
      // devices and FIFOs are not recreated locally
    },
    data(b: Buffer) { if (fd !== undefined) fs.writeSync(fd, b); },
    end() {
      if (fd !== undefined) { fs.closeSync(fd); fd = undefined; if (fileTimes) fs.utimesSync(fileTimes[0], fileTimes[1], fileTimes[1]); }
      fileTimes = undefined;
    },
  });
  for await (const chunk of src) parser.push(Buffer.from(chunk));
  parser.close();
  for (const [d, mode, t] of dirTimes.reverse()) { fs.chmodSync(d, mode & 0o7777); fs.utimesSync(d, t, t); }
}

async function copyToContainer(c: Client, src: string, ctr: string, dst: string, archive: boolean, follow: boolean): Promise<void> {
  const put = (dir: string, body: AsyncIterable<Uint8Array>) => c.request('PUT', `/containers/${encodeURIComponent(ctr)}/archive`, {
    query: { path: dir, noOverwriteDirNonDir: 'true', copyUIDGID: archive ? 'true' : undefined }, raw: body,
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
  await put(dir, tarLocal(src, name, follow));
}

/** A local file or tree as a tar stream, its top named `name`; links are archived as links. */
async function* tarLocal(src: string, name: string, followTop: boolean): AsyncGenerator<Uint8Array> {
  const chunks: Buffer[] = [];
  let size = 0;
  const w = new TarWriter((b) => { chunks.push(Buffer.from(b)); size += b.length; });
  const flush = function* () { if (chunks.length) { yield Buffer.concat(chunks); chunks.length = 0; size = 0; } };
  const links = new Map<string, string>();
  async function* add(p: string, entry: string, st: fs.Stats): AsyncGenerator<Uint8Array> {
    const base = { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: Math.floor(st.mtimeMs / 1000) };
    if (st.isDirectory()) {
      if (entry !== '.') await w.entry({ ...base, name: `${entry}/`, type: 'dir' });
      for (const n of fs.readdirSync(p).sort()) yield* add(path.join(p, n), entry === '.' ? n : `${entry}/${n}`, fs.lstatSync(path.join(p, n)));
    } else if (st.isSymbolicLink()) {
      await w.entry({ ...base, name: entry, type: 'symlink', linkname: fs.readlinkSync(p) });
    } else if (st.isFile()) {
      const key = `${st.dev}:${st.ino}`;
      if (st.nlink > 1 && links.has(key)) { await w.entry({ ...base, name: entry, type: 'link', linkname: links.get(key)! }); return; }
      if (st.nlink > 1) links.set(key, entry);
      yield* flush();
      const fh = await fs.promises.open(p, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
      try {
        const fst = await fh.stat();
        await w.entry({ ...base, name: entry, type: 'file', size: fst.size }, readAll(fh, fst.size));
      } finally { await fh.close(); }
    }
    if (size > 1 << 20) yield* flush();
  }
  yield* add(src, name, followTop ? fs.statSync(src) : fs.lstatSync(src));
  await w.finish();
  yield* flush();
}

async function* readAll(fh: fs.promises.FileHandle, size: number): AsyncGenerator<Uint8Array> {
  let left = size;
  let pos = 0;
  while (left > 0) {
    const buf = Buffer.allocUnsafe(Math.min(64 << 10, left)); // under the mmap threshold: warm heap pages
    const bytesRead = fs.readSync(fh.fd, buf, 0, buf.length, pos);
    if (bytesRead === 0) { yield Buffer.alloc(left); return; }
    left -= bytesRead; pos += bytesRead;
    yield buf.subarray(0, bytesRead);
  }
}

export async function diff(g: Globals, args: string[]): Promise<number> {
  const p = parseFlags(args, {});
  if (p.positionals.length !== 1) throw new BerthError('InvalidArgument', '"diff" requires exactly 1 argument.\nUsage:  berth diff CONTAINER');
  const c = connect(g);
  try {
    const changes = (await c.json<Array<{ Path: string; Kind: number }> | null>('GET', `/containers/${encodeURIComponent(p.positionals[0]!)}/changes`)) ?? [];
    process.stdout.write(changes.map((x) => `${'CAD'[x.Kind] ?? '?'} ${x.Path}\n`).join(''));
    return 0;
  } finally { c.close(); }
}

export async function exportCmd(g: Globals, args: string[]): Promise<number> {
  const p = parseFlags(args, { output: { short: 'o', type: 'string' } });
  if (p.positionals.length !== 1) throw new BerthError('InvalidArgument', '"export" requires exactly 1 argument.\nUsage:  berth export [OPTIONS] CONTAINER');
  const out = p.flags.output as string | undefined;
  if (!out && process.stdout.isTTY) throw new BerthError('InvalidArgument', 'cowardly refusing to save to a terminal. Use the -o flag or redirect');
  const c = connect(g);
  try {
    const r = await c.request('GET', `/containers/${encodeURIComponent(p.positionals[0]!)}/export`);
    if (out) {
      const tmp = `${out}.${process.pid}.tmp`;
      const fd = fs.openSync(tmp, 'w', 0o644);
      try { for await (const chunk of r.res) fs.writeSync(fd, chunk as Buffer); } finally { fs.closeSync(fd); }
      fs.renameSync(tmp, out);
    } else {
      for await (const chunk of r.res) if (!process.stdout.write(chunk)) await new Promise((res) => process.stdout.once('drain', res));
    }
    return 0;
  } finally { c.close(); }
}

export async function commit(g: Globals, args: string[]): Promise<number> {
  const p = parseFlags(args, { author: { short: 'a', type: 'string' }, change: { short: 'c', type: 'list' }, message: { short: 'm', type: 'string' }, pause: { short: 'p', type: 'bool' } });
  if (p.positionals.length < 1 || p.positionals.length > 2) throw new BerthError('InvalidArgument', '"commit" requires at least 1 and at most 2 arguments.\nUsage:  berth commit [OPTIONS] CONTAINER [REPOSITORY[:TAG]]');
  const [ctr, ref] = p.positionals as [string, string | undefined];
  let repo: string | undefined;
  let tag: string | undefined;
  if (ref) {
    const colon = ref.lastIndexOf(':');
    if (colon > ref.lastIndexOf('/')) { repo = ref.slice(0, colon); tag = ref.slice(colon + 1); } else repo = ref;
  }
  const c = connect(g);
  try {
    const r = await c.json<{ Id: string }>('POST', '/commit', { query: {
      container: ctr, repo, tag, comment: p.flags.message as string | undefined, author: p.flags.author as string | undefined,
      pause: p.flags.pause === false ? 'false' : undefined, changes: (p.flags.change as string[] | undefined) ?? undefined,
    } });
    process.stdout.write(`${r.Id}\n`);
    return 0;
  } finally { c.close(); }
}

function filtersOf(list: string[] | undefined): string | undefined {
  if (!list?.length) return undefined;
  const f: Record<string, Record<string, boolean>> = {};
  for (const x of list) {
    const i = x.indexOf('=');
    if (i <= 0) throw new BerthError('InvalidArgument', `invalid argument "${x}" for "--filter" flag: bad format of filter (expected name=value)`);
    (f[x.slice(0, i)] ??= {})[x.slice(i + 1)] = true;
  }
  return JSON.stringify(f);
}

async function pruneContainers(c: Client, filters: string | undefined): Promise<number> {
  const r = await c.json<{ ContainersDeleted: string[] | null; SpaceReclaimed: number }>('POST', '/containers/prune', { query: { filters } });
  if (r.ContainersDeleted?.length) process.stdout.write(`Deleted Containers:\n${r.ContainersDeleted.join('\n')}\n\n`);
  return r.SpaceReclaimed;
}

export async function containerPrune(g: Globals, args: string[]): Promise<number> {
  const p = parseFlags(args, { force: { short: 'f', type: 'bool' }, filter: { type: 'list' } });
  const filters = filtersOf(p.flags.filter as string[] | undefined);
  if (!p.flags.force && !(await confirm('WARNING! This will remove all stopped containers.\nAre you sure you want to continue?'))) return 0;
  const c = connect(g);
  try {
    process.stdout.write(`Total reclaimed space: ${humanSize(await pruneContainers(c, filters))}\n`);
    return 0;
  } finally { c.close(); }
}

export async function systemPrune(g: Globals, args: string[]): Promise<number> {
  const p = parseFlags(args, { all: { short: 'a', type: 'bool' }, force: { short: 'f', type: 'bool' }, volumes: { type: 'bool' }, filter: { type: 'list' } });
  const filters = filtersOf(p.flags.filter as string[] | undefined);
  if (!p.flags.force) {
    const items = ['all stopped containers', ...(p.flags.volumes ? ['all anonymous volumes not used by at least one container'] : []),
      p.flags.all ? 'all images without at least one container associated to them' : 'all dangling images'];
    if (!(await confirm(`WARNING! This will remove:\n${items.map((x) => `  - ${x}\n`).join('')}\nAre you sure you want to continue?`))) return 0;
  }
  const c = connect(g);
  try {
    let total = await pruneContainers(c, filters);
    if (p.flags.volumes) {
      const v = await c.json<{ VolumesDeleted: string[] | null; SpaceReclaimed: number }>('POST', '/volumes/prune', { query: { filters } });
      if (v.VolumesDeleted?.length) process.stdout.write(`Deleted Volumes:\n${v.VolumesDeleted.join('\n')}\n\n`);
      total += v.SpaceReclaimed;
    }
    const base = filters ? JSON.parse(filters) as Record<string, Record<string, boolean>> : {};
    const imgFilters = JSON.stringify({ ...base, dangling: { [p.flags.all ? 'false' : 'true']: true } });
    const i = await c.json<{ ImagesDeleted: Array<{ Untagged?: string; Deleted?: string }> | null; SpaceReclaimed: number }>('POST', '/images/prune', { query: { filters: imgFilters } });
    if (i.ImagesDeleted?.length) process.stdout.write(`Deleted Images:\n${i.ImagesDeleted.map((d) => (d.Untagged ? `untagged: ${d.Untagged}` : `deleted: ${d.Deleted}`)).join('\n')}\n\n`);
    total += i.SpaceReclaimed;
    process.stdout.write(`Total reclaimed space: ${humanSize(total)}\n`);
    return 0;
  } finally { c.close(); }
}
