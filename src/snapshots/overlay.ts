// snapshots/overlay: one directory per layer, keyed by chain ID and shared by every image, plus
// active (writable) snapshots whose Mount[] stacks the layers under a fresh upper. Returns mounts; never mounts.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { hexOf } from '../content/digest.js';
import { BerthError, errnoCode } from '../errors.js';
import { runHostOps } from '../runtime/sync.js';
import { fsyncDir, writeFileAtomic, writeFileAtomicSync } from '../util/fs.js';
import { trace } from '../util/trace.js';
import { privateDir } from '../util/dirs.js';
import { decompress } from './decompress.js';
import type { Mount } from './mount.js';
import { applyLayer, type UnpackOptions, type UnpackResult } from './unpack.js';
import { isoTime } from '../util/time.js';
import { ownDir, ownerAlive } from '../util/owner.js';

export interface SnapshotInfo {
  kind: 'layer' | 'active' | 'view';
  /** chain ID for layers, the caller's key otherwise */
  name: string;
  parent?: string;
  diffId?: string;
  /** bytes of file content */
  size: number;
  /** length of the uncompressed layer tar (docker-archive headers need it before the data) */
  tarSize?: number;
  created: string;
  /** set by unpack when another writer had already published the same layer */
  existed?: boolean;
}

/** A layer tree written into a temp dir, not yet named (Snapshotter.stage). */
export interface StagedLayer { tmp: string; result: UnpackResult }

// chattr +T (linux/fs.h FS_TOPDIR_FL): ext2/3/4's Orlov allocator places each new directory under
// .tmp in a block group of its own, as it does for top-level directories. Without it a tree goes near
// .tmp's group, where the tree just removed (rmi, then pull/load) left thousands of inodes that ext4
// without a journal skips for 60-300 s (ialloc.c recently_deleted), scanning them on every create: a
// 200 MB layer's 6,800 creates then cost ~10x (profile: 35-40 % of a load's CPU in that scan).
const FS_TOPDIR_FL = 0x20000;

const KEY_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;

export class Snapshotter {
  readonly dir: string;
  private readonly tmpDir: string;
  private spread: Promise<void> | undefined;

  constructor(readonly root: string) {
    this.dir = path.join(root, 'snapshots');
    // staging of this process's own (see gc): the daemon and a `berth store load` may stage layers at once
    privateDir(this.dir, 0o710);
    this.tmpDir = ownDir(path.join(this.dir, '.tmp'));
  }

  private pathOf(name: string): string {
    if (name.startsWith('sha256:')) return path.join(this.dir, hexOf(name));
    if (!KEY_RE.test(name) || /^[a-f0-9]{64}$/.test(name)) throw new BerthError('InvalidArgument', `invalid snapshot key ${JSON.stringify(name)}`);
    return path.join(this.dir, name);
  }

  /** The directory holding a layer's files. */
  fsPath(name: string): string { return path.join(this.pathOf(name), 'fs'); }

  has(name: string): boolean { return fs.existsSync(path.join(this.pathOf(name), 'meta.json')); }

  stat(name: string): SnapshotInfo {
    try { return JSON.parse(fs.readFileSync(path.join(this.pathOf(name), 'meta.json'), 'utf8')) as SnapshotInfo; } catch (e) {
      if (errnoCode(e) === 'ENOENT') throw new BerthError('NotFound', `snapshot ${name}: not found`);
      throw e;
    }
  }

  /**
   * Unpacks a (possibly compressed) layer stream as layer `chainId` on top of `parent`. The tree is
   * built in a temp dir and renamed into place only when complete and its diffID matches.
   */
  async unpack(chainId: string | ((diffId: string) => string), parent: string | undefined, src: AsyncIterable<Uint8Array>, expectDiffId?: string, opts: UnpackOptions & { beforePublish?: () => Promise<void> } = {}): Promise<SnapshotInfo> {
    return this.build(chainId, parent, async (dir) => {
      // on a worker thread unless the caller watches the bytes (only a thread of its own can call back)
      const r = opts.onBytes || opts.chown !== undefined ? await applyLayer(decompress(src), dir, opts)
        : await (await import('./unpack-worker.js')).applyLayerInWorker(src, dir);
      trace(`snapshots: layer tree written (${r.tarSize} tar bytes, ${r.entries} entries)`);
      if (expectDiffId && r.diffId !== expectDiffId) {
        throw new BerthError('InvalidArgument', `layer ${chainId}: content digest ${r.diffId} does not match the diff ID ${expectDiffId}`);
      }
      await opts.beforePublish?.();
      trace('snapshots: layer before-publish done');
      return r;
    });
  }

