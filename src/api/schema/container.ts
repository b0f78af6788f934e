// api/schema/container: the bodies of POST /containers/create and /containers/{id}/update, written from
// moby's api/swagger.yaml (definitions ContainerConfig, HostConfig, Resources, NetworkingConfig,
// EndpointSettings, HealthConfig, Mount, …) and the Go types they decode into (api/types/container).
import { bool, int, int64, keySet, list, mapOf, obj, str, strMap, strs, strSlice, uint16, uint64, type Schema } from './dsl.js';

/** swagger HealthConfig; durations are int64 nanoseconds */
const healthConfig = obj({ Test: strs, Interval: int64, Timeout: int64, Retries: int, StartPeriod: int64, StartInterval: int64 });

const throttleDevice = obj({ Path: str, Rate: uint64 });
const weightDevice = obj({ Path: str, Weight: uint16 });

/** units.Ulimit */
const ulimit = obj({ Name: str, Hard: int64, Soft: int64 });

const deviceMapping = obj({ PathOnHost: str, PathInContainer: str, CgroupPermissions: str });
const deviceRequest = obj({ Driver: str, Count: int, DeviceIDs: strs, Capabilities: list(strs), Options: strMap });

/** swagger Resources (container.Resources): shared by create's HostConfig and update */
export const resources: { [field: string]: Schema } = {
  CpuShares: int64, Memory: int64, NanoCpus: int64, CgroupParent: str,
  BlkioWeight: uint16, BlkioWeightDevice: list(weightDevice),
  BlkioDeviceReadBps: list(throttleDevice), BlkioDeviceWriteBps: list(throttleDevice),
  BlkioDeviceReadIOps: list(throttleDevice), BlkioDeviceWriteIOps: list(throttleDevice),
  CpuPeriod: int64, CpuQuota: int64, CpuRealtimePeriod: int64, CpuRealtimeRuntime: int64,
  CpusetCpus: str, CpusetMems: str, Devices: list(deviceMapping), DeviceCgroupRules: strs, DeviceRequests: list(deviceRequest),
  // KernelMemory(TCP) are gone from the swagger but older clients (docker-py 5) may still send them
  KernelMemory: int64, KernelMemoryTCP: int64,
  MemoryReservation: int64, MemorySwap: int64, MemorySwappiness: int64, OomKillDisable: bool, PidsLimit: int64,
  Ulimits: list(ulimit), CpuCount: int64, CpuPercent: int64, IOMaximumIOps: uint64, IOMaximumBandwidth: uint64,
};

/** swagger RestartPolicy; the name is checked by the service with docker's message, not as an enum here */
const restartPolicy = obj({ Name: str, MaximumRetryCount: int });

/** swagger PortMap: "80/tcp" → [PortBinding] */
const portMap = mapOf(list(obj({ HostIp: str, HostPort: str })));

/** swagger Mount (mount.Mount) */
const mount = obj({
  Target: str, Source: str, Type: str, ReadOnly: bool, Consistency: str,
  BindOptions: obj({ Propagation: str, NonRecursive: bool, CreateMountpoint: bool, ReadOnlyNonRecursive: bool, ReadOnlyForceRecursive: bool }),
  VolumeOptions: obj({ NoCopy: bool, Labels: strMap, DriverConfig: obj({ Name: str, Options: strMap }), Subpath: str }),
  ImageOptions: obj({ Subpath: str }),
  TmpfsOptions: obj({ SizeBytes: int64, Mode: { ...uint64, maximum: 2 ** 32 - 1 }, Options: list(strs) }),
});

/** swagger HostConfig = Resources + these */
export const hostConfig = obj({
  ...resources,
  Binds: strs, ContainerIDFile: str, LogConfig: obj({ Type: str, Config: strMap }), NetworkMode: str, PortBindings: portMap,
  RestartPolicy: restartPolicy, AutoRemove: bool, VolumeDriver: str, VolumesFrom: strs,
  ConsoleSize: list({ ...uint64 }, { minItems: 2, maxItems: 2 }), Annotations: strMap,
  CapAdd: strs, CapDrop: strs, CgroupnsMode: str, Dns: strs, DnsOptions: strs, DnsSearch: strs, ExtraHosts: strs, GroupAdd: strs,
  IpcMode: str, Cgroup: str, Links: strs, OomScoreAdj: int, PidMode: str, Privileged: bool, PublishAllPorts: bool, ReadonlyRootfs: bool,
  SecurityOpt: strs, StorageOpt: strMap, Tmpfs: strMap, UTSMode: str, UsernsMode: str, ShmSize: int64, Sysctls: strMap, Runtime: str,
  Isolation: str, Mounts: list(mount), MaskedPaths: strs, ReadonlyPaths: strs, Init: bool,
});

/** swagger EndpointSettings (network.EndpointSettings) */
const endpointSettings = obj({
  IPAMConfig: obj({ IPv4Address: str, IPv6Address: str, LinkLocalIPs: strs }),
  Links: strs, MacAddress: str, Aliases: strs, DriverOpts: strMap, GwPriority: int,
  NetworkID: str, EndpointID: str, Gateway: str, IPAddress: str, IPPrefixLen: int,
  IPv6Gateway: str, GlobalIPv6Address: str, GlobalIPv6PrefixLen: int, DNSNames: strs,
});

/** swagger ContainerConfig (container.Config); Cmd and Entrypoint are strslice (string or list) on the wire */
export const containerConfig: { [field: string]: Schema } = {
  Hostname: str, Domainname: str, User: str, AttachStdin: bool, AttachStdout: bool, AttachStderr: bool,
  ExposedPorts: keySet, Tty: bool, OpenStdin: bool, StdinOnce: bool, Env: strs, Cmd: strSlice, Healthcheck: healthConfig,
  ArgsEscaped: bool, Image: str, Volumes: keySet, WorkingDir: str, Entrypoint: strSlice, NetworkDisabled: bool,
  MacAddress: str, OnBuild: strs, Labels: strMap, StopSignal: str, StopTimeout: int, Shell: strs,
};

/** POST /containers/create: Config with HostConfig and NetworkingConfig beside its fields (container.CreateRequest) */
export const containerCreate = obj({
  ...containerConfig,
  HostConfig: hostConfig,
  NetworkingConfig: obj({ EndpointsConfig: mapOf(endpointSettings) }),
});

/** POST /containers/{id}/update (container.UpdateConfig) */
export const containerUpdate = obj({ ...resources, RestartPolicy: restartPolicy });
