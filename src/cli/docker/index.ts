// cli/docker: the docker-grammar commands that talk to berthd (version, info, images, pull, push, tag,
// rmi, save, load, import, login, logout, image …). Translation only: flags → API requests → docker's output.
import { BerthError } from '../../errors.js';
import { HelpRequested, usageMistake } from '../args.js';
import { COMPOSE_HELP } from '../../compose/help.js';
import { report, type Globals } from './connect.js';
import { parseGlobals } from './globals.js';

export { parseGlobals };

type Cmd = (g: Globals, args: string[]) => Promise<number>;

/**
 * A command whose module loads only when it runs: `berth ps` reads the container commands and the API
 * client, never compose (yaml, ajv), tar, build or help text (issue 13: the CLI's own start-up time).
 */
function lazy<M>(load: () => Promise<M>, pick: (m: M) => Cmd): Cmd {
  return async (g, args) => pick(await load())(g, args);
}
const ctr = () => import('./containers.js');
const img = () => import('./images.js');
const netw = () => import('./networks.js');
const sys = () => import('./system.js');
const st = () => import('./stats.js');
const files = () => import('./filesystem.js');
const vol = () => import('./volumes.js');
const exec = lazy(() => import('./exec.js'), (m) => m.exec);
const build = lazy(() => import('./build.js'), (m) => m.build);
const ps = lazy(ctr, (m) => m.ps);
const rmi = lazy(img, (m) => m.rmi);
const images = lazy(img, (m) => m.images);
const netLs = lazy(netw, (m) => m.ls);
const netRm = lazy(netw, (m) => m.rm);
const volLs = lazy(vol, (m) => m.ls);
const volRm = lazy(vol, (m) => m.rm);

export const COMMANDS: Record<string, Cmd> = {
  version: lazy(sys, (m) => m.version), info: lazy(sys, (m) => m.info), login: lazy(sys, (m) => m.login), logout: lazy(sys, (m) => m.logout),
  events: lazy(sys, (m) => m.events), system: lazy(sys, (m) => m.system),
  run: lazy(ctr, (m) => m.run), create: lazy(ctr, (m) => m.create), start: lazy(ctr, (m) => m.start), stop: lazy(ctr, (m) => m.stop),
  restart: lazy(ctr, (m) => m.restart), kill: lazy(ctr, (m) => m.kill), rm: lazy(ctr, (m) => m.rm), ps,
  logs: lazy(ctr, (m) => m.logs), attach: lazy(ctr, (m) => m.attach), inspect: lazy(ctr, (m) => m.inspect), wait: lazy(ctr, (m) => m.wait),
  rename: lazy(ctr, (m) => m.rename), exec, port: lazy(ctr, (m) => m.port),
  stats: lazy(st, (m) => m.stats), top: lazy(st, (m) => m.top), pause: lazy(st, (m) => m.pause), unpause: lazy(st, (m) => m.unpause), update: lazy(st, (m) => m.update),
  cp: lazy(files, (m) => m.cp), diff: lazy(files, (m) => m.diff), export: lazy(files, (m) => m.exportCmd), commit: lazy(files, (m) => m.commit),
  images, pull: lazy(img, (m) => m.pull), push: lazy(img, (m) => m.push), tag: lazy(img, (m) => m.tag), rmi, save: lazy(img, (m) => m.save),
  load: lazy(img, (m) => m.load), import: lazy(img, (m) => m.importImage), build,
};

const IMAGE_SUB: Record<string, Cmd> = {
  ls: images, list: images, pull: COMMANDS.pull!, push: COMMANDS.push!, tag: COMMANDS.tag!, rm: rmi, remove: rmi,
  save: COMMANDS.save!, load: COMMANDS.load!, import: COMMANDS.import!, build, inspect: lazy(img, (m) => m.inspect), history: lazy(img, (m) => m.history),
  prune: lazy(img, (m) => m.prune),
};
COMMANDS.history = IMAGE_SUB.history!;

