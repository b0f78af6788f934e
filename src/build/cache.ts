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
  private entries: Record<string, string>;

  constructor(root: string) {
    const dir = path.join(root, 'builder');
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.file = path.join(dir, 'cache.json');
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

  /** Drops entries whose image is gone; returns how many were dropped (build prune). */
  prune(exists: (id: string) => boolean, all = false): number {
    const before = Object.keys(this.entries).length;
    this.entries = all ? {} : Object.fromEntries(Object.entries(this.entries).filter(([, id]) => exists(id)));
    writeFileAtomicSync(this.file, JSON.stringify(this.entries), 0o600);
    return before - Object.keys(this.entries).length;
  }
}
