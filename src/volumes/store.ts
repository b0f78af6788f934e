// volumes/store: named volumes of the `local` driver. Each is <root>/volumes/<name>/_data with its
// metadata beside it in opts.json (written atomically), so a volume and what it was made with survive
// container removal and a berthd kill -9. Users are counted from container records (`inUse`), never in
// memory, so the in-use check holds after a restart.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BerthError, errnoCode } from '../errors.js';
import { privateDir } from '../util/dirs.js';
import { writeFileAtomicSync } from '../util/fs.js';
import { mountPoints } from '../util/mountinfo.js';
import { mountAll, unmount, type Mount } from '../snapshots/mount.js';
import { isoTime } from '../util/time.js';

export interface VolumeMeta {
  name: string;
  driver: 'local';
  createdAt: string;
  labels: Record<string, string>;
  /** made with no Labels at all: moby keeps the map as the request gave it, and answers null for none */
  labelsNull?: boolean;
  /** the local driver's options (type/device/o) */
  options: Record<string, string>;
  /** made for an image VOLUME or `-v /path`: `rm -v` and prune take these */
  anonymous?: boolean;
  /** the image's content was copied in on first mount (docker copies once, into an empty volume) */
  populated?: boolean;
}

export interface Volume extends VolumeMeta { mountpoint: string }

// moby volume/local/local.go validName: [a-zA-Z0-9][a-zA-Z0-9_.-]+
const VALID_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
const LOCAL_OPTS = new Set(['type', 'device', 'o', 'size']);
const MAX_NAME = 200;

/**
 * The local driver's own mount (moby volume/local/local_unix.go): `type`, `device`, `o` as mount(8)
 * takes them; `o=bind` (with type none) binds the device path. Undefined when the volume is a plain directory.
 */
export function localMount(options: Record<string, string>): Mount | undefined {
  if (!options.type && !options.device) return undefined;
  const o = (options.o ?? '').split(',').filter(Boolean);
  const bind = o.includes('bind') || o.includes('rbind');
  return { type: bind ? 'bind' : options.type!, source: options.device ?? options.type!, options: o };
}

export interface VolumeStoreOptions {
  root: string;
  /** ids of the containers whose records use this volume */
  inUse?: (name: string) => string[];
  /** event bus hook: (action, name, attributes) */
  publish?: (action: string, name: string, attrs: Record<string, string>) => void;
}

export class VolumeStore {
  readonly dir: string;
  constructor(private readonly o: VolumeStoreOptions) {
    this.dir = privateDir(path.join(o.root, 'volumes'));
    // a create killed before its metadata was written left a directory without opts.json: not a volume
    for (const n of fs.readdirSync(this.dir)) {
      if (n.startsWith('.')) { fs.rmSync(path.join(this.dir, n), { recursive: true, force: true }); continue; }
      if (!fs.existsSync(path.join(this.dir, n, 'opts.json'))) fs.rmSync(path.join(this.dir, n), { recursive: true, force: true });
    }
  }

  /** Creates a volume; an existing one of that name is returned as it is (docker's create is idempotent). */
  create(req: { name?: string; driver?: string; labels?: Record<string, string> | null; options?: Record<string, string>; anonymous?: boolean } = {}): Volume {
    const driver = req.driver || 'local';
    if (driver !== 'local') throw new BerthError('NotFound', `plugin "${driver}" not found`);
    const name = req.name || crypto.randomBytes(32).toString('hex');
    if (!VALID_NAME.test(name)) throw new BerthError('InvalidArgument', `create ${name}: "${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed. If you intended to pass a host directory, use absolute path`);
    // its directory (and the temp name it is made under) must fit NAME_MAX (255)
    if (Buffer.byteLength(name) > MAX_NAME) throw new BerthError('InvalidArgument', `create ${name.slice(0, 64)}…: volume name is too long (maximum ${MAX_NAME} bytes)`);
    const existing = this.find(name);
    if (existing) return existing;
    const options = req.options ?? {};
    for (const k of Object.keys(options)) if (!LOCAL_OPTS.has(k)) throw new BerthError('InvalidArgument', `create ${name}: invalid option key: "${k}"`);
    if (options.type && !options.device && options.type !== 'tmpfs') throw new BerthError('InvalidArgument', `create ${name}: missing required option: "device"`);
    if (options.device && !options.type) throw new BerthError('InvalidArgument', `create ${name}: missing required option: "type"`);
    // moby volume/service Create: a volume made without a name is anonymous (prune without --all takes it)
    const anonymous = req.anonymous || !req.name;
    const meta: VolumeMeta = { name, driver: 'local', createdAt: isoTime(), labels: req.labels ?? {}, ...(req.labels ? {} : { labelsNull: true }), options, ...(anonymous ? { anonymous: true } : {}) };
    // made under a temp name and renamed in: a crash leaves a dot-directory restore removes, never half a volume
    const tmp = path.join(this.dir, `.${name}.${process.pid}.tmp`);
    fs.rmSync(tmp, { recursive: true, force: true });
    privateDir(tmp);
    // _data is what containers see: 0755 root-owned as docker's, below the private volumes dir
    fs.mkdirSync(path.join(tmp, '_data'), { mode: 0o755 });
    writeFileAtomicSync(path.join(tmp, 'opts.json'), JSON.stringify(meta), 0o600);
    try {
      fs.renameSync(tmp, path.join(this.dir, name));
    } catch (e) {
      fs.rmSync(tmp, { recursive: true, force: true });
      if (errnoCode(e) === 'ENOTEMPTY' || errnoCode(e) === 'EEXIST') return this.get(name);
      throw e;
    }
    this.o.publish?.('create', name, { driver: 'local' });
    return this.view(meta);
  }

