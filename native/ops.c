/* ops.c — runs plan ops in order. Each op is one system call or a fixed short sequence of them.
 * Paths marked "inroot" resolve inside the rootfs with openat2(RESOLVE_IN_ROOT), so a symlink in
 * an image can never point a mount or a device node at the host (the CVE-2021-30465 class). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/bpf.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/fs.h>
#include <linux/openat2.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <termios.h>
#include <unistd.h>
#include "helper.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

static int rootfd = -1;   /* the rootfs, while inroot paths still need resolving */
static int pivoted;       /* after pivot_root, "/" is the rootfs and plain paths are safe */
static int fifofd = -1;
static int procfd = -1;   /* the host's /proc: reopens fifofd where the container has no /proc (a chroot) */
static int relay[2] = {-1, -1}; /* hands the PTY master to a waiting parent */
static char exec_path[PATH_MAX];
#define MAX_LEAVE 16
static int leave_fds[MAX_LEAVE]; /* LEAVE_CGROUP: where the parent moves itself after CLONE */
static int nleave;

static int open_in_root(const char *path, int flags)
{
	if (rootfd < 0)
		bail_errno(EINVAL, "path %s is relative to a rootfs, but no ROOT was set", path);
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	return (int)syscall(SYS_openat2, rootfd, path, &how, sizeof how);
}

static int open_path(const char *path, int inroot, int flags)
{
	if (inroot && !pivoted)
		return open_in_root(path, flags);
	return open(path, flags | O_CLOEXEC);
}

/* The directory holding `path` as an O_PATH fd, and its last component in *name. */
static int open_parent(const char *path, int inroot, char *buf, const char **name)
{
	char *slash;
	int fd;
	if (strlen(path) >= PATH_MAX)
		bail_errno(ENAMETOOLONG, "%s", path);
	strcpy(buf, path);
	while (strlen(buf) > 1 && buf[strlen(buf) - 1] == '/')
		buf[strlen(buf) - 1] = 0;
	slash = strrchr(buf, '/');
	if (slash == NULL) {
		*name = buf;
		fd = open_path(".", inroot, O_PATH | O_DIRECTORY);
	} else {
		*slash = 0;
		*name = slash + 1;
		fd = open_path(slash == buf ? "/" : buf, inroot, O_PATH | O_DIRECTORY);
	}
	if (fd < 0)
		bail("open parent of %s", path);
	return fd;
}

static void mkdir_p(const char *path, mode_t mode, int inroot)
{
	char buf[PATH_MAX];
	size_t len = strlen(path);
	if (len >= PATH_MAX)
		bail_errno(ENAMETOOLONG, "mkdir %s", path);
	for (size_t i = 1; i <= len; i++) {
		if (i < len && path[i] != '/')
			continue;
		memcpy(buf, path, i);
		buf[i] = 0;
		int fd = open_path(buf, inroot, O_PATH | O_DIRECTORY);
		if (fd >= 0) {
			close(fd);
			continue;
		}
		if (errno != ENOENT)
			bail("mkdir %s: open %s", path, buf);
		char pbuf[PATH_MAX];
		const char *name;
		int parent = open_parent(buf, inroot, pbuf, &name);
		if (mkdirat(parent, name, mode) < 0 && errno != EEXIST)
			bail("mkdir %s", buf);
		close(parent);
	}
}

static void make_file(const char *path, int inroot)
{
	char pbuf[PATH_MAX];
	const char *name;
	char dir[PATH_MAX];
	strcpy(dir, path);
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = 0;
		mkdir_p(dir, 0755, inroot);
	}
	int parent = open_parent(path, inroot, pbuf, &name);
	if (mknodat(parent, name, S_IFREG | 0644, 0) < 0 && errno != EEXIST)
		bail("create file %s", path);
	close(parent);
}

