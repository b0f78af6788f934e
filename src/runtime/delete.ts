// runtime/delete and kill: signals the container and removes what create made (runtime-spec "kill", "delete").
import { BerthError } from '../errors.js';
import { Container } from './container.js';
import { runHooks } from './hooks.js';
import { isAlive } from './state.js';

export function kill(c: Container, signal: number, all = false): void {
  const status = c.status();
  if (status === 'stopped' || status === 'creating') throw new BerthError('FailedPrecondition', `container ${c.id} is not running`);
  const pids = all ? c.cgroup().pids() : [c.record.pid];
  for (const pid of pids) {
    try { process.kill(pid, signal); } catch { /* exited meanwhile */ }
  }
  // a frozen process gets its SIGKILL only once thawed
  if (all && status === 'paused' && signal === 9) c.cgroup().thaw();
}

export async function remove(c: Container, force = false): Promise<void> {
  const status = c.status();
  if (status === 'running' || status === 'paused') {
    if (!force) throw new BerthError('FailedPrecondition', `cannot delete container ${c.id} that is not stopped: ${status}`);
  }
  if (isAlive(c.record)) {
    try { process.kill(c.record.pid, 'SIGKILL'); } catch { /* gone */ }
  }
  const cg = c.cgroup();
  if (cg.exists()) {
    if (status === 'paused') cg.thaw();
    await cg.destroy();
  }
  c.store.remove(c.id);
  // runtime-spec: poststop hooks run after the container is deleted; failures are only logged
  await runHooks('poststop', c.record.spec.hooks?.poststop, c.state('stopped')).catch((e) => {
    process.stderr.write(`berth: warning: ${(e as Error).message}\n`);
  });
}
