// cli/runtime: `berth runtime …`, runc's command set and flags over src/runtime.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BerthError } from '../errors.js';
import { parseFlags, type FlagSpec } from './args.js';
import { Container } from '../runtime/container.js';
import { StateStore, DEFAULT_ROOT } from '../runtime/state.js';
import { parseSignal } from '../runtime/linux.js';
import { defaultSpec } from '../runtime/defaults.js';
import { create } from '../runtime/create.js';
import { run } from '../runtime/run.js';
import { start } from '../runtime/start.js';
import { kill, remove } from '../runtime/delete.js';
import { exec } from '../runtime/exec.js';
import { seccompCacheDir } from '../runtime/seccomp-cache.js';
import { finish, outliveReaders } from './entry.js';
import { trace } from '../util/trace.js';

const USAGE = `Usage: berth runtime [--root DIR] COMMAND [OPTIONS] ID

An OCI runtime with runc's commands:
  spec     [-b BUNDLE]                       write a default config.json
  create   [-b BUNDLE] [--console-socket P] [--pid-file F] ID
  start    ID                                run the process of a created container
  state    ID                                print the OCI state as JSON
  kill     [-a] ID [SIGNAL]                  signal the process (default SIGTERM)
  delete   [-f] ID                           remove a stopped (or, with -f, any) container
  run      [-b BUNDLE] [-d] [--keep] [--console-socket P] [--pid-file F] ID
  exec     [-t] [-d] [--cwd D] [-e K=V] [-u UID[:GID]] [-g GID] [-p process.json] [--pid-file F] ID [COMMAND...]
  ps       [-f table|json] ID [PS_ARGS...]
  pause    ID
  resume   ID
  list     [-f table|json] [-q]
`;

const GLOBAL: Record<string, FlagSpec> = { root: { type: 'string' }, debug: { type: 'bool' }, log: { type: 'string' }, 'log-format': { type: 'string' }, 'systemd-cgroup': { type: 'bool' }, help: { type: 'bool', short: 'h' } };

function one(p: { positionals: string[] }, verb: string): string {
  const id = p.positionals[0];
  if (!id) throw new BerthError('InvalidArgument', `"${verb}" requires a container id`);
  return id;
}

/** How every entry runs `berth runtime ARGS` (the installed berth.cjs comes here straight, so neither the
 * docker client nor the ESM entry is loaded first; berth.js's runtime group too): a cold process per runc
 * verb that exits as soon as the verb returns. Nothing is left in this process by then (its output is
 * written: stdio writes to files, pipes and terminals are synchronous on Linux), and a natural exit would
 * first wait for V8's background tasks to drain, ~130 ms of wall on the loaded 2-core host (issue 13,
 * bench/runtime.sh). Never settles: the process ends first. */
export function direct(argv: string[]): Promise<never> {
  outliveReaders();
  trace('cli: loaded'); // bench/runtime.sh measures our own part from here
  return new Promise(() => finish(main(argv), true));
}

