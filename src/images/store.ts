// images/store: image records (by config digest) and the references naming them, on disk under
// <root>/images. Every change is one atomic file write made under an exclusive lock file.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { hexOf } from '../content/digest.js';
import { BerthError, errnoCode } from '../errors.js';
import { pidStartTime } from '../runtime/state.js';
import { writeFileAtomicSync } from '../util/fs.js';
import { privateDir } from '../util/dirs.js';

export interface ManifestRef {
  digest: string;
  mediaType: string;
  size: number;
  /** repositories (domain/path) known to hold it: RepoDigests source and cross-repo mount origins */
  repos: string[];
}

export interface ImageRecord {
  /** config digest: Docker's image ID */
  id: string;
  manifests: ManifestRef[];
  /** indexes the image was pulled through, kept so RepoDigests resolve and save can write them */
  indexes: ManifestRef[];
  /** when this engine first stored the image */
  added: string;
  lastTagTime?: string;
  /** the image a build step made this one from (docker's Parent): an untagged image with children is intermediate */
  parent?: string;
  /**
   * Unpacked sizes (bytes of regular files, as a snapshot counts them) of layers stored as a blob alone, by
   * diffID: a commit's layer until first use (images/lazy-layers), so sizes need neither its tree nor its blob.
   */
  layerSizes?: Record<string, number>;
}

export class ImageStore {
  private readonly dir: string;
  private readonly db: string;
  private readonly refsFile: string;
  private readonly lockFile: string;

  constructor(root: string) {
    this.dir = path.join(root, 'images');
    this.db = path.join(this.dir, 'db');
    this.refsFile = path.join(this.dir, 'refs.json');
    this.lockFile = path.join(this.dir, 'lock');
    privateDir(this.dir);
    fs.mkdirSync(this.db, { recursive: true });
    // temp lock files of processes killed between writing and removing them
    for (const n of fs.readdirSync(this.dir)) {
      const m = /^(?:\.lock|lock\.stale)\.(\d+)\./.exec(n);
      if (m && pidStartTime(Number(m[1])) === '') fs.rmSync(path.join(this.dir, n), { force: true });
    }
  }

  /**
   * Runs fn holding images/lock, against other processes (the daemon, `berth image`) and against
   * other calls in this one (queued, so they never poll against themselves). The lock file appears
   * only complete: its content ("pid starttime") is written to a temp file that link(2) puts in place,
   * failing with EEXIST while another holds it, so a full disk (ENOSPC from the write) leaves no lock at
   * all. Not fsynced: a lock outlives a crash only with a dead holder, stale whatever it says, and one
   * that lost its content is taken over as empty.
   * A lock whose holder is gone (dead, a zombie, or a reused pid), or an empty one left by an older
   * berthd, is taken over. Waiting yields to the event loop.
   */
  locked<T>(fn: () => T | Promise<T>): Promise<T> {
    const run = this.queue.then(async () => {
      await this.acquire();
      try { return await fn(); } finally { fs.rmSync(this.lockFile, { force: true }); }
    });
    this.queue = run.then(() => undefined, () => undefined);
    return run;
  }

  private queue: Promise<void> = Promise.resolve();

  private async acquire(): Promise<void> {
    const tmp = path.join(this.dir, `.lock.${process.pid}.${randomBytes(4).toString('hex')}`);
    try {
      writeNew(tmp, `${process.pid} ${pidStartTime(process.pid)}\n`);
    } catch (e) {
      fs.rmSync(tmp, { force: true });
      throw new BerthError('Unavailable', `image store: cannot write its lock: ${(e as Error).message}`, { cause: e });
    }
    try {
      for (let i = 0; ; i++) {
        try { fs.linkSync(tmp, this.lockFile); return; } catch (e) { if (errnoCode(e) !== 'EEXIST') throw e; }
        const holder = readHolder(this.lockFile);
        if (holder && holder.stale) { takeOver(this.lockFile, holder.ino); continue; }
        // ~9 s in all, at most 100 ms apart: the lock is held for one small file write
        if (i > 100) throw new BerthError('Unavailable', `image store is locked by process ${holder?.pid ?? 0}`);
        await new Promise((r) => setTimeout(r, Math.min(100, 5 + i * 5)));
      }
    } finally {
      fs.rmSync(tmp, { force: true });
    }
  }

  refs(): Record<string, string> {
    try { return JSON.parse(fs.readFileSync(this.refsFile, 'utf8')) as Record<string, string>; } catch (e) {
      if (errnoCode(e) === 'ENOENT') return {};
      throw e;
    }
  }

  /** Applies edits to the reference map atomically; value undefined deletes. */
  setRefs(edits: Record<string, string | undefined>): Promise<void> {
    return this.locked(() => {
      const refs = this.refs();
      for (const [k, v] of Object.entries(edits)) { if (v === undefined) delete refs[k]; else refs[k] = v; }
      writeFileAtomicSync(this.refsFile, JSON.stringify(refs, null, 1));
    });
  }

  /**
   * Points refs at id and, given a time, stamps the image's lastTagTime: one locked change (a tag
   * needs both); a map that already holds every ref is not rewritten.
   */
  tag(id: string, refs: string[], lastTagTime?: string): Promise<void> {
    return this.locked(() => {
      const map = this.refs();
      const changed = refs.filter((r) => map[r] !== id);
      for (const r of changed) map[r] = id;
      if (changed.length) writeFileAtomicSync(this.refsFile, JSON.stringify(map, null, 1));
      if (lastTagTime !== undefined && fs.existsSync(path.join(this.db, `${hexOf(id)}.json`))) stampFile(this.tagTimeFile(id), lastTagTime);
    });
  }

