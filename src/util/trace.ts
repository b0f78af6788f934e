// util/trace: one debug line per step, with milliseconds since the process started, when BERTH_DEBUG is set.
const on = !!process.env.BERTH_DEBUG;

export function trace(step: string): void {
  if (on) process.stderr.write(`berth: ${performance.now().toFixed(1)}ms ${step}\n`);
}
