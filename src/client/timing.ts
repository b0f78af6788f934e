// client/timing: with BERTH_DEBUG, how long the client waited on the daemon (any request or hijacked stream in
// flight), printed at exit with the first request's and the last answer's time since process start, and the CPU time used. bench/cli.sh
// takes the daemon's part out of the CLI's own start-up with it (issue 13). Without BERTH_DEBUG it does nothing.
const on = !!process.env.BERTH_DEBUG;
let inFlight = 0;
let since = 0;
let waited = 0;
let first = -1;
let last = 0;

const idle = (): void => {};

/** Marks a request in flight; the returned function (idempotent) marks it answered. */
export function inflight(): () => void {
  if (!on) return idle;
  const now = performance.now();
  if (first < 0) { first = now; process.once('exit', print); }
  if (inFlight++ === 0) since = now;
  let done = false;
  return () => {
    if (done) return;
    done = true;
    const t = performance.now();
    if (--inFlight === 0) { waited += t - since; last = t; }
  };
}

function print(): void {
  const f = (n: number) => n.toFixed(1);
  const exit = performance.now();
  const cpu = process.cpuUsage();
  process.stderr.write(`berth: timing first-request=${f(first)}ms daemon-wait=${f(waited)}ms last-answer=${f(last)}ms exit=${f(exit)}ms cpu=${f((cpu.user + cpu.system) / 1000)}ms\n`);
}
