// containers/spec: the one place that turns a container's Docker configuration into an OCI spec
// (moby daemon/oci_linux.go + oci/defaults.go, containerd pkg/oci). Pure: host facts come in the context.
import { BerthError } from '../../errors.js';
import { CAPABILITIES, RLIMITS } from '../../runtime/linux.js';
import { compileSeccomp, loadSeccompProfileJSON, sharedDockerDefaultProfile } from '../../runtime/seccomp/index.js';
import { mountRefusal } from '../../runtime/mount-rules.js';
import type { Device, LinuxSeccomp, Mount, Spec } from '../../runtime/spec-types.js';
import type { ContainerConfig, ImageRunConfig } from '../config.js';
import { resolveUser } from './user.js';
import { planMounts, type MountPoint } from '../../volumes/mounts.js';

export interface HostDevice { type: 'c' | 'b'; major: number; minor: number; fileMode: number; uid: number; gid: number }

export interface SpecContext {
  id: string;
  rootfs: string;
  /** the container's own files (hostname, hosts, resolv.conf) are bind-mounted from here */
  containerDir: string;
  /** the rootfs's /etc/passwd and /etc/group, read inside the rootfs by the caller */
  passwd?: string;
  group?: string;
  /** stat of a host device node, for --device */
  hostDevice: (path: string) => HostDevice | undefined;
  /** every device node on the host, for --privileged */
  hostDevices?: () => Array<HostDevice & { path: string }>;
  /** the daemon's own capabilities: what --privileged and --cap-add ALL give (default: every known one) */
  hostCapabilities?: readonly string[];
  cgroupMode: 'v1' | 'v2' | 'hybrid';
  kernel?: string;
  /** the host's hostname, which a container on the host's network shares */
  hostHostname?: string;
  /** --init: the host's init binary (containers/init.ts), bind-mounted read-only as /sbin/docker-init */
  initPath?: string;
  /** the container's mount points with their host sources, resolved by the service (volumes/users.ts) */
  mountPoints?: MountPoint[];
  /** --network container:X: X's network namespace (/proc/<pid>/ns/net) and hostname, which the container shares */
  joinNetwork?: { netns: string; hostname: string };
  /** legacy links' variables (<ALIAS>_PORT…, network/links.ts); the image's and the container's env override them (moby CreateDaemonEnvironment) */
  linkEnv?: string[];
}

export type SpecOpt = (s: Spec, c: ContainerConfig, ctx: SpecContext) => void;

export const DEFAULT_PATH = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

// moby oci/caps/defaults.go
export const DOCKER_DEFAULT_CAPS = ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE'];

// moby oci/defaults.go DefaultLinuxSpec (inspect reports them as HostConfig.MaskedPaths/ReadonlyPaths)
export const MASKED = ['/proc/asound', '/proc/acpi', '/proc/interrupts', '/proc/kcore', '/proc/keys', '/proc/latency_stats', '/proc/timer_list',
  '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware', '/sys/devices/virtual/powercap'];
export const READONLY = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

function baseSpec(ctx: SpecContext): Spec {
  return {
    ociVersion: '1.2.0',
    root: { path: ctx.rootfs, readonly: false },
    process: { user: { uid: 0, gid: 0 }, cwd: '/', args: [], env: [], capabilities: {} },
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['ro', 'nosuid', 'noexec', 'nodev'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    ],
    linux: {
      namespaces: [{ type: 'mount' }, { type: 'network' }, { type: 'uts' }, { type: 'pid' }, { type: 'ipc' }],
      maskedPaths: [...MASKED],
      readonlyPaths: [...READONLY],
      resources: { devices: [{ allow: false, access: 'rwm' }] },
      cgroupsPath: `/berth/${ctx.id}`,
    },
  };
}

