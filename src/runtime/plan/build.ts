// plan/build: a validated OCI spec -> the ordered ops berth-helper carries out. Pure: every fact about
// the host (is a bind source a directory, the cgroup mounts, the compiled seccomp filter) comes in the context.
// Order follows runc's (libcontainer/rootfs_linux.go, standard_init_linux.go) and runtime-spec runtime.md.
import { BerthError } from '../../errors.js';
import { CAPABILITIES, MS, NS_FLAG, RLIMITS, S_IFBLK, S_IFCHR, S_IFIFO, makedev } from '../linux.js';
import type { Capabilities, Device, Namespace, Process, Spec } from '../spec-types.js';
import type { Op } from './encode.js';
import { parseMountOptions, rootPropagation } from './mount-options.js';
import { HOOK_POINT } from './tags.js';


export interface CgroupMountInfo {
  /** v1: one entry per hierarchy, e.g. { name: 'cpu,cpuacct', hostDir: '/sys/fs/cgroup/cpu,cpuacct/berth/x', links: ['cpu', 'cpuacct'] } */
  v1?: Array<{ name: string; hostDir: string; links: string[] }>;
  /** v2: the container's cgroup directory on the host */
  v2Dir?: string;
}

export interface ProcessContext {
  /** PTY: an inherited fd of a console socket to send the master to, or 'relay' for the waiting parent. */
  console?: { fd: number } | 'relay';
  /** the parent exits after CLONE (create, exec -d) instead of waiting for the process */
  detach: boolean;
  seccomp?: { filter: Buffer; flags: number };
}

export interface InitContext extends ProcessContext {
  rootfs: string;
  /** the exec fifo `start` opens; without one (run) the runtime releases the process with GO */
  execFifo?: string;
  /** host facts for bind mounts: true = directory, false = file, undefined = missing */
  sourceIsDir: (source: string) => boolean | undefined;
  /** host fact: the mount point holding a path (the rootfs's parent mount, made private for the pivot) */
  mountPointOf?: (p: string) => string;
  cgroup: CgroupMountInfo;
  /** pause before pivot_root so the runtime can run prestart/createRuntime/createContainer hooks */
  hookSync: boolean;
  /** the process user's home from the rootfs's /etc/passwd, for HOME */
  home?: string;
  /** cgroup v2: the device rules as an eBPF program to attach to the container's cgroup */
  deviceFilter?: { cgroup: string; program: Buffer };
}

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

// runc's default devices (libcontainer/specconv AllowedDevices): created when the spec does not list them.
const DEFAULT_DEVICES: Device[] = [
  { path: '/dev/null', type: 'c', major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/zero', type: 'c', major: 1, minor: 5, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/full', type: 'c', major: 1, minor: 7, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/random', type: 'c', major: 1, minor: 8, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/urandom', type: 'c', major: 1, minor: 9, fileMode: 0o666, uid: 0, gid: 0 },
  { path: '/dev/tty', type: 'c', major: 5, minor: 0, fileMode: 0o666, uid: 0, gid: 0 },
];

const DEV_SYMLINKS: Array<[string, string]> = [
  ['/proc/self/fd', '/dev/fd'],
  ['/proc/self/fd/0', '/dev/stdin'],
  ['/proc/self/fd/1', '/dev/stdout'],
  ['/proc/self/fd/2', '/dev/stderr'],
];

const op = (name: Op['op'], args?: Op['args'], from?: string): Op => ({ op: name, args, from });

/** Joined namespaces: user first (the others belong to it), mount last (it changes what paths mean). */
function setnsOps(namespaces: Namespace[]): Op[] {
  const rank = (t: string) => (t === 'user' ? 0 : t === 'mount' ? 2 : 1);
  return namespaces
    .map((n, i) => ({ n, i }))
    .filter(({ n }) => n.path)
    .sort((a, b) => rank(a.n.type) - rank(b.n.type))
    .map(({ n, i }) => op('SETNS', { nstype: NS_FLAG[n.type]!, path: n.path! }, `linux.namespaces[${i}]`));
}

export function capMask(names: string[] | undefined, field: string): bigint {
  let m = 0n;
  (names ?? []).forEach((name, i) => {
    const bit = (CAPABILITIES as readonly string[]).indexOf(name);
    if (bit < 0) throw new BerthError('InvalidArgument', `${field}[${i}]: unknown capability "${name}"`);
    m |= 1n << BigInt(bit);
  });
  return m;
}

function envValue(env: string[] | undefined, key: string): string | undefined {
  const e = (env ?? []).findLast((x) => x.startsWith(`${key}=`));
  return e?.slice(key.length + 1);
}