  /**
   * Layer `chainId` on top of `parent`, its tree written by `fill` into an empty temp dir and renamed
   * into place only once fill returned (with the layer's diffID); on any error nothing is left.
   */
  async build(chainId: string | ((diffId: string) => string), parent: string | undefined, fill: (dir: string) => Promise<UnpackResult>): Promise<SnapshotInfo> {
    const staged = await this.stage(fill);
    return this.publish(staged, typeof chainId === 'function' ? chainId(staged.result.diffId) : chainId, parent);
  }

  /**
   * A layer's tree written by `fill` into a temp dir of its own, before its chain ID and parent are known
   * (a load unpacks a layer while the archive streams in; its manifest comes last). A layer's tree does
   * not depend on its parent. publish() or discard() it; on a fill error nothing is left.
   */
  async stage(fill: (dir: string) => Promise<UnpackResult>): Promise<StagedLayer> {
    await this.spreadTrees();
    const tmp = path.join(this.tmpDir, `layer-${randomBytes(8).toString('hex')}`);
    fs.mkdirSync(path.join(tmp, 'fs'), { recursive: true });
    try {
      return { tmp, result: await fill(path.join(tmp, 'fs')) };
    } catch (e) {
      await rmTree(tmp);
      throw e;
    }
  }

  /**
   * Marks this process's staging directory as a top of directory hierarchies (FS_TOPDIR_FL) once, before the first tree is
   * made in it. A placement hint: a filesystem without inode flags, or a failure, changes nothing else.
   */
  private spreadTrees(): Promise<void> {
    this.spread ??= process.getuid?.() !== 0 ? Promise.resolve()
      : runHostOps([{ op: 'FSFLAGS', args: { optional: 1, flags: FS_TOPDIR_FL, path: this.tmpDir } }])
        .catch((e: Error) => trace(`snapshots: ${this.tmpDir} not marked as a top directory: ${e.message}`));
    return this.spread;
  }

  /** Renames a staged tree into place as layer `chainId` on `parent`. */
  async publish(staged: StagedLayer, chainId: string, parent: string | undefined): Promise<SnapshotInfo> {
    const { tmp, result: r } = staged;
    try {
      // the same layer is there already (a commit of an unchanged container, a second pull of it): it was
      // made durable when it was published, and this tree, thrown away, needs no syncfs
      if (this.has(chainId)) {
        await rmTree(tmp);
        trace(`snapshots: layer ${chainId} there already, staged tree removed`);
        return { ...this.stat(chainId), existed: true };
      }
      // the tree's files were written without an fsync each: one syncfs makes them durable before meta.json
      // marks the layer complete (a power cut must not leave a published layer of empty files), unless the
      // fill knows how to with fsyncs of its own (a layer berth writes itself)
      if (r.makeDurable) await r.makeDurable();
      else await runHostOps([{ op: 'SYNCFS', args: { path: tmp } }]);
      trace(`snapshots: layer tree synced (${r.makeDurable ? 'fsync per inode' : 'syncfs'})`);
      const final = this.pathOf(chainId);
      const info: SnapshotInfo = { kind: 'layer', name: chainId, parent, diffId: r.diffId, size: r.size, tarSize: r.tarSize, created: isoTime() };
      writeFileAtomicSync(path.join(tmp, 'meta.json'), JSON.stringify(info));
      try {
        fs.renameSync(tmp, final);
      } catch (e) {
        // another pull unpacked the same layer first: theirs is as good as ours
        if ((errnoCode(e) === 'ENOTEMPTY' || errnoCode(e) === 'EEXIST') && this.has(chainId)) { await rmTree(tmp); return { ...this.stat(chainId), existed: true }; }
        throw e;
      }
      fsyncDir(this.dir);
      trace(`snapshots: layer ${chainId} published`);
      return info;
    } catch (e) {
      await rmTree(tmp);
      throw e;
    }
  }

  async discard(staged: StagedLayer): Promise<void> { await rmTree(staged.tmp); }

  /** Layer directories from `chainId` down to the base, topmost first (overlay's lowerdir order). */
  lowers(chainId: string): string[] {
    const out: string[] = [];
    let cur: string | undefined = chainId;
    while (cur) {
      const info = this.stat(cur);
      out.push(this.fsPath(cur));
      cur = info.parent;
      if (out.length > 500) throw new BerthError('Internal', `snapshot ${chainId}: parent chain too long`);
    }
    return out;
  }

  /** A writable snapshot `key` over `parent` (a layer chain ID or none). */
  prepare(key: string, parent?: string): Promise<Mount[]> {
    return this.create('active', key, parent);
  }

  /** A read-only snapshot `key` over `parent`. */
  view(key: string, parent: string): Promise<Mount[]> {
    return this.create('view', key, parent);
  }