/* mount(2) cannot take a dirfd: mount on the magic link of an O_PATH fd instead. */
static void do_mount(const struct op *op)
{
	uint64_t flags = op->f[0].n;
	int inroot = (int)op->f[1].n, mk = (int)op->f[2].n;
	const char *src = op->f[3].s, *dst = op->f[4].s, *fstype = op->f[5].s, *data = op->f[6].s;
	char target[64];
	const char *t = dst;
	int fd = -1;

	if (mk == 1)
		mkdir_p(dst, 0755, inroot);
	else if (mk == 2)
		make_file(dst, inroot);
	if (inroot && !pivoted) {
		fd = open_in_root(dst, O_PATH);
		if (fd < 0)
			bail("mount %s: open %s in rootfs", *fstype ? fstype : src, dst);
		snprintf(target, sizeof target, "/proc/self/fd/%d", fd);
		t = target;
	}
	/* a read-only remount of a bind mount must keep the flags the kernel has locked */
	if ((flags & MS_REMOUNT) && (flags & MS_BIND)) {
		struct statvfs sv;
		if (statvfs(t, &sv) == 0)
			flags |= sv.f_flag & (ST_NOSUID | ST_NODEV | ST_NOEXEC | ST_NOATIME | ST_NODIRATIME | ST_RELATIME);
	}
	if (mount(*src ? src : NULL, t, *fstype ? fstype : NULL, (unsigned long)flags, *data ? data : NULL) < 0)
		bail("mount %s on %s (type %s, flags 0x%llx, data \"%s\")", *src ? src : "none", dst,
		     *fstype ? fstype : "none", (unsigned long long)flags, data);
	if (fd >= 0)
		close(fd);
}

static void do_pivot(void)
{
	if (rootfd < 0)
		bail_errno(EINVAL, "pivot_root without ROOT");
	if (fchdir(rootfd) < 0)
		bail("chdir rootfs");
	/* pivot_root(".", ".") stacks the old root under the new one; detach it from here.
	 * Make it a slave first so the detach cannot propagate to the host's mounts. */
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		bail("pivot_root");
	if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
		bail("make old root rslave");
	if (umount2(".", MNT_DETACH) < 0)
		bail("detach old root");
	if (chdir("/") < 0)
		bail("chdir /");
	close(rootfd);
	rootfd = -1;
	pivoted = 1;
}

static void do_mask(const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0) {
		if (errno == ENOENT)
			return;
		bail("mask %s", path);
	}
	if (S_ISDIR(st.st_mode)) {
		if (mount("tmpfs", path, "tmpfs", MS_RDONLY, "size=0k") < 0)
			bail("mask %s with a read-only tmpfs", path);
	} else if (mount("/dev/null", path, NULL, MS_BIND, NULL) < 0) {
		bail("mask %s with /dev/null", path);
	}
}

static void do_readonly(const char *path)
{
	struct statvfs sv;
	if (mount(path, path, NULL, MS_BIND | MS_REC, NULL) < 0) {
		if (errno == ENOENT)
			return;
		bail("bind %s for read-only", path);
	}
	unsigned long flags = MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC;
	if (statvfs(path, &sv) == 0)
		flags |= sv.f_flag & (ST_NOSUID | ST_NODEV | ST_NOEXEC);
	if (mount(path, path, NULL, flags, NULL) < 0)
		bail("remount %s read-only", path);
}

/* optional: a filesystem without inode flags (ENOTTY, EOPNOTSUPP, EINVAL) is not an error */
static void do_fsflags(int optional, int flags, const char *path)
{
	int cur = 0, err, fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		bail("open %s", path);
	err = ioctl(fd, FS_IOC_GETFLAGS, &cur);
	if (err == 0 && (cur | flags) != cur) {
		cur |= flags;
		err = ioctl(fd, FS_IOC_SETFLAGS, &cur);
	}
	if (err < 0 && !(optional && (errno == ENOTTY || errno == EOPNOTSUPP || errno == EINVAL)))
		bail("set inode flags 0x%x on %s", flags, path);
	close(fd);
}

static void do_syncfs(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		bail("open %s", path);
	if (syncfs(fd) < 0)
		bail("syncfs %s", path);
	close(fd);
}

/* Starts the write-out of a regular file's dirty pages without waiting for it: a later fsync or
 * syncfs then finds them written or on their way (it waits for those, and adds the one cache flush). */
