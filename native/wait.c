/* wait.c — the foreground parent of `run` and `exec`: forwards signals to the container process,
 * relays a PTY when the plan asked for one, and exits with the child's status (128+signal when killed). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>
#include "helper.h"

int send_fd(int sock, int fd, const char *name)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {.iov_base = (void *)name, .iov_len = strlen(name)};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
	memset(cbuf, 0, sizeof cbuf);
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(sock, &msg, MSG_NOSIGNAL) < 0 ? -1 : 0;
}

int recv_fd(int sock)
{
	char name[256], cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {.iov_base = name, .iov_len = sizeof name};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf, .msg_controllen = sizeof cbuf};
	int fd = -1;
	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) <= 0)
		return -1;
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
	if (c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS)
		memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

static struct termios saved;
static int raw_set;

static void restore_tty(void)
{
	if (raw_set)
		tcsetattr(0, TCSANOW, &saved);
}

static void copy_winsize(int master)
{
	struct winsize ws;
	if (master >= 0 && ioctl(0, TIOCGWINSZ, &ws) == 0 && ws.ws_row)
		ioctl(master, TIOCSWINSZ, &ws);
}

static void drain(int master)
{
	char buf[16384];
	ssize_t n;
	if (master < 0)
		return;
	fcntl(master, F_SETFL, O_NONBLOCK);
	while ((n = read(master, buf, sizeof buf)) > 0)
		(void)write_full(1, buf, (size_t)n);
}

void wait_child(pid_t child, int relay_sock)
{
	sigset_t set;
	int master = -1, stdin_open = 1;
	sigfillset(&set);
	sigdelset(&set, SIGSEGV);
	sigdelset(&set, SIGBUS);
	sigdelset(&set, SIGILL);
	sigdelset(&set, SIGFPE);
	sigprocmask(SIG_BLOCK, &set, NULL);
	int sfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (sfd < 0)
		_exit(125);

	for (;;) {
		struct pollfd p[3] = {
			{.fd = sfd, .events = POLLIN},
			{.fd = master >= 0 ? master : relay_sock, .events = POLLIN},
			{.fd = master >= 0 && stdin_open ? 0 : -1, .events = POLLIN},
		};
		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			_exit(125);
		}
		if (p[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof si) != sizeof si)
				continue;
			if (si.ssi_signo == SIGWINCH) {
				copy_winsize(master);
			} else if (si.ssi_signo == SIGCHLD) {
				int status;
				pid_t r = waitpid(child, &status, WNOHANG);
				if (r == child && (WIFEXITED(status) || WIFSIGNALED(status))) {
					/* a short process can end before its master was taken (both ready in one poll):
					 * it was sent before exec, and with the child gone the socket cannot block */
					if (master < 0 && relay_sock >= 0)
						master = recv_fd(relay_sock);
					drain(master);
					restore_tty();
					_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
				}
			} else if (si.ssi_signo != SIGTTOU && si.ssi_signo != SIGTTIN && si.ssi_signo != SIGPIPE) {
				kill(child, (int)si.ssi_signo);
			}
		}
		if (master < 0 && p[1].fd >= 0 && (p[1].revents & (POLLIN | POLLHUP))) {
			master = recv_fd(relay_sock);
			close(relay_sock);
			relay_sock = -1;
			if (master >= 0 && isatty(0) && tcgetattr(0, &saved) == 0) {
				struct termios raw = saved;
				cfmakeraw(&raw);
				raw_set = tcsetattr(0, TCSANOW, &raw) == 0;
				copy_winsize(master);
			}
			continue;
		}
		if (master >= 0 && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
			char buf[16384];
			ssize_t n = read(master, buf, sizeof buf);
			if (n > 0)
				(void)write_full(1, buf, (size_t)n);
			else if (n < 0 && errno != EINTR && errno != EAGAIN) {
				close(master); /* EIO: the slave side is gone; wait for SIGCHLD */
				master = -1;
				stdin_open = 0;
			}
		}
		if (p[2].fd >= 0 && (p[2].revents & (POLLIN | POLLHUP))) {
			char buf[4096];
			ssize_t n = read(0, buf, sizeof buf);
			if (n > 0)
				(void)write_full(master, buf, (size_t)n);
			else if (n == 0 || errno != EINTR)
				stdin_open = 0;
		}
	}
}
