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
  const ignorePipe = (e: NodeJS.ErrnoException) => { if (e.code !== 'EPIPE' && e.code !== 'ERR_STREAM_DESTROYED') throw e; };
  // Node makes process.stdout and process.stderr at their first use: a stream object each, ~8 M instructions of
  // a cold start that writes neither (`runtime run` without BERTH_DEBUG; valgrind, node -e: 84.6 M -> 92.4 M,
  // issue 13). So the handler goes on at that first use, before any write can fail: Node's getter, which keeps
  // the stream it made, takes its place again then.
  for (const name of ['stdout', 'stderr'] as const) {
    const d = Object.getOwnPropertyDescriptor(process, name);
    const get = d?.get;
    if (!get || !d.configurable) { process[name].on('error', ignorePipe); continue; }
    Object.defineProperty(process, name, {
      configurable: true, enumerable: d.enumerable,
      get() {
        Object.defineProperty(process, name, d);
        const s = get.call(process) as NodeJS.WriteStream;
        s.on('error', ignorePipe);
        return s;
      },
    });
  }
}
