// build/copy: COPY and ADD sources (moby builder/dockerfile/copy.go): which files, where they land,
// their checksum for the cache (content, modes, names — never mtimes), and the tar streams that put
// them into a step container's root through containers/archive.ts's confined extractor.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { once } from 'node:events';
import { createGunzip } from 'node:zlib';
import { BerthError } from '../errors.js';
import { TarWriter } from '../snapshots/tar-writer.js';

export interface CopySource {
  /** the source as written (for messages) */
  orig: string;
  /** its file on the host */
  host: string;
  /** path relative to the source root */
  rel: string;
  st: fs.Stats;
  /** a file ADD copies as it is, never extracts (a URL's download, a heredoc) */
  literal?: boolean;
}

const hasGlob = (s: string) => /[*?[]/.test(s);

/** Go's filepath.Match for one path segment. */
export function segmentRegex(seg: string): RegExp {
  let re = '';
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = seg.indexOf(']', i + 1);
      if (end < 0) throw new BerthError('InvalidArgument', `syntax error in pattern: ${seg}`);
      let cls = seg.slice(i + 1, end);
      if (cls.startsWith('^') || cls.startsWith('!')) cls = `^${cls.slice(1)}`;
      re += `[${cls.replace(/\\/g, '\\\\')}]`;
      i = end;
    } else if (c === '\\' && i + 1 < seg.length) re += seg[++i]!.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    else re += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

const lstat = (p: string) => { try { return fs.lstatSync(p); } catch { return undefined; } };

/**
 * The files a source names inside root (the context or a stage's root): cleaned, never outside root
 * (`COPY ../x` is refused as docker refuses it), globs matched per segment.
 */
export function resolveSources(root: string, src: string, cmd: string, fromContext: boolean): CopySource[] {
  const norm = path.posix.normalize(src.replace(/^\/+/, '') || '.');
  if (fromContext && (norm === '..' || norm.startsWith('../'))) throw new BerthError('InvalidArgument', `forbidden path outside the build context: ${src} ()`);
  const clean = norm.replace(/^(\.\.\/)+/, '').replace(/^\.\.$/, '.');
  if (!hasGlob(clean)) {
    const host = clean === '.' ? root : path.join(root, clean);
    const st = lstat(host);
    if (!st) {
      throw new BerthError('NotFound', fromContext
        ? `${cmd.toUpperCase()} failed: file not found in build context or excluded by .dockerignore: stat ${clean}: file does not exist`
        : `${cmd.toUpperCase()} failed: stat ${clean}: file does not exist`);
    }
    return [{ orig: src, host, rel: clean === '.' ? '' : clean, st }];
  }
  let found: string[] = [''];
  for (const seg of clean.split('/')) {
    const next: string[] = [];
    for (const dir of found) {
      const dst = lstat(dir ? path.join(root, dir) : root);
      if (!dst?.isDirectory()) continue;
      if (!hasGlob(seg)) { if (lstat(path.join(root, dir, seg))) next.push(dir ? `${dir}/${seg}` : seg); continue; }
      const re = segmentRegex(seg);
      for (const name of fs.readdirSync(dir ? path.join(root, dir) : root).sort()) if (re.test(name)) next.push(dir ? `${dir}/${name}` : name);
    }
    found = next;
  }
  return found.map((rel) => ({ orig: src, host: path.join(root, rel), rel, st: fs.lstatSync(path.join(root, rel)) }));
}

/** Every file below (and including) a source, in path order: [relative name, host path, stat]. */
export function walkSource(s: CopySource): Array<[string, string, fs.Stats]> {
  const out: Array<[string, string, fs.Stats]> = [];
  const walk = (rel: string, host: string) => {
    for (const name of fs.readdirSync(host).sort()) {
      const h = path.join(host, name);
      const st = fs.lstatSync(h);
      const r = rel ? `${rel}/${name}` : name;
      out.push([r, h, st]);
      if (st.isDirectory()) walk(r, h);
    }
  };
  if (s.st.isDirectory()) walk('', s.host);
  else out.push([path.posix.basename(s.host), s.host, s.st]);
  return out;
}

/** A file's sha256 (hex) already known, e.g. hashed while the context streamed in (context.ts FileSums). */
export type KnownSum = (host: string, st: fs.Stats) => string | undefined;

/**
 * The cache's view of the sources: names, types, modes and content, never times. A file's content enters as
 * its own sha256, so that a digest taken earlier (known) and one read here give the same key.
 */
export function checksumSources(sources: CopySource[], known?: KnownSum): string {
  const h = createHash('sha256');
  let buf: Buffer | undefined;
  const fileSum = (host: string): string => {
    const f = createHash('sha256');
    buf ??= Buffer.alloc(1 << 20);
    const fd = fs.openSync(host, fs.constants.O_RDONLY | fs.constants.O_NOFOLLOW);
    try { for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0;) f.update(buf.subarray(0, n)); } finally { fs.closeSync(fd); }
    return f.digest('hex');
  };
  for (const s of sources) {
    h.update(`src ${s.rel} ${s.st.isDirectory() ? 'd' : 'f'}\0`);
    for (const [rel, host, st] of walkSource(s)) {
      h.update(`${rel}\0${st.mode}\0${st.uid}:${st.gid}\0`);
      if (st.isSymbolicLink()) h.update(fs.readlinkSync(host));
      else if (st.isFile()) h.update(known?.(host, st) ?? fileSum(host));
      h.update('\0');
    }
  }
  return h.digest('hex');
}

