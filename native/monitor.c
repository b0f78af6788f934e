/* monitor.c — `berth-helper monitor --log LOG --exit EXITFILE --attach SOCK [--tty] [--no-stdin] [--no-sync] [--log-max-size N] [--log-max-files N]`:
 * the per-container monitor (conmon's job). It outlives the daemon, holds the container's stdio or PTY master,
 * writes docker's json-file log, serves the attach socket, reaps children and writes the exit status
 * atomically. One poll() loop, no threads; the protocol is in monitor.h. It decides nothing. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include "helper.h"
#include "monitor.h"

_Static_assert((int)MON_ERROR == (int)MSG_ERROR, "bail() writes the ERROR record");

#define MAX_CLIENTS 64
#define CLIENT_BACKLOG (256 * 1024)
#define CLIENT_IN 4096
#define REAPED_MAX 64

struct source { int fd, stream; size_t len; char line[LOG_LINE_MAX]; };
struct client {
	int fd, eof;
	uint8_t *in, hdr[8], arg[4]; /* in: CLIENT_IN bytes after the output backlog, allocated at accept */
	size_t ioff, ilen, hlen, alen;
	uint32_t left;
	char *out;
	size_t olen;
};

static const char *log_path, *exit_path, *sock_path;
static int log_files = 2;
static int tty, no_stdin, no_sync, log_fd = -1, ctl = MON_CTL_FD, lsn = -1, cons = -1, in_fd = -1, stdin_blocked;
static long long log_max, log_size;
static struct source src[3]; /* stdout pipe, stderr pipe, PTY master */
static struct client cl[MAX_CLIENTS];
static struct winsize winsz;
static pid_t container;
static struct { pid_t pid; int status; } reaped[REAPED_MAX];
static unsigned nreaped;
static int spawned; /* SPAWN came */

static void ctl_send(uint32_t type, const void *payload, uint32_t len)
{
	uint8_t buf[64];
	uint32_t hdr[2] = {type, len};
	memcpy(buf, hdr, 8);
	memcpy(buf + 8, payload, len);
	if (ctl >= 0 && send(ctl, buf, 8 + len, MSG_NOSIGNAL) != (ssize_t)(8 + len)) {
		close(ctl); /* the daemon is gone; it reads the exit file when it comes back */
		ctl = sync_fd = -1;
	}
}

static void rfc3339(char *out, size_t n)
{
	struct timespec ts;
	struct tm tm;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	size_t k = strftime(out, n, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + k, n - k, ".%09ldZ", ts.tv_nsec);
}

/* Length of the valid UTF-8 sequence at s, or 0 (RFC 3629: no overlongs, surrogates or > U+10FFFF). */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned c = s[0], lo = 0x80, hi = 0xBF;
	if (c < 0xC2 || c > 0xF4)
		return 0;
	size_t len = c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
	if (c == 0xE0)
		lo = 0xA0;
	else if (c == 0xED)
		hi = 0x9F;
	else if (c == 0xF0)
		lo = 0x90;
	else if (c == 0xF4)
		hi = 0x8F;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	return len;
}

/* json-file rotation (moby loggerutils rotate): LOG.N-2 -> LOG.N-1 ... LOG -> LOG.1, then a new LOG; with one
 * file, LOG is unlinked and started again. Readers keep the file they have open and reopen LOG when its inode
 * changes. */
static void rotate_log(void)
{
	char from[PATH_MAX], to[PATH_MAX];
	for (int k = log_files - 1; k >= 1; k--) {
		if (k == 1)
			snprintf(from, sizeof from, "%s", log_path);
		else
			snprintf(from, sizeof from, "%s.%d", log_path, k - 1);
		snprintf(to, sizeof to, "%s.%d", log_path, k);
		if (rename(from, to) < 0 && errno != ENOENT)
			return;
	}
	if (log_files < 2 && unlink(log_path) < 0)
		return;
	int fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
	if (fd >= 0) {
		close(log_fd);
		log_fd = fd;
		log_size = 0;
	}
}

