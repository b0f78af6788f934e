// build/context: the build context as POST /build receives it (a tar, gzipped or not, or a Dockerfile
// alone: moby builder/remotecontext/detect.go) unpacked into a private directory. Entry names are cleaned
// lexically against the context root, as dockerd's chrooted untar does (`../foo` and `/bar` land at `foo`
// and `bar`); an entry that goes through a symlink is refused; nothing is ever followed, so a hostile
// context cannot write outside its directory. .dockerignore (docker's rules, `!` exceptions and
// `**`, by @balena/dockerignore, a port of moby's fileutils matcher) drops what it excludes.
import { createHash, type Hash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createGunzip } from 'node:zlib';
import { Readable } from 'node:stream';
import ignoreModule from '@balena/dockerignore';
import { BerthError } from '../errors.js';
import { TarParser } from '../snapshots/tar-reader.js';
import type { TarHeader } from '../snapshots/tar-header.js';
import { trace } from '../util/trace.js';

/**
 * The sha256 (hex) of each regular file the context's tar brought, by its host path, with its size: hashed
 * as the bytes stream in, so that COPY's cache key (checksumSources) need not read the context back. Valid
 * because nothing writes into a context directory after it is unpacked (each entry is a fresh file).
 */
export type FileSums = Map<string, { size: number; sha256: string }>;

export interface Context {
  dir: string;
  sums: FileSums;
  /**
   * Writes the file content still held in memory into its files. Until then such a file is there with its
   * name, mode and size but reads as zeros: call this before anything reads the context's content (a COPY
   * that misses the cache, a RUN bind mount, a checksum not in sums). Idempotent.
   */
  materialize(): void;
  /** Drops the content held in memory (the directory stays: remove it, or let the caller remove it off the event loop). */
  release(): void;
  /** release, and the directory goes */
  remove(): void;
}

/**
 * A regular file whose content is held in memory instead of written: a fully cached build needs only the
 * digests, and writing a 20 MB context and unlinking it again cost berthd more CPU than hashing it. Its
 * descriptor stays open, so the content later goes into the very file unpacked (no path is looked up again).
 */
interface Held { fd: number; off: number; len: number }

/**
 * The memory held content goes to: one buffer, lent to one context at a time and reused build after build
 * (the socket's own chunks, kept instead, left the heap fragmented: +45 MB RSS after eight builds, even
 * after a GC). This large a block glibc maps on its own, so pages never touched cost nothing; dropped after
 * a while unused. A context that finds it lent out, or full, writes its files as they stream in.
 */
const SLAB_BYTES = 32 << 20;
let slab: Buffer | undefined;
let slabLent = false;
let slabIdle: NodeJS.Timeout | undefined;
function borrowSlab(): Buffer | undefined {
  if (slabLent) return undefined;
  slabLent = true;
  clearTimeout(slabIdle);
  return (slab ??= Buffer.allocUnsafeSlow(SLAB_BYTES));
}
function returnSlab(): void {
  slabLent = false;
  slabIdle = setTimeout(() => { if (!slabLent) slab = undefined; }, 10_000).unref();
}
/** At most this many files held per context (each keeps its descriptor open). */
const HOLD_FILES = 256;

/** moby's ReadDockerignore: one pattern a line, comments and blanks dropped, cleaned. */
export function ignorePatterns(text: string): string[] {
  return text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
}

/** A predicate for context-relative paths (no leading '/'); the Dockerfile and .dockerignore always stay. */
// a CommonJS module whose typings declare an ES default export: under Node's ESM interop the default is module.exports
const ignore = ((ignoreModule as unknown as { default?: typeof ignoreModule }).default ?? ignoreModule) as unknown as (o?: { ignorecase?: boolean }) => { add(p: string[]): { ignores(p: string): boolean } };

export function ignoreMatcher(patterns: string[], keep: string[] = []): (rel: string) => boolean {
  if (patterns.length === 0) return () => false;
  const ig = ignore({ ignorecase: false }).add(patterns);
  const always = new Set(['.dockerignore', ...keep.map((k) => path.posix.normalize(k))]);
  return (rel) => !always.has(rel) && ig.ignores(rel);
}

const hostile = (name: string) => new BerthError('InvalidArgument', `invalid build context: path ${JSON.stringify(name)} leaves the context`);

