import assert from 'node:assert/strict';
import { test } from 'node:test';
import { COMMANDS, GROUPS, main } from '../../src/cli/docker/index.js';

/** Runs the CLI in-process with stdout captured; a daemon is never reached (help comes before connecting). */
async function run(argv: string[]): Promise<{ code: number; out: string }> {
  const write = process.stdout.write.bind(process.stdout);
  let out = '';
  // the CLI writes strings; the test runner's own reports (serialized, as bytes) pass through
  process.stdout.write = ((chunk: string | Uint8Array) => { if (typeof chunk !== 'string') return write(chunk); out += chunk; return true; }) as typeof process.stdout.write;
  const host = process.env.BERTH_HOST;
  process.env.BERTH_HOST = 'unix:///nonexistent/berth-help-test.sock';
  try { return { code: await main(argv), out }; } finally {
    process.stdout.write = write;
    if (host === undefined) delete process.env.BERTH_HOST; else process.env.BERTH_HOST = host;
  }
}

const every = [
  ...Object.keys(COMMANDS).filter((c) => !GROUPS[c]).map((c) => [c]),
  ...Object.entries(GROUPS).flatMap(([g, subs]) => Object.keys(subs).map((s) => [g, s])),
  ['system', 'df'], ['system', 'info'], ['system', 'events'], ['system', 'prune'],
];

test('every command answers --help with its usage, a summary and a description for each flag', async () => {
  for (const words of every) {
    const { code, out } = await run([...words, '--help']);
    assert.equal(code, 0, `${words.join(' ')} --help exits 0`);
    const lines = out.split('\n');
    assert.ok(lines.some((l) => l.startsWith(`Usage:  berth ${words.join(' ')}`)), `${words.join(' ')}: usage line in\n${out}`);
    // the usage line (cp's has a second), a blank line, the summary
    const u = lines.findIndex((l) => l.startsWith(`Usage:  berth ${words.join(' ')}`));
    assert.ok(lines[lines.indexOf('', u) + 1]?.trim(), `${words.join(' ')}: a summary`);
    // flag lines (a wrapped description's next line may start with a flag's name too)
    const opts = lines.slice(lines.indexOf('Options:') + 1).filter((l) => /^ {2}(-\w, | {4})--/.test(l));
    if (lines.includes('Options:')) assert.ok(opts.length > 0);
    // pflag puts a description on a line of its own (column 16) when fewer than 24 columns are left beside the flags
    for (const l of opts) {
      const next = lines[lines.indexOf(l) + 1] ?? '';
      assert.ok(/--[\w-]+( \w+)?\s{3,}\S/.test(l) || (/--[\w-]+( \w+)?\s*$/.test(l) && /^ {16}\S/.test(next)), `${words.join(' ')}: flag without a description: ${l}`);
    }
  }
});

test('`help COMMAND` is `COMMAND --help`; a group lists its subcommands', async () => {
  const a = await run(['help', 'run']);
  const b = await run(['run', '--help']);
  assert.equal(a.out, b.out);
  assert.match(b.out, /-d, --detach\s+Run container in background/);
  assert.match(b.out, /-e, --env list\s+Set environment variables/);
  const g = await run(['image', '--help']);
  assert.equal(g.code, 0);
  assert.match(g.out, /Commands:\n {2}ls\s+List images/);
});

test('--help after the command of run/exec belongs to that command', async () => {
  // `berth run busybox sh --help` must not print berth's help: the words after IMAGE are the container's
  const { parseFlags } = await import('../../src/cli/args.js');
  const p = parseFlags(['-d', 'busybox', 'sh', '--help'], { detach: { short: 'd', type: 'bool' } }, 1);
  assert.deepEqual(p.rest, ['sh', '--help']);
});

test('help starts with the usage line, as docker 28\'s (no blank line first)', async () => {
  const { formatHelp } = await import('../../src/cli/docker/help.js');
  assert.equal(formatHelp('port', {}), 'Usage:  berth port CONTAINER [PRIVATE_PORT[/PROTO]]\n\nList port mappings or a specific mapping for the container\n');
  assert.match(formatHelp('cp', {}), /^Usage:  berth cp \[OPTIONS\] CONTAINER:SRC_PATH DEST_PATH\|-\n\tberth cp \[OPTIONS\] SRC_PATH\|- CONTAINER:DEST_PATH\n\nCopy files/);
});

test('help lists a command\'s other names under Aliases:, docker\'s flag type words and defaults, as docker 28.2.2 prints them', async () => {
  const ps = (await run(['container', 'ls', '--help'])).out;
  assert.match(ps, /^Usage: {2}berth container ls \[OPTIONS\]\n\nList containers\n\nAliases:\n {2}berth container ls, berth container list, berth container ps, berth ps\n\nOptions:\n/);
  assert.match(ps, /\n {2}-f, --filter filter {3}Filter output based on conditions provided\n/);
  // wrapped at 79 columns as docker 28.2.2's (stdin no terminal)
  assert.match(ps, /--last int +Show n last created containers \(includes all\n {24}states\) \(default -1\)\n/);
  assert.match((await run(['rmi', '--help'])).out, /\n\nAliases:\n {2}berth image rm, berth image remove, berth rmi\n\nOptions:/);
  assert.match((await run(['info', '--help'])).out, /\n\nAliases:\n {2}berth system info, berth info\n/);
  assert.match((await run(['run', '--help'])).out, /^Usage: {2}berth run \[OPTIONS\] IMAGE \[COMMAND\] \[ARG\.\.\.\]\n\nCreate and run a new container from an image\n\nAliases:\n {2}berth container run, berth run\n/);
  const vc = (await run(['volume', 'create', '--help'])).out;
  assert.doesNotMatch(vc, /Aliases:/); // a name of its own only
  assert.match(vc, /-d, --driver string +Specify volume driver name \(default "local"\)\n/);
  assert.match(vc, /-o, --opt map +Set driver specific options \(default map\[\]\)\n/);
  assert.match((await run(['logs', '--help'])).out, /-n, --tail string +Number of lines to show from the end of the logs\n {23}\(default "all"\)\n/);
});
