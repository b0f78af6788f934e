// api/types: Docker Engine API wire types (PascalCase, as moby's api/types and swagger.yaml name them).
// Image shapes are produced by images/inspect.ts already in wire form; they are re-exported here.
import type { EventMessage } from '../daemon/events.js';
export type { ImageSummary, ImageInspect, HistoryItem as HistoryResponseItem, DeleteItem as ImageDeleteResponseItem, PruneReport as ImagesPruneReport } from '../images/index.js';
export type { EventMessage };

export interface ComponentVersion { Name: string; Version: string; Details?: Record<string, string> }

export interface SystemVersion {
  Platform: { Name: string };
  Components: ComponentVersion[];
  Version: string; ApiVersion: string; MinAPIVersion: string; GitCommit: string; GoVersion: string;
  Os: string; Arch: string; KernelVersion: string; Experimental?: boolean; BuildTime: string;
}

export interface SystemInfo {
  ID: string; Containers: number; ContainersRunning: number; ContainersPaused: number; ContainersStopped: number; Images: number;
  Driver: string; DriverStatus: Array<[string, string]>;
  Plugins: { Volume: string[]; Network: string[]; Authorization: string[] | null; Log: string[] };
  MemoryLimit: boolean; SwapLimit: boolean; KernelMemoryTCP?: boolean; CpuCfsPeriod: boolean; CpuCfsQuota: boolean; CPUShares: boolean; CPUSet: boolean; PidsLimit: boolean;
  OomKillDisable: boolean; IPv4Forwarding: boolean; Debug: boolean; NFd: number; NGoroutines: number; SystemTime: string;
  LoggingDriver: string; CgroupDriver: string; CgroupVersion: string; NEventsListener: number; KernelVersion: string;
  OperatingSystem: string; OSVersion: string; OSType: string; Architecture: string;
  IndexServerAddress: string; RegistryConfig: { AllowNondistributableArtifactsCIDRs?: string[] | null; InsecureRegistryCIDRs: string[]; IndexConfigs: Record<string, unknown>; Mirrors: string[] };
  NCPU: number; MemTotal: number; GenericResources: null; DockerRootDir: string; HttpProxy: string; HttpsProxy: string; NoProxy: string;
  Name: string; Labels: string[]; ExperimentalBuild: boolean; ServerVersion: string;
  Runtimes: Record<string, { path: string }>; DefaultRuntime: string;
  Swarm: { NodeID: string; NodeAddr: string; LocalNodeState: string; ControlAvailable: boolean; Error: string; RemoteManagers: null };
  LiveRestoreEnabled: boolean; Isolation: string; InitBinary: string;
  ContainerdCommit: { ID: string }; RuncCommit: { ID: string }; InitCommit: { ID: string };
  SecurityOptions: string[]; CDISpecDirs: string[]; Warnings: string[];
  /** API 1.49: which firewall the daemon programs (docker: iptables or nftables) */
  FirewallBackend?: { Driver: string; Info: Array<[string, string]> };
}

export interface DiskUsage {
  LayersSize: number;
  Images: unknown[];
  Containers: unknown[];
  Volumes: unknown[];
  BuildCache: unknown[];
}

/** X-Registry-Auth and POST /auth body (api/types/registry.AuthConfig). */
export interface AuthConfig {
  username?: string; password?: string; auth?: string; email?: string;
  serveraddress?: string; identitytoken?: string; registrytoken?: string;
}

export interface AuthResponse { Status: string; IdentityToken?: string }

/** jsonmessage.JSONMessage */
export interface JSONMessage {
  stream?: string; status?: string; id?: string;
  progressDetail?: { current?: number; total?: number };
  progress?: string;
  errorDetail?: { code?: number; message: string };
  error?: string;
  aux?: unknown;
}

// ---- containers (moby api/types/container) ----

/** Cmd/Entrypoint arrive as a string or an array (strslice.StrSlice); they go out as arrays. */
export type StrSlice = string | string[] | null;

/** container.Config */
export interface ContainerConfigWire {
  Hostname?: string; Domainname?: string; User?: string;
  AttachStdin?: boolean; AttachStdout?: boolean; AttachStderr?: boolean;
  ExposedPorts?: Record<string, object> | null;
  Tty?: boolean; OpenStdin?: boolean; StdinOnce?: boolean;
  Env?: string[] | null; Cmd?: StrSlice; Healthcheck?: unknown;
  ArgsEscaped?: boolean; Image?: string; Volumes?: Record<string, object> | null;
  WorkingDir?: string; Entrypoint?: StrSlice; NetworkDisabled?: boolean; MacAddress?: string;
  OnBuild?: string[] | null; Labels?: Record<string, string> | null;
  StopSignal?: string; StopTimeout?: number | null; Shell?: string[] | null;
}