/** Unpacks the request body into a fresh directory under tmp. */
export async function receiveContext(body: AsyncIterable<Uint8Array>, tmp: string, dockerfile: string, o: { holdBytes?: number } = {}): Promise<Context> {
  const dir = fs.mkdtempSync(path.join(tmp, 'build-'));
  const held = new Map<string, Held>();
  // the lent buffer, once a file is held, and how much of it is used
  const hold = { buf: undefined as Buffer | undefined, used: 0, max: Math.min(SLAB_BYTES, o.holdBytes ?? SLAB_BYTES) };
  const giveBack = () => { if (hold.buf) { hold.buf = undefined; returnSlab(); } };
  const ctx: Context = {
    dir, sums: new Map(),
    materialize: () => {
      for (const [full, h] of held) { held.delete(full); writeHeld(hold.buf!, h); }
      giveBack();
    },
    release: () => {
      for (const [full, h] of held) { held.delete(full); fs.closeSync(h.fd); }
      giveBack();
    },
    remove: () => { ctx.release(); fs.rmSync(dir, { recursive: true, force: true }); },
  };
  // berthd reads these itself before any step
  const written = new Set(['.dockerignore', cleanEntryName(dockerfile) ?? 'Dockerfile']);
  try {
    const it = body[Symbol.asyncIterator]();
    const chunks: Buffer[] = [];
    let have = 0;
    let done = false;
    while (have < 512 && !done) {
      const r = await it.next();
      if (r.done) done = true;
      else { chunks.push(Buffer.from(r.value)); have += r.value.length; }
    }
    const head = Buffer.concat(chunks);
    const rest = async function* (): AsyncGenerator<Uint8Array> {
      if (head.length) yield head;
      if (done) return;
      for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
    };
    trace('build: context first bytes');
    if (head.length === 0) throw new BerthError('InvalidArgument', 'Cannot locate specified Dockerfile: ' + dockerfile);
    let src: AsyncIterable<Uint8Array> = rest();
    if (head[0] === 0x1f && head[1] === 0x8b) src = Readable.from(rest()).pipe(createGunzip());
    else if (!looksLikeTar(head)) {
      // a Dockerfile alone (docker build - < Dockerfile)
      const parts: Buffer[] = [];
      for await (const c of rest()) parts.push(Buffer.from(c));
      fs.writeFileSync(path.join(dir, 'Dockerfile'), Buffer.concat(parts), { mode: 0o644 });
      return ctx;
    }
    const place = (rel: string, size: number): number | undefined => {
      if (size === 0 || written.has(rel) || held.size >= HOLD_FILES || hold.used + size > hold.max) return undefined;
      if (!hold.buf && !(hold.buf = borrowSlab())) return undefined;
      hold.used += size;
      return hold.used - size;
    };
    await extract(src, dir, ctx.sums, held, { place, keep: (off, b) => b.copy(hold.buf!, off), write: (h) => writeHeld(hold.buf!, h) });
    return ctx;
  } catch (e) {
    ctx.remove();
    throw e;
  }
}

function looksLikeTar(b: Buffer): boolean {
  if (b.length < 512) return false;
  if (b.toString('latin1', 257, 262) === 'ustar') return true;
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : b[i]!;
  return parseInt(b.toString('latin1', 148, 156).replace(/\0.*$/, '').trim(), 8) === sum;
}

/**
 * The entry's name relative to the context root, cleaned lexically as if the root were `/` (moby's
 * chrootarchive: Join("/", Clean(name))), so `..` can never climb above it; undefined for the root itself.
 */
export function cleanEntryName(name: string): string | undefined {
  const n = path.posix.join('/', name).slice(1).replace(/\/+$/, '');
  return n === '' ? undefined : n;
}

/** Puts a held file's content into it and closes it. */
function writeHeld(buf: Buffer, h: Held): void {
  try {
    for (let at = 0; at < h.len;) at += fs.writeSync(h.fd, buf, h.off + at, h.len - at, at);
  } finally { fs.closeSync(h.fd); }
}

/** Where held content goes: place a file (its offset, or undefined to write it instead), keep a chunk at an offset, write one out. */
interface Memory { place(rel: string, size: number): number | undefined; keep(off: number, b: Buffer): void; write(h: Held): void }