/* One json-file entry: {"log":"...","stream":"stdout","time":"..."}; invalid UTF-8 becomes U+FFFD like docker. */
static void log_entry(int stream, const char *line, size_t n)
{
	static char buf[LOG_LINE_MAX * 6 + 128];
	const unsigned char *s = (const unsigned char *)line;
	char ts[48];
	size_t o = 0;
	memcpy(buf, "{\"log\":\"", 8);
	o = 8;
	for (size_t i = 0; i < n;) {
		unsigned c = s[i];
		size_t k;
		if (c == '"' || c == '\\') {
			buf[o++] = '\\';
			buf[o++] = (char)c;
		} else if (c == '\n' || c == '\r' || c == '\t') {
			buf[o++] = '\\';
			buf[o++] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
		} else if (c < 0x20) {
			o += (size_t)sprintf(buf + o, "\\u%04x", c);
		} else if (c >= 0x80 && (k = utf8_len(s + i, n - i)) > 0) {
			memcpy(buf + o, s + i, k);
			o += k;
			i += k;
			continue;
		} else if (c >= 0x80) {
			memcpy(buf + o, "\\ufffd", 6);
			o += 6;
		} else {
			buf[o++] = (char)c;
		}
		i++;
	}
	rfc3339(ts, sizeof ts);
	o += (size_t)snprintf(buf + o, sizeof buf - o, "\",\"stream\":\"%s\",\"time\":\"%s\"}\n",
			      stream == ATTACH_STDERR ? "stderr" : "stdout", ts);
	if (log_max > 0 && log_size > 0 && log_size + (long long)o > log_max)
		rotate_log();
	if (write_full(log_fd, buf, o) == 0)
		log_size += (long long)o;
}

static void drop_client(struct client *c)
{
	close(c->fd);
	free(c->out);
	memset(c, 0, sizeof *c);
	c->fd = -1;
}

