// util/timer: waits of any length. Node's setTimeout holds at most 2^31-1 ms (24.8 days); a longer
// delay overflows and fires at once (with a TimeoutOverflowWarning), so `docker stop -t 3000000` would
// kill at once. Long waits sleep in chunks below that limit.

/** The longest single setTimeout delay Node honours. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Resolves after `ms` milliseconds (Infinity: never), or at once when `signal` aborts. Its timers are
 * unref'd: a pending wait alone does not keep the process alive, like the waits it replaces.
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted || !(ms > 0)) { resolve(); return; }
    const end = Date.now() + ms;
    let t: NodeJS.Timeout | undefined;
    const done = () => { if (t) clearTimeout(t); signal?.removeEventListener('abort', done); resolve(); };
    const arm = () => {
      const left = end - Date.now();
      if (left <= 0) { done(); return; }
      t = setTimeout(arm, Math.min(left, MAX_TIMER_MS));
      t.unref();
    };
    signal?.addEventListener('abort', done, { once: true });
    arm(); // Infinity arms chunk after chunk: only the signal ends it
  });
}
