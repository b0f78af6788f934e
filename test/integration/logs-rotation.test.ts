// json-file rotation through the real docker CLI: rotated by default (10m x 3), --log-opt max-size/max-file
// (checked), `logs --tail/-t/--details/--since` across rotated files, --log-driver none and local.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isRoot } from '../helpers/bundle.js';
import { startDaemon, type Daemon } from '../helpers/daemon.js';
import { dockerCli } from '../helpers/docker-cli.js';
import { eventually } from '../helpers/leaks.js';
import { importBusybox } from '../helpers/images.js';

const skip = !isRoot ? 'needs root' : !fs.existsSync('/usr/local/bin/docker') ? 'needs the docker CLI' : false;

describe('log rotation (docker CLI)', { skip }, () => {
  let d: Daemon;
  const { docker, ok } = dockerCli(() => d.env);
  const logFiles = async (name: string) => {
    const log = JSON.parse(await ok('inspect', name))[0].LogPath as string;
    return fs.readdirSync(path.dirname(log)).filter((f) => f.startsWith(path.basename(log))).sort()
      .map((f) => ({ name: f, size: fs.statSync(path.join(path.dirname(log), f)).size }));
  };

  before(async () => {
    d = await startDaemon();
    await importBusybox(d, 'bb:log');
  });
  after(async () => { await d?.stop(); });

  test('max-size=10k max-file=3: three files at most, each bounded; logs shows the whole tail in order', async () => {
    await ok('run', '-d', '--name', 'rot', '--log-opt', 'max-size=10k', '--log-opt', 'max-file=3', 'bb:log', 'seq', '1', '3000');
    assert.equal(await ok('wait', 'rot'), '0\n'); // the monitor writes the exit status after the last entry
    const files = await logFiles('rot');
    assert.deepEqual(files.map((f) => f.name), ['json.log', 'json.log.1', 'json.log.2']);
    for (const f of files) assert.ok(f.size <= 10_000, `${f.name} is ${f.size} bytes`);
    // the tail spans the rotated files: an entry is ~75 bytes, so one 10k file holds ~130 of these 300 lines
    const tail = (await ok('logs', '--tail', '300', 'rot')).trim().split('\n').map(Number);
    assert.deepEqual(tail, Array.from({ length: 300 }, (_, i) => 2701 + i));
    const all = (await ok('logs', 'rot')).trim().split('\n').map(Number);
    assert.equal(all.at(-1), 3000);
    assert.ok(all[0]! > 1, 'the oldest entries were rotated away');
    assert.deepEqual(all, Array.from({ length: all.length }, (_, i) => all[0]! + i), 'no entry lost or repeated across the files');
    const stamped = (await ok('logs', '-t', '--tail', '1', 'rot')).trim();
    assert.match(stamped, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z 3000$/);
    assert.equal(await ok('logs', '--details', '--tail', '1', 'rot'), ' 3000\n');
    const since = stamped.split(' ')[0]!;
    assert.equal(await ok('logs', '--since', since, 'rot'), '3000\n');
    const until = (await ok('logs', '-t', '--tail', '300', 'rot')).split('\n')[0]!.split(' ')[0]!;
    assert.equal((await ok('logs', '--until', until, 'rot')).trim().split('\n').at(-1), '2701');
    assert.deepEqual(JSON.parse(await ok('inspect', 'rot'))[0].HostConfig.LogConfig, { Type: 'json-file', Config: { 'max-size': '10k', 'max-file': '3' } });
  });

  test('logs -f follows across rotations to the end', async () => {
    // In lock step, not paced by time: the container writes a batch of 30 lines (about one 2k file, one or two
    // rotations) only once the test saw the last batch through the follower. A follower is then never more than
    // two rotations behind, so with max-file=3 no line it has not read is dropped from the disk, however loaded
    // the machine; a clock-paced writer lost lines to a follower slowed down by load.
    const batches = 10, per = 30;
    await ok('run', '-d', '--name', 'fol', '--log-opt', 'max-size=2k', '--log-opt', 'max-file=3', 'bb:log', 'sh', '-c',
      `i=1; b=1; while [ $b -le ${batches} ]; do while [ ! -e /tmp/go-$b ]; do sleep 0.02; done; ` +
      `n=0; while [ $n -lt ${per} ]; do echo line-$i; i=$((i+1)); n=$((n+1)); done; b=$((b+1)); done`);
    // its stderr is ours too (not the test file's), for the failure message
    const follower = spawn('/usr/local/bin/docker', ['logs', '-f', 'fol'], { env: d.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '', closed = false;
    follower.stdout!.on('data', (b: Buffer) => { out += b.toString(); });
    follower.stderr!.on('data', (b: Buffer) => { err += b.toString(); });
    follower.once('close', () => { closed = true; });
    try {
      for (let b = 1; b <= batches; b++) {
        await ok('exec', 'fol', 'touch', `/tmp/go-${b}`);
        assert.ok(await eventually(() => out.includes(`line-${b * per}\n`), 30_000), `the follower got batch ${b}: ${JSON.stringify(out.slice(-200))} ${err}`);
      }
      // the container is done: logs -f ends (a deadline as a hang guard)
      assert.ok(await eventually(() => closed, 60_000), `logs -f did not end with the container: ${err}`);
    } finally { follower.kill('SIGKILL'); }
    assert.deepEqual(out.trim().split('\n'), Array.from({ length: batches * per }, (_, i) => `line-${i + 1}`), 'every line, in order, none twice');
    assert.ok((await logFiles('fol')).length === 3, 'it did rotate');
  });

  test('rotated by default at 10m: a log past it rotates and the tail is whole', async () => {
    await ok('run', '-d', '--name', 'big', 'bb:log', 'sh', '-c', 'seq 1 200000 | sed "s/$/ padding-to-make-the-entry-longer/"');
    assert.equal(await ok('wait', 'big'), '0\n');
    const files = await logFiles('big'); // ~23 MB of entries
    assert.deepEqual(files.map((f) => f.name), ['json.log', 'json.log.1', 'json.log.2']);
    assert.ok(files.every((f) => f.size <= 10_000_000));
    assert.equal(await ok('logs', '--tail', '2', 'big'), '199999 padding-to-make-the-entry-longer\n200000 padding-to-make-the-entry-longer\n');
    assert.deepEqual(JSON.parse(await ok('inspect', 'big'))[0].HostConfig.LogConfig, { Type: 'json-file', Config: {} });
  });

  test('bad log options are 400 with docker\'s wording and create nothing', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--log-opt', 'max-size=lots'], /invalid size: 'lots'/],
      [['--log-opt', 'max-size=0'], /max-size must be a positive number/],
      [['--log-opt', 'max-file=0'], /max-file cannot be less than 1/],
      [['--log-opt', 'bogus=1'], /unknown log opt 'bogus' for json-file log driver/],
      [['--log-driver', 'syslogd'], /logger: no log driver named 'syslogd' is registered/],
    ];
    for (const [flags, want] of cases) {
      const r = await docker('create', ...flags, 'bb:log', 'true');
      assert.notEqual(r.code, 0, flags.join(' '));
      assert.match(r.stderr, want);
    }
    assert.equal(await ok('ps', '-aq', '--filter', 'status=created'), '');
  });

  test('--log-driver none keeps nothing and logs says so; local is served as json-file with a warning', async () => {
    await ok('run', '-d', '--name', 'quiet', '--log-driver', 'none', 'bb:log', 'echo', 'hidden');
    assert.equal(await ok('wait', 'quiet'), '0\n');
    const r = await docker('logs', 'quiet');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /configured logging driver does not support reading/);
    assert.ok(!(await logFiles('quiet')).length, 'no log file written');
    const loc = await docker('run', '--name', 'loc', '--log-driver', 'local', 'bb:log', 'echo', 'kept');
    assert.equal(loc.code, 0, loc.stderr);
    assert.match(loc.stderr, /WARNING: the "local" logging driver is served as json-file by berth/);
    assert.equal(await ok('logs', 'loc'), 'kept\n');
  });
});
