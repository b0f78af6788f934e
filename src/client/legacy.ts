// client/legacy: what moby's client changes in a request body for a daemon at an older API version
// (client/container_create.go, client/network_create.go, and the docker CLI's opts.go for the MAC address),
// so the request means the same there. Pure: the body in, the body for `version` out.
import type { ContainerCreateRequest } from '../api/types.js';
import { compareVersions } from '../api/version.js';

const before = (version: string, v: string) => compareVersions(version, v) < 0;

/** POST /containers/create */
export function createBodyAt(body: ContainerCreateRequest, version: string): ContainerCreateRequest {
  if (!before(version, '1.44')) return body;
  const out: ContainerCreateRequest = { ...body };
  const h = body.HostConfig;
  // up to 1.24 the client removes --rm containers itself (cli/docker/containers run)
  if (h && before(version, '1.25') && h.AutoRemove) out.HostConfig = { ...h, AutoRemove: false };
  // before 1.44 the MAC address is the container's (Config.MacAddress), not its endpoint's: the docker CLI
  // puts the main network's there, and a daemon of that age ignores the endpoint's
  const eps = body.NetworkingConfig?.EndpointsConfig as Record<string, { MacAddress?: string } | undefined> | undefined;
  const main = h?.NetworkMode && h.NetworkMode !== 'default' ? h.NetworkMode : 'default';
  const mac = eps?.[main]?.MacAddress ?? (main === 'default' ? eps?.bridge?.MacAddress : undefined);
  if (mac && !body.MacAddress) out.MacAddress = mac;
  return out;
}

/** POST /networks/create: before 1.44 a daemon made a second network of the same name unless asked not to. */
export function networkCreateBodyAt<T extends object>(body: T, version: string): T & { CheckDuplicate?: boolean } {
  return before(version, '1.44') ? { ...body, CheckDuplicate: true } : body;
}
