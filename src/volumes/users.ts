// volumes/users: which containers use a named volume, read from their records (which survive a restart).
import type { ContainerConfig } from '../containers/config.js';
import { BerthError } from '../errors.js';
import type { VolumeStore } from './store.js';

/** The volume names a container's config refers to: `-v name:/path` binds (a host path starts with "/"). */
export function volumeNamesOf(c: ContainerConfig): string[] {
  return (c.host.binds ?? []).map((b) => b.split(':')[0] ?? '').filter((src) => src !== '' && !src.startsWith('/'));
}

/** `-v name:/path` creates the volume when it does not exist yet (docker's auto-create), before the container is. */
export function ensureVolumes(store: VolumeStore | undefined, c: ContainerConfig): void {
  const names = volumeNamesOf(c);
  if (!names.length) return;
  if (!store) throw new BerthError('NotImplemented', 'named volumes are not available');
  for (const n of names) store.create({ name: n });
}

/** The host directories of the volumes a container uses, for the spec (spec/ stays pure). */
export function volumePaths(store: VolumeStore | undefined, c: ContainerConfig): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of volumeNamesOf(c)) if (store) out[n] = store.get(n).mountpoint;
  return out;
}
