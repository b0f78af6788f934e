// volumes/users: which containers use a named volume, read from their records (which survive a restart).
import type { ContainerConfig } from '../containers/config.js';

/** The volume names a container's config refers to: `-v name:/path` binds (a host path starts with "/"). */
export function volumeNamesOf(c: ContainerConfig): string[] {
  return (c.host.binds ?? []).map((b) => b.split(':')[0] ?? '').filter((src) => src !== '' && !src.startsWith('/'));
}