/** moby's ReplaceOrAppendEnvValues: a key keeps its place, a new one goes last. */
const setEnv = (env: string[], kv: string): string[] => {
  const key = kv.slice(0, kv.indexOf('=') + 1);
  const i = env.findIndex((e) => e.startsWith(key));
  return i < 0 ? [...env, kv] : env.map((e, k) => (k === i ? kv : e));
};

/** Image env, then the container's over it; PATH and HOSTNAME as docker adds them. */
export const withEnv = (img: ImageRunConfig): SpecOpt => (s, c, ctx) => {
  let env: string[] = [...(ctx.linkEnv ?? [])];
  for (const e of [...(img.env ?? []), ...(c.env ?? [])]) env = setEnv(env, e.includes('=') ? e : `${e}=`);
  if (!env.some((e) => e.startsWith('PATH='))) env.unshift(DEFAULT_PATH);
  env = [`HOSTNAME=${s.hostname ?? ctx.hostHostname ?? ''}`, ...env.filter((e) => !e.startsWith('HOSTNAME='))];
  if (c.tty && !env.some((e) => e.startsWith('TERM='))) env.push('TERM=xterm');
  s.process!.env = env;
};

/** docker's rule: an entrypoint given on create drops the image's cmd; otherwise image entrypoint + cmd. */
export function commandOf(c: ContainerConfig, img: ImageRunConfig): string[] {
  const entrypoint = c.entrypoint !== undefined ? c.entrypoint : (img.entrypoint ?? []);
  const cmd = c.cmd !== undefined && c.cmd.length ? c.cmd : c.entrypoint !== undefined ? [] : (img.cmd ?? []);
  const args = [...entrypoint, ...cmd];
  if (args.length === 0) throw new BerthError('InvalidArgument', 'no command specified');
  return args;
}

export const withArgs = (img: ImageRunConfig): SpecOpt => (s, c) => {
  s.process!.args = commandOf(c, img);
  s.process!.terminal = !!c.tty;
};

export const withUser = (img: ImageRunConfig): SpecOpt => (s, c, ctx) => {
  const u = resolveUser(c.user || img.user, ctx.passwd, ctx.group, c.host.groupAdd);
  s.process!.user = { uid: u.uid, gid: u.gid, additionalGids: u.additionalGids.length ? u.additionalGids : undefined };
  if (!s.process!.env!.some((e) => e.startsWith('HOME='))) s.process!.env!.push(`HOME=${u.home}`);
};

export const withCwd = (img: ImageRunConfig): SpecOpt => (s, c) => {
  const cwd = c.workingDir || img.workingDir || '/';
  if (!cwd.startsWith('/')) throw new BerthError('InvalidArgument', `the working directory '${cwd}' is invalid, it needs to be an absolute path`);
  s.process!.cwd = cwd;
};

export const withHostname: SpecOpt = (s, c, ctx) => {
  if (c.host.networkMode === 'host' || c.host.utsMode === 'host') return;
  s.hostname = c.hostname || ctx.joinNetwork?.hostname || ctx.id.slice(0, 12);
  if (c.domainname) s.domainname = c.domainname;
  if (c.domainname) s.domainname = c.domainname;
};

function capName(n: string): string {
  const up = n.toUpperCase();
  return up === 'ALL' ? 'ALL' : up.startsWith('CAP_') ? up : `CAP_${up}`;
}

/** moby caps.TweakCapabilities: defaults, plus adds, minus drops; ALL on either side. */
export const withCapabilities: SpecOpt = (s, c, ctx) => {
  const all = [...(ctx.hostCapabilities ?? CAPABILITIES)];
  let caps: string[];
  if (c.host.privileged) caps = all;
  else {
    const add = (c.host.capAdd ?? []).map(capName), drop = (c.host.capDrop ?? []).map(capName);
    for (const n of [...add, ...drop])
      if (n !== 'ALL' && !(CAPABILITIES as readonly string[]).includes(n)) throw new BerthError('InvalidArgument', `unknown capability: "${n}"`);
    const base = add.includes('ALL') ? all : [...DOCKER_DEFAULT_CAPS];
    caps = drop.includes('ALL') ? add.filter((x) => x !== 'ALL') : [...new Set([...base, ...add.filter((x) => x !== 'ALL')])].filter((x) => !drop.includes(x));
  }
  s.process!.capabilities = { bounding: caps, effective: caps, permitted: caps };
};

