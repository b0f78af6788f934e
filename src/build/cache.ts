// build/cache: the classic builder's step cache (moby builder/dockerfile/imageprobe.go, but keyed
// explicitly): a step is reused when its parent image, its instruction and — for COPY/ADD — the
// checksums of what it copies are the same. Persisted as one JSON file under the data root, written
// atomically, so it survives a daemon restart; an entry whose image is gone is a miss.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { sha256 } from '../content/digest.js';
import { writeFileAtomicSync } from '../util/fs.js';

export class BuildCache {
  private readonly file: string;
  /** RUN --mount=type=cache directories, one per id */
  private readonly mounts: string;
  private entries: Record<string, string>;

  constructor(root: string) {
    const dir = path.join(root, 'builder');
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.file = path.join(dir, 'cache.json');
    this.mounts = path.join(dir, 'mounts');
    try { this.entries = JSON.parse(fs.readFileSync(this.file, 'utf8')) as Record<string, string>; } catch { this.entries = {}; }
  }

  static key(parent: string, instruction: string, sources = ''): string {
    return sha256(Buffer.from(JSON.stringify([parent, instruction, sources])));
  }

  /** The cached image for key, if it still exists. */
  get(key: string, exists: (id: string) => boolean): string | undefined {
    const id = this.entries[key];
    return id && exists(id) ? id : undefined;
  }

  put(key: string, id: string): void {
    this.entries[key] = id;
    writeFileAtomicSync(this.file, JSON.stringify(this.entries), 0o600);
  }

  /** The directory of a cache mount (created with its mode and owner the first time; later builds find it as left). */
  mountDir(id: string, o: { mode: number; uid: number; gid: number }): string {
    const dir = path.join(this.mounts, sha256(Buffer.from(id)).replace(/^sha256:/, ''));
    if (!fs.existsSync(dir)) {
      fs.mkdirSync(this.mounts, { recursive: true, mode: 0o700 });
      const tmp = fs.mkdtempSync(`${dir}.tmp-`);
      fs.chmodSync(tmp, o.mode);
      fs.chownSync(tmp, o.uid, o.gid);
      fs.renameSync(tmp, dir);
    }
    return dir;
  }

  /** Drops entries whose image is gone; returns how many were dropped (build prune). */
  prune(exists: (id: string) => boolean, all = false): number {
    const before = Object.keys(this.entries).length;
    this.entries = all ? {} : Object.fromEntries(Object.entries(this.entries).filter(([, id]) => exists(id)));
    writeFileAtomicSync(this.file, JSON.stringify(this.entries), 0o600);
    return before - Object.keys(this.entries).length;
  }
}
