// network/types: the network service as api/, containers/ and the DNS server see it. Domain types,
// camelCase; api/ maps them to Docker's wire shapes (NetworkResource, EndpointSettings).
import type { Link } from './links.js';

export interface IpamPool {
  subnet: string;        // CIDR
  gateway: string;
  ipRange?: string;      // CIDR inside subnet that addresses are leased from
}

export interface NetworkInfo {
  id: string;            // 64 hex
  name: string;          // "bridge" is the default network; "host" and "none" are the built-in modes
  driver: 'bridge' | 'host' | 'null';
  created: string;       // RFC 3339
  internal: boolean;
  attachable: boolean;
  ipam: { driver: 'default'; config: IpamPool[]; options: Record<string, string> };
  options: Record<string, string>;  // e.g. com.docker.network.bridge.name
  labels: Record<string, string>;
  bridge?: string;       // the Linux bridge device (driver bridge)
  mtu?: number;
}

export interface CreateNetworkSpec {
  name: string;
  driver?: string;               // "" or "bridge"; anything else is InvalidArgument
  internal?: boolean;
  attachable?: boolean;
  ipam?: { driver?: string; config?: Partial<IpamPool>[]; options?: Record<string, string> };
  options?: Record<string, string>;
  labels?: Record<string, string>;
  checkDuplicate?: boolean;
}

/** What a container asks of one network (docker's EndpointSettings at create/connect). */
export interface EndpointRequest {
  aliases?: string[];
  ipv4Address?: string;          // --ip / IPAMConfig.IPv4Address
  macAddress?: string;
  /** links on a user network, "name[:alias]": `alias` resolves to container `name` for this container only */
  links?: string[];
}

/** One container's endpoint on one network, as recorded for inspect and the DNS server. */
export interface Endpoint {
  networkId: string;
  networkName: string;
  endpointId: string;            // 64 hex
  containerId: string;
  containerName: string;         // without "/"
  aliases: string[];
  ipv4Address: string;           // without prefix
  prefixLen: number;
  gateway: string;
  macAddress: string;
  hostVeth?: string;             // the host end of its veth (published ports set hairpin on it)
  dns?: string[];                // the container's --dns: where the embedded DNS server forwards its queries
  links?: Link[];                // its links on this network: aliases only it resolves (EndpointSettings.Links)
}

/** The container an endpoint is made for; dns: its --dns servers (the embedded DNS server's upstreams for it). */
export interface AttachingContainer { id: string; name: string; pid: number; dns?: string[] }

export interface NetworkService {
  create(spec: CreateNetworkSpec): Promise<{ id: string; warning: string }>;
  list(filters?: Record<string, string[]>): NetworkInfo[];
  /** NotFound "network X not found"; full id, name or unique id prefix. */
  get(ref: string): NetworkInfo;
  /** Forbidden/Conflict "error while removing network: network X id Y has active endpoints" when in use. */
  remove(ref: string): Promise<void>;
  prune(filters?: Record<string, string[]>): Promise<string[]>;
  /** Endpoints on a network (for inspect's Containers and the DNS server). */
  endpoints(ref: string): Endpoint[];
  /** Wires a running container's netns (pid) to the network; records the endpoint. */
  attach(ref: string, container: AttachingContainer, req: EndpointRequest): Promise<Endpoint>;
  /** Removes the container's link and lease on that network; safe when already gone. */
  detach(ref: string, containerId: string): Promise<void>;
  /** which firewall the rules go to, for `info` */
  firewallBackend?(): { driver: string; table: string };
}

/** What containers/ needs beyond NetworkService: a container's endpoints, and teardown when it stops. */
export interface ContainerNetworks extends NetworkService {
  /** A container's endpoints on every network (inspect's NetworkSettings.Networks). */
  containerEndpoints(containerId: string): Endpoint[];
  /** Every endpoint of a container that stopped; safe when there is none. */
  detachAll(containerId: string): Promise<void>;
  /** Daemon start: endpoints of containers not running (id -> pid) any more go. */
  reconcile(running: Map<string, number>): Promise<void>;
  /** Throws what attach() would for this request, except for an address taken meanwhile (checked at create). */
  checkRequest(ref: string, req: EndpointRequest): void;
  firewallBackend(): { driver: 'nftables' | 'iptables'; table: string };
  /** A renamed container: its endpoints carry the new name (the DNS server answers it). */
  renameContainer(containerId: string, name: string): Promise<void>;
  /**
   * berthd --bridge none: no default network; a container in the default (or "bridge") mode keeps
   * NetworkSettings.Networks.bridge, empty, and gets a netns with only lo (moby connectToNetwork with DisableBridge)
   */
  readonly defaultBridgeDisabled?: boolean;
}
