// containers/pause: docker's rules for pause/unpause (moby daemon/pause.go, unpause.go, kill.go) as
// checks on a container's state; the service freezes and thaws its cgroup and records the state.
import { BerthError } from '../errors.js';
import type { Container } from './types.js';

export function checkPause(c: Container): void {
  const st = c.state.status;
  if (st === 'paused') throw new BerthError('Conflict', `container ${c.id} is already paused`);
  if (st === 'restarting') throw new BerthError('Conflict', `Container ${c.id} is restarting, wait until the container is running`);
  if (st !== 'running') throw new BerthError('Conflict', `container ${c.id} is not running`);
}

export function checkUnpause(c: Container): void {
  if (c.state.status !== 'paused') throw new BerthError('Conflict', `Container ${c.id} is not paused`);
}

/**
 * moby killWithSignal: a paused container is thawed after a signal that is meant to end it — its
 * StopSignal, or any signal when it sets none, and SIGKILL — so that the signal gets delivered.
 */
export function thawsAfterSignal(c: Container, signal: number, stopSignal: number | undefined): boolean {
  if (c.state.status !== 'paused') return false;
  return signal === 9 || stopSignal === undefined || stopSignal === signal;
}
