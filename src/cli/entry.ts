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