const CONTAINER_SUB: Record<string, Cmd> = {
  run: COMMANDS.run!, create: COMMANDS.create!, start: COMMANDS.start!, stop: COMMANDS.stop!, restart: COMMANDS.restart!, kill: COMMANDS.kill!,
  rm: COMMANDS.rm!, remove: COMMANDS.rm!, ls: ps, list: ps, ps, logs: COMMANDS.logs!, attach: COMMANDS.attach!,
  inspect: lazy(ctr, (m) => (g, a) => m.inspect(g, ['--type', 'container', ...a])),
  wait: COMMANDS.wait!, rename: COMMANDS.rename!, exec, port: COMMANDS.port!,
  stats: COMMANDS.stats!, top: COMMANDS.top!, pause: COMMANDS.pause!, unpause: COMMANDS.unpause!, update: COMMANDS.update!,
  cp: COMMANDS.cp!, diff: COMMANDS.diff!, export: COMMANDS.export!, commit: COMMANDS.commit!, prune: lazy(files, (m) => m.containerPrune),
};
/** Commands with subcommands (`berth image ls`); `system` dispatches its own. */
const NETWORK_SUB: Record<string, Cmd> = {
  create: lazy(netw, (m) => m.create), ls: netLs, list: netLs, inspect: lazy(netw, (m) => m.inspect), rm: netRm, remove: netRm,
  prune: lazy(netw, (m) => m.prune), connect: lazy(netw, (m) => m.connectCmd), disconnect: lazy(netw, (m) => m.disconnect),
};
const VOLUME_SUB: Record<string, Cmd> = {
  create: lazy(vol, (m) => m.create), ls: volLs, list: volLs, inspect: lazy(vol, (m) => m.inspect), rm: volRm, remove: volRm,
  prune: lazy(vol, (m) => m.prune),
};
// compose's subcommands are named by its help entries ("compose up" …): its code (yaml, ajv) loads only when used
const compose = lazy(() => import('../../compose/cli.js'), (m) => m.compose);
const COMPOSE_SUB: Record<string, Cmd> = Object.fromEntries(Object.keys(COMPOSE_HELP).filter((k) => k.startsWith('compose '))
  .map((k) => [k.slice(8), (g: Globals, a: string[]) => compose(g, [k.slice(8), ...a])]));
export const GROUPS: Record<string, Record<string, Cmd>> = { image: IMAGE_SUB, container: CONTAINER_SUB, network: NETWORK_SUB, volume: VOLUME_SUB, compose: COMPOSE_SUB, builder: { prune: lazy(() => import('./build.js'), (m) => m.builderPrune) } };
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

/** The help words: the docker commands' and compose's, loaded only to print help. */
async function helpText(): Promise<typeof import('./help.js')> {
  const h = await import('./help.js');
  Object.assign(h.COMMANDS, COMPOSE_HELP);
  return h;
}
const SYSTEM_SUBS = ['df', 'info', 'events', 'prune'];

/** The name help is filed under: the command, with its subcommand for groups. */
function helpName(cmd: string, args: string[]): { name: string; subs: string[] } {
  const subs = GROUPS[cmd] ? Object.keys(GROUPS[cmd]) : cmd === 'system' ? SYSTEM_SUBS : [];
  const sub = args[0];
  if (subs.length && sub && !sub.startsWith('-') && subs.includes(sub)) return { name: `${cmd} ${sub}`, subs: [] };
  return { name: cmd, subs };
}

/**
 * Every name a command answers to (`container ls`, `container list`, `container ps`, `ps`): the group
 * entries and top-level commands bound to the same function, as docker's help lists its aliases.
 */
function aliasesOf(name: string): string[] {
  if (SYSTEM_ALIASES[name]) return SYSTEM_ALIASES[name];
  const [cmd, sub] = name.split(' ') as [string, string | undefined];
  const f = sub ? GROUPS[cmd]?.[sub] : COMMANDS[cmd];
  if (!f || cmd === 'compose') return [];
  return [...Object.entries(GROUPS).flatMap(([g, subs]) => Object.entries(subs).filter(([, x]) => x === f).map(([s]) => `${g} ${s}`)),
    ...Object.entries(COMMANDS).filter(([, x]) => x === f).map(([c]) => c)];
}
const SYSTEM_ALIASES: Record<string, string[]> = { info: ['system info', 'info'], 'system info': ['system info', 'info'], events: ['system events', 'events'], 'system events': ['system events', 'events'] };

/** The docker-grammar command names this module serves (for berth's dispatcher). */
export const COMMAND_NAMES = Object.keys(COMMANDS);

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
    process.stdout.write((await helpText()).formatHelp(name, {}, subs));
    return args.length === 0 ? 1 : 0;
  }
  try { return await f(g, args); } catch (e) {
    if (e instanceof HelpRequested) { process.stdout.write((await helpText()).formatHelp(name, e.specs, [], aliasesOf(name))); return 0; }
    const usage = e instanceof BerthError && e.kind === 'InvalidArgument' ? await usageError(e.message, name) : undefined;
    if (usage) { process.stderr.write(usage.text); return usage.code; }
    return report(e);
  }
}

/**
 * A wrong command line as the docker CLI words it (cli/required.go, cobra's flag errors): the usage line and
 * where to read more; an unknown flag exits 125 like docker's. Undefined for any other error.
 */
export async function usageError(message: string, name: string): Promise<{ text: string; code: number } | undefined> {
  const m = usageMistake(message);
  if (!m) return undefined;
  const h = (await helpText()).commandHelp(name);
  const use = `Usage:  berth ${h?.usage ?? name}`;
  if ('flag' in m) return { text: `${m.flag}\n\n${use}\n\nRun 'berth ${name} --help' for more information\n`, code: 125 };
  return { text: `berth: 'berth ${name}' ${m.args}\n\n${use}\n\n${m.see ? 'See' : 'Run'} 'berth ${name} --help' for more information\n`, code: 1 };
}
