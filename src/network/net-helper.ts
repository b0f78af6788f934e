// network/net-helper: the executor of link/address/route plans — one `berth-helper net` process for the
// daemon's life (runtime/plan-server), fed one plan at a time over its sync socket. A container start then
// costs netlink requests, not process spawns: on a busy 2-core host each `ip` or `nsenter` spawn took 50-200 ms.
import { PlanServer } from '../runtime/plan-server.js';
import { spawnHelper } from '../runtime/sync.js';

export class NetHelper extends PlanServer {
  constructor() {
    super('network plan', () => {
      const proc = spawnHelper('net', ['ignore', 'ignore', 'inherit']);
      // neither keeps the daemon alive; the server ends when its socket closes with the daemon
      proc.unref?.();
      return proc;
    });
  }
}
