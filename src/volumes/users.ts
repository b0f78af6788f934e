// volumes/users: which containers use a named volume, read from their records (which survive a restart).
import type { ContainerConfig } from '../containers/config.js';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import { copyOutOfRoot } from '../util/copy-in-root.js';
import { BerthError } from '../errors.js';
import type { VolumeStore } from './store.js';

/** The volume names a container's config refers to: `-v name:/path` binds (a host path starts with "/"). */
export function volumeNamesOf(c: ContainerConfig): string[] {
  return (c.host.binds ?? []).map((b) => b.split(':')[0] ?? '').filter((src) => src !== '' && !src.startsWith('/'));
}

/** `-v name:/path` creates the volume when it does not exist yet (docker's auto-create), before the container is. */
export function ensureVolumes(store: VolumeStore | undefined, c: ContainerConfig, anonymous: string[] = []): void {
  const names = volumeNamesOf(c);
  if (!names.length) return;
  if (!store) throw new BerthError('NotImplemented', 'named volumes are not available');
  for (const n of names) store.create({ name: n, anonymous: anonymous.includes(n) });
}

/** The host directories of the volumes a container uses, for the spec (spec/ stays pure). */
export function volumePaths(store: VolumeStore | undefined, c: ContainerConfig): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of volumeNamesOf(c)) if (store) out[n] = store.get(n).mountpoint;
  return out;
}

/**
 * Anonymous volumes: `-v /path` and each image VOLUME no other mount covers get a fresh random-named
 * volume. The binds are rewritten to name them, so the container record keeps which volumes it uses
 * (the in-use check and `rm -v` work after a restart).
 */
export function withAnonymousVolumes(c: ContainerConfig, imageVolumes: string[]): { config: ContainerConfig; anonymous: string[] } {
  const anonymous: string[] = [];
  const fresh = () => { const n = crypto.randomBytes(32).toString('hex'); anonymous.push(n); return n; };
  const binds = (c.host.binds ?? []).map((b) => (b.startsWith('/') && !b.includes(':') ? `${fresh()}:${b}` : b));
  const covered = new Set([...binds.map((b) => b.split(':')[1]), ...Object.keys(c.host.tmpfs ?? {})].map((p) => p && p.replace(/\/+$/, '')));
  for (const v of imageVolumes) {
    const dst = v.replace(/\/+$/, '') || '/';
    if (!covered.has(dst)) { binds.push(`${fresh()}:${dst}`); covered.add(dst); }
  }
  if (!anonymous.length) return { config: c, anonymous };
  return { config: { ...c, host: { ...c.host, binds } }, anonymous };
}

/** `rm -v`: the container's anonymous volumes go with it (named ones stay, as docker's). */
export function removeAnonymous(store: VolumeStore | undefined, c: ContainerConfig): void {
  for (const n of volumeNamesOf(c)) {
    const v = store?.find(n);
    if (v?.anonymous) try { store!.remove(n); } catch (e) { if (!(e instanceof BerthError)) throw e; /* still used by another (--volumes-from) */ }
  }
}

/**
 * First mount of an empty volume: the image's content at the mount path is copied in (docker's
 * copy-up), unless the bind says `nocopy`. Done once per volume, before the container starts.
 */
export async function copyUp(store: VolumeStore | undefined, c: ContainerConfig, rootfs: string): Promise<void> {
  if (!store) return;
  for (const b of c.host.binds ?? []) {
    const [src = '', dst = '', mode = ''] = b.split(':');
    if (src.startsWith('/') || mode.split(',').includes('nocopy')) continue;
    const v = store.find(src);
    if (!v || v.populated) continue;
    if (fs.readdirSync(v.mountpoint).length === 0) await copyOutOfRoot(rootfs, dst, v.mountpoint);
    store.markPopulated(src);
  }
}
