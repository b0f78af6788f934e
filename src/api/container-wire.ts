// api/container-wire: Docker's PascalCase container shapes <-> Berth's domain types, pure. The create
// request becomes a ContainerConfig (with moby's wire-level checks, daemon/container.go
// verifyContainerSettings); a Container becomes ContainerJSON (inspect) or a list summary.
import { availableParallelism } from 'node:os';
import { BerthError } from '../errors.js';
import { checkLimits, type Limits } from '../containers/validate.js';
import { checkRestartPolicy, restartPolicyWire } from '../containers/restart.js';
import { checkHealthConfig, healthConfigWire } from '../containers/health.js';
import type { ContainerConfig, HostConfig } from '../containers/config.js';
import type { Container, ContainerState } from '../containers/types.js';
import { MASKED, READONLY } from '../containers/spec/index.js';
import { mountPointsOf } from '../volumes/users.js';
import { checkLogConfig, logConfigWire } from '../containers/log-config.js';
import { fromMountSpec, mountPointWire, toMountSpec, type MountWire } from './mount-wire.js';
import type { EndpointRequest } from '../network/types.js';
import { mergeExposed, parsePortKey, portMapWire, validatePortBindings, type PortMap } from '../network/ports.js';
import type {
  ContainerConfigWire, ContainerCreateRequest, ContainerInspect, ContainerStateWire, ContainerSummary,
  EndpointSettingsWire, HostConfigWire, MountPointWire, NetworkSettingsWire, StrSlice,
} from './types.js';

/**
 * Create-request fields docker has and ContainerConfig does not (yet) name. They travel on the config
 * object under these names so the service can read them, and inspect echoes them back.
 */
export interface ConfigExtras {
  stdinOnce?: boolean;
  stopTimeout?: number;
  attachStdin?: boolean;
  attachStdout?: boolean;
  attachStderr?: boolean;
}
export interface HostExtras {
  autoRemove?: boolean;
  consoleSize?: [number, number];
}
export type WireContainerConfig = ContainerConfig & ConfigExtras & { host: HostConfig & HostExtras };

export const ZERO_TIME = '0001-01-01T00:00:00Z';

function strSlice(v: StrSlice | undefined, field: string): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return [v];
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return v;
  throw new BerthError('InvalidArgument', `invalid JSON: cannot unmarshal ${JSON.stringify(v)} into ${field} of type strslice.StrSlice`);
}

function list(v: string[] | null | undefined): string[] | undefined {
  return v === null || v === undefined || v.length === 0 ? undefined : v;
}

function num(v: number | null | undefined): number | undefined {
  return v === null || v === undefined || v === 0 ? undefined : v;
}

function obj<T>(v: Record<string, T> | null | undefined): Record<string, T> | undefined {
  return v === null || v === undefined || Object.keys(v).length === 0 ? undefined : v;
}

/** HostConfig.PortBindings → PortMap; a malformed one is InvalidArgument in the daemon's words. */
function portBindingsOf(v: Record<string, unknown> | null | undefined): PortMap | undefined {
  if (v === null || v === undefined) return undefined;
  const out: PortMap = {};
  for (const [key, list] of Object.entries(v)) {
    if (list !== null && !Array.isArray(list)) throw new BerthError('InvalidArgument', `invalid JSON: cannot unmarshal ${JSON.stringify(list)} into HostConfig.PortBindings of type []nat.PortBinding`);
    out[key] = ((list ?? []) as Array<{ HostIp?: unknown; HostPort?: unknown } | null>).map((b) => ({
      hostIp: typeof b?.HostIp === 'string' ? b.HostIp : '', hostPort: typeof b?.HostPort === 'string' ? b.HostPort : '',
    }));
  }
  validatePortBindings(out);
  return Object.keys(out).length ? out : undefined;
}

