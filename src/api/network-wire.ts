// api/network-wire: Docker's network shapes <-> network/'s domain types, pure. NetworkResource for
// inspect and list, CreateRequest into a CreateNetworkSpec, EndpointSettings into an EndpointRequest.
import { BerthError } from '../errors.js';
import type { CreateNetworkSpec, Endpoint, EndpointRequest, IpamPool, NetworkInfo } from '../network/types.js';
import type { EndpointConfigWire, IpamConfigWire, NetworkContainerWire, NetworkCreateRequest, NetworkWire } from './types.js';

/** The networks every daemon has (moby daemon/network IsPredefined): never dangling, never pruned or removed. */
export const PREDEFINED = ['bridge', 'host', 'none'];
export const isPredefined = (name: string): boolean => PREDEFINED.includes(name);

function ipamConfigWire(p: IpamPool): IpamConfigWire {
  return { Subnet: p.subnet, ...(p.ipRange ? { IPRange: p.ipRange } : {}), ...(p.gateway ? { Gateway: p.gateway } : {}) };
}

/** NetworkResource; `endpoints` fill Containers (inspect), the list leaves it empty like dockerd. */
export function toNetworkWire(n: NetworkInfo, endpoints: Endpoint[] = []): NetworkWire {
  const containers: Record<string, NetworkContainerWire> = {};
  for (const ep of endpoints) {
    containers[ep.containerId] = {
      Name: ep.containerName, EndpointID: ep.endpointId, MacAddress: ep.macAddress,
      IPv4Address: ep.ipv4Address ? `${ep.ipv4Address}/${ep.prefixLen}` : '', IPv6Address: '',
    };
  }
  return {
    Name: n.name, Id: n.id, Created: n.created, Scope: 'local', Driver: n.driver, EnableIPv4: n.driver === 'bridge', EnableIPv6: false,
    IPAM: { Driver: n.ipam.driver, Options: n.ipam.options, Config: n.ipam.config.map(ipamConfigWire) },
    Internal: n.internal, Attachable: n.attachable, Ingress: false, ConfigFrom: { Network: '' }, ConfigOnly: false,
    Containers: containers, Options: n.options, Labels: n.labels,
  };
}

/** CreateRequest -> spec. Features Berth has no driver for are refused here rather than silently dropped. */
export function toCreateSpec(b: NetworkCreateRequest): CreateNetworkSpec {
  const name = b.Name ?? '';
  if (name.trim() === '') throw new BerthError('InvalidArgument', 'network name must not be empty');
  if (b.EnableIPv6) throw new BerthError('InvalidArgument', 'IPv6 networks are not supported by this daemon');
  if (b.Ingress) throw new BerthError('InvalidArgument', 'ingress networks are only for swarm mode, which this daemon does not run');
  if (b.ConfigOnly || b.ConfigFrom?.Network) throw new BerthError('InvalidArgument', 'config-only networks are not supported by this daemon');
  if (b.Scope && b.Scope !== 'local') throw new BerthError('InvalidArgument', `scope ${JSON.stringify(b.Scope)} is not supported: this daemon has local networks only`);
  const config = (b.IPAM?.Config ?? []).map((c): Partial<IpamPool> => {
    if (c.AuxiliaryAddresses && Object.keys(c.AuxiliaryAddresses).length) throw new BerthError('InvalidArgument', 'IPAM AuxiliaryAddresses are not supported by this daemon');
    return { ...(c.Subnet ? { subnet: c.Subnet } : {}), ...(c.Gateway ? { gateway: c.Gateway } : {}), ...(c.IPRange ? { ipRange: c.IPRange } : {}) };
  });
  return {
    name, driver: b.Driver ?? undefined, internal: !!b.Internal, attachable: !!b.Attachable,
    ipam: { driver: b.IPAM?.Driver ?? undefined, config, options: b.IPAM?.Options ?? undefined },
    options: b.Options ?? {}, labels: b.Labels ?? {}, checkDuplicate: b.CheckDuplicate ?? undefined,
  };
}

/** EndpointSettings (connect, NetworkingConfig) -> what a container asks of a network. */
export function toEndpointRequest(e: EndpointConfigWire | null | undefined): EndpointRequest {
  if (!e) return {};
  if (e.IPAMConfig?.IPv6Address) throw new BerthError('InvalidArgument', 'IPv6 addresses are not supported by this daemon');
  return {
    ...(e.Aliases?.length ? { aliases: [...e.Aliases] } : {}),
    ...(e.Links?.length ? { links: [...e.Links] } : {}),
    ...(e.IPAMConfig?.IPv4Address ? { ipv4Address: e.IPAMConfig.IPv4Address } : {}),
    ...(e.MacAddress ? { macAddress: e.MacAddress } : {}),
  };
}