export const withNamespaces: SpecOpt = (s, c, ctx) => {
  const drop = new Set<string>();
  const mode = c.host.networkMode || 'default';
  // default, bridge, none and a user network's name all mean a new network namespace network/ wires up
  if (mode === 'host') drop.add('network');
  else if (mode.startsWith('container:')) {
    if (!ctx.joinNetwork) throw new BerthError('InvalidArgument', `network mode ${mode}: the container to join is not known`);
    s.linux!.namespaces = s.linux!.namespaces!.map((n) => (n.type === 'network' ? { type: 'network', path: ctx.joinNetwork!.netns } : n));
  }
  if (c.host.utsMode === 'host' || mode === 'host') drop.add('uts');
  if (c.host.pidMode === 'host') drop.add('pid');
  if (c.host.ipcMode === 'host') drop.add('ipc');
  s.linux!.namespaces = s.linux!.namespaces!.filter((n) => !drop.has(n.type));
  // docker: a private cgroup namespace is the default on cgroup v2, the host's on v1
  const cgroupns = c.host.cgroupnsMode ?? (ctx.cgroupMode === 'v2' ? 'private' : 'host');
  if (cgroupns === 'private') s.linux!.namespaces!.push({ type: 'cgroup' });
};

/** hostname, hosts and resolv.conf come from the container's directory (docker's bind mounts). */
export const withEtcFiles: SpecOpt = (s, c, ctx) => {
  const files = c.host.networkMode === 'host' ? ['hosts', 'resolv.conf'] : ['hostname', 'hosts', 'resolv.conf'];
  for (const f of files)
    s.mounts!.push({ destination: `/etc/${f}`, type: 'bind', source: `${ctx.containerDir}/${f}`, options: ['rbind', 'rprivate', ...(c.host.readonlyRootfs ? ['ro'] : [])] });
};

