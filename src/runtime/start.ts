// runtime/start: lets a created container exec its process by opening exec.fifo (runtime-spec "start").
import * as fs from 'node:fs';
import { BerthError, errnoCode } from '../errors.js';
import { sleepSync } from '../util/fs.js';
import { Container } from './container.js';
import { nsenterFlags, runHooks } from './hooks.js';
import { isAlive } from './state.js';

export async function start(c: Container): Promise<void> {
  const status = c.status();
  if (status !== 'created') throw new BerthError('FailedPrecondition', status === 'stopped' ? `cannot start a container that has stopped` : `cannot start an already ${status} container`);
  await startWith(c, () => openFifo(c));
}

/** Runs the start hooks around `release`, which lets the process exec (the fifo, or GO from `run`). */
export async function startWith(c: Container, release: () => void): Promise<void> {
  const hooks = c.record.spec.hooks ?? {};
  if (hooks.startContainer?.length)
    await runHooks('startContainer', hooks.startContainer, c.state('created'), { pid: c.record.pid, flags: nsenterFlags(c.record.spec.linux?.namespaces ?? []) });
  release();
  if (hooks.poststart?.length) await runHooks('poststart', hooks.poststart, c.state('running')).catch((e) => {
    // runtime-spec: a failing poststart hook is logged, the container keeps running
    process.stderr.write(`berth: warning: ${(e as Error).message}\n`);
  });
}

/** Non-blocking open, so a process that died before start cannot hang us; then wait for its byte. */
function openFifo(c: Container): void {
  const fifo = c.store.fifo(c.id);
  let fd: number;
  try {
    fd = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (e) {
    if (errnoCode(e) === 'ENOENT') throw new BerthError('FailedPrecondition', `cannot start an already running container`);
    throw e;
  }
  try {
    const buf = Buffer.alloc(1);
    for (let i = 0; ; i++) {
      try {
        if (fs.readSync(fd, buf, 0, 1, null) === 1) break;
      } catch (e) {
        if (errnoCode(e) !== 'EAGAIN') throw e;
      }
      if (!isAlive(c.record)) throw new BerthError('FailedPrecondition', `container ${c.id} exited before it was started`);
      if (i > 20_000) throw new BerthError('Unavailable', `container ${c.id} did not take the start signal`);
      sleepSync(i < 100 ? 0 : 1);
    }
  } finally {
    fs.closeSync(fd);
  }
  fs.rmSync(fifo, { force: true });
}