export interface UlimitWire { Name: string; Soft: number; Hard: number }
export interface DeviceMappingWire { PathOnHost: string; PathInContainer?: string; CgroupPermissions?: string }

/** container.HostConfig (the fields Berth reads; the rest are echoed with defaults). */
export interface HostConfigWire {
  Binds?: string[] | null; ContainerIDFile?: string; LogConfig?: { Type: string; Config: Record<string, string> };
  NetworkMode?: string; PortBindings?: Record<string, unknown> | null;
  RestartPolicy?: { Name: string; MaximumRetryCount: number }; AutoRemove?: boolean;
  VolumeDriver?: string; VolumesFrom?: string[] | null; ConsoleSize?: [number, number];
  CapAdd?: string[] | null; CapDrop?: string[] | null; CgroupnsMode?: string;
  Dns?: string[] | null; DnsOptions?: string[] | null; DnsSearch?: string[] | null; ExtraHosts?: string[] | null; GroupAdd?: string[] | null;
  IpcMode?: string; Cgroup?: string; Links?: string[] | null; OomScoreAdj?: number; PidMode?: string;
  Privileged?: boolean; PublishAllPorts?: boolean; ReadonlyRootfs?: boolean; SecurityOpt?: string[] | null;
  StorageOpt?: Record<string, string> | null; Tmpfs?: Record<string, string> | null; UTSMode?: string; UsernsMode?: string;
  ShmSize?: number; Sysctls?: Record<string, string> | null; Runtime?: string; Isolation?: string;
  CpuShares?: number; Memory?: number; NanoCpus?: number; CgroupParent?: string; BlkioWeight?: number;
  CpuPeriod?: number; CpuQuota?: number; CpuRealtimePeriod?: number; CpuRealtimeRuntime?: number;
  CpusetCpus?: string; CpusetMems?: string; Devices?: DeviceMappingWire[] | null; DeviceCgroupRules?: string[] | null;
  MemoryReservation?: number; MemorySwap?: number; MemorySwappiness?: number | null; OomKillDisable?: boolean | null;
  PidsLimit?: number | null; Ulimits?: UlimitWire[] | null; Init?: boolean | null;
  MaskedPaths?: string[] | null; ReadonlyPaths?: string[] | null; Mounts?: unknown[] | null;
  BlkioWeightDevice?: unknown[] | null; BlkioDeviceReadBps?: unknown[] | null; BlkioDeviceWriteBps?: unknown[] | null;
  BlkioDeviceReadIOps?: unknown[] | null; BlkioDeviceWriteIOps?: unknown[] | null; DeviceRequests?: unknown[] | null;
  KernelMemory?: number; KernelMemoryTCP?: number; CpuCount?: number; CpuPercent?: number; IOMaximumIOps?: number; IOMaximumBandwidth?: number;
}

/** POST /containers/create body: Config with HostConfig and NetworkingConfig inline. */
export interface ContainerCreateRequest extends ContainerConfigWire {
  HostConfig?: HostConfigWire | null;
  NetworkingConfig?: { EndpointsConfig?: Record<string, unknown> | null } | null;
}

export interface ContainerCreateResponse { Id: string; Warnings: string[] }

export interface ContainerStateWire {
  Status: string; Running: boolean; Paused: boolean; Restarting: boolean; OOMKilled: boolean; Dead: boolean;
  Pid: number; ExitCode: number; Error: string; StartedAt: string; FinishedAt: string;
  Health?: { Status: string; FailingStreak: number; Log: Array<{ Start: string; End: string; ExitCode: number; Output: string }> };
}

export interface MountPointWire { Type: string; Name?: string; Source: string; Destination: string; Driver?: string; Mode: string; RW: boolean; Propagation: string }

export interface EndpointSettingsWire {
  IPAMConfig: { IPv4Address?: string; IPv6Address?: string; LinkLocalIPs?: string[] } | null; Links: string[] | null;
  Aliases: string[] | null; MacAddress: string; DriverOpts: Record<string, string> | null; GwPriority: number;
  NetworkID: string; EndpointID: string; Gateway: string; IPAddress: string; IPPrefixLen: number;
  IPv6Gateway: string; GlobalIPv6Address: string; GlobalIPv6PrefixLen: number; DNSNames: string[] | null;
}

export interface NetworkSettingsWire {
  Bridge: string; SandboxID: string; SandboxKey: string; HairpinMode: boolean; LinkLocalIPv6Address: string; LinkLocalIPv6PrefixLen: number;
  Ports: Record<string, unknown>; SecondaryIPAddresses: null; SecondaryIPv6Addresses: null;
  EndpointID: string; Gateway: string; GlobalIPv6Address: string; GlobalIPv6PrefixLen: number; IPAddress: string; IPPrefixLen: number;
  IPv6Gateway: string; MacAddress: string; Networks: Record<string, EndpointSettingsWire>;
}