/* Live output to every attach client; one that cannot keep up is dropped rather than slowing the container. */
static void broadcast(int stream, const char *data, size_t n)
{
	uint8_t hdr[8] = {(uint8_t)stream, 0, 0, 0, (uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};
	for (int i = 0; i < MAX_CLIENTS; i++) {
		struct client *c = &cl[i];
		size_t done = 0;
		if (c->fd < 0)
			continue;
		if (c->olen == 0) {
			struct iovec iov[2] = {{hdr, 8}, {(void *)data, n}};
			struct msghdr m = {.msg_iov = iov, .msg_iovlen = 2};
			ssize_t w = sendmsg(c->fd, &m, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (w < 0 && errno != EAGAIN && errno != EINTR) {
				drop_client(c);
				continue;
			}
			done = w < 0 ? 0 : (size_t)w;
		}
		if (done == 8 + n)
			continue;
		if (c->olen + 8 + n - done > CLIENT_BACKLOG) {
			drop_client(c);
			continue;
		}
		if (done < 8) {
			memcpy(c->out + c->olen, hdr + done, 8 - done);
			c->olen += 8 - done;
			done = 8;
		}
		memcpy(c->out + c->olen, data + (done - 8), n - (done - 8));
		c->olen += n - (done - 8);
	}
}

static void source_read(struct source *s)
{
	char buf[8192];
	ssize_t n = read(s->fd, buf, sizeof buf);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) { /* EOF, or EIO from a PTY master once every slave is closed */
		if (s->fd == in_fd)
			in_fd = -1;
		close(s->fd);
		s->fd = -1;
		return;
	}
	broadcast(s->stream, buf, (size_t)n);
	for (const char *p = buf; n > 0;) {
		size_t room = LOG_LINE_MAX - s->len, k = (size_t)n < room ? (size_t)n : room;
		const char *nl = memchr(p, '\n', k);
		if (nl)
			k = (size_t)(nl - p) + 1;
		memcpy(s->line + s->len, p, k);
		s->len += k;
		p += k;
		n -= (ssize_t)k;
		if (nl || s->len == LOG_LINE_MAX) {
			log_entry(s->stream, s->line, s->len);
			s->len = 0;
		}
	}
}

static void close_stdin(void)
{
	if (in_fd >= 0 && !tty)
		close(in_fd);
	if (!tty)
		in_fd = -1;
}

static void frame_end(struct client *c)
{
	if (c->hdr[0] == ATTACH_RESIZE && c->alen == 4) {
		winsz.ws_row = (unsigned short)(c->arg[0] << 8 | c->arg[1]);
		winsz.ws_col = (unsigned short)(c->arg[2] << 8 | c->arg[3]);
		if (src[2].fd >= 0)
			ioctl(src[2].fd, TIOCSWINSZ, &winsz);
	} else if (c->hdr[0] == ATTACH_CLOSE_STDIN) {
		close_stdin();
	}
	c->hlen = 0;
}

/* Parse what the client sent; stops (stdin_blocked) when the container does not take its stdin fast enough. */
static void client_input(struct client *c)
{
	while (c->ioff < c->ilen) {
		/* a client attached before start (`docker run -i`): its stdin, and the close of it, wait for the container */
		if (!spawned && !no_stdin) {
			stdin_blocked = 1;
			return;
		}
		uint8_t *p = c->in + c->ioff;
		size_t n = c->ilen - c->ioff;
		if (c->hlen < 8) {
			size_t k = 8 - c->hlen < n ? 8 - c->hlen : n;
			memcpy(c->hdr + c->hlen, p, k);
			c->hlen += k;
			c->ioff += k;
			if (c->hlen == 8) {
				c->left = (uint32_t)c->hdr[4] << 24 | (uint32_t)c->hdr[5] << 16 | (uint32_t)c->hdr[6] << 8 | c->hdr[7];
				c->alen = 0;
				if (c->left == 0)
					frame_end(c);
			}
			continue;
		}
		size_t k = c->left < n ? c->left : n;
		if (c->hdr[0] == ATTACH_STDIN && in_fd < 0 && tty && cons >= 0) {
			stdin_blocked = 1; /* the PTY master has not arrived yet */
			return;
		} else if (c->hdr[0] == ATTACH_STDIN && in_fd >= 0) {
			ssize_t w = write(in_fd, p, k);
			if (w < 0 && (errno == EAGAIN || errno == EINTR)) {
				stdin_blocked = 1;
				return;
			}
			if (w < 0)
				close_stdin(); /* EPIPE: the container closed its stdin; the rest is dropped */
			else
				k = (size_t)w;
		} else if (c->hdr[0] == ATTACH_RESIZE) {
			for (size_t i = 0; i < k && c->alen < 4; i++)
				c->arg[c->alen++] = p[i];
		}
		c->ioff += k;
		c->left -= (uint32_t)k;
		if (c->left == 0)
			frame_end(c);
	}
}

static void reaped_add(pid_t pid, int status)
{
	reaped[nreaped % REAPED_MAX].pid = pid;
	reaped[nreaped % REAPED_MAX].status = status;
	nreaped++;
}

/* The status of the container process once it is known to have ended, else -1. */
static int container_status(void)
{
	for (unsigned i = 0; container > 0 && i < REAPED_MAX && i < nreaped; i++)
		if (reaped[i].pid == container)
			return reaped[i].status;
	return -1;
}

/*
 * The daemon went away without naming the container (killed between SPAWNED and CONTAINER): once no child
 * is left, no exit can ever end the wait, so the monitor leaves, its attach socket with it, instead of idling
 * for good. WNOWAIT: a child that has ended but is not reaped yet counts as a child still.
 */
static void leave_if_orphaned(void)
{
	siginfo_t si;
	if (ctl >= 0 || container > 0)
		return;
	if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0 && errno == ECHILD) {
		unlink(sock_path);
		_exit(0);
	}
}