/** The wire's resources and settings in the terms of containers/validate.ts (the one place of those checks). */
function limitsOf(body: ContainerCreateRequest, h: HostConfigWire): Limits {
  return {
    memory: h.Memory ?? undefined, memorySwap: h.MemorySwap ?? undefined, memoryReservation: h.MemoryReservation ?? undefined,
    memorySwappiness: h.MemorySwappiness, oomKillDisable: h.OomKillDisable ?? undefined, nanoCpus: h.NanoCpus ?? undefined,
    cpuShares: h.CpuShares ?? undefined, cpuPeriod: h.CpuPeriod ?? undefined, cpuQuota: h.CpuQuota ?? undefined, pidsLimit: h.PidsLimit,
    blkioWeight: h.BlkioWeight ?? undefined, oomScoreAdj: h.OomScoreAdj ?? undefined, shmSize: h.ShmSize ?? undefined,
    ulimits: h.Ulimits?.map((u) => ({ name: u.Name, soft: u.Soft, hard: u.Hard })), hostname: body.Hostname ?? undefined, stopTimeout: body.StopTimeout,
  };
}

/** POST /containers/create body → ContainerConfig. */
export function toContainerConfig(body: ContainerCreateRequest | undefined, o: { ncpu?: number; warnings?: string[] } = {}): WireContainerConfig {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new BerthError('InvalidArgument', 'config cannot be empty in order to create a container');
  if (typeof body.Image !== 'string' || body.Image === '') throw new BerthError('InvalidArgument', 'no image specified: Config.Image is empty');
  const h: HostConfigWire = body.HostConfig ?? {};
  const warnings = checkLimits(limitsOf(body, h), { ncpu: o.ncpu ?? availableParallelism() });
  o.warnings?.push(...warnings);
  if (h.RestartPolicy?.Name && h.RestartPolicy.Name !== 'no' && h.AutoRemove) throw new BerthError('InvalidArgument', `can't create 'AutoRemove' container with restart policy`);
  const restartPolicy = checkRestartPolicy(h.RestartPolicy);
  const healthcheck = checkHealthConfig(body.Healthcheck as Parameters<typeof checkHealthConfig>[0]);
  const host: HostConfig & HostExtras = {
    memory: num(h.Memory), memorySwap: num(h.MemorySwap), memoryReservation: num(h.MemoryReservation),
    oomKillDisable: h.OomKillDisable ?? undefined, nanoCpus: num(h.NanoCpus), cpuShares: num(h.CpuShares),
    cpuQuota: num(h.CpuQuota), cpuPeriod: num(h.CpuPeriod), cpusetCpus: h.CpusetCpus || undefined, cpusetMems: h.CpusetMems || undefined,
    pidsLimit: num(h.PidsLimit), blkioWeight: num(h.BlkioWeight),
    privileged: h.Privileged || undefined, capAdd: list(h.CapAdd),
    maskedPaths: Array.isArray(h.MaskedPaths) ? [...h.MaskedPaths] : undefined, readonlyPaths: Array.isArray(h.ReadonlyPaths) ? [...h.ReadonlyPaths] : undefined, capDrop: list(h.CapDrop), securityOpt: list(h.SecurityOpt),
    readonlyRootfs: h.ReadonlyRootfs || undefined, tmpfs: obj(h.Tmpfs), shmSize: num(h.ShmSize),
    ulimits: h.Ulimits?.length ? h.Ulimits.map((u) => ({ name: u.Name, soft: u.Soft, hard: u.Hard })) : undefined,
    devices: h.Devices?.length ? h.Devices.map((d) => ({ pathOnHost: d.PathOnHost, ...(d.PathInContainer ? { pathInContainer: d.PathInContainer } : {}), ...(d.CgroupPermissions ? { cgroupPermissions: d.CgroupPermissions } : {}) })) : undefined,
    // "" and "default" both mean the daemon's default network (bridge in docker)
    networkMode: h.NetworkMode || 'default',
    binds: list(h.Binds), mounts: h.Mounts?.length ? (h.Mounts as MountWire[]).map(toMountSpec) : undefined,
    volumesFrom: list(h.VolumesFrom), logConfig: checkLogConfig(h.LogConfig, o.warnings), oomScoreAdj: num(h.OomScoreAdj), sysctls: obj(h.Sysctls), cgroupParent: h.CgroupParent || undefined,
    cgroupnsMode: h.CgroupnsMode === 'host' || h.CgroupnsMode === 'private' ? h.CgroupnsMode : undefined,
    ipcMode: h.IpcMode || undefined, pidMode: h.PidMode || undefined, utsMode: h.UTSMode || undefined, init: h.Init ?? undefined,
    groupAdd: h.GroupAdd?.length ? [...h.GroupAdd] : undefined,
    autoRemove: h.AutoRemove || undefined, restartPolicy,
    dns: list(h.Dns), dnsSearch: list(h.DnsSearch), dnsOptions: list(h.DnsOptions), extraHosts: list(h.ExtraHosts),
    consoleSize: h.ConsoleSize && (h.ConsoleSize[0] || h.ConsoleSize[1]) ? h.ConsoleSize : undefined,
    portBindings: portBindingsOf(h.PortBindings), publishAllPorts: h.PublishAllPorts || undefined,
  };
  if (host.portBindings && host.networkMode === 'host') o.warnings?.push('Published ports are discarded when using host network mode');
  // moby runconfig: a container in another's network namespace has no ports of its own
  if (host.networkMode?.startsWith('container:')) {
    if (host.portBindings || host.publishAllPorts) throw new BerthError('InvalidArgument', 'conflicting options: port publishing and the container type network mode');
    if (Object.keys(body.ExposedPorts ?? {}).length) throw new BerthError('InvalidArgument', 'conflicting options: port exposing and the container type network mode');
  }
  if (h.CgroupnsMode && host.cgroupnsMode === undefined) throw new BerthError('InvalidArgument', `invalid cgroup namespace mode: ${h.CgroupnsMode}`);
  const entrypoint = strSlice(body.Entrypoint, 'Config.Entrypoint');
  const cfg: WireContainerConfig = {
    image: body.Image,
    cmd: list(strSlice(body.Cmd, 'Config.Cmd')),
    // docker --entrypoint "" sends [""] (or []): clear the image's entrypoint
    entrypoint: entrypoint === undefined ? undefined : entrypoint.filter((x) => x !== '').length === 0 ? [] : entrypoint,
    env: list(body.Env), workingDir: body.WorkingDir || undefined, user: body.User || undefined,
    tty: body.Tty || undefined, openStdin: body.OpenStdin || undefined,
    hostname: body.Hostname || undefined, domainname: body.Domainname || undefined,
    labels: obj(body.Labels), stopSignal: body.StopSignal || undefined,
    volumes: body.Volumes && Object.keys(body.Volumes).length ? Object.keys(body.Volumes) : undefined,
    networks: endpointsConfig(body, host.networkMode!),
    stdinOnce: body.StdinOnce || undefined, stopTimeout: body.StopTimeout ?? undefined, healthcheck,
    attachStdin: body.AttachStdin || undefined, attachStdout: body.AttachStdout || undefined, attachStderr: body.AttachStderr || undefined,
    exposedPorts: mergeExposed(Object.keys(body.ExposedPorts ?? {})),
    host,
  };
  // drop the undefined keys, so the stored config reads as what was asked for
  for (const k of Object.keys(host) as Array<keyof typeof host>) if (host[k] === undefined) delete host[k];
  for (const k of Object.keys(cfg) as Array<keyof typeof cfg>) if (cfg[k] === undefined) delete cfg[k];
  return cfg;
}