static void do_writeback(int inroot, const char *path)
{
	int fd = open_path(path, inroot, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
	struct stat st;
	if (fd < 0)
		bail("open %s", path);
	if (fstat(fd, &st) < 0)
		bail("stat %s", path);
	if (!S_ISREG(st.st_mode))
		bail_errno(EINVAL, "%s is not a regular file", path);
	if (sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE) < 0)
		bail("sync_file_range %s", path);
	close(fd);
}

static void do_write(int optional, const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0) {
		if (optional && errno == ENOENT)
			return;
		bail("open %s", path);
	}
	size_t len = strlen(value);
	if (write(fd, value, len) != (ssize_t)len)
		bail("write \"%s\" to %s", value, path);
	close(fd);
}

static void do_console(const struct op *op)
{
	int sock = (int)(int64_t)op->f[2].n;
	char name[128];
	int master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0)
		bail("open /dev/ptmx");
	if (unlockpt(master) < 0 || ptsname_r(master, name, sizeof name) != 0)
		bail("unlock pty");
	int slave = open(name, O_RDWR | O_NOCTTY);
	if (slave < 0)
		bail("open %s", name);
	if (op->f[0].n && op->f[1].n) {
		struct winsize ws = {.ws_row = (unsigned short)op->f[0].n, .ws_col = (unsigned short)op->f[1].n};
		if (ioctl(master, TIOCSWINSZ, &ws) < 0)
			bail("set console size");
	}
	if (sock < 0)
		sock = relay[1];
	if (send_fd(sock, master, name) < 0)
		bail("send console master");
	close(master);
	if (sock == relay[1]) {
		close(relay[1]);
		relay[1] = -1;
	} else {
		close(sock);
	}
	for (int fd = 0; fd < 3; fd++)
		if (dup2(slave, fd) < 0)
			bail("dup2 console");
	if (slave > 2)
		close(slave);
	if (ioctl(0, TIOCSCTTY, 0) < 0)
		bail("set controlling terminal");
}

/* cgroup v2 has no devices.allow: the rules are an eBPF program attached to the cgroup. */
static void do_bpf_devices(const char *cgroup, const uint8_t *insns, uint64_t len)
{
	static char log[65536];
	union bpf_attr a;
	int cg = open(cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC), prog;
	if (cg < 0)
		bail("open cgroup %s", cgroup);
	for (int with_log = 0; with_log < 2; with_log++) {
		memset(&a, 0, sizeof a);
		a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
		a.insns = (uint64_t)(uintptr_t)insns;
		a.insn_cnt = (uint32_t)(len / 8);
		a.license = (uint64_t)(uintptr_t) "Apache-2.0";
		if (with_log) { /* only to explain a failure: the verifier's log */
			a.log_buf = (uint64_t)(uintptr_t)log;
			a.log_size = sizeof log;
			a.log_level = 1;
		}
		prog = (int)syscall(SYS_bpf, BPF_PROG_LOAD, &a, sizeof a);
		if (prog >= 0)
			break;
		if (with_log)
			bail("load device filter (%s)", log);
	}
	memset(&a, 0, sizeof a);
	a.target_fd = (uint32_t)cg;
	a.attach_bpf_fd = (uint32_t)prog;
	a.attach_type = BPF_CGROUP_DEVICE;
	a.attach_flags = BPF_F_ALLOW_MULTI;
	if (syscall(SYS_bpf, BPF_PROG_ATTACH, &a, sizeof a) < 0)
		bail("attach device filter to %s", cgroup);
	close(prog);
	close(cg);
}

static void do_capset(uint64_t eff, uint64_t perm, uint64_t inh)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
	struct __user_cap_data_struct data[2] = {
		{(uint32_t)eff, (uint32_t)perm, (uint32_t)inh},
		{(uint32_t)(eff >> 32), (uint32_t)(perm >> 32), (uint32_t)(inh >> 32)},
	};
	if (syscall(SYS_capset, &hdr, data) < 0)
		bail("capset");
}

/* The plain faccessat syscall, not libc's, which tries faccessat2 first: an older seccomp profile
 * that lists newer syscalls (so no ENOSYS stub covers faccessat2) would fail the lookup with EPERM.
 * Past SETRESUID the real ids are the effective ones, so no AT_EACCESS is needed. */
