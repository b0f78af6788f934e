// volumes/mounts: a container's mounts as the user gave them (-v binds, --mount specs, --volumes-from,
// -v /path and image VOLUMEs) -> its mount points, with docker's checks and wording (moby
// daemon/volume/mounts/linux_parser.go, validate.go; daemon/volumes.go registerMountPoints). Pure:
// whether a host path exists and what another container mounts come in as arguments.
import * as path from 'node:path/posix';
import { BerthError } from '../errors.js';
import type { ContainerConfig, MountSpec } from '../containers/config.js';

export type MountType = 'bind' | 'volume' | 'tmpfs';

/** One mount point of a container (moby's volume/mounts.MountPoint): what inspect's `Mounts` shows. */
export interface MountPoint {
  type: MountType;
  destination: string;
  /** bind: the host path; volume: the volume's directory once resolved; tmpfs: '' */
  source: string;
  /** volume: its name (a random one for an anonymous volume) */
  name?: string;
  driver?: string;
  rw: boolean;
  /** -v's mode string as given ("ro,rshared"); "z" for a volume given without one, as docker's */
  mode: string;
  /** bind: rprivate unless asked; others: '' */
  propagation: string;
  /** an empty volume is filled from the image at first mount (unless nocopy / volumes-from) */
  copyData: boolean;
  /** -v host:/path makes a missing host directory (docker's legacy); --mount refuses it */
  createSource?: boolean;
  /** bind-nonrecursive: MS_BIND without MS_REC */
  nonRecursive?: boolean;
  /** tmpfs: mount data from tmpfs-size/tmpfs-mode ("size=10m,mode=1777") */
  tmpfsData?: string;
  /** made for this container (-v /path, image VOLUME): `rm -v` takes it */
  anonymous?: boolean;
}

/** --mount type=volume: what a volume it names is created with, when it does not exist yet. */
export interface VolumeRequest { name: string; anonymous: boolean; labels?: Record<string, string>; options?: Record<string, string> }

const bad = (msg: string) => new BerthError('InvalidArgument', msg);
const PROPAGATION = new Set(['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave']);
const CONSISTENCY = new Set(['consistent', 'cached', 'delegated']);

/** moby linuxValidMountMode: each kind (rw, label, propagation, copy, consistency) at most once, nothing else. */
export function validMountMode(mode: string): boolean {
  if (mode === '') return true;
  const count = { rw: 0, label: 0, prop: 0, copy: 0, cons: 0 };
  for (const o of mode.split(',')) {
    if (o === 'ro' || o === 'rw') count.rw++;
    else if (o === 'z' || o === 'Z') count.label++; // accepted; there is no SELinux labelling here
    else if (PROPAGATION.has(o)) count.prop++;
    else if (o === 'nocopy') count.copy++;
    else if (CONSISTENCY.has(o)) count.cons++;
    else return false;
  }
  return Object.values(count).every((n) => n <= 1);
}

const modeHas = (mode: string, o: string) => mode.split(',').includes(o);
const propagationOf = (mode: string) => mode.split(',').find((o) => PROPAGATION.has(o));

function checkTarget(target: string | undefined, type: string): string {
  const err = (m: string) => bad(`invalid mount config for type "${type}": ${m}`);
  if (!target) throw err('field Target must not be empty');
  if (path.normalize(target.replace(/\\/g, '/')) === '/') throw err(`invalid specification: destination can't be '/'`);
  if (!path.isAbsolute(target.replace(/\\/g, '/'))) throw err(`invalid mount path: '${target}' mount path must be absolute`);
  return path.normalize(target).replace(/(.)\/$/, '$1');
}

/** moby ConvertTmpfsOptions: ro, mode (octal), size with the largest unit that divides it, then exec/noexec. */
export function tmpfsData(o: MountSpec['tmpfsOptions'], readOnly: boolean): string {
  const raw: string[] = [];
  if (readOnly) raw.push('ro');
  if (o?.mode) raw.push(`mode=${o.mode.toString(8)}`);
  if (o?.sizeBytes) {
    if (o.sizeBytes < 0) throw bad(`invalid mount config for type "tmpfs": invalid tmpfs size ${o.sizeBytes}`);
    const unit = ([['g', 2 ** 30], ['m', 2 ** 20], ['k', 2 ** 10]] as const).find(([, d]) => o.sizeBytes! % d === 0);
    raw.push(unit ? `size=${o.sizeBytes / unit[1]}${unit[0]}` : `size=${o.sizeBytes}`);
  }
  for (const opt of o?.options ?? []) {
    if (!Array.isArray(opt) || opt.length < 1 || opt.length > 2) throw bad('invalid mount config for type "tmpfs": invalid option array length');
    if (opt[0] !== 'exec' && opt[0] !== 'noexec') throw bad(`invalid mount config for type "tmpfs": invalid option: ${String(opt[0])}`);
    raw.push(opt.length === 1 ? opt[0] : `${opt[0]}=${opt[1]}`);
  }
  return raw.join(',');
}

