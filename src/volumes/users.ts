// volumes/users: what a container's mount points need from the volume store — made at create, mounted and
// filled at start, released at exit — and which containers use a volume, read from their records (which
// survive a restart).
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import type { ContainerConfig } from '../containers/config.js';
import { copyOutOfRoot } from '../util/copy-in-root.js';
import { BerthError } from '../errors.js';
import { containingMount, mountInfo, type MountInfo } from '../util/mountinfo.js';
import { legacyMountPoints, planMounts, volumeNames, type MountPoint, type PlanInput } from './mounts.js';
import type { VolumeStore } from './store.js';

interface HasMounts { config: ContainerConfig; mountPoints?: MountPoint[] }

/** A container's mount points: recorded at create, or (older records) its binds, which then named its volumes. */
export function mountPointsOf(c: HasMounts): MountPoint[] {
  return c.mountPoints ?? legacyMountPoints(c.config);
}

/** The volume names a container uses. */
export function volumeNamesOf(c: HasMounts): string[] {
  return volumeNames(mountPointsOf(c));
}

/**
 * Create: every mount checked first (a bad spec is a 400 and nothing is made), then the volumes made —
 * a name that exists is used as it is, as docker's — and their directories written into the points.
 * Returns the anonymous volumes it made, for the caller to remove if the create fails later.
 */
export async function createMounts(store: VolumeStore | undefined, c: ContainerConfig, input: Omit<PlanInput, 'freshName'>): Promise<{ points: MountPoint[]; made: string[] }> {
  const { points, volumes } = planMounts(c, { ...input, freshName: () => crypto.randomBytes(32).toString('hex') });
  if (volumes.length && !store) throw new BerthError('NotImplemented', 'named volumes are not available');
  const made: string[] = [];
  try {
    for (const v of volumes) {
      const existed = !!store!.find(v.name);
      store!.create({ name: v.name, anonymous: v.anonymous, labels: v.labels, options: v.options });
      if (!existed && v.anonymous) made.push(v.name);
    }
  } catch (e) {
    await removeVolumes(store, made);
    throw e;
  }
  return { points: points.map((p) => (p.type === 'volume' ? { ...p, source: store!.get(p.name!).mountpoint } : p)), made };
}

export async function removeVolumes(store: VolumeStore | undefined, names: string[]): Promise<void> {
  for (const n of names) try { await store?.remove(n); } catch (e) { if (!(e instanceof BerthError)) throw e; }
}

/** `rm -v`: the container's anonymous volumes go with it (named ones stay, as docker's). */
export async function removeAnonymous(store: VolumeStore | undefined, c: HasMounts): Promise<void> {
  for (const p of mountPointsOf(c)) {
    if (p.type !== 'volume' || !p.name) continue;
    // an anonymous one shared through --volumes-from is still used by the other container: remove refuses
    if (store?.find(p.name)?.anonymous) await removeVolumes(store, [p.name]);
  }
}

/**
 * Start: the host side of each mount point — a missing `-v` host directory made, a volume's own mount
 * (the local driver's type/device/o) done, an empty volume filled from the image once (docker's
 * copy-up, not with nocopy or --volumes-from) — and the points with their sources as they are now.
 */
/** The mount points with each volume's directory as its source, without mounting anything (cp, diff). */
export function resolvedMountPoints(store: VolumeStore | undefined, c: HasMounts): MountPoint[] {
  return mountPointsOf(c).map((p) => (p.type === 'volume' && store ? { ...p, source: store.get(p.name!).mountpoint } : p));
}

export async function prepareMounts(store: VolumeStore | undefined, c: HasMounts & { id: string }, rootfs: string): Promise<MountPoint[]> {
  const out: MountPoint[] = [];
  let mounted: ReturnType<typeof mountInfo> | undefined; // read only for a bind's propagation check: it is long with many containers
  for (const p of mountPointsOf(c)) {
    if (p.type === 'bind') {
      if (p.createSource && !fs.existsSync(p.source)) {
        try {
          fs.mkdirSync(p.source, { recursive: true, mode: 0o755 });
        } catch (e) {
          throw new BerthError('InvalidArgument', `error while creating mount source path '${p.source}': ${(e as Error).message}`, { cause: e });
        }
      }
      checkPropagation(p, () => (mounted ??= mountInfo()));
      out.push(p);
      continue;
    }
    if (p.type !== 'volume') { out.push(p); continue; }
    if (!store) throw new BerthError('NotImplemented', 'named volumes are not available');
    const v = store.get(p.name!);
    await store.mount(v.name, { container: c.id, destination: p.destination, 'read/write': String(p.rw), propagation: p.propagation });
    if (p.copyData && !v.populated) {
      if (fs.readdirSync(v.mountpoint).length === 0) await copyOutOfRoot(rootfs, p.destination, v.mountpoint);
      store.markPopulated(v.name);
    }
    out.push({ ...p, source: v.mountpoint });
  }
  return out;
}

/**
 * A run ended: each volume it used is told (an `unmount` event), and one with its own mount is unmounted
 * once no running container uses it (`running` names the volumes still in use).
 */
export async function releaseMounts(store: VolumeStore | undefined, c: HasMounts & { id: string }, stillUsed: (name: string) => boolean): Promise<void> {
  for (const n of new Set(volumeNamesOf(c))) {
    if (!store?.find(n)) continue;
    await store.release(n, { container: c.id }, !stillUsed(n));
  }
}

/**
 * moby oci_linux.go ensureShared/ensureSharedOrSlave: shared propagation needs a shared source mount,
 * slave needs shared or slave — otherwise the container would silently see nothing propagate.
 */
function checkPropagation(p: MountPoint, mounted: () => MountInfo[]): void {
  const want = p.propagation.replace(/^r/, '');
  if (want !== 'shared' && want !== 'slave') return;
  const m = containingMount(fs.realpathSync(p.source), mounted());
  if (!m) return;
  const ok = want === 'shared' ? m.shared : m.shared || m.slave;
  if (!ok) throw new BerthError('InvalidArgument', `path ${p.source} is mounted on ${m.point} but it is not a ${want === 'shared' ? 'shared' : 'shared or slave'} mount`);
}