export const withShm: SpecOpt = (s, c) => {
  const size = c.host.shmSize || 64 * 1024 * 1024;
  s.mounts!.push({ destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${size}`] });
};

export const withTmpfs: SpecOpt = (s, c) => {
  for (const [dest, opts] of Object.entries(c.host.tmpfs ?? {})) {
    if (!dest.startsWith('/')) throw new BerthError('InvalidArgument', `invalid mount path for tmpfs: ${dest}: it must be absolute`);
    const extra = opts ? opts.split(',').filter(Boolean) : [];
    // moby's default tmpfs options, the user's after them win
    s.mounts!.push({ destination: dest, type: 'tmpfs', source: 'tmpfs', options: ['noexec', 'nosuid', 'nodev', ...extra] });
  }
};

/** The points a config alone gives (-v, --mount; no volumes-from, volume sources unresolved): for checks and tests. */
function configMountPoints(c: ContainerConfig): MountPoint[] {
  return planMounts(c, { exists: () => true, mountsOf: () => [], freshName: () => '' }).points;
}

/** A mount point as an OCI mount (moby daemon/oci_linux.go withMounts): binds and volumes rbind, tmpfs with docker's defaults. */
export function ociMount(p: MountPoint): Mount {
  if (p.type === 'tmpfs') return { destination: p.destination, type: 'tmpfs', source: 'tmpfs', options: ['noexec', 'nosuid', 'nodev', ...(p.tmpfsData ? p.tmpfsData.split(',') : [])] };
  if (p.type === 'volume' && !p.source) throw new BerthError('NotFound', `get ${p.name}: no such volume`);
  return { destination: p.destination, type: 'bind', source: p.source, options: [p.nonRecursive ? 'bind' : 'rbind', p.rw ? 'rw' : 'ro', p.propagation || 'rprivate'] };
}

/**
 * -v, --mount, --volumes-from as mounts, each replacing one at its destination. A shared or slave
 * mount point needs the root to propagate too (moby: rootfs propagation shared, else rslave).
 */
export const withBinds: SpecOpt = (s, c, ctx) => {
  const points = ctx?.mountPoints ?? configMountPoints(c);
  for (const p of points) {
    const m = ociMount(p);
    s.mounts = [...s.mounts!.filter((x) => x.destination !== p.destination), m];
    if (!s.linux) continue;
    if (/^r?shared$/.test(p.propagation)) s.linux.rootfsPropagation = 'shared';
    else if (/^r?slave$/.test(p.propagation) && s.linux.rootfsPropagation !== 'shared') s.linux.rootfsPropagation = 'rslave';
  }
};

/** Docker's cgroup numbers -> OCI resources (moby daemon/oci_linux.go getCPUResources etc.). */
export const withResources: SpecOpt = (s, c) => {
  const h = c.host;
  const r = s.linux!.resources!;
  if (h.memory || h.memoryReservation || h.oomKillDisable) {
    r.memory = {};
    if (h.memory) {
      if (h.memory < 6 * 1024 * 1024) throw new BerthError('InvalidArgument', 'Minimum memory limit allowed is 6MB');
      r.memory.limit = h.memory;
      // MemorySwap: 0 (unset) means swap equal to memory, i.e. twice in all; -1 unlimited
      const swap = h.memorySwap === undefined || h.memorySwap === 0 ? h.memory * 2 : h.memorySwap;
      if (swap !== -1 && swap < h.memory) throw new BerthError('InvalidArgument', 'Minimum memoryswap limit should be larger than memory limit, see usage');
      r.memory.swap = swap;
    } else if (h.memorySwap && h.memorySwap > 0) {
      throw new BerthError('InvalidArgument', 'You should always set the Memory limit when using Memoryswap limit, see usage');
    }
    if (h.memoryReservation) r.memory.reservation = h.memoryReservation;
    if (h.oomKillDisable) r.memory.disableOOMKiller = true;
  }
  if (h.nanoCpus && (h.cpuQuota || h.cpuPeriod))
    throw new BerthError('InvalidArgument', 'Conflicting options: Nano CPUs and CPU Period cannot both be set');
  if (h.nanoCpus || h.cpuShares || h.cpuQuota || h.cpuPeriod || h.cpusetCpus || h.cpusetMems) {
    r.cpu = {};
    if (h.nanoCpus) {
      if (h.nanoCpus < 0.01e9) throw new BerthError('InvalidArgument', 'Range of CPUs is from 0.01 to the number of CPUs available');
      r.cpu.period = 100000;
      r.cpu.quota = Math.round((h.nanoCpus * 100000) / 1e9);
    }
    if (h.cpuShares) r.cpu.shares = h.cpuShares;
    if (h.cpuQuota) r.cpu.quota = h.cpuQuota;
    if (h.cpuPeriod) r.cpu.period = h.cpuPeriod;
    if (h.cpusetCpus) r.cpu.cpus = h.cpusetCpus;
    if (h.cpusetMems) r.cpu.mems = h.cpusetMems;
  }
  if (h.pidsLimit && h.pidsLimit > 0) r.pids = { limit: h.pidsLimit };
  if (h.blkioWeight) r.blockIO = { weight: h.blkioWeight };
  if (h.cgroupParent) s.linux!.cgroupsPath = `${h.cgroupParent.replace(/\/$/, '')}/${s.linux!.cgroupsPath!.split('/').pop()}`;
};

export const withUlimits: SpecOpt = (s, c) => {
  const rl = (c.host.ulimits ?? []).map((u) => {
    const type = `RLIMIT_${u.name.toUpperCase()}`;
    if (!(type in RLIMITS)) throw new BerthError('InvalidArgument', `invalid ulimit type: ${u.name}`);
    if (u.soft > u.hard) throw new BerthError('InvalidArgument', `ulimit soft limit must be less than or equal to hard limit: ${u.soft} > ${u.hard}`);
    return { type, soft: u.soft, hard: u.hard };
  });
  if (rl.length) s.process!.rlimits = rl;
};

export const withDevices: SpecOpt = (s, c, ctx) => {
  const devices: Device[] = [];
  const rules = s.linux!.resources!.devices!;
  if (c.host.privileged) {
    for (const d of ctx.hostDevices?.() ?? []) devices.push({ path: d.path, type: d.type, major: d.major, minor: d.minor, fileMode: d.fileMode, uid: d.uid, gid: d.gid });
    rules.splice(0, rules.length, { allow: true, access: 'rwm' });
  }
  for (const d of c.host.devices ?? []) {
    const host = ctx.hostDevice(d.pathOnHost);
    if (!host) throw new BerthError('InvalidArgument', `error gathering device information while adding custom device "${d.pathOnHost}": no such file or directory`);
    const access = d.cgroupPermissions || 'rwm';
    if (!/^[rwm]+$/.test(access)) throw new BerthError('InvalidArgument', `invalid device cgroup permissions: ${access}`);
    devices.push({ path: d.pathInContainer || d.pathOnHost, type: host.type, major: host.major, minor: host.minor, fileMode: host.fileMode, uid: host.uid, gid: host.gid });
    rules.push({ allow: true, type: host.type, major: host.major, minor: host.minor, access });
  }
  if (devices.length) s.linux!.devices = devices;
};

/** Go's strconv.ParseBool */
const GO_BOOL: Record<string, boolean> = { 1: true, t: true, T: true, TRUE: true, true: true, True: true, 0: false, f: false, F: false, FALSE: false, false: false, False: false };

/**
 * --security-opt as moby parseSecurityOpt: no-new-privileges[=bool], seccomp=unconfined|<profile JSON>
 * (Docker's default profile otherwise). label=… and apparmor=… are accepted and have no effect, as on a
 * dockerd host without SELinux or AppArmor (this is such a host: Berth applies neither).
 */
export const withSecurity: SpecOpt = (s, c, ctx) => {
  let seccomp: string | undefined;
  for (const o of c.host.securityOpt ?? []) {
    if (o === 'no-new-privileges') { s.process!.noNewPrivileges = true; continue; }
    if (o === 'disable') continue; // label disable
    const sep = o.includes('=') ? '=' : o.includes(':') ? ':' : '';
    if (!sep) throw new BerthError('InvalidArgument', `invalid --security-opt 1: ${JSON.stringify(o)}`);
    const k = o.slice(0, o.indexOf(sep)), v = o.slice(o.indexOf(sep) + 1);
    if (k === 'no-new-privileges') {
      if (!(v in GO_BOOL)) throw new BerthError('InvalidArgument', `invalid --security-opt 2: ${JSON.stringify(o)}`);
      s.process!.noNewPrivileges = GO_BOOL[v]!;
    } else if (k === 'seccomp') seccomp = v;
    else if (k !== 'label' && k !== 'apparmor') throw new BerthError('InvalidArgument', `invalid --security-opt 2: ${JSON.stringify(o)}`);
  }
  // moby oci_linux.go WithMaskedPaths/WithReadonlyPaths: the container's lists replace the defaults
  if (c.host.maskedPaths) s.linux!.maskedPaths = [...c.host.maskedPaths];
  if (c.host.readonlyPaths) s.linux!.readonlyPaths = [...c.host.readonlyPaths];
  if (c.host.privileged) {
    s.linux!.maskedPaths = [];
    s.linux!.readonlyPaths = [];
    for (const m of s.mounts!) if (m.destination === '/sys' || m.destination === '/sys/fs/cgroup') m.options = m.options!.filter((o) => o !== 'ro');
    if (seccomp === undefined) return; // privileged: unconfined unless a profile is asked for
  }
  if (seccomp === 'unconfined') return;
  const caps = s.process!.capabilities!.bounding ?? [];
  let profile: LinuxSeccomp | undefined;
  if (seccomp === undefined || seccomp === '' || seccomp === 'builtin') profile = sharedDockerDefaultProfile({ capabilities: caps, kernel: ctx.kernel });
  else {
    profile = loadSeccompProfileJSON(seccomp, caps, { kernel: ctx.kernel });
    // refuse a bad profile now, with the field named, rather than when the container starts
    if (profile) compileSeccomp(profile);
  }
  if (profile) s.linux!.seccomp = profile;
};

export const withMisc: SpecOpt = (s, c) => {
  if (c.host.readonlyRootfs) s.root!.readonly = true;
  if (c.host.oomScoreAdj) {
    if (c.host.oomScoreAdj < -1000 || c.host.oomScoreAdj > 1000) throw new BerthError('InvalidArgument', `Invalid value ${c.host.oomScoreAdj}, range for oom score adj is [-1000, 1000]`);
    s.process!.oomScoreAdj = c.host.oomScoreAdj;
  }
  // moby WithSysctls: a container with a network namespace of its own may bind low ports and ping unprivileged
  const ownNetns = c.host.networkMode !== 'host' && !(c.host.networkMode ?? '').startsWith('container:');
  const sysctl = { ...(ownNetns ? { 'net.ipv4.ip_unprivileged_port_start': '0', 'net.ipv4.ping_group_range': '0 2147483647' } : {}), ...c.host.sysctls };
  if (Object.keys(sysctl).length) s.linux!.sysctl = sysctl;
};

/** --init: the init runs the command as its child (moby WithInit: `/sbin/docker-init -- args`). */
export const withInit: SpecOpt = (s, c, ctx) => {
  if (!c.host.init) return;
  if (!ctx.initPath) throw new BerthError('Internal', '--init: no init binary was given for the container');
  s.process!.args = ['/sbin/docker-init', '--', ...s.process!.args!];
  s.mounts!.push({ destination: '/sbin/docker-init', type: 'bind', source: ctx.initPath, options: ['bind', 'ro'] });
};

/**
 * At create: the user's mounts (-v, --tmpfs) the runtime would refuse at start — on /proc, inside it,
 * on a masked path — are refused now, so nothing is created. The mounts come from the same options
 * that build the spec; `isProcfs` is the host fact for a bind onto /proc.
 */
export function checkMounts(c: ContainerConfig, isProcfs: (source: string) => boolean, points?: MountPoint[]): void {
  const s: Spec = { ociVersion: '', mounts: [] };
  withTmpfs(s, c, undefined as unknown as SpecContext);
  for (const p of points ?? configMountPoints(c)) s.mounts!.push(p.type === 'volume' ? { destination: p.destination, type: 'bind', source: p.source || p.name } : ociMount(p));
  for (const m of s.mounts!) {
    const bind = m.type === 'bind';
    const why = mountRefusal({ destination: m.destination, type: m.type, bind, procfsSource: bind && isProcfs(m.source ?? '') }, c.host.privileged ? [] : MASKED);
    if (why) throw new BerthError('InvalidArgument', `error mounting "${m.source}" to rootfs at "${m.destination}": ${why}`);
  }
}

/** The whole translation, in moby's order. */
export function buildContainerSpec(c: ContainerConfig, img: ImageRunConfig, ctx: SpecContext): Spec {
  const s = baseSpec(ctx);
  const opts: SpecOpt[] = [
    withHostname, withNamespaces, withArgs(img), withEnv(img), withCwd(img), withUser(img), withCapabilities,
    withEtcFiles, withShm, withTmpfs, withBinds, withResources, withUlimits, withDevices, withMisc, withInit, withSecurity,
  ];
  for (const o of opts) o(s, c, ctx);
  return s;
}
