// api/schema/network: moby api/types/network CreateRequest, ConnectRequest, DisconnectRequest.
import { bool, list, obj, str, strMap, strs } from './dsl.js';

const ipamConfig = obj({ Subnet: str, IPRange: str, Gateway: str, AuxiliaryAddresses: strMap });

export const networkCreate = obj({
  Name: str, CheckDuplicate: bool, Driver: str, Scope: str, EnableIPv4: bool, EnableIPv6: bool,
  IPAM: obj({ Driver: str, Config: list(ipamConfig), Options: strMap }),
  Internal: bool, Attachable: bool, Ingress: bool, ConfigOnly: bool, ConfigFrom: obj({ Network: str }),
  Options: strMap, Labels: strMap,
});

/** EndpointSettings as clients send it (also NetworkingConfig.EndpointsConfig values) */
export const endpointConfig = obj({
  IPAMConfig: obj({ IPv4Address: str, IPv6Address: str, LinkLocalIPs: strs }),
  Links: strs, Aliases: strs, MacAddress: str, DriverOpts: strMap, NetworkID: str, EndpointID: str,
  Gateway: str, IPAddress: str, DNSNames: strs,
});

export const networkConnect = obj({ Container: str, EndpointConfig: endpointConfig });
export const networkDisconnect = obj({ Container: str, Force: bool });
