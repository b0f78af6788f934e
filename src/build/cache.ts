// build/cache: the classic builder's step cache (moby builder/dockerfile/imageprobe.go, but keyed
// explicitly): a step is reused when its parent image, its instruction and — for COPY/ADD — the
// checksums of what it copies are the same. Persisted as one JSON file under the data root, replaced
// atomically at the end of each build (not per step, and without fsync: a cache lost to a crash or a power
// cut only costs a rebuild), so it survives a daemon restart; an entry whose image is gone is a miss. It also owns the
// directories of RUN --mount=type=cache, which outlive builds until `builder prune`.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { sha256 } from '../content/digest.js';
import { replaceFileSync } from '../util/fs.js';
import { treeSize } from '../containers/changes-diff.js';
import { isoTime } from '../util/time.js';

interface Entry { id: string; desc: string; created: string; lastUsed: string; uses: number }

/** docker's types.BuildCache (GET /system/df, POST /build/prune's view of an entry) */
export interface BuildCacheRecord {
  ID: string; Parents: string[] | null; Type: string; Description: string; InUse: boolean; Shared: boolean;
  Size: number; CreatedAt: string; LastUsedAt: string; UsageCount: number;
}

export class BuildCache {
  private readonly file: string;
  /** RUN --mount=type=cache directories, one per id */
  private readonly mounts: string;
  private entries: Record<string, Entry>;

  constructor(root: string) {
    const dir = path.join(root, 'builder');
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.file = path.join(dir, 'cache.json');
    this.mounts = path.join(dir, 'mounts');
    let raw: Record<string, Entry | string> = {};
    try { raw = JSON.parse(fs.readFileSync(this.file, 'utf8')) as Record<string, Entry | string>; } catch { /* none yet */ }
    // entries written before descriptions were kept are bare image ids
    const old = new Date(0).toISOString();
    this.entries = Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, typeof v === 'string' ? { id: v, desc: '', created: old, lastUsed: old, uses: 0 } : v]));
  }

  static key(parent: string, instruction: string, sources = ''): string {
    return sha256(Buffer.from(JSON.stringify([parent, instruction, sources])));
  }

  /** The cached image for key, if it still exists. */
  get(key: string, exists: (id: string) => boolean): string | undefined {
    const e = this.entries[key];
    if (!e || !exists(e.id)) return undefined;
    // usage is bookkeeping for df and prune: written with the next put or flush, not with an fsync per hit
    e.lastUsed = isoTime();
    e.uses++;
    this.dirty = true;
    return e.id;
  }

  /** Records a step's image; written with the next flush (the end of the build). */
  put(key: string, id: string, desc = ''): void {
    const now = isoTime();
    this.entries[key] = { id, desc, created: now, lastUsed: now, uses: 1 };
    this.dirty = true;
  }

  private dirty = false;

  private save(): void { replaceFileSync(this.file, JSON.stringify(this.entries), 0o600); this.dirty = false; }

  /** Writes pending entries and usage records (the end of a build). */
  flush(): void { if (this.dirty) this.save(); }

  /** The directory of a cache mount (created with its mode and owner the first time; later builds find it as left). */
  mountDir(id: string, o: { mode: number; uid: number; gid: number }): string {
    const dir = path.join(this.mounts, sha256(Buffer.from(id)).replace(/^sha256:/, ''));
    if (!fs.existsSync(dir)) {
      fs.mkdirSync(this.mounts, { recursive: true, mode: 0o700 });
      const tmp = fs.mkdtempSync(`${dir}.tmp-`);
      fs.chmodSync(tmp, o.mode);
      fs.chownSync(tmp, o.uid, o.gid);
      fs.writeFileSync(path.join(this.mounts, `${path.basename(dir)}.id`), id);
      fs.renameSync(tmp, dir);
    }
    return dir;
  }

  /** Every entry as docker reports build cache: the step records (their layers are the images') and the cache mounts with their size. */
  records(exists: (id: string) => boolean): BuildCacheRecord[] {
    const out: BuildCacheRecord[] = [];
    for (const [k, e] of Object.entries(this.entries)) {
      if (!exists(e.id)) continue;
      out.push({ ID: k.replace(/^sha256:/, '').slice(0, 25), Parents: null, Type: 'regular', Description: e.desc || e.id, InUse: false, Shared: true,
        Size: 0, CreatedAt: e.created, LastUsedAt: e.lastUsed, UsageCount: e.uses });
    }
    for (const name of this.mountNames()) {
      const dir = path.join(this.mounts, name);
      const st = fs.statSync(dir);
      let id = name;
      try { id = fs.readFileSync(`${dir}.id`, 'utf8'); } catch { /* an id file lost: the hash names it */ }
      out.push({ ID: name.slice(0, 25), Parents: null, Type: 'exec.cachemount', Description: `cached mount ${id}`, InUse: false, Shared: false,
        Size: treeSize(dir), CreatedAt: st.birthtime.toISOString(), LastUsedAt: st.mtime.toISOString(), UsageCount: 1 });
    }
    return out;
  }

  private mountNames(): string[] {
    try { return fs.readdirSync(this.mounts).filter((n) => /^[0-9a-f]{64}$/.test(n)); } catch { return []; }
  }

  /**
   * builder prune: drops the step records and the cache mounts last used before `until` (all of them
   * without it); returns what went and the bytes the mounts held. The step images stay: they are images.
   */
  prune(exists: (id: string) => boolean, until?: number): { deleted: string[]; reclaimed: number } {
    const deleted: string[] = [];
    let reclaimed = 0;
    const old = (iso: string) => until === undefined || Date.parse(iso) < until;
    for (const r of this.records(exists)) {
      if (!old(r.LastUsedAt)) continue;
      deleted.push(r.ID);
      reclaimed += r.Size;
    }
    this.entries = Object.fromEntries(Object.entries(this.entries).filter(([, e]) => exists(e.id) && !old(e.lastUsed)));
    this.save();
    for (const name of this.mountNames()) {
      const dir = path.join(this.mounts, name);
      if (!old(fs.statSync(dir).mtime.toISOString())) continue;
      fs.rmSync(`${dir}.id`, { force: true });
      fs.rmSync(dir, { recursive: true, force: true });
    }
    return { deleted, reclaimed };
  }
}
