/* sync.h — messages between berth-helper and the runtime on the sync socket (fd 3).
 * Each message: u32 type, u32 len, payload. Same table in src/runtime/sync.ts.
 *
 *   helper                         berth (Node)
 *                        <--       PLAN{records}
 *   CHILD_PID{u32 pid}   -->       (maps written, cgroup joined, createRuntime hooks run)
 *                        <--       GO
 *   HOOK{u32 point}      -->       (createContainer hooks run in the container's namespaces)
 *                        <--       GO
 *   READY                -->       (create returns; the process waits on exec.fifo until start)
 *   DONE                 -->       (ops mode: every op ran)
 *   ERROR{i32 errno, u32 op index, str msg} --> then the helper exits non-zero
 *   EXITED{u32 status}   -->       (`init --pipes`, foreground: the process's exit status, then the helper ends)
 * Every message has a reply or ends the exchange; timeouts live on the TypeScript side.
 *
 * `init --pipes` (the one-shot CLI, which has no cheap socket: src/runtime/pipe-channel.ts): the helper
 * started by spawnSync makes two pipes, forks the helper that does the work and answers on fd 3
 *   PIPES{u32 pid, u32 in fd, u32 out fd} --> then it exits
 * the runtime opens /proc/PID/fd/IN to write and /proc/PID/fd/OUT to read, and the exchange above runs on them. */
#ifndef BERTH_SYNC_H
#define BERTH_SYNC_H

enum sync_msg {
	MSG_PLAN = 1,
	MSG_CHILD_PID = 2,
	MSG_GO = 3,
	MSG_READY = 4,
	MSG_ERROR = 5,
	MSG_HOOK = 6,
	MSG_DONE = 7,
	MSG_PIPES = 8,
	MSG_EXITED = 9,
};

#define SYNC_FD 3

#endif
