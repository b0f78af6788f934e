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
 * Every message has a reply or ends the exchange; timeouts live on the TypeScript side. */
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
};

#define SYNC_FD 3

#endif
