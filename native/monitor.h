/* monitor.h — `berth-helper monitor`: messages on its control socket (fd 3) and frames on its attach socket.
 * Same table in src/monitor/protocol.ts; test/unit/monitor.test.ts checks both agree.
 *
 * Control socket, framed like sync.h (u32 type, u32 len, payload; little-endian):
 *   monitor                        berth (Node)
 *                        <--       SPAWN{u32 nfds, u32 argc, u32 envc, argc + envc NUL-ended strings}
 *                                  The child gets the monitor's fds 4 .. 4+nfds-1 as its fds 3 .. 3+nfds-1 (Node
 *                                  cannot send SCM_RIGHTS on a socket, so spawn() puts them there); with --tty
 *                                  it also gets a console socket as fd 3+nfds, on which it sends the PTY master.
 *   SPAWNED{u32 pid}     -->       (the child runs; argv[0] is a path, no PATH search; nfds | MON_SPAWN_SELF:
 *                                  berth-helper's own argv, run in the child without an exec)
 *                        <--       CONTAINER{u32 pid}: the process whose exit is the container's exit
 *   EXITED{i32 exitCode, i32 signal (0: none)} --> when that process is reaped (exitCode = 128+signal if killed);
 *                                  the exit file is already written; the monitor then exits 0
 *   ERROR{i32 errno, i32 -1, str msg} --> (same record as sync.h's ERROR) then the monitor exits non-zero
 * The daemon may close the control socket at any time; the monitor carries on and EXITED is not sent. Before
 * SPAWN there is nothing to carry on with: the monitor removes its attach socket and exits 0. Closed after SPAWN
 * but before CONTAINER, the monitor cannot tell which exit is the container's: it leaves the same way once no
 * child of its own is left.
 *
 * Attach socket (unix stream, mode 0600), both directions: frames of an 8-byte header
 * {u8 type, 3 zero bytes, u32 big-endian payload length} then the payload — Docker's stdcopy header, so
 * the daemon can pass non-TTY output through as is. A client must not half-close; it sends CLOSE_STDIN.
 *   client -> monitor: STDIN{bytes}, RESIZE{u16 rows, u16 cols, big-endian}, CLOSE_STDIN{} (no-op with --tty)
 *   monitor -> client: STDOUT{bytes}, STDERR{bytes} (the PTY's output is STDOUT); closed after the exit.
 * A client that falls more than 256 KiB behind is disconnected; output is never held back for it. */
#ifndef BERTH_MONITOR_H
#define BERTH_MONITOR_H

enum monitor_msg {
	MON_SPAWN = 1,
	MON_SPAWNED = 2,
	MON_CONTAINER = 3,
	MON_EXITED = 4,
	MON_ERROR = 5,
};

enum attach_frame {
	ATTACH_STDIN = 0,
	ATTACH_STDOUT = 1,
	ATTACH_STDERR = 2,
	ATTACH_RESIZE = 4,
	ATTACH_CLOSE_STDIN = 5,
};

/* in SPAWN's nfds: argv is berth-helper's own (argv[1] its mode); the forked child runs it without an
 * exec, from the monitor's own image (a sealed copy when the spawner started us from one) */
#define MON_SPAWN_SELF 0x80000000u
#define MON_CTL_FD 3
#define MON_FIRST_PASSED_FD 4
#define LOG_LINE_MAX 16384 /* docker's json-file splits longer lines into entries without a trailing \n */

#endif