/** GET /containers/{id}/json (container.InspectResponse). Created is an RFC 3339 string here. */
export interface ContainerInspect {
  Id: string; Created: string; Path: string; Args: string[]; State: ContainerStateWire; Image: string;
  ResolvConfPath: string; HostnamePath: string; HostsPath: string; LogPath: string; Name: string; RestartCount: number;
  Driver: string; Platform: string; MountLabel: string; ProcessLabel: string; AppArmorProfile: string; ExecIDs: string[] | null;
  HostConfig: HostConfigWire; GraphDriver: { Name: string; Data: null }; SizeRw?: number; SizeRootFs?: number;
  Mounts: MountPointWire[]; Config: ContainerConfigWire; NetworkSettings: NetworkSettingsWire;
}

/** GET /containers/json item (container.Summary). Created is unix seconds here. */
export interface ContainerSummary {
  Id: string; Names: string[]; Image: string; ImageID: string; Command: string; Created: number;
  Ports: Array<{ IP?: string; PrivatePort: number; PublicPort?: number; Type: string }>;
  SizeRw?: number; SizeRootFs?: number; Labels: Record<string, string>; State: string; Status: string;
  HostConfig: { NetworkMode: string }; NetworkSettings: { Networks: Record<string, EndpointSettingsWire> }; Mounts: MountPointWire[];
}

/** POST /containers/{id}/wait (container.WaitResponse). */
export interface ContainerWaitResponse { StatusCode: number; Error: { Message: string } | null }

/** moby api/types/volume.Volume */
export interface VolumeWire {
  CreatedAt: string; Driver: string; Labels: Record<string, string> | null; Mountpoint: string; Name: string;
  Options: Record<string, string> | null; Scope: 'local';
  UsageData?: { Size: number; RefCount: number } | null;
}

/** moby api/types/network.IPAMConfig; empty fields are omitted, as Go's omitempty does */
export interface IpamConfigWire { Subnet?: string; IPRange?: string; Gateway?: string; AuxiliaryAddresses?: Record<string, string> }

/** moby api/types/network.EndpointResource (an entry of a network's Containers) */
export interface NetworkContainerWire { Name: string; EndpointID: string; MacAddress: string; IPv4Address: string; IPv6Address: string }

/** GET /networks and /networks/{id} (moby api/types/network.Inspect, once NetworkResource) */
export interface NetworkWire {
  Name: string; Id: string; Created: string; Scope: 'local'; Driver: string; EnableIPv4: boolean; EnableIPv6: boolean;
  IPAM: { Driver: string; Options: Record<string, string> | null; Config: IpamConfigWire[] };
  Internal: boolean; Attachable: boolean; Ingress: boolean; ConfigFrom: { Network: string }; ConfigOnly: boolean;
  Containers: Record<string, NetworkContainerWire>; Options: Record<string, string>; Labels: Record<string, string>;
}

/** POST /networks/create (moby api/types/network.CreateRequest) */
export interface NetworkCreateRequest {
  Name?: string | null; CheckDuplicate?: boolean | null; Driver?: string | null; Scope?: string | null;
  EnableIPv4?: boolean | null; EnableIPv6?: boolean | null;
  IPAM?: { Driver?: string | null; Config?: IpamConfigWire[] | null; Options?: Record<string, string> | null } | null;
  Internal?: boolean | null; Attachable?: boolean | null; Ingress?: boolean | null; ConfigOnly?: boolean | null;
  ConfigFrom?: { Network?: string | null } | null; Options?: Record<string, string> | null; Labels?: Record<string, string> | null;
}

/** EndpointSettings as a client sends it (connect, NetworkingConfig.EndpointsConfig) */
export interface EndpointConfigWire {
  IPAMConfig?: { IPv4Address?: string | null; IPv6Address?: string | null; LinkLocalIPs?: string[] | null } | null;
  Links?: string[] | null; Aliases?: string[] | null; MacAddress?: string | null; DriverOpts?: Record<string, string> | null;
}
/** POST /containers/{id}/update (container.UpdateConfig: Resources + RestartPolicy) */
export interface ContainerUpdateRequest {
  Memory?: number; MemorySwap?: number; MemoryReservation?: number; NanoCpus?: number; CpuShares?: number; CpuQuota?: number; CpuPeriod?: number;
  CpusetCpus?: string; CpusetMems?: string; PidsLimit?: number | null; BlkioWeight?: number;
  RestartPolicy?: { Name?: string; MaximumRetryCount?: number };
  [other: string]: unknown;
}
export interface ContainerUpdateResponse { Warnings: string[] }
export interface ContainerTopResponse { Titles: string[]; Processes: string[][] }