static pid_t spawn(uint8_t *p, uint32_t len)
{
	uint32_t h[3];
	if (len < 12)
		bail_errno(EINVAL, "short SPAWN message");
	memcpy(h, p, 12);
	uint32_t self = h[0] & MON_SPAWN_SELF;
	h[0] &= ~MON_SPAWN_SELF;
	if (h[1] == 0 || h[0] > 64 || (uint64_t)h[1] + h[2] > len)
		bail_errno(EINVAL, "malformed SPAWN message");
	char **v = calloc((size_t)h[1] + h[2] + 2, sizeof *v), *s = (char *)p + 12, *end = (char *)p + len;
	for (uint32_t i = 0; v && i < h[1] + h[2]; i++) {
		char *z = memchr(s, 0, (size_t)(end - s));
		if (z == NULL)
			bail_errno(EINVAL, "malformed SPAWN message");
		v[i < h[1] ? i : i + 1] = s;
		s = z + 1;
	}
	if (v == NULL)
		bail("allocate argv");
	int fds[3 + 64 + 1], in[2] = {-1, -1}, out[2], err[2], con[2] = {-1, -1}, ep[2], nfd = 3 + (int)h[0];
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0 || pipe2(ep, O_CLOEXEC) < 0 ||
	    (!tty && !no_stdin && pipe2(in, O_CLOEXEC) < 0) ||
	    (tty && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, con) < 0))
		bail("make the container's stdio");
	fds[0] = in[0] >= 0 ? in[0] : null;
	fds[1] = out[1];
	fds[2] = err[1];
	for (int i = 3; i < nfd; i++)
		fds[i] = MON_FIRST_PASSED_FD + i - 3;
	if (tty)
		fds[nfd++] = con[1];
	pid_t pid = fork();
	if (pid < 0)
		bail("fork");
	if (pid == 0) {
		sigset_t all;
		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		signal(SIGPIPE, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		/* move every source above the targets first, so dup2 never overwrites one still needed */
		for (int i = 0; i < nfd; i++)
			if ((fds[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 3 + 64 + 1)) < 0)
				goto fail;
		for (int i = 0; i < nfd; i++)
			if (dup2(fds[i], i) < 0)
				goto fail;
		if (self) {
			/* what an exec would have closed, ep[1] too (that tells the parent we started) */
			if (syscall(SYS_close_range, (unsigned)nfd, ~0U, 0) < 0)
				goto fail;
			extern char **environ;
			environ = v + h[1] + 1;
			sync_fd = SYNC_FD;
			_exit(helper_run((int)h[1], v));
		}
		execve(v[0], v, v + h[1] + 1);
	fail:;
		int e = errno;
		write_full(ep[1], &e, sizeof e);
		_exit(127);
	}
	int e = 0;
	close(ep[1]);
	close(out[1]);
	close(err[1]);
	close(null);
	if (in[0] >= 0)
		close(in[0]);
	if (con[1] >= 0)
		close(con[1]);
	for (int i = 0; i < (int)h[0]; i++)
		close(MON_FIRST_PASSED_FD + i);
	while (read(ep[0], &e, sizeof e) < 0 && errno == EINTR)
		;
	close(ep[0]);
	if (e) {
		unlink(sock_path);
		bail_errno(e, "exec %s", v[0]);
	}
	free(v);
	src[0].fd = out[0];
	src[1].fd = err[0];
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	fcntl(err[0], F_SETFL, O_NONBLOCK);
	in_fd = in[1];
	if (in_fd >= 0)
		fcntl(in_fd, F_SETFL, O_NONBLOCK);
	cons = con[0];
	return pid;
}

static void control(void)
{
	uint32_t type, len, pid;
	uint8_t *p;
	if (recv_msg(&type, &p, &len) < 0) {
		if (!spawned) { /* nothing to watch: a monitor started ahead of need that was let go, or a start cut short */
			unlink(sock_path);
			_exit(0);
		}
		close(ctl); /* the daemon went away: carry on, everything it needs is in files and SOCK */
		ctl = sync_fd = -1;
		return;
	}
	if (type == MON_SPAWN) {
		spawned = 1;
		pid = (uint32_t)spawn(p, len);
		ctl_send(MON_SPAWNED, &pid, 4);
	} else if (type == MON_CONTAINER && len == 4) {
		memcpy(&container, p, 4);
	}
	free(p);
}

/* Container gone: take what is still in the pipes and the PTY, write the exit file, tell the daemon, leave. */
/* Takes one client off the listen socket (non-blocking); 0 when none was waiting. */
static int accept_client(void)
{
	int fd = accept4(lsn, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC), i = 0;
	if (fd < 0)
		return 0;
	while (i < MAX_CLIENTS && cl[i].fd >= 0)
		i++;
	if (i == MAX_CLIENTS || (cl[i].out = malloc(CLIENT_BACKLOG + CLIENT_IN)) == NULL)
		close(fd);
	else
		cl[i].fd = fd, cl[i].in = (uint8_t *)cl[i].out + CLIENT_BACKLOG;
	return 1;
}

