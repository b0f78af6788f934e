// images/store: image records (by config digest) and the references naming them, on disk under
// <root>/images. Every change is one atomic file write made under an exclusive lock file.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { hexOf } from '../content/digest.js';
import { BerthError, errnoCode } from '../errors.js';
import { sleepSync, writeFileAtomicSync } from '../util/fs.js';

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
    fs.mkdirSync(this.db, { recursive: true });
  }

  /** Runs fn holding images/lock; a lock whose holder died is taken over. */
  locked<T>(fn: () => T): T {
    for (let i = 0; ; i++) {
      try {
        fs.writeFileSync(this.lockFile, String(process.pid), { flag: 'wx' });
        break;
      } catch (e) {
        if (errnoCode(e) !== 'EEXIST') throw e;
        const pid = Number(fs.readFileSync(this.lockFile, { encoding: 'utf8', flag: 'r' }) || 0);
        if (pid && !alive(pid)) { fs.rmSync(this.lockFile, { force: true }); continue; }
        if (i > 500) throw new BerthError('Unavailable', `image store is locked by process ${pid}`);
        sleepSync(10);
      }
    }
    try { return fn(); } finally { fs.rmSync(this.lockFile, { force: true }); }
  }

  refs(): Record<string, string> {
    try { return JSON.parse(fs.readFileSync(this.refsFile, 'utf8')) as Record<string, string>; } catch (e) {
      if (errnoCode(e) === 'ENOENT') return {};
      throw e;
    }
  }

  /** Applies edits to the reference map atomically; value undefined deletes. */
  setRefs(edits: Record<string, string | undefined>): void {
    this.locked(() => {
      const refs = this.refs();
      for (const [k, v] of Object.entries(edits)) { if (v === undefined) delete refs[k]; else refs[k] = v; }
      writeFileAtomicSync(this.refsFile, JSON.stringify(refs, null, 1));
    });
  }

  get(id: string): ImageRecord | undefined {
    try { return JSON.parse(fs.readFileSync(path.join(this.db, `${hexOf(id)}.json`), 'utf8')) as ImageRecord; } catch (e) {
      if (errnoCode(e) === 'ENOENT') return undefined;
      throw e;
    }
  }

  /** Adds or merges a record (new manifests, indexes and repos are unioned in). */
  put(rec: ImageRecord): ImageRecord {
    return this.locked(() => {
      const old = this.get(rec.id);
      const merged = old ? { ...old, manifests: mergeRefs(old.manifests, rec.manifests), indexes: mergeRefs(old.indexes, rec.indexes), lastTagTime: rec.lastTagTime ?? old.lastTagTime } : rec;
      writeFileAtomicSync(path.join(this.db, `${hexOf(rec.id)}.json`), JSON.stringify(merged));
      return merged;
    });
  }

  delete(id: string): void {
    this.locked(() => fs.rmSync(path.join(this.db, `${hexOf(id)}.json`), { force: true }));
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

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (e) { return errnoCode(e) === 'EPERM'; }
}
