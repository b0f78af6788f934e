// Plan op tags and field layouts: the TypeScript twin of native/plan.h and native/plan.c's format table.
// test/unit/plan.test.ts checks both sides agree.

/** Field kinds: u u32, i i32, U u64, s string, b u32 length + bytes, r rest bytes, g u32 list, v string list. */
export type FieldKind = 'u' | 'i' | 'U' | 's' | 'b' | 'r' | 'g' | 'v';

export const OPS = {
  SETNS: [1, 'u:nstype s:path'],
  CLONE: [2, 'u:flags u:detach u:relay'],
  SYNC_GO: [3, ''],
  SYNC_HOOK: [4, 'u:point'],
  SETRESID: [5, 'u:uid u:gid'],
  SETSID: [6, ''],
  MOUNT: [7, 'U:flags u:inroot u:mkdir s:src s:dst s:fstype s:data'],
  UMOUNT: [8, 'u:flags s:path'],
  MKNOD: [9, 'u:mode U:dev u:uid u:gid u:inroot s:path'],
  SYMLINK: [10, 'u:inroot s:target s:path'],
  MKDIR: [11, 'u:mode u:inroot s:path'],
  ROOT: [12, 's:path'],
  PIVOT: [13, ''],
  MASK: [14, 's:path'],
  READONLY: [15, 's:path'],
  WRITE: [16, 'u:optional s:path s:value'],
  HOSTNAME: [17, 's:name'],
  DOMAINNAME: [18, 's:name'],
  SETXATTR: [19, 'u:inroot s:path s:name b:value'],
  CONSOLE: [20, 'u:rows u:cols i:fd'],
  RLIMIT: [21, 'u:resource U:soft U:hard'],
  PERSONALITY: [22, 'u:persona'],
  KEEPCAPS: [23, 'u:on'],
  CAPBSET: [24, 'U:keep'],
  SETGROUPS: [25, 'g:gids'],
  SETRESGID: [26, 'u:gid'],
  SETRESUID: [27, 'u:uid'],
  CAPSET: [28, 'U:effective U:permitted U:inheritable'],
  AMBIENT: [29, 'U:mask'],
  UMASK: [30, 'u:mask'],
  NNP: [31, ''],
  SECCOMP: [32, 'u:flags r:filter'],
  CHDIR: [33, 's:path'],
  FIFO_OPEN: [34, 's:path s:proc'],
  READY: [35, ''],
  FIFO_WAIT: [36, ''],
  LOOKUP: [37, 's:pathenv s:name'],
  EXEC: [38, 'v:args v:env'],
  CLOEXEC_FROM: [39, 'u:fd'],
  DUMPABLE: [40, 'u:on'],
  SIGRESET: [41, ''],
  LCHOWN: [42, 'u:uid u:gid u:inroot s:path'],
  BPF_DEVICES: [43, 's:cgroup r:insns'],
  CHROOT: [44, 's:path'],
  VETH: [45, 's:name s:peer s:master u:mtu u:nspid b:mac'],
  LINK_UP: [46, 's:name'],
  LINK_DEL: [47, 'u:optional s:name'],
  ADDR_ADD: [48, 's:dev u:address u:prefix u:broadcast'],
  ROUTE_ADD: [49, 's:dev u:dst u:prefix u:gateway'],
  BRIDGE: [50, 's:name u:mtu u:address u:prefix u:broadcast'],
  FSFLAGS: [51, 'u:optional u:flags s:path'],
  SYNCFS: [52, 's:path'],
  LEAVE_CGROUP: [53, 'u:optional s:path'],
  WRITEBACK: [54, 'u:inroot s:path'],
} as const satisfies Record<string, readonly [number, string]>;

export type OpName = keyof typeof OPS;

/** Sync messages (native/sync.h). */
export const MSG = { PLAN: 1, CHILD_PID: 2, GO: 3, READY: 4, ERROR: 5, HOOK: 6, DONE: 7 } as const;

/** Where a plan pauses so the runtime can run hooks (SYNC_HOOK point). */
export const HOOK_POINT = { createContainer: 1 } as const;
