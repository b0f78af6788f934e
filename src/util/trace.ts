// util/trace: one debug line per step, with milliseconds since the process started, when BERTH_DEBUG is set;
// and spans that split an operation's wall time into Berth's own time and its waits on others.
import { AsyncLocalStorage } from 'node:async_hooks';
import { fstatSync, writeSync } from 'node:fs';

const on = !!process.env.BERTH_DEBUG;

// stderr on a file (a log, the benches' 2>>): one write(2) a line, as process.stderr's SyncWriteStream
// does beneath its stream layers (~20 lines a create + start: their cost was part of the "own" time the
// trace measures). A pipe or terminal keeps process.stderr, which knows how to wait on it.
const toFile = on && (() => { try { return fstatSync(2).isFile(); } catch { return false; } })();

export function trace(step: string): void {
  if (!on) return;
  const c = process.cpuUsage();
  const line = `berth: ${performance.now().toFixed(1)}ms cpu ${((c.user + c.system) / 1000).toFixed(1)} ${step}\n`;
  if (toFile) writeSync(2, line); else process.stderr.write(line);
}

/**
 * One operation's time: wall, the part spent waiting on something not ours (helper, monitor, kernel
 * work done in another process), and the rest, Berth's own. CPU is process.cpuUsage() over the span:
 * user is our JavaScript (and GC), system our own syscalls. Both are the whole process's, so they
 * belong to the span only when it ran alone (one container at a time).
 */
interface Span { name: string; t0: number; cpu0: NodeJS.CpuUsage; depth: number; since: number; waited: number; by: Map<string, number> }

// only with BERTH_DEBUG: async context tracking costs every promise a little
const current = on ? new AsyncLocalStorage<Span>() : undefined;

/** Runs `f` as a span; with BERTH_DEBUG its split is traced when it ends. */
export async function span<T>(name: string, f: () => Promise<T>): Promise<T> {
  if (!current) return f();
  const s: Span = { name, t0: performance.now(), cpu0: process.cpuUsage(), depth: 0, since: 0, waited: 0, by: new Map() };
  try {
    return await current.run(s, f);
  } finally {
    const wall = performance.now() - s.t0;
    const cpu = process.cpuUsage(s.cpu0);
    const waits = [...s.by].map(([k, v]) => `${k} ${v.toFixed(1)}`).join(', ');
    trace(`${name}: wall ${wall.toFixed(1)} ms = own ${(wall - s.waited).toFixed(1)} ms (cpu user ${(cpu.user / 1000).toFixed(1)}, sys ${(cpu.system / 1000).toFixed(1)}) + waiting ${s.waited.toFixed(1)} ms${waits ? ` (${waits})` : ''}`);
  }
}

/**
 * Counts the time until `p` settles as a wait on `what` in the current span. Overlapping waits count
 * once in the span's total (each still shows under its own name).
 */
export async function waitOn<T>(what: string, p: Promise<T>): Promise<T> {
  const s = current?.getStore();
  if (!s) return p;
  const t = performance.now();
  if (s.depth++ === 0) s.since = t;
  try {
    return await p;
  } finally {
    const now = performance.now();
    s.by.set(what, (s.by.get(what) ?? 0) + now - t);
    if (--s.depth === 0) s.waited += now - s.since;
  }
}

/**
 * Runs `f` outside the current span: work started early and awaited later (count it with waitOn there)
 * must not count as waiting while our own code runs beside it.
 */
export function detached<T>(f: () => T): T {
  // run with no span, not exit(): exit() disables the storage and enables it again after, which turns
  // Node's promise hooks off and on for the whole process each time (~0.1 ms a start under --cpu-prof)
  return current ? current.run(undefined as unknown as Span, f) : f();
}