/** The process half, shared by init and exec: console, limits, identity, capabilities, seccomp, exec. */
export type StartGate = 'fifo' | 'go' | 'none';

export function processOps(proc: Process, personality: number | undefined, ctx: ProcessContext, gate: StartGate, base = 'process'): Op[] {
  const ops: Op[] = [];
  const caps: Capabilities = proc.capabilities ?? {};
  if (proc.terminal) {
    if (!ctx.console) throw new BerthError('InvalidArgument', `${base}.terminal: a terminal needs --console-socket or a foreground run`);
    const size = proc.consoleSize;
    ops.push(op('CONSOLE', { rows: size?.height ?? 0, cols: size?.width ?? 0, fd: ctx.console === 'relay' ? -1 : ctx.console.fd }, `${base}.terminal`));
  }
  if (proc.oomScoreAdj !== undefined)
    ops.push(op('WRITE', { optional: 0, path: '/proc/self/oom_score_adj', value: String(proc.oomScoreAdj) }, `${base}.oomScoreAdj`));
  (proc.rlimits ?? []).forEach((r, i) => {
    ops.push(op('RLIMIT', { resource: RLIMITS[r.type]!, soft: BigInt(r.soft), hard: BigInt(r.hard) }, `${base}.rlimits[${i}] (${r.type} soft=${r.soft} hard=${r.hard})`));
  });
  if (personality !== undefined) ops.push(op('PERSONALITY', { persona: personality }, 'linux.personality'));
  // Without no_new_privs, loading a filter needs CAP_SYS_ADMIN: load it while we still have it (runc does the same).
  const seccomp = ctx.seccomp ? op('SECCOMP', { flags: ctx.seccomp.flags, filter: ctx.seccomp.filter }, 'linux.seccomp') : undefined;
  if (seccomp && !proc.noNewPrivileges) ops.push(seccomp);
  const user = proc.user;
  ops.push(
    op('KEEPCAPS', { on: 1 }),
    op('CAPBSET', { keep: capMask(caps.bounding, `${base}.capabilities.bounding`) }, `${base}.capabilities.bounding`),
    op('SETGROUPS', { gids: user.additionalGids ?? [] }, `${base}.user.additionalGids`),
    op('SETRESGID', { gid: user.gid }, `${base}.user.gid`),
    op('SETRESUID', { uid: user.uid }, `${base}.user.uid`),
    op('CAPSET', {
      effective: capMask(caps.effective, `${base}.capabilities.effective`),
      permitted: capMask(caps.permitted, `${base}.capabilities.permitted`),
      inheritable: capMask(caps.inheritable, `${base}.capabilities.inheritable`),
    }, `${base}.capabilities`),
    // The kernel raises an ambient capability only if it is permitted and inheritable; runc skips
    // the others (`runc spec` lists ambient caps without inheritable ones), and so do we.
    op('AMBIENT', {
      mask: capMask(caps.ambient, `${base}.capabilities.ambient`) & capMask(caps.permitted, `${base}.capabilities.permitted`) & capMask(caps.inheritable, `${base}.capabilities.inheritable`),
    }, `${base}.capabilities.ambient`),
    op('KEEPCAPS', { on: 0 }),
    op('UMASK', { mask: user.umask ?? 0o022 }, `${base}.user.umask`),
    op('CHDIR', { path: proc.cwd }, `${base}.cwd`),
  );
  const args = proc.args ?? [];
  ops.push(op('LOOKUP', { pathenv: envValue(proc.env, 'PATH') ?? DEFAULT_PATH, name: args[0]! }, `${base}.args[0]`));
  if (proc.noNewPrivileges) ops.push(op('NNP', {}, `${base}.noNewPrivileges`));
  ops.push(op('READY'));
  if (gate === 'fifo') ops.push(op('FIFO_WAIT'));
  else if (gate === 'go') ops.push(op('SYNC_GO'));
  // With no_new_privs the filter goes in as late as possible, so it only has to allow execve (runc).
  if (seccomp && proc.noNewPrivileges) ops.push(seccomp);
  ops.push(op('EXEC', { args, env: proc.env ?? [] }, `${base}.args`));
  return ops;
}

/** The directories under /dev a device node needs (/dev/net for /dev/net/tun), each once, before it. */
function deviceParentOps(devices: Device[], field: string): Op[] {
  const made = new Set<string>(['/dev']);
  return devices.flatMap((d, i) => {
    const dir = d.path.slice(0, d.path.lastIndexOf('/'));
    if (made.has(dir)) return [];
    made.add(dir);
    // runc: os.MkdirAll(filepath.Dir(dest), 0755) before mknod
    return [op('MKDIR', { mode: 0o755, inroot: 1, path: dir }, `${field}[${i}]`)];
  });
}

