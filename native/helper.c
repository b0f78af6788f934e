/* berth-helper — carries out a plan made by Berth's TypeScript side; decides nothing.
 *   berth-helper init          read PLAN on fd 3, run it (clone into namespaces, set up, exec)
 *   berth-helper ops           read PLAN on fd 3, run host-side ops (mount, mknod, xattr), answer DONE
 *   berth-helper spawner ADDR  fork and exec what the daemon asks on fd 3 (spawner.h)
 *   berth-helper net           stays: for each PLAN on fd 3 a forked child runs the (netlink) ops and
 *                              answers DONE or ERROR; ends when fd 3 closes
 *   berth-helper --decode-plan read raw plan records on stdin, print them; no syscall made */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "helper.h"
#include "spawner.h"

int sync_fd = SYNC_FD;
long cur_op = -1;
int bail_status = 1;

/* write(2) until done; send(MSG_NOSIGNAL) on sockets, so a gone reader is EPIPE, not SIGPIPE */
int write_full(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t w = send(fd, p, len, MSG_NOSIGNAL);
		if (w < 0 && errno == ENOTSOCK)
			w = write(fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

static int read_all(int fd, void *buf, size_t len)
{
	char *p = buf;
	while (len > 0) {
		ssize_t r = read(fd, p, len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		len -= (size_t)r;
	}
	return 0;
}

void send_msg(uint32_t type, const void *payload, uint32_t len)
{
	uint32_t hdr[2] = {type, len};
	uint8_t *buf = malloc(8 + (size_t)len);
	if (buf == NULL)
		_exit(120);
	memcpy(buf, hdr, 8);
	if (len)
		memcpy(buf + 8, payload, len);
	/* one write, so a message is never interleaved with another process's */
	if (write_full(sync_fd, buf, 8 + (size_t)len) < 0 && type != MSG_ERROR)
		bail("write to runtime");
	free(buf);
}

int recv_msg(uint32_t *type, uint8_t **payload, uint32_t *len)
{
	uint32_t hdr[2];
	if (read_all(sync_fd, hdr, 8) < 0)
		return -1;
	*type = hdr[0];
	*len = hdr[1];
	*payload = malloc((size_t)hdr[1] + 1);
	if (*payload == NULL || read_all(sync_fd, *payload, hdr[1]) < 0)
		return -1;
	return 0;
}

void wait_go(void)
{
	uint32_t type, len;
	uint8_t *p;
	if (recv_msg(&type, &p, &len) < 0)
		bail_errno(EPIPE, "wait for the runtime");
	if (type != MSG_GO)
		bail_errno(EPROTO, "expected GO from the runtime, got %u", type);
	free(p);
}

__attribute__((noreturn)) static void vbail(int err, const char *fmt, va_list ap)
{
	char msg[1024];
	uint8_t buf[1100];
	int32_t e = err;
	int32_t idx = (int32_t)cur_op;
	int n = vsnprintf(msg, sizeof msg, fmt, ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof msg)
		n = sizeof msg - 1;
	memcpy(buf, &e, 4);
	memcpy(buf + 4, &idx, 4);
	memcpy(buf + 8, msg, (size_t)n + 1);
	uint32_t hdr[2] = {MSG_ERROR, (uint32_t)n + 9};
	uint8_t out[8 + sizeof buf];
	memcpy(out, hdr, 8);
	memcpy(out + 8, buf, (size_t)n + 9);
	if (write_full(sync_fd, out, 8 + (size_t)n + 9) < 0)
		dprintf(2, "berth-helper: %s: %s\n", msg, strerror(err));
	_exit(bail_status);
}

void bail(const char *fmt, ...)
{
	int err = errno;
	va_list ap;
	va_start(ap, fmt);
	vbail(err, fmt, ap);
}

void bail_errno(int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vbail(err, fmt, ap);
}

/* CVE-2019-5736: a process in the container could reopen /proc/<pid>/exe of this binary
 * while it runs inside the container and overwrite it on the host. Run from a sealed
 * memfd copy instead, so there is nothing on the host to write to. */
int sealed_self(void)
{
	int exe = open("/proc/self/exe", O_RDONLY | O_CLOEXEC), mfd = -1, e;
	struct stat st;
	if (exe < 0)
		return -1;
	if (fcntl(exe, F_GET_SEALS) >= 0)
		return exe; /* already the sealed copy */
	if ((mfd = memfd_create("berth-helper", MFD_CLOEXEC | MFD_ALLOW_SEALING)) < 0 || fstat(exe, &st) < 0)
		goto fail;
	for (off_t off = 0; off < st.st_size;) {
		ssize_t n = sendfile(mfd, exe, NULL, (size_t)(st.st_size - off));
		if (n <= 0)
			goto fail;
		off += n;
	}
	if (fcntl(mfd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) < 0)
		goto fail;
	close(exe);
	return mfd;
fail:
	e = errno;
	close(exe);
	if (mfd >= 0)
		close(mfd);
	errno = e;
	return -1;
}

static void ensure_cloned(char **argv)
{
	int exe = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (exe < 0)
		bail("open /proc/self/exe");
	if (fcntl(exe, F_GET_SEALS) >= 0) {
		close(exe); /* already the sealed copy: run from one, or forked by a monitor that was */
		return;
	}
	close(exe);
	int mfd = sealed_self();
	if (mfd < 0)
		bail("copy helper into a sealed memfd");
	extern char **environ;
	fexecve(mfd, argv, environ);
	bail("fexecve sealed helper");
}

static uint8_t *read_plan(size_t *len)
{
	uint32_t type, n;
	uint8_t *p;
	if (recv_msg(&type, &p, &n) < 0)
		bail_errno(EPIPE, "read plan");
	if (type != MSG_PLAN)
		bail_errno(EPROTO, "expected PLAN, got message %u", type);
	*len = n;
	return p;
}

static int decode_plan(void)
{
	size_t cap = 1 << 16, len = 0, nops;
	uint8_t *buf = malloc(cap);
	struct op *ops;
	ssize_t r;
	while (buf && (r = read(0, buf + len, cap - len)) > 0) {
		len += (size_t)r;
		if (len == cap)
			buf = realloc(buf, cap *= 2);
	}
	if (buf == NULL)
		return 2;
	if (parse_plan(buf, len, &ops, &nops) < 0) {
		fprintf(stderr, "berth-helper: malformed plan record %zu\n", nops);
		return 1;
	}
	for (size_t i = 0; i < nops; i++)
		print_op(stdout, &ops[i]);
	return 0;
}

/* One process for the daemon's life, so a container's network costs no exec: each plan runs in a fork,
 * where a SETNS or a bail() ends with the fork and the server stays as it was. */
static int net_server(void)
{
	uint32_t type, n;
	uint8_t *p;
	while (recv_msg(&type, &p, &n) == 0) {
		if (type != MSG_PLAN)
			bail_errno(EPROTO, "expected PLAN, got message %u", type);
		pid_t pid = fork();
		if (pid < 0)
			bail("fork");
		if (pid == 0) {
			struct op *ops;
			size_t nops;
			if (parse_plan(p, n, &ops, &nops) < 0) {
				cur_op = (long)nops;
				bail_errno(EINVAL, "malformed plan record");
			}
			run_ops(ops, nops);
			send_msg(MSG_DONE, NULL, 0);
			_exit(0);
		}
		free(p);
		int st;
		while (waitpid(pid, &st, 0) < 0)
			if (errno != EINTR)
				bail("wait for plan %d", (int)pid);
		if (WIFSIGNALED(st)) {
			cur_op = -1;
			errno = EINTR;
			send_msg(MSG_ERROR, "\x04\0\0\0\xff\xff\xff\xffplan process killed", 28);
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	return helper_run(argc, argv);
}

int helper_run(int argc, char **argv)
{
	size_t len, nops;
	struct op *ops;
	uint8_t *plan;

	if (argc >= 2 && strcmp(argv[1], "--decode-plan") == 0)
		return decode_plan();
	if (argc >= 2 && strcmp(argv[1], "monitor") == 0)
		return monitor_main(argc, argv);
	if (argc >= 2 && strcmp(argv[1], "spawner") == 0)
		return spawner_main(argc, argv);
	if (argc >= 2 && strcmp(argv[1], "net") == 0)
		return net_server();
	if (argc < 2 || (strcmp(argv[1], "init") != 0 && strcmp(argv[1], "ops") != 0)) {
		fprintf(stderr, "usage: berth-helper init|ops|net|monitor|spawner|--decode-plan (run by berth, not by hand)\n");
		return 2;
	}
	if (strcmp(argv[1], "init") == 0)
		ensure_cloned(argv);
	plan = read_plan(&len);
	if (parse_plan(plan, len, &ops, &nops) < 0) {
		cur_op = (long)nops;
		bail_errno(EINVAL, "malformed plan record");
	}
	run_ops(ops, nops);
	send_msg(MSG_DONE, NULL, 0);
	return 0;
}