/** NetworkingConfig.EndpointsConfig (and the older Config.MacAddress) as endpoint requests by network. */
function endpointsConfig(body: ContainerCreateRequest, mode: string): Record<string, EndpointRequest> | undefined {
  const raw = body.NetworkingConfig?.EndpointsConfig ?? {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new BerthError('InvalidArgument', 'invalid JSON: NetworkingConfig.EndpointsConfig must be an object');
  const out: Record<string, EndpointRequest> = {};
  for (const [name, v] of Object.entries(raw)) {
    const e = (v ?? {}) as { Aliases?: string[] | null; Links?: string[] | null; IPAMConfig?: { IPv4Address?: string } | null; MacAddress?: string };
    const r: EndpointRequest = {};
    if (e.Aliases?.length) r.aliases = e.Aliases;
    if (e.Links?.length) r.links = e.Links;
    if (e.IPAMConfig?.IPv4Address) r.ipv4Address = e.IPAMConfig.IPv4Address;
    if (e.MacAddress) r.macAddress = e.MacAddress;
    out[name] = r;
  }
  if (body.MacAddress) {
    const key = mode === 'default' ? (out.default ? 'default' : 'bridge') : mode;
    out[key] = { ...(out[key] ?? {}), macAddress: out[key]?.macAddress || body.MacAddress };
  }
  return Object.keys(out).length ? out : undefined;
}

export function mountsOf(c: Container): MountPointWire[] {
  return mountPointsOf(c).map(mountPointWire).sort((a, b) => a.Destination.localeCompare(b.Destination));
}

const EMPTY_ENDPOINT: EndpointSettingsWire = {
  IPAMConfig: null, Links: null, Aliases: null, MacAddress: '', DriverOpts: null, GwPriority: 0, NetworkID: '', EndpointID: '',
  Gateway: '', IPAddress: '', IPPrefixLen: 0, IPv6Gateway: '', GlobalIPv6Address: '', GlobalIPv6PrefixLen: 0, DNSNames: null,
};

/**
 * The container's networks as docker shows them: every network it is configured for, filled from its live
 * endpoint while it runs (moby's container.NetworkSettings.Networks). `container:` mode shows none.
 */
function endpoints(c: Container): Record<string, EndpointSettingsWire> {
  const mode = c.config.host.networkMode || 'default';
  if (mode.startsWith('container:')) return {};
  const names = mode === 'host' || mode === 'none' ? [mode] : Object.keys(c.config.networks ?? {});
  if (!c.network && names.length === 0) names.push(mode === 'default' ? 'bridge' : mode); // a daemon without networking
  const out: Record<string, EndpointSettingsWire> = {};
  for (const name of names) {
    const req = c.config.networks?.[name] ?? {};
    const ep = c.network?.endpoints.find((e) => e.networkName === name);
    const user = name !== 'bridge' && name !== 'host' && name !== 'none';
    // docker adds the short id as an alias on user networks, where names resolve
    const aliases = user ? [...(req.aliases ?? []), ...(ep ? [c.id.slice(0, 12)] : [])] : [];
    out[name] = {
      ...EMPTY_ENDPOINT,
      IPAMConfig: req.ipv4Address ? { IPv4Address: req.ipv4Address } : null,
      Aliases: aliases.length ? aliases : null, Links: req.links?.length ? [...req.links] : null,
      MacAddress: ep?.macAddress ?? '', NetworkID: c.network?.networkIds[name] ?? '', EndpointID: ep?.endpointId ?? '',
      Gateway: ep?.gateway ?? '', IPAddress: ep?.ipv4Address ?? '', IPPrefixLen: ep?.prefixLen ?? 0,
      DNSNames: user && ep ? [c.name, ...(req.aliases ?? []), c.id.slice(0, 12)] : null,
    };
  }
  return out;
}

function networkSettings(c: Container): NetworkSettingsWire {
  const running = c.state.status === 'running' || c.state.status === 'paused';
  const nets = endpoints(c);
  // the top-level fields are the default bridge's (docker's legacy view)
  const b = nets.bridge;
  return {
    Bridge: '', SandboxID: running && c.network ? c.id : '', SandboxKey: running && c.network ? `/proc/${c.state.pid}/ns/net` : '',
    HairpinMode: false, LinkLocalIPv6Address: '', LinkLocalIPv6PrefixLen: 0,
    // moby reads them off the sandbox's endpoints: none (--network none, a daemon with --bridge none) shows none
    Ports: running && (!c.network || c.network.endpoints.length > 0) ? portMapWire(c.config.exposedPorts ?? [], c.ports ?? []) : {}, SecondaryIPAddresses: null, SecondaryIPv6Addresses: null, EndpointID: b?.EndpointID ?? '', Gateway: b?.Gateway ?? '', GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0, IPAddress: b?.IPAddress ?? '', IPPrefixLen: b?.IPPrefixLen ?? 0, IPv6Gateway: '', MacAddress: b?.MacAddress ?? '',
    Networks: nets,
  };
}

function running(c: Container): boolean {
  return c.state.status === 'running' || c.state.status === 'paused';
}

function portBindingsWire(m: PortMap | undefined): Record<string, Array<{ HostIp: string; HostPort: string }>> {
  return Object.fromEntries(Object.entries(m ?? {}).map(([k, l]) => [k, l.map((b) => ({ HostIp: b.hostIp, HostPort: b.hostPort }))]));
}

/** The list's Ports: published ones, and exposed ones with no host port (moby's container list). */
function summaryPorts(c: Container): ContainerSummary['Ports'] {
  if (!running(c)) return [];
  const pub = c.ports ?? [];
  const out: ContainerSummary['Ports'] = pub.map((p) => ({ IP: p.hostIp, PrivatePort: p.containerPort, PublicPort: p.hostPort, Type: p.proto }));
  for (const k of c.config.exposedPorts ?? []) {
    const [proto, port] = parsePortKey(k);
    if (!pub.some((p) => p.proto === proto && p.containerPort === port)) out.push({ PrivatePort: port, Type: proto });
  }
  return out;
}

export function stateWire(s: ContainerState): ContainerStateWire {
  return {
    Status: s.status, Running: s.status === 'running' || s.status === 'paused' || s.status === 'restarting', Paused: s.status === 'paused',
    Restarting: s.status === 'restarting', OOMKilled: s.oomKilled, Dead: s.status === 'dead',
    Pid: s.pid, ExitCode: s.exitCode, Error: s.error, StartedAt: s.startedAt || ZERO_TIME, FinishedAt: s.finishedAt || ZERO_TIME,
    ...(s.health ? { Health: { Status: s.health.status, FailingStreak: s.health.failingStreak, Log: s.health.log.map((l) => ({ Start: l.start, End: l.end, ExitCode: l.exitCode, Output: l.output })) } } : {}),
  };
}

export function hostConfigWire(c: Container): HostConfigWire {
  const h = c.config.host as HostConfig & HostExtras;
  return {
    Binds: h.binds ?? null, ContainerIDFile: '', LogConfig: logConfigWire(h.logConfig),
    NetworkMode: h.networkMode ?? 'default', PortBindings: portBindingsWire(h.portBindings), RestartPolicy: restartPolicyWire(h.restartPolicy),
    AutoRemove: !!h.autoRemove, VolumeDriver: '', VolumesFrom: h.volumesFrom ?? null, ConsoleSize: h.consoleSize ?? [0, 0],
    CapAdd: h.capAdd ?? null, CapDrop: h.capDrop ?? null, CgroupnsMode: h.cgroupnsMode ?? 'private',
    Dns: h.dns ?? [], DnsOptions: h.dnsOptions ?? [], DnsSearch: h.dnsSearch ?? [], ExtraHosts: h.extraHosts ?? null, GroupAdd: h.groupAdd ?? null, IpcMode: h.ipcMode ?? 'private', Cgroup: '', Links: null,
    OomScoreAdj: h.oomScoreAdj ?? 0, PidMode: h.pidMode ?? '', Privileged: !!h.privileged, PublishAllPorts: !!h.publishAllPorts,
    ReadonlyRootfs: !!h.readonlyRootfs, SecurityOpt: h.securityOpt ?? null, Tmpfs: h.tmpfs ?? undefined, UTSMode: h.utsMode ?? '', UsernsMode: '',
    ShmSize: h.shmSize ?? 64 * 1024 * 1024, Sysctls: h.sysctls ?? undefined, Runtime: 'runc', Isolation: '',
    CpuShares: h.cpuShares ?? 0, Memory: h.memory ?? 0, NanoCpus: h.nanoCpus ?? 0, CgroupParent: h.cgroupParent ?? '', BlkioWeight: h.blkioWeight ?? 0,
    CpuPeriod: h.cpuPeriod ?? 0, CpuQuota: h.cpuQuota ?? 0, CpuRealtimePeriod: 0, CpuRealtimeRuntime: 0,
    CpusetCpus: h.cpusetCpus ?? '', CpusetMems: h.cpusetMems ?? '',
    Devices: (h.devices ?? []).map((d) => ({ PathOnHost: d.pathOnHost, PathInContainer: d.pathInContainer ?? d.pathOnHost, CgroupPermissions: d.cgroupPermissions ?? 'rwm' })),
    DeviceCgroupRules: null, MemoryReservation: h.memoryReservation ?? 0, MemorySwap: h.memorySwap ?? 0, MemorySwappiness: null,
    OomKillDisable: h.oomKillDisable ?? false, PidsLimit: h.pidsLimit ?? null,
    Ulimits: (h.ulimits ?? []).map((u) => ({ Name: u.name, Soft: u.soft, Hard: u.hard })), ...(h.init !== undefined ? { Init: h.init } : {}),
    // what dockerd reports for settings Berth does not offer: their zero values, so clients see every field
    BlkioWeightDevice: [], BlkioDeviceReadBps: [], BlkioDeviceWriteBps: [], BlkioDeviceReadIOps: [], BlkioDeviceWriteIOps: [],
    DeviceRequests: null, KernelMemory: 0, KernelMemoryTCP: 0, CpuCount: 0, CpuPercent: 0, IOMaximumIOps: 0, IOMaximumBandwidth: 0,
    // moby create: the given lists, else the defaults, are recorded unless privileged
    MaskedPaths: h.privileged ? null : [...(h.maskedPaths ?? MASKED)], ReadonlyPaths: h.privileged ? null : [...(h.readonlyPaths ?? READONLY)],
    ...(h.mounts ? { Mounts: h.mounts.map(fromMountSpec) } : {}),
  };
}

export function configWire(c: Container): ContainerConfigWire {
  const x = c.config as WireContainerConfig;
  return {
    Hostname: x.hostname ?? c.id.slice(0, 12), Domainname: x.domainname ?? '', User: x.user ?? '',
    AttachStdin: !!x.attachStdin, AttachStdout: !!x.attachStdout, AttachStderr: !!x.attachStderr,
    Tty: !!x.tty, OpenStdin: !!x.openStdin, StdinOnce: !!x.stdinOnce,
    ...(x.exposedPorts?.length ? { ExposedPorts: Object.fromEntries(x.exposedPorts.map((k) => [k, {}])) } : {}),
    Env: x.env ?? null, Cmd: x.cmd ?? null, Image: x.image, Volumes: x.volumes ? Object.fromEntries(x.volumes.map((v) => [v, {}])) : null, WorkingDir: x.workingDir ?? '',
    Entrypoint: x.entrypoint ?? null, OnBuild: null, Labels: x.labels ?? {},
    ...(x.healthcheck ? { Healthcheck: healthConfigWire(x.healthcheck) } : {}),
    ...(primaryMac(c) ? { MacAddress: primaryMac(c) } : {}),
    ...(x.stopSignal ? { StopSignal: x.stopSignal } : {}), ...(x.stopTimeout !== undefined ? { StopTimeout: x.stopTimeout } : {}),
  };
}

function primaryMac(c: Container): string | undefined {
  const first = Object.values(c.config.networks ?? {})[0];
  return first?.macAddress;
}

/** GET /containers/{id}/json */
export function toInspect(c: Container, o: { size?: boolean | ContainerSizes } = {}): ContainerInspect {
  return {
    Id: c.id, Created: c.created, Path: c.path, Args: c.args, State: stateWire(c.state), Image: c.imageId,
    // written by the service next to the log, bind-mounted into the container
    ResolvConfPath: c.logPath.replace(/json\.log$/, 'resolv.conf'), HostnamePath: c.logPath.replace(/json\.log$/, 'hostname'),
    HostsPath: c.logPath.replace(/json\.log$/, 'hosts'), LogPath: c.logPath, Name: `/${c.name}`, RestartCount: c.restartCount,
    Driver: 'overlay2', Platform: 'linux', MountLabel: '', ProcessLabel: '', AppArmorProfile: '', ExecIDs: null,
    HostConfig: hostConfigWire(c), GraphDriver: { Name: 'overlay2', Data: null },
    ...(o.size ? { SizeRw: typeof o.size === 'object' ? o.size.rw : 0, SizeRootFs: typeof o.size === 'object' ? o.size.rootFs : 0 } : {}),
    Mounts: mountsOf(c), Config: configWire(c), NetworkSettings: networkSettings(c),
  };
}

/** go-units HumanDuration. */
export function humanDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 1) return 'Less than a second';
  if (s === 1) return '1 second';
  if (s < 60) return `${s} seconds`;
  const m = Math.floor(ms / 60000);
  if (m === 1) return 'About a minute';
  if (m < 60) return `${m} minutes`;
  const h = Math.floor(ms / 3.6e6 + 0.5);
  if (h === 1) return 'About an hour';
  if (h < 48) return `${h} hours`;
  if (h < 24 * 7 * 2) return `${Math.floor(h / 24)} days`;
  if (h < 24 * 30 * 2) return `${Math.floor(h / 24 / 7)} weeks`;
  if (h < 24 * 365 * 2) return `${Math.floor(h / 24 / 30)} months`;
  return `${Math.floor(ms / 3.6e6 / 24 / 365)} years`;
}

