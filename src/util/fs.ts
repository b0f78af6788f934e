// util/fs: the one way Berth writes a file that matters — temp file, fsync, rename, fsync the directory;
// and where an executable is on PATH.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { waitOn } from './trace.js';

export function writeFileAtomicSync(file: string, data: string | Uint8Array, mode = 0o644): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  const fd = fs.openSync(tmp, 'wx', mode);
  try {
    if (typeof data === 'string') fs.writeSync(fd, data); else fs.writeSync(fd, data);
    fs.fsyncSync(fd);
  } catch (e) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  fs.closeSync(fd);
  try {
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  fsyncDir(path.dirname(file));
}

let seq = 0;
const writing = new Map<string, Promise<void>>();

/**
 * writeFileAtomicSync without blocking the event loop: the fsyncs (10-60 ms each on a busy disk, and
 * berthd's largest cost when 50 containers start at once) run on libuv's threads while other requests
 * go on. Writes to one file land in call order: an older write never renames over a newer one.
 */
export function writeFileAtomic(file: string, data: string | Uint8Array, mode = 0o644): Promise<void> {
  const p = (writing.get(file) ?? Promise.resolve()).then(() => writeOnce(file, data, mode));
  const tail = p.catch(() => undefined);
  writing.set(file, tail);
  void tail.then(() => { if (writing.get(file) === tail) writing.delete(file); });
  return waitOn('disk', p);
}

/** Settles once the writes to `file` begun so far have (before its directory goes, say). */
export function writesDone(file: string): Promise<void> {
  return writing.get(file) ?? Promise.resolve();
}

const fsyncAsync = (fd: number) => new Promise<void>((resolve, reject) => fs.fsync(fd, (e) => (e ? reject(e) : resolve())));

// Only the two fsyncs go to libuv's threads: open, write (a page-cache copy of a small record), close
// and rename are one metadata call each, cheaper here than a thread round trip each (with its promise
// and FileHandle: eight round trips cost ~0.7 ms of berthd's CPU per record, issue 13)
async function writeOnce(file: string, data: string | Uint8Array, mode: number): Promise<void> {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.a${++seq}.tmp`);
  const fd = fs.openSync(tmp, 'wx', mode);
  try {
    fs.writeFileSync(fd, data);
    await fsyncAsync(fd);
  } catch (e) {
    fs.closeSync(fd);
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  fs.closeSync(fd);
  try {
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
  const dir = fs.openSync(path.dirname(file), 'r');
  try { await fsyncAsync(dir); } finally { fs.closeSync(dir); }
}

/**
 * Removes a file if it is there. fs.rmSync(p, { force: true }) takes Node's rimraf path (an lstat first,
 * its option checks), and a missing file is a thrown and caught ENOENT either way, each an Error with its
 * stack: ~18 us a call in the interpreter. An lstat that throws nothing (throwIfNoEntry) answers the usual
 * case (none there) in a few us; a symlink is removed itself, as rmSync does; one gone meanwhile is no error.
 */
export function unlinkIfThere(file: string): void {
  if (!fs.lstatSync(file, { throwIfNoEntry: false })) return;
  try { fs.unlinkSync(file); } catch (e) { if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e; }
}

export function fsyncDir(dir: string): void {
  const fd = fs.openSync(dir, 'r');
  try { fs.fsyncSync(fd); } finally { fs.closeSync(fd); }
}

/** Sleep without giving up the thread: for the few short waits on synchronous paths. */
export function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * temp + rename without fsync: a reader sees the old file or the new one, never half of one, even if we
 * are killed — but not across a power loss. For files remade at every container start (hosts, resolv.conf)
 * and for runtime state under /run, which a reboot empties anyway: there an fsync only costs (on a busy
 * disk, 10-50 ms per container start in berthd's profile).
 */
export function replaceFileSync(file: string, data: string | Uint8Array, mode = 0o644): void {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${Date.now()}.tmp`);
  try {
    fs.writeFileSync(tmp, data, { mode, flag: 'wx' });
    fs.renameSync(tmp, file);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    throw e;
  }
}

const onPath = new Map<string, string | undefined>();

/**
 * The path of an executable named cmd in a PATH directory, or undefined; looked up once per PATH. A daemon
 * asks for the same tools again and again (firewall checks, igzip), each miss a thrown error: ~70 path joins
 * at berthd's start were enough for V8 to optimise path's normalizeString there, which loads TurboFan's
 * code (3.4 MB of idle RSS, bench/daemon-idle.sh: 53.5 MB with, 49.9 without).
 */
export function findOnPath(cmd: string): string | undefined {
  const dirs = process.env.PATH ?? '';
  const key = `${dirs}\0${cmd}`;
  if (onPath.has(key)) return onPath.get(key);
  let found: string | undefined;
  for (const d of dirs.split(':')) {
    const p = path.join(d || '.', cmd);
    try { fs.accessSync(p, fs.constants.X_OK); found = p; break; } catch { /* not here */ }
  }
  onPath.set(key, found);
  return found;
}