static int can_exec(const char *path)
{
	return (int)syscall(SYS_faccessat, AT_FDCWD, path, X_OK);
}

static void do_lookup(const char *pathenv, const char *name)
{
	if (strchr(name, '/')) {
		if (strlen(name) >= sizeof exec_path)
			bail_errno(ENAMETOOLONG, "exec: %s", name);
		strcpy(exec_path, name);
		struct stat st;
		if (can_exec(exec_path) < 0)
			bail("exec: \"%s\"", name);
		/* as Go's LookPath: a directory is not a program (root may "execute" one) */
		if (stat(exec_path, &st) == 0 && S_ISDIR(st.st_mode))
			bail_errno(EACCES, "exec: \"%s\": is a directory", name);
		return;
	}
	for (const char *p = pathenv;; p++) {
		const char *end = strchrnul(p, ':');
		int n = snprintf(exec_path, sizeof exec_path, "%.*s%s%s", (int)(end - p), p, end == p ? "" : "/", name);
		struct stat st;
		if (n > 0 && (size_t)n < sizeof exec_path && can_exec(exec_path) == 0 &&
		    stat(exec_path, &st) == 0 && S_ISREG(st.st_mode))
			return;
		if (*end == 0)
			break;
		p = end;
	}
	exec_path[0] = 0;
	bail_errno(ENOENT, "exec: \"%s\": executable file not found in $PATH", name);
}

