// What a docker user notices in berth's own CLI against berthd, checked against docker CLI 28.2.2 on
// dockerd: names printed in argument order, exit codes and texts of failures over several names, the
// system df table, the ps COMMAND quoting, events' time with nine digits.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { isRoot } from '../helpers/bundle.js';
import { berth, startDaemon, type Daemon } from '../helpers/daemon.js';
import { importBusybox } from '../helpers/images.js';

describe('berth CLI details against berthd', { skip: !isRoot ? 'needs root' : false }, () => {
  let d: Daemon;
  const b = (...args: string[]) => berth(args, { ...d.env, TZ: 'UTC' });
  const ok = async (...args: string[]) => {
    const r = await b(...args);
    assert.equal(r.code, 0, `berth ${args.join(' ')}: ${r.stderr}\n${d.log().slice(-1500)}`);
    return r.stdout;
  };

  before(async () => {
    d = await startDaemon();
    await importBusybox(d, 'bb:fid');
  });
  after(async () => { await d?.stop(); });

  test('rm of several names prints them in argument order', async () => {
    const names = ['f5', 'f1', 'f4', 'f2', 'f3'];
    for (const n of names) await ok('create', '--name', n, 'bb:fid', 'true');
    assert.equal(await ok('rm', ...names), names.map((n) => `${n}\n`).join(''));
    // errors after the names, in argument order too; exit 1
    await ok('create', '--name', 'f6', 'bb:fid', 'true');
    const r = await b('rm', 'nosuch2', 'f6', 'nosuch1');
    assert.deepEqual([r.code, r.stdout, r.stderr], [1, 'f6\n', 'Error response from daemon: No such container: nosuch2\nError response from daemon: No such container: nosuch1\n']);
  });

  test('failures over several names: start, rmi -f, kill', async () => {
    const s = await b('start', 'nosuch1', 'nosuch2');
    assert.equal(s.code, 1);
    assert.equal(s.stderr, 'Error response from daemon: No such container: nosuch1\nError response from daemon: No such container: nosuch2\nError: failed to start containers: nosuch1, nosuch2\n');
    // docker/cli image/remove.go: with -f a missing image is reported, and no failure
    const rf = await b('rmi', '-f', 'nosuch');
    assert.deepEqual([rf.code, rf.stderr], [0, 'Error response from daemon: No such image: nosuch:latest\n']);
    assert.equal((await b('rmi', 'nosuch')).code, 1);
    const k = await b('kill', 'nosuch');
    assert.deepEqual([k.code, k.stderr], [1, 'Error response from daemon: Cannot kill container: nosuch: No such container: nosuch\n']);
  });

  test('ps quotes arguments with spaces; system df as docker prints it', async () => {
    await ok('run', '--name', 'q1', 'bb:fid', 'sh', '-c', 'echo hi > /x');
    assert.equal(await ok('ps', '-a', '--filter', 'name=q1', '--format', '{{.Command}}'), `"sh -c 'echo hi > /x'"\n`);
    const df = (await ok('system', 'df')).split('\n');
    assert.equal(df[0], 'TYPE            TOTAL     ACTIVE    SIZE      RECLAIMABLE');
    // the image is used by q1 (and SharedSize is 0, no longer -1): nothing of it is reclaimable
    assert.match(df[1]!, /^Images {10}1 {9}1 {9}\d+(\.\d+)?[kMG]?B +0B \(0%\)$/);
    assert.match(df[2]!, /^Containers {6}1 {9}0 {9}\d+(\.\d+)?[kMG]?B +\d+(\.\d+)?[kMG]?B \(100%\)$/);
    const v = await ok('system', 'df', '-v');
    assert.match(v, /\nBuild cache usage: 0B\n\nCACHE ID   CACHE TYPE   SIZE      CREATED   LAST USED   USAGE     SHARED\n$/);
    await ok('rm', 'q1');
  });

  test('a wrong command line: usage as docker prints it, 125 for an unknown flag (the fast entry hands it over)', async () => {
    const f = await b('ps', '--bogus');
    assert.deepEqual([f.code, f.stdout, f.stderr], [125, '', "unknown flag: --bogus\n\nUsage:  berth ps [OPTIONS]\n\nRun 'berth ps --help' for more information\n"]);
    const r = await b('rm');
    assert.deepEqual([r.code, r.stderr], [1, "berth: 'berth rm' requires at least 1 argument\n\nUsage:  berth rm [OPTIONS] CONTAINER [CONTAINER...]\n\nSee 'berth rm --help' for more information\n"]);
  });

  test('events: docker\'s line, nine fraction digits, since/until as Go durations', async () => {
    await ok('create', '--name', 'ev1', 'bb:fid', 'true');
    // the CLI sends a duration as whole seconds before now (docker's GetTimestamp): `--until 0s` in the
    // second of the create would end before it, so the events command runs in a later second
    await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 50));
    const out = await ok('events', '--since', '1m30s', '--until', '0s', '--filter', 'container=ev1');
    assert.match(out, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z container create [0-9a-f]{64} \(image=bb:fid, name=ev1\)\n$/);
    await ok('rm', 'ev1');
  });
});