async function extract(src: AsyncIterable<Uint8Array>, dir: string, sums: FileSums, held: Map<string, Held>, mem: Memory): Promise<void> {
  const dirs = new Set<string>(['']);
  // the file being received: its descriptor, hash, host path and size so far; where it is held, if it is
  let file: { fd: number; hash: Hash; full: string; size: number; off?: number } | undefined;
  let err: unknown;
  const closeFile = () => {
    if (!file) return;
    const f = file;
    file = undefined;
    sums.set(f.full, { size: f.size, sha256: f.hash.digest('hex') });
    if (f.off === undefined) { fs.closeSync(f.fd); return; }
    // the file gets its size now (sparse: no data written), so that lstat sees what the tar said
    held.set(f.full, { fd: f.fd, off: f.off, len: f.size });
    fs.ftruncateSync(f.fd, f.size);
  };
  /** A held file or directory tree replaced by a later entry: its content is not wanted any more. */
  const forget = (full: string) => {
    if (held.size === 0) return;
    for (const [k, h] of held) if (k === full || k.startsWith(`${full}/`)) { held.delete(k); fs.closeSync(h.fd); }
  };
  const ensureParent = (rel: string) => {
    const parts = rel.split('/').slice(0, -1);
    let cur = '';
    for (const p of parts) {
      cur = cur ? `${cur}/${p}` : p;
      if (dirs.has(cur)) continue;
      const full = path.join(dir, cur);
      let st: fs.Stats | undefined;
      try { st = fs.lstatSync(full); } catch { /* absent */ }
      if (st && !st.isDirectory()) throw hostile(rel);
      if (!st) fs.mkdirSync(full, { mode: 0o755 });
      dirs.add(cur);
    }
  };
  const entry = (h: TarHeader) => {
    const rel = cleanEntryName(h.name);
    if (rel === undefined) return;
    ensureParent(rel);
    const full = path.join(dir, rel);
    const mode = h.mode & 0o7777;
    let st: fs.Stats | undefined;
    try { st = fs.lstatSync(full); } catch { /* absent */ }
    if (h.type === 'dir') {
      if (st && !st.isDirectory()) { forget(full); fs.rmSync(full, { force: true }); }
      if (!st || !st.isDirectory()) fs.mkdirSync(full, { mode });
      fs.chmodSync(full, mode);
      dirs.add(rel);
      return;
    }
    if (st) { forget(full); fs.rmSync(full, { recursive: true, force: true }); }
    dirs.delete(rel);
    sums.delete(full);
    if (h.type === 'file') {
      const fd = fs.openSync(full, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW, mode);
      file = { fd, hash: createHash('sha256'), full, size: 0 };
      fs.fchmodSync(fd, mode);
      file.off = mem.place(rel, h.size);
    } else if (h.type === 'symlink') fs.symlinkSync(h.linkname, full);
    else if (h.type === 'link') {
      const target = cleanEntryName(h.linkname);
      if (!target) throw hostile(h.linkname);
      const tst = fs.lstatSync(path.join(dir, target));
      if (!tst.isFile()) throw hostile(h.linkname);
      // a second name for a held file (the Dockerfile, say): its content goes in now
      const was = held.get(path.join(dir, target));
      if (was) { held.delete(path.join(dir, target)); mem.write(was); }
      fs.linkSync(path.join(dir, target), full);
      const sum = sums.get(path.join(dir, target));
      if (sum) sums.set(full, sum);
    }
    // devices and fifos have no place in a build context: skipped
  };
  const parser = new TarParser({
    entry: (h) => {
      if (err) return;
      try {
        closeFile();
        entry(h);
      } catch (e) { err = e; }
    },
    data: (b) => {
      if (err || !file) return;
      // written here, not on libuv's threads: their concurrent writes to one file cost more CPU than they saved
      if (file.off !== undefined) mem.keep(file.off + file.size, b); else fs.writeSync(file.fd, b);
      file.hash.update(b);
      file.size += b.length;
    },
    end: () => closeFile(),
  });
  try {
    for await (const c of src) {
      parser.push(Buffer.from(c.buffer, c.byteOffset, c.length));
      if (err) throw err;
      if (parser.finished) break;
    }
    trace('build: context last bytes');
    parser.close();
    if (err) throw err;
  } finally {
    if (file) fs.closeSync(file.fd);
  }
}

/** Applies .dockerignore to an unpacked context: what it excludes is removed (the Dockerfile stays). */
export function applyDockerignore(dir: string, dockerfile: string): void {
  let text: string;
  try { text = fs.readFileSync(path.join(dir, '.dockerignore'), 'utf8'); } catch { return; }
  const ignored = ignoreMatcher(ignorePatterns(text), [dockerfile]);
  const walk = (rel: string) => {
    for (const name of fs.readdirSync(path.join(dir, rel))) {
      const r = rel ? `${rel}/${name}` : name;
      const st = fs.lstatSync(path.join(dir, r));
      if (ignored(r)) {
        // an excluded directory may still hold exceptions (`!dir/keep`): walk it, drop what stays excluded
        if (st.isDirectory()) { walk(r); if (fs.readdirSync(path.join(dir, r)).length === 0) fs.rmdirSync(path.join(dir, r)); } else fs.rmSync(path.join(dir, r), { force: true });
      } else if (st.isDirectory()) walk(r);
    }
  };
  walk('');
}
