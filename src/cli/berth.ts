#!/usr/bin/env node
// berth CLI entry: picks the command group and imports only its module, so start-up stays small.
import { isBerthError } from '../errors.js';
import { trace } from '../util/trace.js';

trace('cli: loaded');

const groups: Record<string, () => Promise<{ main(argv: string[]): Promise<number> }>> = {
  runtime: () => import('./runtime.js'),
  image: () => import('./image.js'),
};

async function main(argv: string[]): Promise<number> {
  const [group, ...rest] = argv;
  if (group === undefined || group === '--help' || group === '-h' || group === 'help') {
    process.stdout.write(usage());
    return group === undefined ? 1 : 0;
  }
  if (group === '--version' || group === 'version') {
    process.stdout.write('berth version 0.1.0\n');
    return 0;
  }
  const load = groups[group];
  if (!load) {
    process.stderr.write(`berth: '${group}' is not a berth command.\nSee 'berth --help'.\n`);
    return 1;
  }
  return (await load()).main(rest);
}

function usage(): string {
  return `Usage: berth COMMAND

A Docker-compatible container engine.

Commands:
  runtime     OCI runtime (runc's command set: spec, create, start, state, kill, delete, run, exec, ps, pause, resume, list)
  image       Manage images (pull, push, ls, inspect, rm, tag, save, load, import, history, prune)
  version     Show the Berth version
`;
}

main(process.argv.slice(2)).then(
  (code) => { process.exitCode = code; },
  (e: unknown) => {
    const msg = isBerthError(e) || e instanceof Error ? e.message : String(e);
    process.stderr.write(`berth: ${msg}\n`);
    if (process.env.BERTH_DEBUG && e instanceof Error) process.stderr.write(`${e.stack}\n`);
    process.exitCode = 1;
  },
);
