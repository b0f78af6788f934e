#!/usr/bin/env node
// berth CLI entry: picks the command group and imports only its module, so start-up stays small.
import { createRequire } from 'node:module';
import { trace } from '../util/trace.js';
import { finish } from './entry.js';

// Set by scripts/build.mjs in the bundled berth.js, whose runtime group is one CommonJS file.
declare const BERTH_RUNTIME_CJS: boolean | undefined;

trace('cli: loaded');

// `berth runtime` is a cold process by nature (each runc verb is one): the CommonJS file is compiled by
// require() alone, ~20 ms of CPU less than the ESM loader over the chunks (issue 13, bench/runtime.sh)
const runtime = async (): Promise<typeof import('./runtime.js')> =>
  (typeof BERTH_RUNTIME_CJS !== 'undefined' ? createRequire(import.meta.url)('./runtime.cjs') : import('./runtime.js'));

const groups: Record<string, () => Promise<{ main(argv: string[]): Promise<number> }>> = {
  store: () => import('./image.js'),
};

async function main(argv: string[]): Promise<number> {
  const [group, ...rest] = argv;
  if (group === undefined || group === '--help' || group === '-h' || (group === 'help' && rest.length === 0)) {
    process.stdout.write(usage());
    return group === undefined ? 1 : 0;
  }
  if (group === '--version') {
    process.stdout.write('berth version 0.1.0\n');
    return 0;
  }
  // a runtime verb ends the process itself (cli/runtime.ts direct)
  if (group === 'runtime') return (await runtime()).direct(rest);
  const load = groups[group];
  // everything else is docker's grammar, served through berthd (-H/--host may come first)
  if (!load) return (await import('./docker/index.js')).main(argv);
  return (await load()).main(rest);
}

function usage(): string {
  return `Usage: berth COMMAND

A Docker-compatible container engine.

Commands through berthd (docker's grammar; -H/--host, BERTH_HOST or DOCKER_HOST pick the daemon):
  run, create, start, stop, restart, kill, rm, ps, logs, exec, attach, inspect, wait, rename,
  cp, diff, export, commit, container prune, system df|prune,
  build, images, pull, push, tag, rmi, save, load, import, history, login, logout, info, version, events, system df,
  container …, image ls|build|pull|push|tag|rm|save|load|import|inspect|history|prune
  network create|ls|inspect|rm|prune|connect|disconnect

\`berth COMMAND --help\` or \`berth help COMMAND\` describes a command and its flags.

Commands without a daemon:
  runtime     OCI runtime (runc's command set: spec, create, start, state, kill, delete, run, exec, ps, pause, resume, list)
  store       The local image store directly (pull, push, ls, inspect, rm, tag, save, load, import, history, prune, login)
`;
}

finish(main(process.argv.slice(2)));