static void run_op(const struct op *op)
{
	const struct field *f = op->f;
	char pbuf[PATH_MAX];
	const char *name;
	int fd;

	switch (op->tag) {
	case OP_SYNC_GO:
		wait_go();
		break;
	case OP_SYNC_HOOK: {
		uint32_t point = (uint32_t)f[0].n;
		send_msg(MSG_HOOK, &point, 4);
		wait_go();
		break;
	}
	case OP_SETRESID:
		if (setresgid((gid_t)f[1].n, (gid_t)f[1].n, (gid_t)f[1].n) < 0 ||
		    setresuid((uid_t)f[0].n, (uid_t)f[0].n, (uid_t)f[0].n) < 0)
			bail("become %llu:%llu in the user namespace", (unsigned long long)f[0].n, (unsigned long long)f[1].n);
		break;
	case OP_SETSID:
		if (setsid() < 0)
			bail("setsid");
		break;
	case OP_MOUNT:
		do_mount(op);
		break;
	case OP_UMOUNT:
		if (umount2(f[1].s, (int)f[0].n) < 0)
			bail("umount %s", f[1].s);
		break;
	case OP_MKNOD:
		fd = open_parent(f[5].s, (int)f[4].n, pbuf, &name);
		if (mknodat(fd, name, (mode_t)f[0].n, (dev_t)f[1].n) < 0 && errno != EEXIST)
			bail("mknod %s", f[5].s);
		if (fchownat(fd, name, (uid_t)f[2].n, (gid_t)f[3].n, AT_SYMLINK_NOFOLLOW) < 0)
			bail("chown %s", f[5].s);
		/* mknod is subject to umask; the plan's mode is what the spec asked for */
		if (!S_ISLNK(f[0].n) && fchmodat(fd, name, (mode_t)f[0].n & 07777, 0) < 0)
			bail("chmod %s", f[5].s);
		close(fd);
		break;
	case OP_SYMLINK:
		fd = open_parent(f[2].s, (int)f[0].n, pbuf, &name);
		if (symlinkat(f[1].s, fd, name) < 0 && errno != EEXIST)
			bail("symlink %s -> %s", f[2].s, f[1].s);
		close(fd);
		break;
	case OP_MKDIR:
		mkdir_p(f[2].s, (mode_t)f[0].n, (int)f[1].n);
		break;
	case OP_ROOT:
		rootfd = open(f[0].s, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (rootfd < 0)
			bail("open rootfs %s", f[0].s);
		break;
	case OP_PIVOT:
		do_pivot();
		break;
	case OP_MASK:
		do_mask(f[0].s);
		break;
	case OP_READONLY:
		do_readonly(f[0].s);
		break;
	case OP_WRITE:
		do_write((int)f[0].n, f[1].s, f[2].s);
		break;
	case OP_LEAVE_CGROUP:
		if (nleave == MAX_LEAVE)
			bail_errno(E2BIG, "more than %d cgroups to leave", MAX_LEAVE);
		if ((fd = open(f[1].s, O_WRONLY | O_CLOEXEC)) >= 0)
			leave_fds[nleave++] = fd;
		else if (!f[0].n)
			bail("open %s", f[1].s);
		break;
	case OP_HOSTNAME:
		if (sethostname(f[0].s, strlen(f[0].s)) < 0)
			bail("sethostname %s", f[0].s);
		break;
	case OP_DOMAINNAME:
		if (setdomainname(f[0].s, strlen(f[0].s)) < 0)
			bail("setdomainname %s", f[0].s);
		break;
	case OP_SETXATTR: {
		char via[PATH_MAX + 32];
		fd = open_parent(f[1].s, (int)f[0].n, pbuf, &name);
		snprintf(via, sizeof via, "/proc/self/fd/%d/%s", fd, name);
		if (lsetxattr(via, f[2].s, f[3].b, (size_t)f[3].n, 0) < 0)
			bail("setxattr %s on %s", f[2].s, f[1].s);
		close(fd);
		break;
	}
	case OP_FSFLAGS:
		do_fsflags((int)f[0].n, (int)f[1].n, f[2].s);
		break;
	case OP_SYNCFS:
		do_syncfs(f[0].s);
		break;
	case OP_WRITEBACK:
		do_writeback((int)f[0].n, f[1].s);
		break;
	case OP_LCHOWN:
		fd = open_parent(f[3].s, (int)f[2].n, pbuf, &name);
		if (fchownat(fd, name, (uid_t)f[0].n, (gid_t)f[1].n, AT_SYMLINK_NOFOLLOW) < 0)
			bail("chown %s", f[3].s);
		close(fd);
		break;
	case OP_CONSOLE:
		do_console(op);
		break;
	case OP_CHROOT:
		if (chroot(f[0].s) < 0 || chdir("/") < 0)
			bail("chroot %s", f[0].s);
		break;
	case OP_BPF_DEVICES:
		if (f[1].n % 8)
			bail_errno(EINVAL, "device filter of %llu bytes", (unsigned long long)f[1].n);
		do_bpf_devices(f[0].s, f[1].b, f[1].n);
		break;
	case OP_RLIMIT: {
		struct rlimit rl = {.rlim_cur = f[1].n, .rlim_max = f[2].n};
		if (setrlimit((int)f[0].n, &rl) < 0)
			bail("setrlimit %llu soft=%llu hard=%llu", (unsigned long long)f[0].n, (unsigned long long)f[1].n,
			     (unsigned long long)f[2].n);
		break;
	}
	case OP_PERSONALITY:
		if (personality((unsigned long)f[0].n) < 0)
			bail("personality 0x%llx", (unsigned long long)f[0].n);
		break;
	case OP_KEEPCAPS:
		if (prctl(PR_SET_KEEPCAPS, f[0].n, 0, 0, 0) < 0)
			bail("keep capabilities");
		break;
	case OP_CAPBSET:
		for (int cap = 0; cap < 64; cap++) {
			if (f[0].n & (1ULL << cap))
				continue;
			if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0) {
				if (errno == EINVAL)
					break; /* past the kernel's last capability */
				bail("drop bounding capability %d", cap);
			}
		}
		break;
	case OP_SETGROUPS:
		if (setgroups((size_t)f[0].n, (const gid_t *)(const void *)f[0].b) < 0)
			bail("setgroups");
		break;
	case OP_SETRESGID:
		if (setresgid((gid_t)f[0].n, (gid_t)f[0].n, (gid_t)f[0].n) < 0)
			bail("setgid %llu", (unsigned long long)f[0].n);
		break;
	case OP_SETRESUID:
		if (setresuid((uid_t)f[0].n, (uid_t)f[0].n, (uid_t)f[0].n) < 0)
			bail("setuid %llu", (unsigned long long)f[0].n);
		break;
	case OP_CAPSET:
		do_capset(f[0].n, f[1].n, f[2].n);
		break;
	case OP_AMBIENT:
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
			bail("clear ambient capabilities");
		for (int cap = 0; cap < 64; cap++)
			if ((f[0].n & (1ULL << cap)) && prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0)
				bail("raise ambient capability %d", cap);
		break;
	case OP_UMASK:
		umask((mode_t)f[0].n);
		break;
	case OP_NNP:
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
			bail("set no_new_privs");
		break;
	case OP_SECCOMP: {
		struct sock_fprog prog = {
			.len = (unsigned short)(f[1].n / sizeof(struct sock_filter)),
			.filter = (struct sock_filter *)(uintptr_t)f[1].b,
		};
		if (f[1].n % sizeof(struct sock_filter) || f[1].n / sizeof(struct sock_filter) > BPF_MAXINSNS)
			bail_errno(EINVAL, "seccomp filter of %llu bytes", (unsigned long long)f[1].n);
		if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, (unsigned)f[0].n, &prog) < 0)
			bail("load seccomp filter");
		break;
	}
	case OP_CHDIR: {
		char cwd[PATH_MAX];
		if (chdir(f[0].s) < 0)
			bail("chdir to cwd %s", f[0].s);
		/* CVE-2024-21626: a cwd reached through a leaked fd lies outside the root,
		 * and getcwd(3) then fails or does not start with "/". */
		if (getcwd(cwd, sizeof cwd) == NULL || cwd[0] != '/')
			bail_errno(EPERM, "cwd %s is outside the container root", f[0].s);
		break;
	}
	case OP_FIFO_OPEN:
		fifofd = open(f[0].s, O_PATH | O_CLOEXEC);
		if (fifofd < 0)
			bail("open exec fifo %s", f[0].s);
		procfd = open(f[1].s, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (procfd < 0)
			bail("open %s", f[1].s);
		break;
	case OP_READY:
		send_msg(MSG_READY, NULL, 0);
		break;
	case OP_FIFO_WAIT: {
		char via[64];
		snprintf(via, sizeof via, "self/fd/%d", fifofd);
		fd = openat(procfd, via, O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			bail("open exec fifo");
		if (write(fd, "0", 1) != 1)
			bail("write exec fifo");
		close(fd);
		close(fifofd);
		close(procfd);
		fifofd = procfd = -1;
		break;
	}
	case OP_LOOKUP:
		do_lookup(f[0].s, f[1].s);
		break;
	case OP_EXEC:
		if (f[0].n == 0)
			bail_errno(EINVAL, "exec: no args");
		execve(exec_path[0] ? exec_path : f[0].v[0], f[0].v, f[1].v);
		/* past READY nobody reads the error: the status tells it, in the shell's words */
		bail_status = errno == ENOENT ? 127 : 126;
		bail("exec %s", exec_path[0] ? exec_path : f[0].v[0]);
	case OP_CLOEXEC_FROM:
		if (syscall(SYS_close_range, (unsigned)f[0].n, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
			bail("mark fds close-on-exec");
		break;
	case OP_DUMPABLE:
		if (prctl(PR_SET_DUMPABLE, f[0].n, 0, 0, 0) < 0)
			bail("set dumpable");
		break;
	case OP_SIGRESET: {
		sigset_t all;
		sigemptyset(&all);
		for (int sig = 1; sig < NSIG; sig++)
			if (sig != SIGKILL && sig != SIGSTOP)
				signal(sig, SIG_DFL);
		sigprocmask(SIG_SETMASK, &all, NULL);
		break;
	}
	default:
		if (!run_net_op(op))
			bail_errno(EINVAL, "op %u cannot run here", op->tag);
	}
}

/*
 * The child until its exec: a signal that would end a process ends it, as runc's init (its Go runtime
 * handles them all). Without a handler, PID 1 of a new PID namespace never sees a signal from outside
 * that it has no handler for, so `kill` or `docker stop` between start and exec was lost, and the
 * program then ran on (moby's TestKillContainer under load). exec puts the defaults back.
 */
static void end_by_signal(int sig)
{
	signal(sig, SIG_DFL);
	raise(sig); /* a process that is not PID 1 ends by the signal itself */
	_exit(128 + sig); /* PID 1 ignores its own: the shell's status for it */
}

static void end_on_signals(void)
{
	static const int sigs[] = {SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM};
	for (size_t k = 0; k < sizeof sigs / sizeof sigs[0]; k++)
		signal(sigs[k], end_by_signal);
}

void run_ops(struct op *ops, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		cur_op = (long)i;
		if (ops[i].tag == OP_SETNS) {
			/* open every namespace of the run first: after setns(mnt) host paths mean something else */
			size_t j = i, k;
			int fds[16];
			while (j < n && ops[j].tag == OP_SETNS && j - i < 16)
				j++;
			for (k = i; k < j; k++) {
				cur_op = (long)k;
				if ((fds[k - i] = open(ops[k].f[1].s, O_RDONLY | O_CLOEXEC)) < 0)
					bail("open namespace %s", ops[k].f[1].s);
			}
			for (k = i; k < j; k++) {
				cur_op = (long)k;
				if (setns(fds[k - i], (int)ops[k].f[0].n) < 0)
					bail("setns %s", ops[k].f[1].s);
				close(fds[k - i]);
			}
			i = j - 1;
			continue;
		}
		if (ops[i].tag != OP_CLONE) {
			run_op(&ops[i]);
			continue;
		}
		/* ops before CLONE ran in this process; the child runs the rest */
		uint32_t flags = (uint32_t)ops[i].f[0].n;
		int detach = (int)ops[i].f[1].n, want_relay = (int)ops[i].f[2].n;
		/* parent and child share the sync socket: the child stays quiet until CHILD_PID is out */
		int order[2];
		char b = 0;
		if (pipe2(order, O_CLOEXEC) < 0)
			bail("pipe");
		if (want_relay && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, relay) < 0)
			bail("socketpair for console");
		/* Signals are blocked from before the child exists (wait_child's set): a child that exits at
		 * once must not have its SIGCHLD discarded (its default action is to ignore it) before
		 * wait_child's signalfd is there to take it. The child goes back to the mask it had. */
		sigset_t waitset, mask;
		sigfillset(&waitset);
		sigdelset(&waitset, SIGSEGV);
		sigdelset(&waitset, SIGBUS);
		sigdelset(&waitset, SIGILL);
		sigdelset(&waitset, SIGFPE);
		sigprocmask(SIG_BLOCK, &waitset, &mask);
		pid_t pid = (pid_t)syscall(SYS_clone, (unsigned long)flags | SIGCHLD, NULL, NULL, NULL, NULL);
		if (pid == 0)
			end_on_signals(); /* before the mask comes back: one that came meanwhile ends it too */
		if (pid <= 0)
			sigprocmask(SIG_SETMASK, &mask, NULL);
		if (pid < 0)
			bail("clone 0x%x", flags);
		if (pid == 0) {
			if (relay[0] >= 0)
				close(relay[0]);
			for (int k = 0; k < nleave; k++)
				close(leave_fds[k]);
			nleave = 0;
			close(order[1]);
			if (read(order[0], &b, 1) != 1)
				_exit(1); /* the parent died before it could report us */
			close(order[0]);
			continue;
		}
		uint32_t p = (uint32_t)pid;
		close(order[0]);
		send_msg(MSG_CHILD_PID, &p, 4);
		/* A parent that stays leaves the container's cgroups before the child runs an op: it must not
		 * count against their limits (pids.max). "0" in a v1 tasks file moves the writing thread only
		 * (this process has one), and the kernel then takes no global threadgroup lock (whose RCU
		 * wait cost a write of a pid to cgroup.procs ~10 ms). Best effort: a write that fails leaves
		 * this process counted there, and the container runs on. */
		for (int k = 0; k < nleave; k++) {
			ssize_t w = detach ? 0 : write(leave_fds[k], "0", 1);
			(void)w;
			close(leave_fds[k]);
		}
		nleave = 0;
		if (write(order[1], &b, 1) != 1)
			bail("release child");
		close(order[1]);
		if (detach)
			_exit(0);
		close(sync_fd);
		if (relay[1] >= 0)
			close(relay[1]);
		wait_child(pid, relay[0]);
	}
}