function isZero(t: string): boolean {
  return !t || t.startsWith('0001-01-01');
}

/** moby container.State.String(): the list's human Status. */
export function statusText(s: ContainerState, now = Date.now()): string {
  switch (s.status) {
    // moby State.String: "(health: starting)", "(healthy)", "(unhealthy)"
    case 'running': return `Up ${humanDuration(now - Date.parse(s.startedAt))}${s.health ? ` (${s.health.status === 'starting' ? 'health: starting' : s.health.status})` : ''}`;
    case 'paused': return `Up ${humanDuration(now - Date.parse(s.startedAt))} (Paused)`;
    case 'restarting': return `Restarting (${s.exitCode}) ${humanDuration(now - Date.parse(s.finishedAt))} ago`;
    case 'removing': return 'Removal In Progress';
    case 'dead': return 'Dead';
    default:
      if (isZero(s.startedAt)) return 'Created';
      if (isZero(s.finishedAt)) return '';
      return `Exited (${s.exitCode}) ${humanDuration(now - Date.parse(s.finishedAt))} ago`;
  }
}

/** GET /containers/json item. */
/** SizeRw (the writable layer) and SizeRootFs (it and the image), as `size=1` reports them. */
export interface ContainerSizes { rw: number; rootFs: number }

export function toSummary(c: Container, o: { size?: boolean | ContainerSizes; now?: number } = {}): ContainerSummary {
  return {
    Id: c.id, Names: [`/${c.name}`], Image: c.image, ImageID: c.imageId,
    // moby daemon/list.go: an argument with a space goes in single quotes
    Command: c.args.length ? `${c.path} ${c.args.map((a) => (a.includes(' ') ? `'${a}'` : a)).join(' ')}` : c.path,
    Created: Math.floor(Date.parse(c.created) / 1000), Ports: summaryPorts(c),
    ...(o.size ? { SizeRw: typeof o.size === 'object' ? o.size.rw : 0, SizeRootFs: typeof o.size === 'object' ? o.size.rootFs : 0 } : {}),
    Labels: c.config.labels ?? {}, State: c.state.status, Status: statusText(c.state, o.now),
    HostConfig: { NetworkMode: c.config.host.networkMode ?? 'default' },
    NetworkSettings: { Networks: endpoints(c) },
    Mounts: mountsOf(c),
  };
}
