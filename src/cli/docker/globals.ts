// cli/docker/globals: the options before a docker-grammar command (-H/--host), for both CLI entries.
import type { Globals } from './connect.js';

/** Global options before the command: -H/--host. Returns the globals and the rest. */
export function parseGlobals(argv: string[]): { g: Globals; rest: string[] } {
  const g: Globals = {};
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-H' || a === '--host') { g.host = argv[++i]; continue; }
    if (a.startsWith('--host=')) { g.host = a.slice(7); continue; }
    if (a.startsWith('-H') && a.length > 2) { g.host = a.slice(2).replace(/^=/, ''); continue; }
    break;
  }
  return { g, rest: argv.slice(i) };
}
