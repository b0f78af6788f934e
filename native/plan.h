/* plan.h — op tags of the flat plan TypeScript sends to berth-helper.
 * Keep in step with src/runtime/plan/tags.ts (test/unit/plan.test.ts checks they match).
 * A plan is a list of records: u32 tag, u32 len, len bytes of payload (little-endian).
 * Strings in a payload are NUL-terminated. The helper runs the ops in order and decides nothing. */
#ifndef BERTH_PLAN_H
#define BERTH_PLAN_H

enum plan_tag {
	OP_SETNS = 1,         /* u32 nstype, str path */
	OP_CLONE = 2,         /* u32 flags, u32 detach, u32 relay: ops before run in the parent, after in the child */
	OP_SYNC_GO = 3,       /* wait for GO from the runtime */
	OP_SYNC_HOOK = 4,     /* u32 point: send HOOK, wait for GO */
	OP_SETRESID = 5,      /* u32 uid, u32 gid */
	OP_SETSID = 6,
	OP_MOUNT = 7,         /* u64 flags, u32 inroot, u32 mkdir(0 none,1 dir,2 file), str src, str dst, str fstype, str data */
	OP_UMOUNT = 8,        /* u32 flags, str path */
	OP_MKNOD = 9,         /* u32 mode, u64 dev, u32 uid, u32 gid, u32 inroot, str path */
	OP_SYMLINK = 10,      /* u32 inroot, str target, str linkpath */
	OP_MKDIR = 11,        /* u32 mode, u32 inroot, str path (mkdir -p) */
	OP_ROOT = 12,         /* str path: the rootfs that inroot paths resolve in */
	OP_PIVOT = 13,
	OP_MASK = 14,         /* str path */
	OP_READONLY = 15,     /* str path */
	OP_WRITE = 16,        /* u32 optional, str path, str value */
	OP_HOSTNAME = 17,     /* str */
	OP_DOMAINNAME = 18,   /* str */
	OP_SETXATTR = 19,     /* u32 inroot, str path, str name, u32 len, bytes value */
	OP_CONSOLE = 20,      /* u32 rows, u32 cols, str socket path ("" = hand the master to the waiting parent) */
	OP_RLIMIT = 21,       /* u32 resource, u64 soft, u64 hard */
	OP_PERSONALITY = 22,  /* u32 persona */
	OP_KEEPCAPS = 23,     /* u32 on */
	OP_CAPBSET = 24,      /* u64 keep mask: every other bounding capability is dropped */
	OP_SETGROUPS = 25,    /* u32 n, u32 gids[n] */
	OP_SETRESGID = 26,    /* u32 gid */
	OP_SETRESUID = 27,    /* u32 uid */
	OP_CAPSET = 28,       /* u64 effective, u64 permitted, u64 inheritable */
	OP_AMBIENT = 29,      /* u64 mask */
	OP_UMASK = 30,        /* u32 */
	OP_NNP = 31,
	OP_SECCOMP = 32,      /* u32 flags, bytes: struct sock_filter[] */
	OP_CHDIR = 33,        /* str path; fails if the result is outside the root */
	OP_FIFO_OPEN = 34,    /* str path, str proc: keep O_PATH fds to the exec fifo and the host's /proc */
	OP_READY = 35,        /* send READY */
	OP_FIFO_WAIT = 36,    /* reopen the fifo via proc/self/fd for writing (blocks until start), write "0" */
	OP_LOOKUP = 37,       /* str PATH value, str name: resolve the program like execvp */
	OP_EXEC = 38,         /* u32 argc, u32 envc, str args..., str env... */
	OP_CLOEXEC_FROM = 39, /* u32 fd: mark every fd >= fd close-on-exec */
	OP_DUMPABLE = 40,     /* u32 on */
	OP_SIGRESET = 41,     /* unblock and default every signal */
	OP_LCHOWN = 42,       /* u32 uid, u32 gid, u32 inroot, str path */
	OP_BPF_DEVICES = 43,  /* str cgroup dir, bytes: eBPF insns of a BPF_PROG_TYPE_CGROUP_DEVICE program to attach */
	OP_CHROOT = 44,       /* str path: chroot there and chdir / (a container without a mount namespace) */
	/* network ops (netlink.c), in the namespace the last SETNS chose */
	OP_VETH = 45,         /* str name, str peer, str master, u32 mtu, u32 peer netns pid, bytes mac */
	OP_LINK_UP = 46,      /* str name */
	OP_LINK_DEL = 47,     /* u32 optional, str name */
	OP_ADDR_ADD = 48,     /* str dev, u32 address, u32 prefix, u32 broadcast */
	OP_ROUTE_ADD = 49,    /* str dev, u32 dst, u32 prefix, u32 gateway */
	OP_BRIDGE = 50,       /* str name, u32 mtu, u32 address, u32 prefix, u32 broadcast: made or updated, address replaced, up */
	OP_FSFLAGS = 51,      /* u32 optional, u32 flags, str path: OR flags into the inode flags of a host dir (FS_IOC_SETFLAGS) */
	OP_SYNCFS = 52,       /* str path: write out the filesystem holding this host dir (syncfs) */
	OP_LEAVE_CGROUP = 53, /* u32 optional, str path: open a cgroup's tasks (v1) or cgroup.procs (v2) file now
	                       * (an optional one that will not open is skipped); after CLONE the parent writes
	                       * "0" to each, moving itself there, before it lets the child go */
	OP_WRITEBACK = 54,    /* u32 inroot, str path: start writing a regular file's dirty pages out
	                       * (sync_file_range WRITE: no wait for them, no cache flush) */
};

#endif