  find(name: string): Volume | undefined {
    if (!VALID_NAME.test(name)) return undefined;
    let text: string;
    try { text = fs.readFileSync(path.join(this.dir, name, 'opts.json'), 'utf8'); } catch (e) {
      if (errnoCode(e) === 'ENOENT' || errnoCode(e) === 'ENOTDIR' || errnoCode(e) === 'ENAMETOOLONG') return undefined;
      throw e;
    }
    return this.view(JSON.parse(text) as VolumeMeta);
  }

  get(name: string): Volume {
    const v = this.find(name);
    if (!v) throw new BerthError('NotFound', `get ${name}: no such volume`);
    return v;
  }

  list(): Volume[] {
    return fs.readdirSync(this.dir).filter((n) => !n.startsWith('.')).map((n) => this.find(n)).filter((v): v is Volume => !!v)
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  usedBy(name: string): string[] { return this.o.inUse?.(name) ?? []; }

  /** Removes a volume no container uses; `force` only makes a missing one not an error (docker's -f). */
  async remove(name: string, force = false): Promise<void> {
    const v = this.find(name);
    if (!v) {
      if (force) return;
      throw new BerthError('NotFound', `get ${name}: no such volume`);
    }
    const users = this.usedBy(name);
    // moby daemon/volumes.go + volume/service: errVolumeInUse wording
    if (users.length) throw new BerthError('Conflict', `remove ${name}: volume is in use - [${users.join(', ')}]`);
    // a mount left by a killed daemon (its containers are gone): never delete through it
    if (mountPoints().has(v.mountpoint)) await unmount(v.mountpoint, true);
    // renamed out first: a crash mid-delete leaves a dot-directory, never a volume with half its data
    const gone = path.join(this.dir, `.${name}.${process.pid}.rm`);
    fs.renameSync(path.join(this.dir, name), gone);
    fs.rmSync(gone, { recursive: true, force: true });
    this.o.publish?.('destroy', name, { driver: 'local' });
  }

  /** Unused volumes matching `keep`; docker (API >= 1.42) prunes only anonymous ones unless all=true. */
  async prune(match: (v: Volume) => boolean, all: boolean): Promise<{ VolumesDeleted: string[]; SpaceReclaimed: number }> {
    const deleted: string[] = [];
    let space = 0;
    for (const v of this.list()) {
      if (!all && !v.anonymous) continue;
      if (!match(v) || this.usedBy(v.name).length) continue;
      const size = duBytes(v.mountpoint);
      try { await this.remove(v.name); } catch (e) { if (!(e instanceof BerthError)) throw e; continue; }
      deleted.push(v.name);
      space += size;
    }
    return { VolumesDeleted: deleted, SpaceReclaimed: space };
  }

  /**
   * A container is about to use the volume: a volume with the local driver's type/device/o is mounted
   * on its first use (docker mounts it then, and a bad option surfaces there); a `mount` event either way.
   */
  async mount(name: string, attrs: Record<string, string>): Promise<void> {
    const v = this.get(name);
    const m = localMount(v.options);
    if (m && !mountPoints().has(v.mountpoint)) {
      try {
        await mountAll([m], v.mountpoint);
      } catch (e) {
        throw new BerthError('Internal', `error while mounting volume '${v.mountpoint}': failed to mount local volume: ${(e as Error).message}`, { cause: e });
      }
    }
    this.o.publish?.('mount', name, { driver: v.driver, ...attrs });
  }

  /** A container stopped using it: an `unmount` event, and its own mount undone when `last`. */
  async release(name: string, attrs: Record<string, string>, last: boolean): Promise<void> {
    const v = this.get(name);
    if (last && localMount(v.options) && mountPoints().has(v.mountpoint)) await unmount(v.mountpoint, true);
    this.o.publish?.('unmount', name, { driver: v.driver, ...attrs });
  }

  /** Records that the first-mount copy is done, so a later mount never copies again. */
  markPopulated(name: string): void {
    const { mountpoint: _, ...meta } = this.get(name);
    writeFileAtomicSync(path.join(this.dir, name, 'opts.json'), JSON.stringify({ ...meta, populated: true }), 0o600);
  }

  private view(m: VolumeMeta): Volume {
    return { ...m, labels: m.labels ?? {}, options: m.options ?? {}, mountpoint: path.join(this.dir, m.name, '_data') };
  }
}

/** Bytes in a tree, counted by lstat (no link followed). */
function duBytes(dir: string): number {
  let n = 0;
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p); else n += fs.lstatSync(p).size;
    }
  };
  try { walk(dir); } catch { /* raced with a writer: best effort, as docker's */ }
  return n;
}
