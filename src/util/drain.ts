// util/drain: long work that a stopping daemon must end and clean up after before it exits (a build's
// step container is a real container: left running, it would outlive the daemon with its cgroup, mounts
// and monitor). The work takes `signal`; end() aborts it and waits for it, at most `ms`.
export class Drain {
  private readonly ac = new AbortController();
  private readonly running = new Set<Promise<unknown>>();

  /** aborted once the daemon stops */
  get signal(): AbortSignal { return this.ac.signal; }

  /** Runs `work` as long work: end() waits for it. */
  track<T>(work: Promise<T>): Promise<T> {
    const p = work.finally(() => this.running.delete(p));
    this.running.add(p);
    return p;
  }

  /** Aborts every tracked work and waits until all have settled, or `ms` passed. */
  async end(ms: number): Promise<void> {
    this.ac.abort();
    let t: NodeJS.Timeout | undefined;
    // a timer that holds the event loop: end() returns, whatever the work does
    await Promise.race([Promise.allSettled([...this.running]), new Promise((r) => { t = setTimeout(r, ms); })]);
    clearTimeout(t);
  }
}
