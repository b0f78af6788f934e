// Docker's default seccomp profile (moby/profiles/seccomp v0.1.0 as vendored by moby v28.5.x,
// default_linux.go / default.json) as data, and moby's setupSeccomp (seccomp_linux.go) that turns
// a Docker profile (archMap, includes/excludes) into the OCI object for this container.
import { BerthError } from '../../errors.js';
import { deepFreeze } from '../../util/freeze.js';
import type { LinuxSeccomp, SeccompArg, SeccompSyscall } from '../spec-types.js';

/** Conditions on a rule (moby seccomp.Filter). `arches` are libseccomp native names: amd64, x86, x32, arm64, arm, ... */
export interface RuleFilter { caps?: string[]; arches?: string[]; minKernel?: string }

/** A syscalls[] entry of a Docker profile: an OCI rule plus conditions (moby seccomp.Syscall). */
export interface DockerSyscallRule {
  names?: string[];
  /** Deprecated single-name form still accepted by Docker. */
  name?: string;
  action: string;
  errnoRet?: number;
  args?: SeccompArg[];
  comment?: string;
  includes?: RuleFilter;
  excludes?: RuleFilter;
}

/** The profile format `docker run --security-opt seccomp=file.json` accepts; a plain OCI object is one too. */
export interface DockerSeccompProfile extends Omit<LinuxSeccomp, 'syscalls'> {
  archMap?: { architecture: string; subArchitectures?: string[] | null }[];
  syscalls?: DockerSyscallRule[];
}

const ALLOW = 'SCMP_ACT_ALLOW';
const ERRNO = 'SCMP_ACT_ERRNO';
const ENOSYS = 38;
const AF_VSOCK = 40;
// CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWCGROUP
const CLONE_NS_FLAGS = 0x00020000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000 | 0x02000000;
// personality(2) values a container may set: PER_LINUX, PER_LINUX32, UNAME26, PER_LINUX32|UNAME26, and 0xffffffff (query).
const PERSONALITIES = [0x0, 0x0008, 0x20000, 0x20008, 0xffffffff];