export async function main(argv: string[]): Promise<number> {
  // global flags come before the verb
  let i = 0;
  const globals: string[] = [];
  while (i < argv.length && argv[i]!.startsWith('-')) {
    globals.push(argv[i]!);
    if (!argv[i]!.includes('=') && GLOBAL[argv[i]!.replace(/^--?/, '')]?.type === 'string') globals.push(argv[++i]!);
    i++;
  }
  const g = parseFlags(globals, GLOBAL).flags;
  const verb = argv[i];
  const args = argv.slice(i + 1);
  if (!verb || g.help) { process.stdout.write(USAGE); return verb || g.help ? 0 : 1; }
  if (g['systemd-cgroup']) throw new BerthError('NotImplemented', '--systemd-cgroup: the systemd cgroup driver is not supported yet');
  const store = new StateStore((g.root as string | undefined) ?? DEFAULT_ROOT);

  switch (verb) {
    case 'spec': {
      const p = parseFlags(args, { bundle: { short: 'b', type: 'string' }, rootless: { type: 'bool' } });
      if (p.flags.rootless) throw new BerthError('NotImplemented', '--rootless is not supported yet');
      const file = path.join((p.flags.bundle as string) ?? '.', 'config.json');
      try {
        fs.writeFileSync(file, JSON.stringify(defaultSpec(), null, '\t') + '\n', { flag: 'wx' });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new BerthError('Conflict', `File ${file} exists. Remove it first`);
        throw e;
      }
      return 0;
    }
    case 'create': case 'run': {
      const p = parseFlags(args, {
        bundle: { short: 'b', type: 'string' }, 'console-socket': { type: 'string' }, 'pid-file': { type: 'string' },
        detach: { short: 'd', type: 'bool' }, keep: { type: 'bool' }, 'no-pivot': { type: 'bool' }, 'no-new-keyring': { type: 'bool' },
        'preserve-fds': { type: 'string' }, 'no-subreaper': { type: 'bool' },
      });
      if (p.flags['no-pivot']) throw new BerthError('NotImplemented', '--no-pivot is not supported: Berth always uses pivot_root');
      if (p.flags['preserve-fds'] && p.flags['preserve-fds'] !== '0') throw new BerthError('NotImplemented', '--preserve-fds is not supported yet');
      const o = {
        id: one(p, verb), bundle: (p.flags.bundle as string) ?? '.', pidFile: p.flags['pid-file'] as string | undefined, consoleSocket: p.flags['console-socket'] as string | undefined,
        seccompCache: seccompCacheDir(store.root),
      };
      if (verb === 'create') {
          const { session } = await create(store, o);
        session.close();
        return 0;
      }
      return run(store, { ...o, detach: !!p.flags.detach, keep: !!p.flags.keep });
    }
    case 'start': {
      await start(Container.load(store, one(parseFlags(args, {}), verb)));
      return 0;
    }
    case 'state': {
      const c = Container.load(store, one(parseFlags(args, {}), verb));
      process.stdout.write(JSON.stringify(c.state(), null, '  ') + '\n');
      return 0;
    }
    case 'kill': {
      const p = parseFlags(args, { all: { short: 'a', type: 'bool' } });
      const sigName = p.positionals[1] ?? 'SIGTERM';
      const sig = parseSignal(sigName);
      if (sig === undefined) throw new BerthError('InvalidArgument', `unknown signal "${sigName}"`);
      kill(Container.load(store, one(p, verb)), sig, !!p.flags.all);
      return 0;
    }
    case 'delete': {
      const p = parseFlags(args, { force: { short: 'f', type: 'bool' } });
      let c: Container;
      try {
        c = Container.load(store, one(p, verb));
      } catch (e) {
        if (p.flags.force && e instanceof BerthError && e.kind === 'NotFound') return 0; // runc: delete -f of nothing is fine
        throw e;
      }
      await remove(c, !!p.flags.force);
      return 0;
    }
    case 'exec': {
      const p = parseFlags(args, {
        'console-socket': { type: 'string' }, cwd: { type: 'string' }, env: { short: 'e', type: 'list' }, tty: { short: 't', type: 'bool' },
        user: { short: 'u', type: 'string' }, 'additional-gids': { short: 'g', type: 'list' }, process: { short: 'p', type: 'string' },
        detach: { short: 'd', type: 'bool' }, 'pid-file': { type: 'string' }, cap: { short: 'c', type: 'list' }, 'no-new-privs': { type: 'bool' },
      }, 1);
      const id = one(p, verb);
      if (!p.flags.process && p.rest.length === 0) throw new BerthError('InvalidArgument', 'exec: a command or --process is required');
      let user: { uid: number; gid: number; additionalGids?: number[] } | undefined;
      if (p.flags.user) {
        const m = /^(\d+)(?::(\d+))?$/.exec(p.flags.user as string);
        if (!m) throw new BerthError('InvalidArgument', `--user ${p.flags.user}: must be UID[:GID]`);
        user = { uid: Number(m[1]), gid: Number(m[2] ?? 0) };
      }
      if (p.flags['additional-gids']) {
        const gids = (p.flags['additional-gids'] as string[]).map(Number);
        if (gids.some((x) => !Number.isInteger(x) || x < 0)) throw new BerthError('InvalidArgument', '--additional-gids: must be numbers');
        const base = Container.load(store, id).record.spec.process!.user;
        user = { ...(user ?? { uid: base.uid, gid: base.gid }), additionalGids: gids };
      }
      const r = await exec(Container.load(store, id), {
        processFile: p.flags.process as string | undefined, args: p.rest, tty: !!p.flags.tty, cwd: p.flags.cwd as string | undefined,
        env: p.flags.env as string[] | undefined, user, capAdd: p.flags.cap as string[] | undefined,
        noNewPrivileges: p.flags['no-new-privs'] ? true : undefined, detach: !!p.flags.detach, pidFile: p.flags['pid-file'] as string | undefined,
        consoleSocket: p.flags['console-socket'] as string | undefined, seccompCache: seccompCacheDir(store.root),
      });
      return r.exitCode ?? 0;
    }
    case 'ps': {
      const p = parseFlags(args, { format: { short: 'f', type: 'string' } }, 1);
      const c = Container.load(store, one(p, verb));
      const pids = c.status() === 'stopped' ? [] : c.cgroup().pids();
      if (p.flags.format === 'json') { process.stdout.write(JSON.stringify(pids) + '\n'); return 0; }
      const { execFileSync } = await import('node:child_process');
      const out = execFileSync('ps', p.rest.length ? p.rest : ['-ef'], { encoding: 'utf8' }).split('\n');
      const pidCol = out[0]!.trim().split(/\s+/).indexOf('PID');
      if (pidCol < 0) throw new BerthError('InvalidArgument', 'ps output has no PID column');
      process.stdout.write(out[0] + '\n');
      for (const line of out.slice(1)) if (pids.includes(Number(line.trim().split(/\s+/)[pidCol]))) process.stdout.write(line + '\n');
      return 0;
    }
    case 'pause': case 'resume': {
      const c = Container.load(store, one(parseFlags(args, {}), verb));
      if (verb === 'pause') { c.must(['running'], 'pause'); await c.cgroup().freeze(); }
      else { c.must(['paused'], 'resume'); c.cgroup().thaw(); }
      return 0;
    }
    case 'list': case 'ls': {
      const p = parseFlags(args, { format: { short: 'f', type: 'string' }, quiet: { short: 'q', type: 'bool' } });
      const states = store.list().flatMap((id) => { try { return [Container.load(store, id).state()]; } catch { return []; } });
      if (p.flags.quiet) { for (const s of states) process.stdout.write(s.id + '\n'); return 0; }
      if (p.flags.format === 'json') { process.stdout.write(JSON.stringify(states) + '\n'); return 0; }
      const rows = [['ID', 'PID', 'STATUS', 'BUNDLE', 'CREATED', 'OWNER'], ...states.map((s) => [s.id, String(s.pid ?? 0), s.status, s.bundle, s.created, 'root'])];
      const w = rows[0]!.map((_, k) => Math.max(...rows.map((r) => r[k]!.length)));
      for (const r of rows) process.stdout.write(r.map((x, k) => (k < r.length - 1 ? x.padEnd(w[k]! + 3) : x)).join('') + '\n');
      return 0;
    }
    default:
      process.stderr.write(`berth runtime: unknown command "${verb}"\n${USAGE}`);
      return 1;
  }
}
