/* spawner.c — `berth-helper spawner ADDR`: forks and execs what the daemon asks for; the protocol is in
 * spawner.h. It decides nothing: argv, the number of sockets and the address come from the daemon. */
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include "helper.h"
#include "spawner.h"

static struct sockaddr_un addr;
static socklen_t addr_len;

/* '@' at the start: the abstract namespace; the length as Node binds it (see connect_back) */
static int set_addr(struct sockaddr_un *a, socklen_t *len, const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n >= sizeof a->sun_path)
		return -1;
	memset(a, 0, sizeof *a);
	a->sun_family = AF_UNIX;
	memcpy(a->sun_path, s, n);
	if (a->sun_path[0] == '@')
		a->sun_path[0] = '\0';
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (a->sun_path[0] ? 1 : 0));
	return 0;
}

static int connect_back(const struct sockaddr_un *to, socklen_t to_len, const uint8_t *token, uint8_t index)
{
	uint8_t hello[SPAWNER_TOKEN + 1];
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -1;
	memcpy(hello, token, SPAWNER_TOKEN);
	hello[SPAWNER_TOKEN] = index;
	/* Node binds an abstract name padded with NULs to the whole sun_path (libuv); libuv may one day
	 * bind it with its exact length: try that, then the padded form */
	int r = connect(s, (const struct sockaddr *)to, to_len);
	if (r < 0 && errno == ECONNREFUSED && to->sun_path[0] == '\0')
		r = connect(s, (const struct sockaddr *)to, sizeof *to);
	if (r < 0 || write_full(s, hello, sizeof hello) < 0) {
		int e = errno;
		close(s);
		errno = e;
		return -1;
	}
	return s;
}

/* Starts one program; returns its pid, or -errno. */
static pid_t start(const uint8_t *p, uint32_t len)
{
	uint32_t nsock, argc;
	if (len < SPAWNER_TOKEN + 8)
		return -EINVAL;
	memcpy(&nsock, p + SPAWNER_TOKEN, 4);
	memcpy(&argc, p + SPAWNER_TOKEN + 4, 4);
	static int sealed = -1;
	int self = (nsock & SPAWNER_SELF) != 0, other = (nsock & SPAWNER_ADDR) != 0;
	nsock &= ~(SPAWNER_SELF | SPAWNER_ADDR);
	if (self && sealed < 0) {
		/* kept above the fds a child's dup2s overwrite */
		int fd = sealed_self();
		if (fd < 0 || (sealed = fcntl(fd, F_DUPFD_CLOEXEC, 3 + 2 * SPAWNER_MAX_SOCKS + 16)) < 0)
			return fd < 0 ? -errno : (close(fd), -errno);
		close(fd);
	}
	if (nsock > SPAWNER_MAX_SOCKS || argc == 0 || argc > len)
		return -EINVAL;
	char **v = calloc((size_t)argc + 1, sizeof *v), *s = (char *)p + SPAWNER_TOKEN + 8, *end = (char *)p + len;
	if (v == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < argc; i++) {
		char *z = memchr(s, 0, (size_t)(end - s));
		if (z == NULL) {
			free(v);
			return -EINVAL;
		}
		v[i] = s;
		s = z + 1;
	}
	/* SPAWNER_ADDR: argv[0] is the address the sockets connect to, the program's argv follows */
	struct sockaddr_un to = addr;
	socklen_t to_len = addr_len;
	char **av = v;
	if (other && (argc < 2 || set_addr(&to, &to_len, v[0]) < 0)) {
		free(v);
		return -EINVAL;
	}
	if (other)
		av++;
	int socks[SPAWNER_MAX_SOCKS], ep[2] = {-1, -1}, err = 0; /* -1: pipe2 may fail before setting them */
	uint32_t made = 0;
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0 || pipe2(ep, O_CLOEXEC) < 0)
		err = errno;
	for (; !err && made < nsock; made++)
		if ((socks[made] = connect_back(&to, to_len, p, (uint8_t)made)) < 0)
			err = errno;
	pid_t pid = err ? -1 : fork();
	if (!err && pid < 0)
		err = errno;
	if (pid == 0) {
		sigset_t none;
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGCHLD, SIG_DFL); /* ours is SIG_IGN (no zombies here); a monitor waits for its children */
		int fds[3 + SPAWNER_MAX_SOCKS], n = 3 + (int)nsock;
		fds[0] = fds[1] = fds[2] = null;
		for (uint32_t i = 0; i < nsock; i++)
			fds[3 + i] = socks[i];
		/* move every source above the targets first, so dup2 never overwrites one still needed */
		for (int i = 0; i < n; i++)
			if ((fds[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 3 + SPAWNER_MAX_SOCKS)) < 0)
				goto fail;
		for (int i = 0; i < n; i++)
			if (dup2(fds[i], i) < 0)
				goto fail;
		extern char **environ;
		if (self)
			execveat(sealed, "", av, environ, AT_EMPTY_PATH);
		else
			execve(av[0], av, environ);
	fail:;
		int e = errno;
		write_full(ep[1], &e, sizeof e);
		_exit(127);
	}
	for (uint32_t i = 0; i < made && i < nsock; i++)
		if (socks[i] >= 0)
			close(socks[i]);
	if (null >= 0)
		close(null);
	if (pid > 0) {
		close(ep[1]);
		int e = 0;
		while (read(ep[0], &e, sizeof e) < 0 && errno == EINTR)
			;
		close(ep[0]);
		err = e;
	} else if (ep[0] >= 0) {
		close(ep[0]);
		close(ep[1]);
	}
	free(v);
	return err ? -err : pid;
}

int spawner_main(int argc, char **argv)
{
	if (argc != 3 || strlen(argv[2]) >= sizeof addr.sun_path) {
		fprintf(stderr, "usage: berth-helper spawner ADDR (run by berthd, not by hand)\n");
		return 2;
	}
	if (set_addr(&addr, &addr_len, argv[2]) < 0) {
		fprintf(stderr, "berth-helper spawner: bad address\n");
		return 2;
	}
	signal(SIGCHLD, SIG_IGN); /* what we start is reaped by the kernel: no zombies while we live */
	signal(SIGPIPE, SIG_IGN);
	for (;;) {
		uint32_t type, len;
		uint8_t *p;
		if (recv_msg(&type, &p, &len) < 0)
			return 0; /* the daemon is gone */
		if (type != SPAWNER_REQUEST || len < SPAWNER_TOKEN) {
			free(p);
			return 1;
		}
		pid_t pid = start(p, len);
		int32_t reply[2] = {pid > 0 ? pid : 0, pid > 0 ? 0 : -pid};
		uint8_t out[SPAWNER_TOKEN + 8];
		memcpy(out, p, SPAWNER_TOKEN);
		memcpy(out + SPAWNER_TOKEN, reply, 8);
		free(p);
		send_msg(SPAWNER_STARTED, out, sizeof out);
	}
}
