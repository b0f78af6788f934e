// content/store: blobs by digest under <root>/content/blobs/sha256. A blob appears only after its
// digest and size were verified while streaming, fsynced and renamed into place.
import { createHash, randomBytes, type Hash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { BerthError, errnoCode } from '../errors.js';
import { fsyncDir } from '../util/fs.js';
import { privateDir } from '../util/dirs.js';
import { OWNER, ownerAlive } from '../util/owner.js';
import { checkDigest, hexOf } from './digest.js';

export interface Descriptor { mediaType: string; digest: string; size: number; urls?: string[]; annotations?: Record<string, string>; platform?: Platform }
export interface Platform { architecture: string; os: string; variant?: string; 'os.version'?: string; 'os.features'?: string[] }
export interface Expected { digest?: string; size?: number }

/**
 * One blob being written: feed chunks, then commit (verify + rename) or abort (remove). With `adopt`,
 * the bytes fed are those of that file (on the store's filesystem, e.g. a layer a load extracted): they
 * are only hashed, and commit links the file in instead of writing a second copy. After hashAside() the
 * writer hashes no more: the caller hashes the temp file (content/hash-worker) and gives commit the digest.
 */
export class Writer {
  private hash: Hash | undefined = createHash('sha256');
  private fd: number;
  private written = 0;
  private done = false;
  constructor(private readonly store: ContentStore, readonly tmp: string, private readonly expected: Expected, private readonly adopt?: string) {
    this.fd = adopt ? fs.openSync(adopt, 'r') : fs.openSync(tmp, 'wx', 0o644);
  }

  /** From now on the caller hashes the temp file, all of it from its start, and commit(digest) takes its digest. */
  hashAside(): void {
    if (this.adopt) throw new BerthError('Internal', 'an adopted file is hashed by its writer');
    this.hash = undefined;
  }
  get size(): number { return this.written; }

  private syncing: Promise<void> | undefined;
  /**
   * Starts putting what was written so far on disk, on the thread pool, while the caller writes on: the
   * fsync at commit then finds little left (at the end, a 100 MB blob's fsync was ~0.2 s of a commit).
   * Call settled() before commit(); an error here is left for commit's own fsync to report.
   */
  startSync(): void {
    if (this.syncing || this.done) return;
    this.syncing = new Promise<void>((resolve) => { fs.fdatasync(this.fd, () => { this.syncing = undefined; resolve(); }); });
  }
  async settled(): Promise<void> { await this.syncing; }

  write(chunk: Uint8Array): void {
    this.hash?.update(chunk);
    this.written += chunk.length;
    if (this.expected.size !== undefined && this.written > this.expected.size) {
      throw new BerthError('InvalidArgument', `blob ${this.expected.digest ?? ''}: more than the expected ${this.expected.size} bytes`);
    }
    if (this.adopt) return;
    let off = 0;
    while (off < chunk.length) off += fs.writeSync(this.fd, chunk, off);
  }

  /** What is wrong with the bytes so far against the expected digest and size, if anything. */
  mismatch(): string | undefined {
    if (!this.hash) return undefined; // hashed aside: commit verifies
    const digest = 'sha256:' + this.hash.copy().digest('hex');
    if (this.expected.size !== undefined && this.written !== this.expected.size) return `blob ${this.expected.digest ?? digest}: size ${this.written} does not match the expected ${this.expected.size}`;
    if (this.expected.digest !== undefined && digest !== this.expected.digest) return `blob digest mismatch: expected ${this.expected.digest}, got ${digest}`;
    return undefined;
  }

  /**
   * Verifies and publishes the blob; returns its digest. On a mismatch the temp file is removed.
   * `aside`: the temp file's digest, after hashAside().
   */
  commit(aside?: string): string {
    if (this.done) throw new BerthError('Internal', 'writer already closed');
    if (!this.hash && aside === undefined) throw new BerthError('Internal', 'a blob hashed aside needs its digest to commit');
    this.done = true;
    const digest = this.hash ? 'sha256:' + this.hash.digest('hex') : aside!;
    try {
      if (this.expected.size !== undefined && this.written !== this.expected.size) {
        throw new BerthError('InvalidArgument', `blob ${this.expected.digest ?? digest}: size ${this.written} does not match the expected ${this.expected.size}`);
      }
      if (this.expected.digest !== undefined && digest !== this.expected.digest) {
        throw new BerthError('InvalidArgument', `blob digest mismatch: expected ${this.expected.digest}, got ${digest}`);
      }
      if (!this.adopt) fs.fsyncSync(this.fd);
    } catch (e) {
      this.cleanup();
      throw e;
    }
    fs.closeSync(this.fd);
    if (this.adopt) { this.store.linkIn(this.adopt, digest); return digest; }
    const final = this.store.path(digest);
    try {
      fs.renameSync(this.tmp, final);
    } catch (e) {
      fs.rmSync(this.tmp, { force: true });
      throw e;
    }
    fsyncDir(path.dirname(final));
    return digest;
  }

  abort(): void {
    if (this.done) return;
    this.done = true;
    // the name goes at once: a failed pull leaves no ingest file once it has failed (the rm waited for a
    // startSync in flight, and the store's state right after the error could still show it under load);
    // the fd stays open until that sync returns
    if (!this.adopt) fs.rmSync(this.tmp, { force: true });
    const close = () => { try { fs.closeSync(this.fd); } catch { /* already closed */ } };
    if (this.syncing) void this.syncing.then(close); else close();
  }

  private cleanup(): void {
    try { fs.closeSync(this.fd); } catch { /* already closed */ }
    if (!this.adopt) fs.rmSync(this.tmp, { force: true });
  }
}

export class ContentStore {
  readonly blobs: string;
  readonly ingestDir: string;
  constructor(readonly root: string) {
    this.blobs = path.join(root, 'content', 'blobs', 'sha256');
    this.ingestDir = path.join(root, 'content', 'ingest');
    privateDir(path.join(root, 'content'));
    fs.mkdirSync(this.blobs, { recursive: true });
    fs.mkdirSync(this.ingestDir, { recursive: true });
    this.removeOrphans();
  }

  /**
   * Removes ingest files whose writer is gone: a pull or load cut off by a crash or a kill. A temp
   * file is named after its writer's pid and start time, so one a live process is writing (the daemon
   * while a `berth image` command opens the store, or another store in this process) is kept.
   */
  removeOrphans(): number {
    let n = 0;
    for (const name of fs.readdirSync(this.ingestDir)) {
      if (ownerAlive(name)) continue;
      fs.rmSync(path.join(this.ingestDir, name), { force: true });
      n++;
    }
    return n;
  }

  path(digest: string): string {
    return path.join(this.blobs, hexOf(digest));
  }

  has(digest: string): boolean {
    return fs.existsSync(this.path(digest));
  }

  /** Size of a blob, or undefined when absent. */
  size(digest: string): number | undefined {
    try { return fs.statSync(this.path(digest)).size; } catch (e) { if (errnoCode(e) === 'ENOENT') return undefined; throw e; }
  }

  read(digest: string): Buffer {
    try { return fs.readFileSync(this.path(digest)); } catch (e) {
      if (errnoCode(e) === 'ENOENT') throw new BerthError('NotFound', `content ${digest}: not found`);
      throw e;
    }
  }

  readStream(digest: string, start = 0): fs.ReadStream {
    if (!this.has(digest)) throw new BerthError('NotFound', `content ${digest}: not found`);
    return fs.createReadStream(this.path(digest), { start, highWaterMark: 1 << 20 });
  }

  writer(expected: Expected = {}, adopt?: string): Writer {
    if (expected.digest) checkDigest(expected.digest);
    const tmp = path.join(this.ingestDir, `${OWNER}.${randomBytes(8).toString('hex')}.tmp`);
    return new Writer(this, tmp, expected, adopt);
  }

  /** Streams a whole source into the store, verifying as it goes. */
  async ingest(src: AsyncIterable<Uint8Array> | Readable, expected: Expected = {}): Promise<string> {
    if (expected.digest && this.has(expected.digest)) {
      // drain nothing: the caller may not have started the source; an existing blob is already verified
      if (src instanceof Readable) src.destroy();
      return expected.digest;
    }
    const w = this.writer(expected);
    try {
      for await (const chunk of src) w.write(chunk as Uint8Array);
      return w.commit();
    } catch (e) {
      w.abort();
      throw e;
    }
  }

  /**
   * Publishes file (on the store's filesystem; its bytes hash to digest, which the caller computed while
   * writing it) as that blob: a link, not a copy. The file stays where it is (an archive may name it
   * again); an existing blob is as good. True if the blob is new.
   */
  linkIn(file: string, digest: string): boolean {
    checkDigest(digest);
    fs.chmodSync(file, 0o644);
    fsyncFile(file);
    const final = this.path(digest);
    try { fs.linkSync(file, final); } catch (e) {
      if (errnoCode(e) === 'EEXIST') return false;
      if (errnoCode(e) !== 'EXDEV') throw e;
      const tmp = path.join(this.ingestDir, `${OWNER}.${randomBytes(8).toString('hex')}.tmp`);
      try { fs.copyFileSync(file, tmp); fsyncFile(tmp); fs.renameSync(tmp, final); } catch (e2) { fs.rmSync(tmp, { force: true }); throw e2; }
    }
    fsyncDir(path.dirname(final));
    return true;
  }

  writeBlob(data: string | Uint8Array, expectedDigest?: string): string {
    const buf = typeof data === 'string' ? Buffer.from(data) : data;
    const w = this.writer({ digest: expectedDigest, size: expectedDigest ? buf.length : undefined });
    try { w.write(buf); return w.commit(); } catch (e) { w.abort(); throw e; }
  }

  /** Deletes one blob; true if it was there. */
  remove(digest: string): boolean {
    try { fs.rmSync(this.path(digest)); return true; } catch (e) { if (errnoCode(e) === 'ENOENT') return false; throw e; }
  }

  list(): string[] {
    return fs.readdirSync(this.blobs).filter((n) => /^[a-f0-9]{64}$/.test(n)).map((n) => `sha256:${n}`);
  }

  /** Removes every blob not in keep, and stale ingest files; returns bytes freed. */
  gc(keep: Set<string>): { removed: string[]; bytes: number } {
    const removed: string[] = [];
    let bytes = 0;
    for (const d of this.list()) {
      if (keep.has(d)) continue;
      const p = this.path(d);
      try { bytes += fs.statSync(p).size; fs.rmSync(p); removed.push(d); } catch (e) { if (errnoCode(e) !== 'ENOENT') throw e; }
    }
    this.removeOrphans();
    return { removed, bytes };
  }
}

function fsyncFile(file: string): void {
  const fd = fs.openSync(file, 'r');
  try { fs.fsyncSync(fd); } finally { fs.closeSync(fd); }
}