/** moby ParseMountSpec (HostConfig.Mounts); `exists` is the host fact for a bind source. */
export function parseMountSpec(m: MountSpec, exists: (p: string) => boolean): { point: MountPoint; volume?: Omit<VolumeRequest, 'name' | 'anonymous'> } {
  const type = String(m.type ?? '');
  const err = (msg: string) => bad(`invalid mount config for type "${type}": ${msg}`);
  if (type !== 'bind' && m.bindOptions) throw err('field BindOptions must not be specified');
  if (type !== 'volume' && m.volumeOptions) throw err('field VolumeOptions must not be specified');
  if (type !== 'tmpfs' && m.tmpfsOptions) throw err('field TmpfsOptions must not be specified');
  const destination = checkTarget(m.target, type);
  const rw = !m.readOnly;
  switch (type) {
    case 'bind': {
      if (!m.source) throw err('field Source must not be empty');
      const prop = m.bindOptions?.propagation;
      if (prop && !PROPAGATION.has(prop)) throw err(`invalid propagation mode: ${prop}`);
      if (!path.isAbsolute(m.source)) throw err(`invalid mount path: '${m.source}' mount path must be absolute`);
      const source = path.normalize(m.source);
      if (!exists(source) && !m.bindOptions?.createMountpoint) throw err(`bind source path does not exist: ${source}`);
      return {
        point: {
          type: 'bind', destination, source, rw, mode: '', propagation: prop || 'rprivate', copyData: false,
          ...(m.bindOptions?.createMountpoint ? { createSource: true } : {}), ...(m.bindOptions?.nonRecursive ? { nonRecursive: true } : {}),
        },
      };
    }
    case 'volume': {
      const vo = m.volumeOptions;
      if (vo?.subpath) throw new BerthError('NotImplemented', `invalid mount config for type "volume": volume subpath is not supported`);
      const driver = vo?.driverConfig?.name || 'local';
      if (driver !== 'local') throw new BerthError('NotFound', `plugin "${driver}" not found`);
      return {
        point: { type: 'volume', destination, source: '', ...(m.source ? { name: m.source } : {}), driver, rw, mode: 'z', propagation: '', copyData: !vo?.noCopy },
        volume: { labels: vo?.labels ?? undefined, options: vo?.driverConfig?.options ?? undefined },
      };
    }
    case 'tmpfs':
      if (m.source) throw err('field Source must not be specified');
      return { point: { type: 'tmpfs', destination, source: '', rw, mode: '', propagation: '', copyData: false, tmpfsData: tmpfsData(m.tmpfsOptions, !!m.readOnly) } };
    default:
      throw err('mount type unknown');
  }
}

/** moby ParseMountRaw: `-v [source:]destination[:mode]`, a source starting with "/" is a bind, else a volume name. */
export function parseBind(raw: string): MountPoint {
  const arr = raw.split(':');
  if (arr.length > 3 || arr[0] === '') throw bad(`invalid volume specification: '${raw}'`);
  let source = '', target: string, mode = '';
  if (arr.length === 1) target = arr[0]!;
  else if (arr.length === 2) {
    if (validMountMode(arr[1]!)) throw bad(`invalid volume specification: '${raw}'`); // "/foo:rw": a mode needs a source
    [source, target] = [arr[0]!, arr[1]!];
  } else [source, target, mode] = [arr[0]!, arr[1]!, arr[2]!];
  if (!validMountMode(mode)) throw bad(`invalid mode: ${mode}`);
  const type: MountType = source.startsWith('/') ? 'bind' : 'volume';
  let destination: string;
  try { destination = checkTarget(target, type); } catch (e) { throw bad(`invalid volume specification: '${raw}': ${(e as Error).message}`); }
  const rw = !modeHas(mode, 'ro');
  if (type === 'bind') {
    return { type, destination, source: path.normalize(source), rw, mode, propagation: propagationOf(mode) ?? 'rprivate', copyData: false, createSource: true };
  }
  return { type, destination, source: '', ...(source ? { name: source } : {}), driver: 'local', rw, mode: mode || 'z', propagation: '', copyData: !modeHas(mode, 'nocopy') };
}

/** moby ParseVolumesFrom: `ctr[:ro|:rw]`; propagation and copy modes are not allowed here. */
export function parseVolumesFrom(spec: string): { ref: string; rw: boolean } {
  if (spec === '') throw bad('volumes-from specification cannot be an empty string');
  const i = spec.indexOf(':');
  const ref = i < 0 ? spec : spec.slice(0, i);
  const mode = i < 0 ? '' : spec.slice(i + 1);
  if (mode === '') return { ref, rw: true };
  if (!validMountMode(mode) || propagationOf(mode) || modeHas(mode, 'nocopy')) throw bad(`invalid mode: ${mode}`);
  return { ref, rw: !modeHas(mode, 'ro') };
}

