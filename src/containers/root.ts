// containers/root: what cp, diff, export and commit are given of a container (Containers.withRoot):
// its root as the container sees it and where its bind mounts come from on the host. Pure.
import type { Spec } from '../runtime/spec-types.js';
import type { ContainerConfig } from './config.js';
import { withBinds, withEtcFiles, type SpecContext } from './spec/index.js';
import type { Container } from './types.js';

export interface ContainerRoot {
  container: Container;
  /** the merged root (mounted for as long as the call lasts) */
  rootfs: string;
  /** the writable layer (overlay upper dir): what diff and commit read */
  upper: string;
  /** the image's layer directories, topmost first */
  lowers: string[];
  /** chain ID of the image's top layer (the commit's parent) */
  parent?: string;
  /** bind mounts (volumes, -v binds, /etc/hosts …): container path -> host source */
  mounts: Map<string, string>;
}

/**
 * The container's bind mounts from the same spec options start uses, so `cp` sees what the container
 * sees: volumes and binds by destination, and the hostname/hosts/resolv.conf files of its directory.
 * tmpfs mounts live only in the container's mount namespace and are not reachable from here.
 */
export function bindSources(c: ContainerConfig, containerDir: string, volumePaths: Record<string, string>): Map<string, string> {
  const s: Spec = { ociVersion: '', mounts: [] };
  const ctx = { containerDir, volumePaths } as unknown as SpecContext;
  for (const o of [withEtcFiles, withBinds]) o(s, c, ctx);
  const out = new Map<string, string>();
  for (const m of s.mounts ?? []) if (m.type === 'bind' && m.source) out.set(m.destination.replace(/\/+$/, '') || '/', m.source);
  return out;
}