  // async: its fsyncs must not stop the daemon's other requests (util/fs writeFileAtomic); the mkdirs
  // and the rename are one metadata call each, cheaper done here than as libuv thread round trips
  private async create(kind: 'active' | 'view', key: string, parent?: string): Promise<Mount[]> {
    if (key.startsWith('sha256:')) throw new BerthError('InvalidArgument', `snapshot key ${key} is reserved for layers`);
    const final = this.pathOf(key);
    if (fs.existsSync(final)) throw new BerthError('Conflict', `snapshot ${key}: already exists`);
    const lowers = parent ? this.lowers(parent) : []; // fails early when a layer is missing
    const tmp = path.join(this.tmpDir, `${key}-${randomBytes(6).toString('hex')}`);
    fs.mkdirSync(path.join(tmp, 'fs'), { recursive: true, mode: 0o755 });
    fs.mkdirSync(path.join(tmp, 'work'), { mode: 0o700 });
    const info: SnapshotInfo = { kind, name: key, parent, size: 0, created: isoTime() };
    await writeFileAtomic(path.join(tmp, 'meta.json'), JSON.stringify(info));
    try { fs.renameSync(tmp, final); } catch (e) { await fs.promises.rm(tmp, { recursive: true, force: true }); throw new BerthError('Conflict', `snapshot ${key}: already exists`, { cause: e }); }
    // from what was just written and read: reading both metas back cost a create 8 syscalls (issue 13)
    return this.mountsOf(key, info, lowers);
  }

  /** The mounts of an existing active or view snapshot. */
  mounts(key: string): Mount[] {
    const info = this.stat(key);
    return this.mountsOf(key, info, info.parent ? this.lowers(info.parent) : []);
  }

  private mountsOf(key: string, info: SnapshotInfo, lowers: string[]): Mount[] {
    const upper = this.fsPath(key);
    if (info.kind === 'view') {
      // a view is berth's own look at layers on the host (diff, export, copy): nothing runs from it
      const opts = ['ro', 'nosuid', 'nodev'];
      if (lowers.length === 1) return [{ type: 'bind', source: lowers[0]!, options: [...opts, 'rbind'] }];
      if (lowers.length === 0) return [{ type: 'bind', source: upper, options: [...opts, 'rbind'] }];
      return [{ type: 'overlay', source: 'overlay', options: [...opts, `lowerdir=${lowers.join(':')}`] }];
    }
    // An active snapshot becomes a container's root: it keeps suid and dev, as setuid programs and
    // device nodes inside a container work under docker. The host side is guarded by the 0710 roots.
    if (lowers.length === 0) return [{ type: 'bind', source: upper, options: ['rw', 'rbind'] }];
    // mount(2) data is one page: ~40 layers of /var/lib/berth paths fit (docker shortens with l/ links)
    return [{ type: 'overlay', source: 'overlay', options: [`lowerdir=${lowers.join(':')}`, `upperdir=${upper}`, `workdir=${path.join(this.pathOf(key), 'work')}`, 'index=off'] }];
  }

  list(): SnapshotInfo[] {
    const out: SnapshotInfo[] = [];
    for (const n of fs.readdirSync(this.dir)) {
      if (n.startsWith('.')) continue;
      try { out.push(JSON.parse(fs.readFileSync(path.join(this.dir, n, 'meta.json'), 'utf8')) as SnapshotInfo); } catch { /* not a snapshot */ }
    }
    return out;
  }

  /** Removes a snapshot no other snapshot builds on. The caller must have unmounted it. */
  async remove(name: string): Promise<void> {
    const p = this.pathOf(name);
    if (!fs.existsSync(p)) throw new BerthError('NotFound', `snapshot ${name}: not found`);
    const child = this.list().find((s) => s.parent === name);
    if (child) throw new BerthError('Conflict', `snapshot ${name}: ${child.name} is built on it`);
    // rename first so a crash mid-delete never leaves a half layer under a valid name
    const trash = path.join(this.tmpDir, `rm-${path.basename(p)}-${randomBytes(4).toString('hex')}`);
    fs.renameSync(p, trash);
    await rmTree(trash);
  }

  /** Removes layers outside keep that nothing builds on, repeating up the chains; returns bytes freed. */
  async gc(keep: Set<string>): Promise<{ removed: string[]; bytes: number }> {
    const removed: string[] = [];
    let bytes = 0;
    for (;;) {
      const all = this.list();
      const parents = new Set(all.map((s) => s.parent).filter(Boolean));
      const victims = all.filter((s) => s.kind === 'layer' && !keep.has(s.name) && !parents.has(s.name));
      if (victims.length === 0) break;
      for (const v of victims) { await this.remove(v.name); removed.push(v.name); bytes += v.size; }
    }
    // staged layers and trash of processes that are gone; a live one's (this one's pull or load under way,
    // another process's) stay: removing them under it broke its unpack
    const tmp = path.dirname(this.tmpDir);
    for (const n of fs.readdirSync(tmp)) if (!ownerAlive(n)) await rmTree(path.join(tmp, n));
    return { removed, bytes };
  }
}

export async function rmTree(p: string): Promise<void> {
  await fs.promises.rm(p, { recursive: true, force: true, maxRetries: 2 });
}
