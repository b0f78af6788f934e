// cli/docker: the docker-grammar commands that talk to berthd (version, info, images, pull, push, tag,
// rmi, save, load, import, login, logout, image …). Translation only: flags → API requests → docker's output.
import { BerthError } from '../../errors.js';
import { HelpRequested } from '../args.js';
import { COMMANDS as HELP, formatHelp } from './help.js';
import { compose, COMPOSE_GROUP } from '../../compose/cli.js';
import { COMPOSE_HELP } from '../../compose/help.js';
import { report, type Globals } from './connect.js';
import * as ctr from './containers.js';
import * as img from './images.js';
import * as netw from './networks.js';
import * as sys from './system.js';
import { exec } from './exec.js';
import * as st from './stats.js';
import { VOLUME_SUB } from './volumes.js';
import * as files from './filesystem.js';
import { build, builderPrune } from './build.js';

type Cmd = (g: Globals, args: string[]) => Promise<number>;

export const COMMANDS: Record<string, Cmd> = {
  version: sys.version, info: sys.info, login: sys.login, logout: sys.logout, events: sys.events, system: sys.system,
  run: ctr.run, create: ctr.create, start: ctr.start, stop: ctr.stop, restart: ctr.restart, kill: ctr.kill, rm: ctr.rm, ps: ctr.ps,
  logs: ctr.logs, attach: ctr.attach, inspect: ctr.inspect, wait: ctr.wait, rename: ctr.rename, exec, port: ctr.port,
  stats: st.stats, top: st.top, pause: st.pause, unpause: st.unpause, update: st.update,
  cp: files.cp, diff: files.diff, export: files.exportCmd, commit: files.commit,
  images: img.images, pull: img.pull, push: img.push, tag: img.tag, rmi: img.rmi, save: img.save, load: img.load, import: img.importImage, build,
};

const IMAGE_SUB: Record<string, Cmd> = {
  ls: img.images, list: img.images, pull: img.pull, push: img.push, tag: img.tag, rm: img.rmi, remove: img.rmi,
  save: img.save, load: img.load, import: img.importImage, build, inspect: img.inspect, history: img.history, prune: img.prune,
};
COMMANDS.history = img.history;

const CONTAINER_SUB: Record<string, Cmd> = {
  run: ctr.run, create: ctr.create, start: ctr.start, stop: ctr.stop, restart: ctr.restart, kill: ctr.kill, rm: ctr.rm, remove: ctr.rm,
  ls: ctr.ps, list: ctr.ps, ps: ctr.ps, logs: ctr.logs, attach: ctr.attach, inspect: (g, a) => ctr.inspect(g, ['--type', 'container', ...a]),
  wait: ctr.wait, rename: ctr.rename, exec, port: ctr.port,
  stats: st.stats, top: st.top, pause: st.pause, unpause: st.unpause, update: st.update,
  cp: files.cp, diff: files.diff, export: files.exportCmd, commit: files.commit, prune: files.containerPrune,
};
/** Commands with subcommands (`berth image ls`); `system` dispatches its own. */
const NETWORK_SUB: Record<string, Cmd> = {
  create: netw.create, ls: netw.ls, list: netw.ls, inspect: netw.inspect, rm: netw.rm, remove: netw.rm, prune: netw.prune,
  connect: netw.connectCmd, disconnect: netw.disconnect,
};
export const GROUPS: Record<string, Record<string, Cmd>> = { image: IMAGE_SUB, container: CONTAINER_SUB, network: NETWORK_SUB, volume: VOLUME_SUB, compose: COMPOSE_GROUP, builder: { prune: builderPrune } };
for (const [name, subs] of Object.entries(GROUPS)) {
  COMMANDS[name] = (g, args) => {
    const [sub, ...rest] = args;
    const f = sub ? subs[sub] : undefined;
    if (!f) throw new BerthError('InvalidArgument', `unknown ${name} command ${JSON.stringify(sub ?? '')}; one of: ${Object.keys(subs).join(', ')}`);
    return f(g, rest);
  };
}
// compose takes its own options (-f, -p …) before the subcommand, so it dispatches itself
COMMANDS.compose = compose;
Object.assign(HELP, COMPOSE_HELP);
const SYSTEM_SUBS = ['df', 'info', 'events', 'prune'];

/** The name help is filed under: the command, with its subcommand for groups. */
function helpName(cmd: string, args: string[]): { name: string; subs: string[] } {
  const subs = GROUPS[cmd] ? Object.keys(GROUPS[cmd]) : cmd === 'system' ? SYSTEM_SUBS : [];
  const sub = args[0];
  if (subs.length && sub && !sub.startsWith('-') && subs.includes(sub)) return { name: `${cmd} ${sub}`, subs: [] };
  return { name: cmd, subs };
}

/** The docker-grammar command names this module serves (for berth's dispatcher). */
export const COMMAND_NAMES = Object.keys(COMMANDS);

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

/** For contrib/completion/berth.bash: `__complete commands` and `__complete subcommands GROUP`, one per line. */
function complete(args: string[]): number {
  const [what, group] = args;
  const names = what === 'commands' ? [...COMMAND_NAMES, 'runtime', 'store', 'help']
    : what === 'subcommands' && group ? (GROUPS[group] ? Object.keys(GROUPS[group]) : group === 'system' ? SYSTEM_SUBS : []) : [];
  process.stdout.write(names.map((n) => `${n}\n`).join(''));
  return 0;
}

/** `argv`: [global flags] COMMAND [args]. Returns the exit code; prints errors as the docker CLI does. */
export async function main(argv: string[]): Promise<number> {
  const { g, rest } = parseGlobals(argv);
  let [cmd, ...args] = rest;
  if (cmd === '__complete') return complete(args);
  if (cmd === 'help' && args.length) { cmd = args[0]; args = [...args.slice(1), '--help']; }
  const f = cmd ? COMMANDS[cmd] : undefined;
  if (!f) { process.stderr.write(`berth: '${cmd ?? ''}' is not a docker command served by berth (${COMMAND_NAMES.join(', ')})\n`); return 1; }
  const { name, subs } = helpName(cmd!, args);
  // a group's own --help (`berth image --help`) lists its subcommands
  if (subs.length && (args.length === 0 || args[0] === '--help')) {
    process.stdout.write(formatHelp(name, {}, subs));
    return args.length === 0 ? 1 : 0;
  }
  try { return await f(g, args); } catch (e) {
    if (e instanceof HelpRequested) { process.stdout.write(formatHelp(name, e.specs)); return 0; }
    return report(e);
  }
}
