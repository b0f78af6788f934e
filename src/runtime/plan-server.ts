// runtime/plan-server: one long-lived `berth-helper net` process fed one plan at a time over its sync
// socket. Each plan runs in a fork of the server, which answers DONE or ERROR; a SETNS or a bail()
// ends with the fork, and the server stays as it was. A plan then costs a fork of a small static
// process and one round trip, not a process started and connected for it.
import { BerthError } from '../errors.js';
import type { Op } from './plan/encode.js';
import { MSG } from './plan/tags.js';
import { HelperSession, type HelperProcess } from './sync.js';

export class PlanServer {
  private session?: HelperSession;
  private queue: Promise<unknown> = Promise.resolve();
  private pending = 0;

  /** `what` names its plans in errors and traces; `start` starts the server (it must not keep the event loop alive). */
  constructor(private readonly what: string, private readonly start: () => HelperProcess | Promise<HelperProcess>) {}

  /** No plan running or waiting: one given now runs at once. */
  get idle(): boolean { return this.pending === 0; }

  /** Runs the ops in order in a fork of the server, after the plans given before. */
  run(ops: Op[]): Promise<void> {
    this.pending++;
    const p = this.queue.then(() => this.runNow(ops)).finally(() => { this.pending--; });
    this.queue = p.catch(() => undefined);
    return p;
  }

  private async runNow(ops: Op[]): Promise<void> {
    if (ops.length === 0) return;
    if (!this.session) {
      let proc: HelperProcess;
      try {
        proc = await this.start();
      } catch (e) {
        throw Object.assign(new BerthError('Internal', `${this.what}: start berth-helper net: ${(e as Error).message}`, { cause: e }), { serverStart: true });
      }
      this.session = new HelperSession([], proc);
    }
    const s = this.session;
    s.ops = ops;
    s.sendPlan();
    try {
      await s.expect(MSG.DONE, this.what);
    } catch (e) {
      // an ERROR leaves the server as it was; a silence or a closed socket means it is gone: start anew next time
      if (!(e as { errno?: number }).errno) { s.kill('SIGKILL'); s.close(); if (this.session === s) this.session = undefined; }
      throw e;
    }
  }

  close(): void {
    this.session?.close();
    this.session = undefined;
  }
}