export interface PlanInput {
  /** host fact: does a --mount bind source exist */
  exists: (p: string) => boolean;
  /** the mount points of a container named in --volumes-from (NotFound for an unknown one) */
  mountsOf?: (ref: string) => MountPoint[];
  /** image VOLUME paths */
  imageVolumes?: string[];
  /** names an anonymous volume */
  freshName?: () => string;
}

/**
 * All of a container's mount points, in moby's order: volumes-from, then -v binds, then --mount (a
 * later one at the same destination replaces an earlier one, but -v/--mount/--tmpfs may not collide:
 * "Duplicate mount point"), then an anonymous volume for each -v /path and image VOLUME nothing
 * covers. Throws before anything is created; the volumes to create are returned beside.
 */
export function planMounts(c: ContainerConfig, input: PlanInput): { points: MountPoint[]; volumes: VolumeRequest[] } {
  const points = new Map<string, MountPoint>();
  const volumes = new Map<string, VolumeRequest>();
  const claimed = new Set<string>(); // destinations of -v and --mount
  const tmpfs = new Set(Object.keys(c.host.tmpfs ?? {}).map((d) => path.normalize(d).replace(/(.)\/$/, '$1')));
  const fresh = input.freshName ?? (() => { throw new BerthError('Internal', 'no name for an anonymous volume'); });
  const named = (p: MountPoint, create?: Omit<VolumeRequest, 'name' | 'anonymous'>): MountPoint => {
    if (p.type !== 'volume') return p;
    const anonymous = !p.name;
    const name = p.name ?? fresh();
    if (!volumes.has(name)) volumes.set(name, { name, anonymous, ...(create?.labels ? { labels: create.labels } : {}), ...(create?.options ? { options: create.options } : {}) });
    return { ...p, name, ...(anonymous ? { anonymous: true } : {}) };
  };

  for (const spec of c.host.volumesFrom ?? []) {
    const { ref, rw } = parseVolumesFrom(spec);
    if (!input.mountsOf) throw new BerthError('NotImplemented', '--volumes-from is not available');
    let theirs: MountPoint[];
    // moby: an unknown container here is a bad parameter of this create (400), not a missing resource
    try { theirs = input.mountsOf(ref); } catch (e) { throw e instanceof BerthError && e.kind === 'NotFound' ? bad(e.message) : e; }
    for (const m of theirs) {
      // the source container's volumes, never copied into again; tmpfs is its own (docker shares MountPoints only)
      if (m.type === 'tmpfs') continue;
      const { anonymous: _a, ...shared } = m;
      points.set(m.destination, { ...shared, rw: m.rw && rw, copyData: false });
      if (m.type === 'volume' && m.name && !volumes.has(m.name)) volumes.set(m.name, { name: m.name, anonymous: false });
    }
  }
  for (const b of c.host.binds ?? []) {
    const p = parseBind(b);
    if (claimed.has(p.destination) || tmpfs.has(p.destination)) throw bad(`Duplicate mount point: ${p.destination}`);
    claimed.add(p.destination);
    points.set(p.destination, named(p));
  }
  for (const m of c.host.mounts ?? []) {
    const { point, volume } = parseMountSpec(m, input.exists);
    if (claimed.has(point.destination) || tmpfs.has(point.destination)) throw bad(`Duplicate mount point: ${m.target}`);
    claimed.add(point.destination);
    points.set(point.destination, named(point, volume));
  }
  for (const v of [...(c.volumes ?? []), ...(input.imageVolumes ?? [])]) {
    const dst = path.normalize(v).replace(/(.)\/$/, '$1');
    if (!path.isAbsolute(dst)) throw bad(`invalid volume specification: '${v}': invalid mount config for type "volume": invalid mount path: '${v}' mount path must be absolute`);
    if (points.has(dst) || tmpfs.has(dst)) continue;
    points.set(dst, named({ type: 'volume', destination: dst, source: '', driver: 'local', rw: true, mode: '', propagation: '', copyData: true }));
  }
  return { points: [...points.values()], volumes: [...volumes.values()] };
}

/** Mount points recorded before they were kept: they were written into HostConfig.Binds (names included). */
export function legacyMountPoints(c: ContainerConfig): MountPoint[] {
  return (c.host.binds ?? []).map((b) => parseBind(b));
}

/** The volume names a container's mount points use. */
export function volumeNames(points: MountPoint[]): string[] {
  return points.filter((p) => p.type === 'volume' && p.name).map((p) => p.name!);
}