function deviceOps(devices: Device[], bindInstead: boolean, field: string): Op[] {
  // a bind's MOUNT with mkdir=2 makes its parents itself; mknod needs them made first
  const parents = bindInstead ? [] : deviceParentOps(devices, field);
  return parents.concat(devices.flatMap((d, i) => {
    if (bindInstead) // in a user namespace mknod is not allowed: bind the host's node (runc does the same)
      return [op('MOUNT', { flags: MS.BIND, inroot: 1, mkdir: 2, src: d.path, dst: d.path, fstype: '', data: '' }, `${field}[${i}]`)];
    const type = d.type === 'b' ? S_IFBLK : d.type === 'p' ? S_IFIFO : S_IFCHR;
    return [op('MKNOD', {
      mode: type | (d.fileMode ?? 0o666), dev: makedev(d.major ?? 0, d.minor ?? 0), uid: d.uid ?? 0, gid: d.gid ?? 0, inroot: 1, path: d.path,
    }, `${field}[${i}]`)];
  }));
}

function mountOps(spec: Spec, ctx: InitContext, newUserns: boolean): Op[] {
  const ops: Op[] = [];
  (spec.mounts ?? []).forEach((m, i) => {
    const field = `mounts[${i}]`;
    const p = parseMountOptions(m.options, field);
    const type = m.type ?? '';
    const dst = m.destination;
    const isBind = (p.flags & MS.BIND) !== 0 || type === 'bind';
    if (type === 'cgroup' || type === 'cgroup2') {
      ops.push(...cgroupMountOps(dst, p.flags, ctx.cgroup, field));
    } else if (isBind) {
      const src = m.source ?? '';
      const dir = ctx.sourceIsDir(src);
      if (dir === undefined) throw new BerthError('InvalidArgument', `${field}.source: bind source "${src}" does not exist`);
      ops.push(op('MOUNT', { flags: MS.BIND | (p.flags & MS.REC), inroot: 1, mkdir: dir ? 1 : 2, src, dst, fstype: '', data: '' }, field));
      const rest = p.flags & ~(MS.BIND | MS.REC | MS.REMOUNT);
      if (rest) ops.push(op('MOUNT', { flags: MS.BIND | MS.REMOUNT | (p.flags & MS.REC) | rest, inroot: 1, mkdir: 0, src: '', dst, fstype: '', data: '' }, field));
    } else {
      // devpts in a new user namespace cannot take gid=5 unless mapped; leave that to the spec, as runc does.
      void newUserns;
      ops.push(op('MOUNT', { flags: p.flags, inroot: 1, mkdir: 1, src: m.source ?? type, dst, fstype: type, data: p.data }, field));
    }
    for (const prop of p.propagation) ops.push(op('MOUNT', { flags: prop, inroot: 1, mkdir: 0, src: '', dst, fstype: '', data: '' }, field));
  });
  return ops;
}

/** A cgroup mount shows the container its own cgroup: bind mounts of its directories, read-only if asked. */
function cgroupMountOps(dst: string, flags: number, cg: CgroupMountInfo, field: string): Op[] {
  const ro = flags & (MS.RDONLY | MS.NOSUID | MS.NODEV | MS.NOEXEC);
  const bind = (src: string, to: string): Op[] => [
    op('MOUNT', { flags: MS.BIND | MS.REC, inroot: 1, mkdir: 1, src, dst: to, fstype: '', data: '' }, field),
    ...(ro ? [op('MOUNT', { flags: MS.BIND | MS.REMOUNT | MS.REC | ro, inroot: 1, mkdir: 0, src: '', dst: to, fstype: '', data: '' }, field)] : []),
  ];
  if (cg.v2Dir) return bind(cg.v2Dir, dst);
  // like runc: the tmpfs that holds the hierarchies stays writable, the hierarchies follow the options
  const ops: Op[] = [op('MOUNT', { flags: MS.NOSUID | MS.NODEV | MS.NOEXEC, inroot: 1, mkdir: 1, src: 'tmpfs', dst, fstype: 'tmpfs', data: 'mode=755' }, field)];
  for (const h of cg.v1 ?? []) {
    ops.push(...bind(h.hostDir, `${dst}/${h.name}`));
    for (const l of h.links) if (l !== h.name) ops.push(op('SYMLINK', { inroot: 1, target: h.name, path: `${dst}/${l}` }, field));
  }
  return ops;
}

