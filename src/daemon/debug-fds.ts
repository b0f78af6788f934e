// daemon/debug-fds: a hunt for FileHandles left to the garbage collector ("Closing file descriptor N on
// garbage collection"). Off unless BERTH_DEBUG_FDS names a file: then every fs.promises.open notes where
// it was called, a full GC runs after each request ends (so a leaked handle is found at once, not whenever
// V8 collects), and each process warning goes to that file, with the opening stack of the fd it names.
import type { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';

export function debugFileHandles(server: EventEmitter, file = process.env.BERTH_DEBUG_FDS): void {
  if (!file) return;
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  const opened = new Map<number, string>();
  const open = fs.promises.open;
  fs.promises.open = async function (...a: Parameters<typeof open>) {
    const where = new Error('opened here').stack ?? '';
    const h = await open.apply(fs.promises, a);
    opened.set(h.fd, `${String(a[0])}\n${where}`);
    return h;
  } as typeof open;
  process.on('warning', (w) => {
    const fd = /file descriptor (\d+)/.exec(w.message)?.[1];
    fs.appendFileSync(file, `${w.name}: ${w.message}\n${fd ? opened.get(Number(fd)) ?? '(not opened by fs.promises.open)' : ''}\n\n`);
  });
  const collect = () => setTimeout(gc, 20);
  server.on('request', (_req: unknown, res: EventEmitter) => { res.once('close', collect); });
  server.on('upgrade', (_req: unknown, socket: EventEmitter) => { socket.once('close', collect); });
}