export const DOCKER_DEFAULT_PROFILE: DockerSeccompProfile = {
  defaultAction: ERRNO,
  defaultErrnoRet: 1,
  archMap: [
    { architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32'] },
    { architecture: 'SCMP_ARCH_AARCH64', subArchitectures: ['SCMP_ARCH_ARM'] },
    { architecture: 'SCMP_ARCH_MIPS64', subArchitectures: ['SCMP_ARCH_MIPS', 'SCMP_ARCH_MIPS64N32'] },
    { architecture: 'SCMP_ARCH_MIPS64N32', subArchitectures: ['SCMP_ARCH_MIPS', 'SCMP_ARCH_MIPS64'] },
    { architecture: 'SCMP_ARCH_MIPSEL64', subArchitectures: ['SCMP_ARCH_MIPSEL', 'SCMP_ARCH_MIPSEL64N32'] },
    { architecture: 'SCMP_ARCH_MIPSEL64N32', subArchitectures: ['SCMP_ARCH_MIPSEL', 'SCMP_ARCH_MIPSEL64'] },
    { architecture: 'SCMP_ARCH_S390X', subArchitectures: ['SCMP_ARCH_S390'] },
    { architecture: 'SCMP_ARCH_RISCV64', subArchitectures: [] },
  ],
  syscalls: [
    {
      names: [
        'accept', 'accept4', 'access', 'adjtimex', 'alarm', 'bind', 'brk', 'cachestat', 'capget', 'capset',
        'chdir', 'chmod', 'chown', 'chown32', 'clock_adjtime', 'clock_adjtime64', 'clock_getres',
        'clock_getres_time64', 'clock_gettime', 'clock_gettime64', 'clock_nanosleep',
        'clock_nanosleep_time64', 'close', 'close_range', 'connect', 'copy_file_range', 'creat', 'dup',
        'dup2', 'dup3', 'epoll_create', 'epoll_create1', 'epoll_ctl', 'epoll_ctl_old', 'epoll_pwait',
        'epoll_pwait2', 'epoll_wait', 'epoll_wait_old', 'eventfd', 'eventfd2', 'execve', 'execveat',
        'exit', 'exit_group', 'faccessat', 'faccessat2', 'fadvise64', 'fadvise64_64', 'fallocate',
        'fanotify_mark', 'fchdir', 'fchmod', 'fchmodat', 'fchmodat2', 'fchown', 'fchown32', 'fchownat',
        'fcntl', 'fcntl64', 'fdatasync', 'fgetxattr', 'flistxattr', 'flock', 'fork', 'fremovexattr',
        'fsetxattr', 'fstat', 'fstat64', 'fstatat64', 'fstatfs', 'fstatfs64', 'fsync', 'ftruncate',
        'ftruncate64', 'futex', 'futex_requeue', 'futex_time64', 'futex_wait', 'futex_waitv', 'futex_wake',
        'futimesat', 'getcpu', 'getcwd', 'getdents', 'getdents64', 'getegid', 'getegid32', 'geteuid',
        'geteuid32', 'getgid', 'getgid32', 'getgroups', 'getgroups32', 'getitimer', 'getpeername',
        'getpgid', 'getpgrp', 'getpid', 'getppid', 'getpriority', 'getrandom', 'getresgid', 'getresgid32',
        'getresuid', 'getresuid32', 'getrlimit', 'get_robust_list', 'getrusage', 'getsid', 'getsockname',
        'getsockopt', 'get_thread_area', 'gettid', 'gettimeofday', 'getuid', 'getuid32', 'getxattr',
        'getxattrat', 'inotify_add_watch', 'inotify_init', 'inotify_init1', 'inotify_rm_watch',
        'io_cancel', 'ioctl', 'io_destroy', 'io_getevents', 'io_pgetevents', 'io_pgetevents_time64',
        'ioprio_get', 'ioprio_set', 'io_setup', 'io_submit', 'ipc', 'kill', 'landlock_add_rule',
        'landlock_create_ruleset', 'landlock_restrict_self', 'lchown', 'lchown32', 'lgetxattr', 'link',
        'linkat', 'listen', 'listmount', 'listxattr', 'listxattrat', 'llistxattr', '_llseek',
        'lremovexattr', 'lseek', 'lsetxattr', 'lstat', 'lstat64', 'madvise', 'map_shadow_stack',
        'membarrier', 'memfd_create', 'memfd_secret', 'mincore', 'mkdir', 'mkdirat', 'mknod', 'mknodat',
        'mlock', 'mlock2', 'mlockall', 'mmap', 'mmap2', 'mprotect', 'mq_getsetattr', 'mq_notify',
        'mq_open', 'mq_timedreceive', 'mq_timedreceive_time64', 'mq_timedsend', 'mq_timedsend_time64',
        'mq_unlink', 'mremap', 'mseal', 'msgctl', 'msgget', 'msgrcv', 'msgsnd', 'msync', 'munlock',
        'munlockall', 'munmap', 'name_to_handle_at', 'nanosleep', 'newfstatat', '_newselect', 'open',
        'openat', 'openat2', 'pause', 'pidfd_open', 'pidfd_send_signal', 'pipe', 'pipe2', 'pkey_alloc',
        'pkey_free', 'pkey_mprotect', 'poll', 'ppoll', 'ppoll_time64', 'prctl', 'pread64', 'preadv',
        'preadv2', 'prlimit64', 'process_mrelease', 'pselect6', 'pselect6_time64', 'pwrite64', 'pwritev',
        'pwritev2', 'read', 'readahead', 'readlink', 'readlinkat', 'readv', 'recv', 'recvfrom', 'recvmmsg',
        'recvmmsg_time64', 'recvmsg', 'remap_file_pages', 'removexattr', 'removexattrat', 'rename',
        'renameat', 'renameat2', 'restart_syscall', 'riscv_hwprobe', 'rmdir', 'rseq', 'rt_sigaction',
        'rt_sigpending', 'rt_sigprocmask', 'rt_sigqueueinfo', 'rt_sigreturn', 'rt_sigsuspend',
        'rt_sigtimedwait', 'rt_sigtimedwait_time64', 'rt_tgsigqueueinfo', 'sched_getaffinity',
        'sched_getattr', 'sched_getparam', 'sched_get_priority_max', 'sched_get_priority_min',
        'sched_getscheduler', 'sched_rr_get_interval', 'sched_rr_get_interval_time64', 'sched_setaffinity',
        'sched_setattr', 'sched_setparam', 'sched_setscheduler', 'sched_yield', 'seccomp', 'select',
        'semctl', 'semget', 'semop', 'semtimedop', 'semtimedop_time64', 'send', 'sendfile', 'sendfile64',
        'sendmmsg', 'sendmsg', 'sendto', 'setfsgid', 'setfsgid32', 'setfsuid', 'setfsuid32', 'setgid',
        'setgid32', 'setgroups', 'setgroups32', 'setitimer', 'setpgid', 'setpriority', 'setregid',
        'setregid32', 'setresgid', 'setresgid32', 'setresuid', 'setresuid32', 'setreuid', 'setreuid32',
        'setrlimit', 'set_robust_list', 'setsid', 'setsockopt', 'set_thread_area', 'set_tid_address',
        'setuid', 'setuid32', 'setxattr', 'setxattrat', 'shmat', 'shmctl', 'shmdt', 'shmget', 'shutdown',
        'sigaltstack', 'signalfd', 'signalfd4', 'sigprocmask', 'sigreturn', 'socketcall', 'socketpair',
        'splice', 'stat', 'stat64', 'statfs', 'statfs64', 'statmount', 'statx', 'symlink', 'symlinkat',
        'sync', 'sync_file_range', 'syncfs', 'sysinfo', 'tee', 'tgkill', 'time', 'timer_create',
        'timer_delete', 'timer_getoverrun', 'timer_gettime', 'timer_gettime64', 'timer_settime',
        'timer_settime64', 'timerfd_create', 'timerfd_gettime', 'timerfd_gettime64', 'timerfd_settime',
        'timerfd_settime64', 'times', 'tkill', 'truncate', 'truncate64', 'ugetrlimit', 'umask', 'uname',
        'unlink', 'unlinkat', 'uretprobe', 'utime', 'utimensat', 'utimensat_time64', 'utimes', 'vfork',
        'vmsplice', 'wait4', 'waitid', 'waitpid', 'write', 'writev',
      ],
      action: ALLOW,
    },
    {
      names: ['process_vm_readv', 'process_vm_writev', 'ptrace'],
      action: ALLOW,
      includes: { minKernel: '4.8' },
    },
    {
      names: ['socket'],
      action: ALLOW,
      args: [{ index: 0, value: AF_VSOCK, op: 'SCMP_CMP_NE' }],
    },
    // one rule per value: rules for one syscall are ORed
    ...PERSONALITIES.map((value) => ({ names: ['personality'], action: ALLOW, args: [{ index: 0, value, op: 'SCMP_CMP_EQ' }] })),
    {
      names: ['sync_file_range2', 'swapcontext'],
      action: ALLOW,
      includes: { arches: ['ppc64le'] },
    },
    {
      names: [
        'arm_fadvise64_64', 'arm_sync_file_range', 'sync_file_range2', 'breakpoint', 'cacheflush',
        'set_tls',
      ],
      action: ALLOW,
      includes: { arches: ['arm', 'arm64'] },
    },
    {
      names: ['arch_prctl'],
      action: ALLOW,
      includes: { arches: ['amd64', 'x32'] },
    },
    {
      names: ['modify_ldt'],
      action: ALLOW,
      includes: { arches: ['amd64', 'x32', 'x86'] },
    },
    {
      names: ['s390_pci_mmio_read', 's390_pci_mmio_write', 's390_runtime_instr'],
      action: ALLOW,
      includes: { arches: ['s390', 's390x'] },
    },
    {
      names: ['riscv_flush_icache'],
      action: ALLOW,
      includes: { arches: ['riscv64'] },
    },
    {
      names: ['open_by_handle_at'],
      action: ALLOW,
      includes: { caps: ['CAP_DAC_READ_SEARCH'] },
    },
    {
      names: [
        'bpf', 'clone', 'clone3', 'fanotify_init', 'fsconfig', 'fsmount', 'fsopen', 'fspick',
        'lookup_dcookie', 'lsm_get_self_attr', 'lsm_list_modules', 'lsm_set_self_attr', 'mount',
        'mount_setattr', 'move_mount', 'open_tree', 'perf_event_open', 'quotactl', 'quotactl_fd',
        'setdomainname', 'sethostname', 'setns', 'syslog', 'umount', 'umount2', 'unshare',
      ],
      action: ALLOW,
      includes: { caps: ['CAP_SYS_ADMIN'] },
    },
    {
      names: ['clone'],
      action: ALLOW,
      args: [{ index: 0, value: CLONE_NS_FLAGS, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }],
      excludes: { caps: ['CAP_SYS_ADMIN'], arches: ['s390', 's390x'] },
    },
    {
      names: ['clone'],
      action: ALLOW,
      args: [{ index: 1, value: CLONE_NS_FLAGS, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }],
      comment: 's390 parameter ordering for clone is different',
      includes: { arches: ['s390', 's390x'] },
      excludes: { caps: ['CAP_SYS_ADMIN'] },
    },
    {
      names: ['clone3'],
      action: ERRNO,
      errnoRet: ENOSYS,
      excludes: { caps: ['CAP_SYS_ADMIN'] },
    },
    {
      names: ['reboot'],
      action: ALLOW,
      includes: { caps: ['CAP_SYS_BOOT'] },
    },
    {
      names: ['chroot'],
      action: ALLOW,
      includes: { caps: ['CAP_SYS_CHROOT'] },
    },
    {
      names: ['delete_module', 'init_module', 'finit_module'],
      action: ALLOW,
      includes: { caps: ['CAP_SYS_MODULE'] },
    },
    {
      names: ['acct'],
      action: ALLOW,
      includes: { caps: ['CAP_SYS_PACCT'] },
    },
    {
      names: [
        'kcmp', 'pidfd_getfd', 'process_madvise', 'process_vm_readv', 'process_vm_writev', 'ptrace',
      ],
      action: ALLOW,
      includes: { caps: ['CAP_SYS_PTRACE'] },
    },
    {
      names: ['iopl', 'ioperm'],
      action: ALLOW,
      includes: { caps: ['CAP_SYS_RAWIO'] },
    },
    {
      names: [
        'settimeofday', 'stime', 'clock_settime', 'clock_settime64',
      ],
      action: ALLOW,
      includes: { caps: ['CAP_SYS_TIME'] },
    },
    {
      names: ['vhangup'],
      action: ALLOW,
      includes: { caps: ['CAP_SYS_TTY_CONFIG'] },
    },
    {
      names: [
        'get_mempolicy', 'mbind', 'set_mempolicy', 'set_mempolicy_home_node',
      ],
      action: ALLOW,
      includes: { caps: ['CAP_SYS_NICE'] },
    },
    {
      names: ['syslog'],
      action: ALLOW,
      includes: { caps: ['CAP_SYSLOG'] },
    },
    {
      names: ['bpf'],
      action: ALLOW,
      includes: { caps: ['CAP_BPF'] },
    },
    {
      names: ['perf_event_open'],
      action: ALLOW,
      includes: { caps: ['CAP_PERFMON'] },
    },
  ],
};

export interface DockerProfileOptions {
  /** The container's bounding capabilities; "CAP_SYS_ADMIN" or "SYS_ADMIN". */
  capabilities: string[];
  /** Host architecture: Go/libseccomp names (amd64, arm64, x86, arm) or uname ones (x86_64, aarch64). Default: process.arch. */
  arch?: string;
  /**
   * Host kernel release (uname -r) for `minKernel` conditions. moby reads uname itself; this
   * module does no I/O, so the caller passes it. Omitted: the kernel counts as new enough.
   */
  kernel?: string;
}

// libseccomp native arch name -> SCMP_ARCH (moby seccomp_linux.go nativeToSeccomp)
const NATIVE_TO_SECCOMP: Record<string, string> = {
  x86: 'SCMP_ARCH_X86', amd64: 'SCMP_ARCH_X86_64', arm: 'SCMP_ARCH_ARM', arm64: 'SCMP_ARCH_AARCH64',
  mips64: 'SCMP_ARCH_MIPS64', mips64n32: 'SCMP_ARCH_MIPS64N32', mipsel64: 'SCMP_ARCH_MIPSEL64',
  mips3l64n32: 'SCMP_ARCH_MIPSEL64N32', mipsle: 'SCMP_ARCH_MIPSEL', ppc: 'SCMP_ARCH_PPC', ppc64: 'SCMP_ARCH_PPC64',
  ppc64le: 'SCMP_ARCH_PPC64LE', riscv64: 'SCMP_ARCH_RISCV64', s390: 'SCMP_ARCH_S390', s390x: 'SCMP_ARCH_S390X',
};
const ARCH_ALIASES: Record<string, string> = {
  x86_64: 'amd64', x64: 'amd64', aarch64: 'arm64', i386: 'x86', i686: 'x86', '386': 'x86', ia32: 'x86',
  mips64le: 'mipsel64', mipsel: 'mipsle',
};

function nativeArch(arch: string | undefined): string {
  const a = arch ?? (process.arch === 'ppc64' ? 'ppc64le' : process.arch);
  return ARCH_ALIASES[a] ?? a;
}

const normCap = (c: string): string => {
  const u = c.toUpperCase();
  return u.startsWith('CAP_') ? u : `CAP_${u}`;
};

function parseKernel(v: string, path: string): [number, number] {
  const m = /^(\d+)\.(\d+)/.exec(v);
  if (!m) throw new BerthError('InvalidArgument', `${path}: invalid kernel version: "${v}", expected "<kernel>.<major>"`);
  return [Number(m[1]), Number(m[2])];
}

/**
 * moby's setupSeccomp: expand archMap for the host arch and keep the rules whose includes hold
 * and excludes do not (caps against the bounding set, arches against the host arch, minKernel).
 * Returns undefined for a profile with neither defaultAction nor syscalls (Docker: unconfined).
 */
function setupProfile(p: DockerSeccompProfile, opts: DockerProfileOptions): LinuxSeccomp | undefined {
  const P = 'seccomp profile';
  if (p === null || typeof p !== 'object' || Array.isArray(p)) throw new BerthError('InvalidArgument', `${P}: must be a JSON object`);
  if (!p.defaultAction && !(p.syscalls ?? []).length) return undefined;
  if (p.architectures?.length && p.archMap?.length) {
    throw new BerthError('InvalidArgument', "both 'architectures' and 'archMap' are specified in the seccomp profile, use either 'architectures' or 'archMap'");
  }
  if (p.syscalls !== undefined && p.syscalls !== null && !Array.isArray(p.syscalls)) {
    throw new BerthError('InvalidArgument', `${P}.syscalls: must be an array`);
  }
  const arch = nativeArch(opts.arch);
  const caps = new Set(opts.capabilities.map(normCap));
  const kernel = opts.kernel === undefined ? undefined : parseKernel(opts.kernel, 'kernel');
  const kernelAtLeast = (min: string, path: string): boolean => {
    const [k, m] = parseKernel(min, path);
    return kernel === undefined || kernel[0] > k || (kernel[0] === k && kernel[1] >= m);
  };

  const out: LinuxSeccomp = { defaultAction: p.defaultAction };
  if (p.defaultErrnoRet !== undefined) out.defaultErrnoRet = p.defaultErrnoRet;
  const architectures = [...(p.architectures ?? [])];
  const seccompArch = NATIVE_TO_SECCOMP[arch];
  const m = seccompArch === undefined ? undefined : (p.archMap ?? []).find((x) => x.architecture === seccompArch);
  if (m) architectures.push(m.architecture, ...(m.subArchitectures ?? []));
  if (architectures.length) out.architectures = architectures;
  if (p.flags?.length) out.flags = [...p.flags];
  if (p.listenerPath) out.listenerPath = p.listenerPath;
  if (p.listenerMetadata) out.listenerMetadata = p.listenerMetadata;

  const syscalls: SeccompSyscall[] = [];
  (p.syscalls ?? []).forEach((call, i) => {
    const path = `${P}.syscalls[${i}]`;
    if (call === null || typeof call !== 'object') throw new BerthError('InvalidArgument', `${path}: must be an object`);
    let names = call.names ?? [];
    if (call.name) {
      if (names.length) throw new BerthError('InvalidArgument', "both 'name' and 'names' are specified in the seccomp profile, use either 'name' or 'names'");
      names = [call.name];
    }
    const ex = call.excludes;
    if (ex) {
      if (ex.arches?.includes(arch)) return;
      if (ex.caps?.some((c) => caps.has(normCap(c)))) return;
      if (ex.minKernel && kernelAtLeast(ex.minKernel, `${path}.excludes.minKernel`)) return;
    }
    const inc = call.includes;
    if (inc) {
      if (inc.arches?.length && !inc.arches.includes(arch)) return;
      if (inc.caps?.some((c) => !caps.has(normCap(c)))) return;
      if (inc.minKernel && !kernelAtLeast(inc.minKernel, `${path}.includes.minKernel`)) return;
    }
    const s: SeccompSyscall = { names: [...names], action: call.action };
    if (call.errnoRet !== undefined && call.errnoRet !== null) s.errnoRet = call.errnoRet;
    if (call.args?.length) s.args = call.args.map((a) => ({ ...a }));
    syscalls.push(s);
  });
  out.syscalls = syscalls;
  return out;
}

/** Docker's default profile for a container with these bounding capabilities on this host arch. */
export function dockerDefaultProfile(opts: DockerProfileOptions): LinuxSeccomp {
  return setupProfile(DOCKER_DEFAULT_PROFILE, opts)!;
}

/**
 * dockerDefaultProfile made once per set of options and shared, frozen (a caller that wants to change
 * it takes dockerDefaultProfile's own copy): every container start asked for the same one (issue 13),
 * and one object lets compileSeccomp find its filter without a JSON key.
 */
export function sharedDockerDefaultProfile(opts: DockerProfileOptions): LinuxSeccomp {
  const key = `${nativeArch(opts.arch)} ${opts.kernel ?? ''} ${[...new Set(opts.capabilities.map(normCap))].sort().join(',')}`;
  let p = defaults.get(key);
  if (!p) {
    p = deepFreeze(dockerDefaultProfile(opts));
    if (defaults.size >= 16) defaults.delete(defaults.keys().next().value!);
    defaults.set(key, p);
  }
  return p;
}
const defaults = new Map<string, LinuxSeccomp>();

/**
 * `--security-opt seccomp=<file>`: the file's text, in Docker's format (archMap, includes/excludes,
 * name) or a plain OCI seccomp object. undefined means the profile is empty (no defaultAction, no
 * syscalls): Docker then runs the container unconfined.
 */
export function loadSeccompProfileJSON(
  text: string,
  caps: string[],
  opts: Omit<DockerProfileOptions, 'capabilities'> = {},
): LinuxSeccomp | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new BerthError('InvalidArgument', `Decoding seccomp profile failed: ${(e as Error).message}`, { cause: e });
  }
  return setupProfile(parsed as DockerSeccompProfile, { ...opts, capabilities: caps });
}