export interface Owner { uid: number; gid: number }

/**
 * A tar of one source: a directory's content under names relative to the destination directory, or a
 * file under `name`. Owner: --chown or root (docker's rule for COPY); mode: --chmod or the source's.
 */
export function sourceTar(s: CopySource, name: string, owner: Owner, chmod: number | undefined): AsyncIterable<Uint8Array> {
  const pipe = new PassThrough({ highWaterMark: 4 << 20 });
  const w = new TarWriter(async (c) => { if (!pipe.write(c)) await once(pipe, 'drain'); });
  const entries = s.st.isDirectory() ? walkSource(s) : [[name, s.host, s.st] as [string, string, fs.Stats]];
  void (async () => {
    for (const [rel, host, st] of entries) {
      const mode = chmod ?? (st.mode & 0o7777);
      const base = { uid: owner.uid, gid: owner.gid, mtime: Math.floor(st.mtimeMs / 1000) };
      if (st.isDirectory()) await w.entry({ ...base, mode, name: `${rel}/`, type: 'dir' });
      else if (st.isSymbolicLink()) await w.entry({ ...base, mode: 0o777, name: rel, type: 'symlink', linkname: fs.readlinkSync(host) });
      else if (st.isFile()) await w.entry({ ...base, mode, name: rel, type: 'file', size: st.size }, fs.createReadStream(host));
    }
    await w.finish();
    pipe.end();
  })().catch((e: unknown) => pipe.destroy(e as Error));
  return pipe;
}

/** ADD's local archives: a tar, plain or gzipped, is extracted rather than copied. */
export function archiveKind(host: string, st: fs.Stats): 'gzip' | 'tar' | undefined {
  if (!st.isFile() || st.size < 2) return undefined;
  const b = Buffer.alloc(512);
  const fd = fs.openSync(host, 'r');
  let n: number;
  try { n = fs.readSync(fd, b, 0, 512, 0); } finally { fs.closeSync(fd); }
  if (b[0] === 0x1f && b[1] === 0x8b) return 'gzip';
  if (n === 512 && b.toString('latin1', 257, 262) === 'ustar') return 'tar';
  return undefined;
}

export function archiveStream(host: string, kind: 'gzip' | 'tar'): AsyncIterable<Uint8Array> {
  const f = fs.createReadStream(host);
  return kind === 'gzip' ? f.pipe(createGunzip()) : f;
}
