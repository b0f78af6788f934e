// runtime/run: create + start + wait, like `runc run`: the exit status is the process's (128+signal if killed).
import type { StdioOptions } from 'node:child_process';
import { Container } from './container.js';
import { create } from './create.js';
import { remove } from './delete.js';
import { start, startWith } from './start.js';
import { MSG } from './plan/tags.js';
import type { StateStore } from './state.js';
import { trace } from '../util/trace.js';

export interface RunOptions {
  id: string;
  bundle: string;
  pidFile?: string;
  consoleSocket?: string;
  detach?: boolean;
  keep?: boolean;
  stdio?: StdioOptions;
  /** see CreateOptions.seccompCache */
  seccompCache?: string;
}

export async function run(store: StateStore, o: RunOptions): Promise<number> {
  const { record, session } = await create(store, { ...o, foreground: !o.detach });
  const c = new Container(store, record);
  // Signals for us go to the container (through the helper, which forwards them).
  const forward = (sig: NodeJS.Signals) => session.kill(sig);
  if (!o.detach) process.on('SIGINT', forward).on('SIGTERM', forward).on('SIGHUP', forward);
  try {
    if (o.detach) await start(c);
    else await startWith(c, () => session.send(MSG.GO));
    trace(`run ${o.id}: started`);
    if (o.detach) { session.close(); return 0; }
    const code = await session.exited;
    trace(`run ${o.id}: exited ${code}`);
    return code;
  } catch (e) {
    session.kill('SIGKILL');
    throw e;
  } finally {
    session.close();
    if (!o.detach) {
      process.off('SIGINT', forward).off('SIGTERM', forward).off('SIGHUP', forward);
      if (!o.keep) await remove(c, true);
      trace(`run ${o.id}: removed`);
    }
  }
}