__attribute__((noreturn)) static void finish(int status)
{
	/* A client that connected before the exit gets the output still in the pipes: the loop accepts only what
	 * its last poll saw, and the reap that brought us here can come in the same turn as a process that ran
	 * and ended after that poll (an exec's attach is in the backlog before its GO: issue 13's exec-many lost
	 * whole outputs under load) */
	for (int n = 0; n < MAX_CLIENTS && accept_client(); n++)
		;
	for (int round = 0; round < 64; round++) {
		struct pollfd pf[3];
		for (int i = 0; i < 3; i++)
			pf[i] = (struct pollfd){.fd = src[i].fd, .events = POLLIN};
		/* all three closed (fds are -1 then: AND keeps the sign bit only if every one has it), or nothing more
		 * within 100 ms: a pipe some surviving process holds open must not keep us here */
		if ((src[0].fd & src[1].fd & src[2].fd) < 0 || poll(pf, 3, 100) <= 0)
			break;
		for (int i = 0; i < 3; i++)
			if (pf[i].revents)
				source_read(&src[i]);
	}
	for (int i = 0; i < 3; i++)
		if (src[i].len)
			log_entry(src[i].stream, src[i].line, src[i].len);
	int32_t ex[2] = {WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status), WIFSIGNALED(status) ? WTERMSIG(status) : 0};
	char buf[160], ts[48], tmp[PATH_MAX];
	rfc3339(ts, sizeof ts);
	int n = ex[1] ? snprintf(buf, sizeof buf, "{\"exitCode\":%d,\"signal\":%d,\"finishedAt\":\"%s\"}\n", ex[0], ex[1], ts)
		      : snprintf(buf, sizeof buf, "{\"exitCode\":%d,\"signal\":null,\"finishedAt\":\"%s\"}\n", ex[0], ts);
	snprintf(tmp, sizeof tmp, "%s.tmp", exit_path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write_full(fd, buf, (size_t)n) < 0 || (!no_sync && fsync(fd) < 0) || close(fd) < 0 || rename(tmp, exit_path) < 0)
		dprintf(2, "berth-helper monitor: write %s: %s\n", exit_path, strerror(errno));
	unlink(sock_path);
	ctl_send(MON_EXITED, ex, sizeof ex);
	for (int waited = 0; waited < 1000; waited += 10) { /* give slow clients a second to take the rest */
		int pending = 0;
		for (int i = 0; i < MAX_CLIENTS; i++) {
			struct client *c = &cl[i];
			ssize_t w = c->fd >= 0 && c->olen ? send(c->fd, c->out, c->olen, MSG_NOSIGNAL | MSG_DONTWAIT) : 0;
			if (w < 0 && errno != EAGAIN)
				drop_client(c);
			else if (w > 0)
				memmove(c->out, c->out + w, c->olen -= (size_t)w);
			pending |= c->fd >= 0 && c->olen > 0;
		}
		if (!pending)
			break;
		poll(NULL, 0, 10);
	}
	_exit(0);
}

static void setup(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct stat st;
	setsid(); /* fails harmlessly if the daemon already made us a session leader */
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	if (chdir("/") < 0)
		bail("chdir /");
	close_range(MON_CTL_FD, ~0U, CLOSE_RANGE_CLOEXEC); /* nothing of ours leaks into the container */
	if ((log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640)) < 0 || fstat(log_fd, &st) < 0)
		bail("open log %s", log_path);
	log_size = st.st_size;
	if (strlen(sock_path) >= sizeof sa.sun_path)
		bail_errno(ENAMETOOLONG, "attach socket %s", sock_path);
	strcpy(sa.sun_path, sock_path);
	unlink(sock_path);
	mode_t old = umask(077);
	lsn = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (lsn < 0 || bind(lsn, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(lsn, 16) < 0)
		bail("listen on %s", sock_path);
	umask(old);
	for (int i = 0; i < MAX_CLIENTS; i++)
		cl[i].fd = -1;
	for (int i = 0; i < 3; i++) /* field by field: the line buffers stay untouched (not resident) until used */
		src[i].fd = -1, src[i].stream = i == 1 ? ATTACH_STDERR : ATTACH_STDOUT;
}