function hostId(maps: Array<{ containerID: number; hostID: number; size: number }> | undefined, id: number): number {
  const m = (maps ?? []).find((x) => id >= x.containerID && id < x.containerID + x.size);
  return m ? m.hostID + (id - m.containerID) : id;
}

export function personalityValue(spec: Spec): number | undefined {
  const p = spec.linux?.personality;
  if (!p) return undefined;
  if (p.domain === 'LINUX') return 0x0000;
  if (p.domain === 'LINUX32') return 0x0008;
  throw new BerthError('InvalidArgument', `linux.personality.domain: unknown domain "${p.domain}"`);
}

/** runc sets HOME from the user's passwd entry when the spec does not: `home` is that lookup's answer. */
export function withHome(proc: Process, home: string | undefined): Process {
  if ((proc.env ?? []).some((e) => e.startsWith('HOME='))) return proc;
  return { ...proc, env: [...(proc.env ?? []), `HOME=${home ?? '/'}`] };
}

export function buildInitPlan(spec: Spec, ctx: InitContext): Op[] {
  const ns = spec.linux?.namespaces ?? [];
  const created = ns.filter((n) => !n.path);
  const has = (t: string) => created.some((n) => n.type === t);
  const newUserns = has('user');
  const flags = created.reduce((f, n) => f | NS_FLAG[n.type]!, 0);
  const proc = spec.process!;
  const ops: Op[] = [...setnsOps(ns)];
  // The fifo lives on the host: make and open it here, as real root, before any namespace changes.
  const rootUid = hostId(spec.linux?.uidMappings, 0), rootGid = hostId(spec.linux?.gidMappings, 0);
  if (ctx.deviceFilter) ops.push(op('BPF_DEVICES', { cgroup: ctx.deviceFilter.cgroup, insns: ctx.deviceFilter.program }, 'linux.resources.devices'));
  if (ctx.execFifo) {
    ops.push(op('MKNOD', { mode: S_IFIFO | 0o622, dev: 0n, uid: newUserns ? rootUid : 0, gid: newUserns ? rootGid : 0, inroot: 0, path: ctx.execFifo }));
    // FIFO_WAIT reopens it through the host's /proc, opened here too: a container without a mount
    // namespace is only chrooted and has no /proc of its own (runc mounts one on the host instead).
    ops.push(op('FIFO_OPEN', { path: ctx.execFifo, proc: '/proc' }));
  }
  ops.push(op('CLONE', { flags, detach: ctx.detach ? 1 : 0, relay: ctx.console === 'relay' ? 1 : 0 }, 'linux.namespaces'));
  ops.push(op('CLOEXEC_FROM', { fd: 3 }));
  // The runtime writes uid/gid maps between CHILD_PID and GO; nothing else needs the child to wait.
  if (newUserns) ops.push(op('SYNC_GO'), op('SETRESID', { uid: 0, gid: 0 }, 'linux.uidMappings'));
  // a new network namespace comes with lo down: runc brings it up (libcontainer's "loopback" network), and
  // docker's none mode, or a default container of a daemon without a bridge, has nothing but lo
  if (has('network')) ops.push(op('LINK_UP', { name: 'lo' }, 'linux.namespaces (network: lo up)'));
  ops.push(op('SETSID'));

  // Without a mount namespace runc still chroots into root.path, but also mounts the spec's mounts in the
  // caller's namespace, where they stay after the container is gone. Berth only chroots: nothing is mounted
  // on the host (validate refuses masked and read-only paths, which would need mounts).
  const ownMounts = ns.some((n) => n.type === 'mount');
  if (!ownMounts) ops.push(op('CHROOT', { path: ctx.rootfs }, 'root.path'));
  if (ownMounts) {
    ops.push(op('MOUNT', { flags: rootPropagation(spec.linux?.rootfsPropagation), inroot: 0, mkdir: 0, src: '', dst: '/', fstype: '', data: '' }, 'linux.rootfsPropagation'));
    // pivot_root refuses a new root whose parent mount is shared; runc makes that parent private for the
    // pivot only (the requested propagation is applied to "/" again after it)
    if (rootPropagation(spec.linux?.rootfsPropagation) & MS.SHARED)
      ops.push(op('MOUNT', { flags: MS.PRIVATE, inroot: 0, mkdir: 0, src: '', dst: ctx.mountPointOf?.(ctx.rootfs) ?? '/', fstype: '', data: '' }, 'linux.rootfsPropagation'));
    ops.push(op('MOUNT', { flags: MS.BIND | MS.REC, inroot: 0, mkdir: 0, src: ctx.rootfs, dst: ctx.rootfs, fstype: '', data: '' }, 'root.path'));
    ops.push(op('ROOT', { path: ctx.rootfs }, 'root.path'));
    ops.push(...mountOps(spec, ctx, newUserns));

    const listed = new Set((spec.linux?.devices ?? []).map((d) => d.path));
    ops.push(...deviceOps(spec.linux?.devices ?? [], newUserns, 'linux.devices'));
    ops.push(...deviceOps(DEFAULT_DEVICES.filter((d) => !listed.has(d.path)), newUserns, 'default devices'));
    const devpts = (spec.mounts ?? []).some((m) => m.destination === '/dev/pts');
    if (devpts) ops.push(op('SYMLINK', { inroot: 1, target: 'pts/ptmx', path: '/dev/ptmx' }, 'mounts (/dev/pts)'));
    for (const [target, path] of DEV_SYMLINKS) ops.push(op('SYMLINK', { inroot: 1, target, path }, 'default /dev links'));

    if (ctx.hookSync) ops.push(op('SYNC_HOOK', { point: HOOK_POINT.createContainer }, 'hooks'));
    ops.push(op('PIVOT', {}, 'root.path'));
    if (spec.linux?.rootfsPropagation)
      ops.push(op('MOUNT', { flags: rootPropagation(spec.linux.rootfsPropagation), inroot: 0, mkdir: 0, src: '', dst: '/', fstype: '', data: '' }, 'linux.rootfsPropagation'));
  }
  for (const [key, value] of Object.entries(spec.linux?.sysctl ?? {}))
    ops.push(op('WRITE', { optional: 0, path: `/proc/sys/${key.replace(/\./g, '/')}`, value }, `linux.sysctl["${key}"]`));
  if (ownMounts) {
    (spec.linux?.readonlyPaths ?? []).forEach((p, i) => ops.push(op('READONLY', { path: p }, `linux.readonlyPaths[${i}]`)));
    (spec.linux?.maskedPaths ?? []).forEach((p, i) => ops.push(op('MASK', { path: p }, `linux.maskedPaths[${i}]`)));
    if (spec.root?.readonly)
      ops.push(op('MOUNT', { flags: MS.BIND | MS.REMOUNT | MS.RDONLY, inroot: 0, mkdir: 0, src: '', dst: '/', fstype: '', data: '' }, 'root.readonly'));
  }
  if (spec.hostname !== undefined) ops.push(op('HOSTNAME', { name: spec.hostname }, 'hostname'));
  if (spec.domainname !== undefined) ops.push(op('DOMAINNAME', { name: spec.domainname }, 'domainname'));

  ops.push(...processOps(withHome(proc, ctx.home), personalityValue(spec), ctx, ctx.execFifo ? 'fifo' : 'go'));
  return ops;
}

