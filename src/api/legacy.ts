// api/legacy: what dockerd 20.10 does differently for clients that ask for an older API version
// (/v1.12 … /v1.40 paths): moby api/server/router/container/container_routes.go and daemon/inspect.go.
// One place for every version switch, so the routes stay about the current API.
import type { ContainerCreateRequest, ContainerInspect } from './types.js';
import { compareVersions } from './version.js';

const before = (version: string, v: string) => compareVersions(version, v) < 0;

/** postContainersCreate: the defaults older clients expect. */
export function legacyCreate(body: ContainerCreateRequest, version: string, cgroupV2: boolean): void {
  const h = body.HostConfig;
  if (!h) return;
  // up to 1.24 the client removed --rm containers itself
  if (before(version, '1.25')) h.AutoRemove = false;
  // before 1.40 the default IPC mode was shareable
  if (before(version, '1.40') && !h.IpcMode) h.IpcMode = 'shareable';
  // before 1.41 the default cgroup namespace on a cgroup v1 host was the host's
  if (before(version, '1.41') && !cgroupV2 && !h.CgroupnsMode) h.CgroupnsMode = 'host';
}

/** postContainersKill: before 1.20, killing a container that is not running was not an error. */
export function killOfStoppedIsOk(version: string): boolean {
  return before(version, '1.20');
}

/** daemon/inspect.go: 1.20 and older answers carry some HostConfig values in Config (v1p19/v1p20 types). */
export function legacyInspect(j: ContainerInspect, version: string): unknown {
  if (!before(version, '1.21')) return j;
  const c = j.Config as unknown as Record<string, unknown>;
  const h = j.HostConfig as unknown as Record<string, unknown>;
  const config: Record<string, unknown> = { ...c, MacAddress: c.MacAddress ?? '', NetworkDisabled: c.NetworkDisabled ?? false, ExposedPorts: c.ExposedPorts ?? null, VolumeDriver: h.VolumeDriver ?? '' };
  if (version === '1.20') return { ...j, Config: config };
  const volumes: Record<string, string> = {};
  const volumesRW: Record<string, boolean> = {};
  for (const m of (j.Mounts ?? []) as Array<{ Destination: string; Source: string; RW: boolean }>) { volumes[m.Destination] = m.Source; volumesRW[m.Destination] = m.RW; }
  const { Mounts: _m, ...rest } = j as unknown as Record<string, unknown>;
  return {
    ...rest, Volumes: volumes, VolumesRW: volumesRW,
    Config: { ...config, Memory: h.Memory ?? 0, MemorySwap: h.MemorySwap ?? 0, CpuShares: h.CpuShares ?? 0, Cpuset: h.CpusetCpus ?? '' },
  };
}

/**
 * daemon/delete.go: up to 20.10 (API 1.41) the refusal to remove a running container read "You cannot
 * remove a running container …"; clients of that era (moby's own tests, docker-py) match on those words.
 */
export function legacyRemoveRunning(version: string, id: string): string | undefined {
  return before(version, '1.42') ? `You cannot remove a running container ${id}. Stop the container before attempting removal or force remove` : undefined;
}

/** getInfo: before 1.25 the answer carried ExecutionDriver, which 20.10 fills with "<not supported>". */
export function legacyInfo<T extends object>(info: T, version: string): T | T & { ExecutionDriver: string } {
  return before(version, '1.25') ? { ...info, ExecutionDriver: '<not supported>' } : info;
}