int monitor_main(int argc, char **argv)
{
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--tty") == 0)
			tty = 1;
		else if (strcmp(a, "--no-stdin") == 0)
			no_stdin = 1;
		else if (strcmp(a, "--no-sync") == 0)
			no_sync = 1;
		else if (val && strcmp(a, "--log") == 0 && ++i)
			log_path = val;
		else if (val && strcmp(a, "--exit") == 0 && ++i)
			exit_path = val;
		else if (val && strcmp(a, "--attach") == 0 && ++i)
			sock_path = val;
		else if (val && strcmp(a, "--log-max-size") == 0 && ++i)
			log_max = atoll(val);
		else if (val && strcmp(a, "--log-max-files") == 0 && ++i)
			log_files = atoi(val);
		else
			log_path = NULL, i = argc;
	}
	if (!log_path || !exit_path || !sock_path || log_path[0] != '/' || exit_path[0] != '/' || sock_path[0] != '/') {
		dprintf(2, "usage: berth-helper monitor --log LOG --exit FILE --attach SOCK [--tty] [--no-stdin] [--no-sync] [--log-max-size N] [--log-max-files N] (absolute paths)\n");
		return 2;
	}
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	int sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0)
		bail("signalfd");
	setup();
	for (;;) {
		int st = container_status();
		if (st != -1)
			finish(st);
		leave_if_orphaned();
		if (in_fd < 0 && !(tty && cons >= 0))
			stdin_blocked = 0;
		struct pollfd pf[8 + MAX_CLIENTS];
		pf[0] = (struct pollfd){.fd = sfd, .events = POLLIN};
		pf[1] = (struct pollfd){.fd = ctl, .events = POLLIN};
		pf[2] = (struct pollfd){.fd = lsn, .events = POLLIN};
		pf[3] = (struct pollfd){.fd = cons, .events = POLLIN};
		for (int i = 0; i < 3; i++)
			pf[4 + i] = (struct pollfd){.fd = src[i].fd, .events = POLLIN};
		pf[7] = (struct pollfd){.fd = stdin_blocked ? in_fd : -1, .events = POLLOUT};
		for (int i = 0; i < MAX_CLIENTS; i++) {
			struct client *c = &cl[i];
			short ev = (short)((c->olen ? POLLOUT : 0) | (!c->eof && !stdin_blocked && c->ioff == c->ilen ? POLLIN : 0));
			pf[8 + i] = (struct pollfd){.fd = c->fd, .events = ev};
		}
		if (poll(pf, 8 + MAX_CLIENTS, -1) < 0) {
			if (errno == EINTR)
				continue;
			bail("poll");
		}
		if (pf[0].revents) {
			struct signalfd_siginfo si;
			int status;
			pid_t pid;
			while (read(sfd, &si, sizeof si) > 0)
				;
			while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
				reaped_add(pid, status); /* remembered: CONTAINER may name it later */
		}
		if (pf[1].revents)
			control();
		if (pf[2].revents & POLLIN)
			accept_client();
		if (pf[3].revents) {
			int m = recv_fd(cons); /* the PTY master, as runc's --console-socket sends it */
			close(cons);
			cons = -1;
			stdin_blocked = 0;
			if (m >= 0) {
				fcntl(m, F_SETFL, O_NONBLOCK);
				if (winsz.ws_row)
					ioctl(m, TIOCSWINSZ, &winsz);
				src[2].fd = m;
				in_fd = m;
			}
		}
		for (int i = 0; i < 3; i++)
			if (pf[4 + i].revents && src[i].fd == pf[4 + i].fd)
				source_read(&src[i]);
		if (pf[7].revents)
			stdin_blocked = 0;
		for (int i = 0; i < MAX_CLIENTS; i++) {
			struct client *c = &cl[i];
			short re = pf[8 + i].revents;
			if (c->fd < 0 || c->fd != pf[8 + i].fd)
				continue;
			if (re & POLLOUT) {
				ssize_t w = send(c->fd, c->out, c->olen, MSG_NOSIGNAL | MSG_DONTWAIT);
				if (w > 0)
					memmove(c->out, c->out + w, c->olen -= (size_t)w);
			}
			if ((re & POLLIN) && c->ioff == c->ilen) {
				ssize_t r = recv(c->fd, c->in, CLIENT_IN, 0);
				if (r == 0)
					c->eof = 1; /* keep sending output until it hangs up for good */
				else if (r > 0)
					c->ioff = 0, c->ilen = (size_t)r;
			}
			if ((re & (POLLHUP | POLLERR)) && !(re & POLLIN))
				drop_client(c);
			else if (!stdin_blocked)
				client_input(c);
		}
	}
}