  /**
   * lastTagTime lives beside the record, in <hex>.tagged: a rebuild that tags the same image again (every
   * fully cached `docker build -t`) then writes 24 bytes in place instead of the record with an fsync.
   */
  private tagTimeFile(id: string): string { return path.join(this.db, `${hexOf(id)}.tagged`); }

  /** Whether a record for `id` is here, without reading it (one access call). */
  has(id: string): boolean {
    return fs.existsSync(path.join(this.db, `${hexOf(id)}.json`));
  }

  get(id: string): ImageRecord | undefined {
    let rec: ImageRecord;
    try { rec = JSON.parse(fs.readFileSync(path.join(this.db, `${hexOf(id)}.json`), 'utf8')) as ImageRecord; } catch (e) {
      if (errnoCode(e) === 'ENOENT') return undefined;
      throw e;
    }
    let stamp = '';
    const stampPath = this.tagTimeFile(id);
    // existsSync first: most records (step images) have no stamp, and a failed read costs an exception.
    // Not cached: another process (`berth image tag` on the same root) may stamp it, and the check is small
    // (measured, 500 images: list() 8-20 ms, the 500 existsSync of it 0.8-1 ms; the record reads are the rest)
    if (fs.existsSync(stampPath)) { try { stamp = fs.readFileSync(stampPath, 'latin1'); } catch { /* removed meanwhile */ } }
    // records written before kept the time themselves: the later one wins
    if (/^\d{4}-\d\d-\d\dT[\d:.]+Z$/.test(stamp) && !(rec.lastTagTime && rec.lastTagTime >= stamp)) rec.lastTagTime = stamp;
    return rec;
  }

  /** Adds or merges a record (new manifests, indexes and repos are unioned in). */
  put(rec: ImageRecord): Promise<ImageRecord> {
    return this.locked(() => {
      const old = this.get(rec.id);
      const merged = old ? { ...old, manifests: mergeRefs(old.manifests, rec.manifests), indexes: mergeRefs(old.indexes, rec.indexes), lastTagTime: rec.lastTagTime ?? old.lastTagTime, parent: rec.parent ?? old.parent, ...(old.layerSizes || rec.layerSizes ? { layerSizes: { ...rec.layerSizes, ...old.layerSizes } } : {}) } : rec;
      writeFileAtomicSync(path.join(this.db, `${hexOf(rec.id)}.json`), JSON.stringify(merged));
      return merged;
    });
  }

  delete(id: string): Promise<void> {
    return this.locked(() => {
      fs.rmSync(path.join(this.db, `${hexOf(id)}.json`), { force: true });
      fs.rmSync(this.tagTimeFile(id), { force: true });
    });
  }

  list(): ImageRecord[] {
    return fs.readdirSync(this.db).filter((n) => /^[a-f0-9]{64}\.json$/.test(n)).map((n) => this.get(`sha256:${n.slice(0, 64)}`)).filter((r): r is ImageRecord => !!r);
  }
}

function mergeRefs(a: ManifestRef[], b: ManifestRef[]): ManifestRef[] {
  const out = a.map((m) => ({ ...m, repos: [...m.repos] }));
  for (const m of b) {
    const hit = out.find((x) => x.digest === m.digest);
    if (hit) hit.repos = [...new Set([...hit.repos, ...m.repos])];
    else out.push(m);
  }
  return out;
}

/**
 * A timestamp written over the old one in place (same length: ISO times are 24 characters), neither temp +
 * rename nor truncate nor fsync: on ext4 a rename over a file or a truncation to zero forces the data out
 * (auto_da_alloc), milliseconds on a busy disk. A crash can leave the old time or an empty file (read as
 * no stamp): a tag time is not worth an fsync, and the record itself is never touched.
 */
function stampFile(file: string, text: string): void {
  const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_NOFOLLOW, 0o644);
  try {
    const n = fs.writeSync(fd, text, 0);
    if (fs.fstatSync(fd).size !== n) fs.ftruncateSync(fd, n);
  } finally { fs.closeSync(fd); }
}

function writeNew(file: string, data: string): void {
  const fd = fs.openSync(file, 'wx', 0o600);
  try { fs.writeSync(fd, data); } finally { fs.closeSync(fd); }
}

interface Holder { pid: number; ino: number; stale: boolean }

/** Who holds the lock file and whether that holder is gone; undefined when the file just went. */
function readHolder(file: string): Holder | undefined {
  let text: string;
  let st: fs.Stats;
  try { st = fs.statSync(file); text = fs.readFileSync(file, 'utf8'); } catch (e) { if (errnoCode(e) === 'ENOENT') return undefined; throw e; }
  const [pidStr, start] = text.trim().split(' ');
  const pid = Number(pidStr) || 0;
  // older berthd wrote the pid alone, after creating the file: empty means it never got to write
  if (pid <= 0) return { pid: 0, ino: st.ino, stale: true };
  const now = pidStartTime(pid);
  return { pid, ino: st.ino, stale: now === '' || (!!start && now !== start) };
}

/**
 * Removes a stale lock file, provided it is still the one judged stale: it is renamed aside first
 * (atomic), and put back if another process replaced it meanwhile.
 */
function takeOver(file: string, ino: number): void {
  const aside = `${file}.stale.${process.pid}.${randomBytes(4).toString('hex')}`;
  try { fs.renameSync(file, aside); } catch (e) { if (errnoCode(e) === 'ENOENT') return; throw e; }
  try {
    if (fs.statSync(aside).ino !== ino) { try { fs.linkSync(aside, file); } catch { /* a third one holds it now */ } }
  } finally {
    fs.rmSync(aside, { force: true });
  }
}