/** The container's cgroup directories and plain writes that CgroupManager.setUp left to the helper (host paths). */
export function cgroupSetUpOps(setUp: { mkdirs: string[]; writes: { path: string; value: string }[] }): Op[] {
  return [
    ...setUp.mkdirs.map((dir) => op('MKDIR', { mode: 0o755, inroot: 0, path: dir }, 'cgroup')),
    ...setUp.writes.map((w) => op('WRITE', { optional: 0, path: w.path, value: w.value }, 'linux.resources')),
  ];
}

/** The helper moves itself into a cgroup (CgroupManager.selfJoinWrites): put before CLONE, the child starts inside. */
export function cgroupJoinOps(writes: { path: string; value: string }[]): Op[] {
  return writes.map((w) => op('WRITE', { optional: 0, path: w.path, value: w.value }, 'cgroup join'));
}

/**
 * A parent that waits (`run`) goes back to where it came from after CLONE (LEAVE_CGROUP; put before the
 * join, which changes what it leaves): the files by which it moves itself into its own cgroups. Best
 * effort, as a cgroup of ours may not be visible here (a cgroup namespace's view of /proc/self/cgroup).
 */
export function cgroupLeaveOps(files: string[]): Op[] {
  return files.map((path) => op('LEAVE_CGROUP', { optional: 1, path }, 'cgroup leave'));
}

/** `exec`: join every namespace of the running container, then set up the process. */
export function buildExecPlan(proc: Process, nsPaths: Namespace[], personality: number | undefined, ctx: ProcessContext, gate: StartGate = 'none'): Op[] {
  return [
    ...setnsOps(nsPaths),
    op('CLONE', { flags: 0, detach: ctx.detach ? 1 : 0, relay: ctx.console === 'relay' ? 1 : 0 }),
    op('CLOEXEC_FROM', { fd: 3 }),
    op('SETSID'),
    ...processOps(proc, personality, ctx, gate),
  ];
}
