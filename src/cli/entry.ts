// cli/entry: how a CLI entry ends: the exit code, or the error as `berth: MESSAGE` (its stack too under
// BERTH_DEBUG) and 1. Shared by berth.js and the installed entry's direct path into `berth runtime`.
export function finish(done: Promise<number>, exit = false): void {
  done.then(
    (code) => { if (exit) process.exit(code); else process.exitCode = code; },
    (e: unknown) => {
      process.stderr.write(`berth: ${e instanceof Error ? e.message : String(e)}\n`);
      if (process.env.BERTH_DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n`);
      if (exit) process.exit(1); else process.exitCode = 1;
    },
  );
}

/**
 * A runtime verb goes to its end when its reader goes away (`berth runtime run … 2>&1 | head -1`): EPIPE on
 * our stdout or stderr (Node ignores SIGPIPE, so a write fails instead) loses that output only. Unhandled,
 * the stream's 'error' would end the process between create and delete and leave the container's state,
 * cgroup and process behind. The container's own output goes straight to the inherited fds, not through here.
 */
export function outliveReaders(): void {
  for (const s of [process.stdout, process.stderr]) {
    s.on('error', (e: NodeJS.ErrnoException) => { if (e.code !== 'EPIPE' && e.code !== 'ERR_STREAM_DESTROYED') throw e; });
  }
}
