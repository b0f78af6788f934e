#!/usr/bin/env node
// cli/fast: where the installed `berth` starts. It is built as one CommonJS file (no ESM loader, no chunks
// to resolve) holding only the container commands users run most, the flag parser and the API client;
// any other word, and every --help, hands over to the full entry (berth.js), which reads argv itself.
// Measured in bench/cli.sh (issue 13): node's own start-up is most of what remains.
import { HelpRequested, usageMistake } from './args.js';
import { report, type Globals } from './docker/connect.js';
import * as ctr from './docker/containers.js';
import { exec } from './docker/exec.js';
import { parseGlobals } from './docker/globals.js';

type Cmd = (g: Globals, args: string[]) => Promise<number>;

/** berth.cjs runs this bundle from V8's code cache (a vm.Script, where import() is not available) and hands
 * in its own import of the full entry; anything else importing this file uses import() here. */
declare const __berthFull: (() => Promise<unknown>) | undefined;
const full = typeof __berthFull === 'function' ? __berthFull : () => import('./berth.js');

/**
 * `cp` is dist/bin/cli/cp.cjs, a bundle of its own required when used (scripts/build.mjs): its tar code
 * in this one cost every other command's start. Its errors and its --help are answered inside it (its
 * classes are its own copies, which this file's instanceof would not know).
 */
declare const require: (id: string) => unknown;
/** berth.cjs hands in a require that runs cp.cjs from its code cache (scripts/build.mjs). */
declare const __berthRequire: ((id: string) => unknown) | undefined;
const cp: Cmd = async (g, args) => {
  const load = typeof __berthRequire === 'function' ? __berthRequire : require;
  const code = await (load('./cp.cjs') as typeof import('./docker/cp.js')).fastCp(g, args);
  if (code === undefined) throw new HelpRequested({});
  return code;
};

/** The same functions the full dispatcher (docker/index.ts) files under these names. */
const FAST: Record<string, Cmd> = {
  run: ctr.run, create: ctr.create, start: ctr.start, stop: ctr.stop, restart: ctr.restart, kill: ctr.kill, rm: ctr.rm, ps: ctr.ps,
  logs: ctr.logs, attach: ctr.attach, inspect: ctr.inspect, wait: ctr.wait, rename: ctr.rename, port: ctr.port, exec, cp,
};

/** Undefined: not ours; the full entry answers. */
async function fast(argv: string[]): Promise<number | undefined> {
  const { g, rest } = parseGlobals(argv);
  const [cmd, ...args] = rest;
  const f = cmd !== undefined && Object.hasOwn(FAST, cmd) ? FAST[cmd] : undefined;
  if (!f) return undefined;
  try { return await f(g, args); } catch (e) {
    if (e instanceof HelpRequested) return undefined; // flags are checked before any request: nothing happened yet
    // so are a command line's mistakes: the full entry words them with the command's usage, as docker
    if (e instanceof Error && usageMistake(e.message)) return undefined;
    return report(e);
  }
}

fast(process.argv.slice(2)).then(
  async (code) => {
    if (code === undefined) await full();
    else process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`berth: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exitCode = 1;
  },
);
