/* spawner.h — `berth-helper spawner ADDR`: a small, long-lived process that forks monitors for the daemon,
 * so the daemon never forks itself (fork copies its page tables and blocks its one thread until the child
 * execs: tens of ms per container or exec on a busy host). Same table in src/monitor/spawner.ts;
 * test/unit/monitor.test.ts checks both agree.
 *
 * On fd 3, framed like sync.h (u32 type, u32 len, payload; little-endian):
 *   spawner                        berth (Node)
 *                        <--       REQUEST{u8[16] token, u32 nsock, u32 argc, argc NUL-ended strings}
 *                                  The spawner connects nsock stream sockets to ADDR (a unix socket the daemon
 *                                  listens on; '@' at the start means the abstract namespace), writes the token
 *                                  and the socket's index (u8) on each, then starts argv (argv[0] a path) with
 *                                  /dev/null as fds 0-2, the sockets as fds 3 .. 3+nsock-1 and its own environment.
 *                                  nsock | SPAWNER_SELF: start a sealed memfd copy of this binary (made once) with
 *                                  argv instead of the file argv[0] names (CVE-2019-5736: what it forks is sealed too)
 *                                  nsock | SPAWNER_ADDR: argv[0] is the address the sockets connect to instead of ADDR
 *                                  (a worker thread's own server: a thread cannot take over our sockets), argv after it
 *   STARTED{u8[16] token, i32 pid, i32 errno} -->   pid 0 and errno set when it could not start
 * The spawner ends when fd 3 closes; what it started runs on. */
#ifndef BERTH_SPAWNER_H
#define BERTH_SPAWNER_H

enum spawner_msg {
	SPAWNER_REQUEST = 1,
	SPAWNER_STARTED = 2,
};

#define SPAWNER_TOKEN 16
#define SPAWNER_MAX_SOCKS 8
#define SPAWNER_SELF 0x80000000u
#define SPAWNER_ADDR 0x40000000u

int spawner_main(int argc, char **argv);

#endif
