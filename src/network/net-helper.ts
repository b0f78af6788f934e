// network/net-helper: the executor of link/address/route plans — one `berth-helper net` process for the
// daemon's life, fed one plan at a time over its sync socket. A container start then costs netlink
// requests, not process spawns: on a busy 2-core host each `ip` or `nsenter` spawn took 50-200 ms.
import { HelperSession, spawnHelper } from '../runtime/sync.js';
import type { Op } from '../runtime/plan/encode.js';
import { MSG } from '../runtime/plan/tags.js';

export class NetHelper {
  private session?: HelperSession;
  private queue: Promise<unknown> = Promise.resolve();

  /** Runs the ops in order in a fork of the server (a SETNS there changes nothing for the next plan). */
  run(ops: Op[]): Promise<void> {
    const p = this.queue.then(() => this.runNow(ops));
    this.queue = p.catch(() => undefined);
    return p;
  }

  private async runNow(ops: Op[]): Promise<void> {
    if (ops.length === 0) return;
    const s = this.session ??= this.start();
    s.ops = ops;
    s.sendPlan();
    try {
      await s.expect(MSG.DONE, 'network plan');
    } catch (e) {
      // an ERROR leaves the server as it was; a silence or a closed socket means it is gone: start anew next time
      if (!(e as { errno?: number }).errno) { s.kill('SIGKILL'); s.close(); this.session = undefined; }
      throw e;
    }
  }

  private start(): HelperSession {
    const proc = spawnHelper('net', ['ignore', 'ignore', 'inherit']);
    // neither keeps the daemon alive; the server ends when its socket closes with the daemon
    proc.unref?.();
    return new HelperSession([], proc);
  }

  close(): void {
    this.session?.close();
    this.session = undefined;
  }
}
