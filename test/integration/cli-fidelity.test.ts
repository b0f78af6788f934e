// What a docker user notices in berth's own CLI against berthd, checked against docker CLI 28.2.2 on
// dockerd: names printed in argument order, exit codes and texts of failures over several names, the
// system df table, the ps COMMAND quoting, events' time with nine digits.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isRoot } from '../helpers/bundle.js';
import { berth, startDaemon, type Daemon } from '../helpers/daemon.js';
import { importBusybox } from '../helpers/images.js';
import { tarDir } from '../helpers/registry.js';
import { busyboxRootfs } from '../helpers/rootfs.js';

function call(socket: string, method: string, p: string, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: socket, method, path: p, headers: { 'Content-Type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => { text += c.toString(); });
      res.on('end', () => resolve({ status: res.statusCode!, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

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

  test('volumes: Labels as the create gave them, null for none (dockerd 20.10), the wire in Go\'s field order', async () => {
    await ok('volume', 'create', 'vl1');
    await ok('volume', 'create', '--label', 'a=b', 'vl2');
    assert.equal(await ok('volume', 'inspect', '--format', '{{json .Labels}}', 'vl1', 'vl2'), 'null\n{"a":"b"}\n');
    const made = await call(d.socket, 'POST', '/volumes/create', '{"Name":"vl3","Labels":{}}');
    assert.equal(made.status, 201, made.body);
    assert.deepEqual(Object.keys(JSON.parse(made.body)), ['CreatedAt', 'Driver', 'Labels', 'Mountpoint', 'Name', 'Options', 'Scope']);
    const got = (n: string) => call(d.socket, 'GET', `/volumes/${n}`).then((r) => (JSON.parse(r.body) as { Labels: unknown }).Labels);
    assert.deepEqual([await got('vl1'), await got('vl2'), await got('vl3')], [null, { a: 'b' }, {}]);
    await call(d.socket, 'POST', '/volumes/create', '{"Name":"vl4"}');
    assert.equal(await got('vl4'), null);
    // volume ls rows are docker/cli's volumeContext: no CreatedAt, the cluster fields N/A
    assert.match(await ok('volume', 'ls', '--filter', 'name=vl2', '--format', 'json'),
      /^\{"Availability":"N\/A","Driver":"local","Group":"N\/A","Labels":"a=b","Links":"N\/A","Mountpoint":"[^"]+","Name":"vl2","Scope":"local","Size":"N\/A","Status":"N\/A"\}\n$/);
    await ok('volume', 'rm', 'vl1', 'vl2', 'vl3', 'vl4');
  });

  test('port: docker\'s errors (the port as typed, ParseUint\'s words); argument counts in docker 28\'s words', async () => {
    await ok('create', '--name', 'pt1', 'bb:fid', 'true');
    const none = await b('port', 'pt1', '91');
    assert.deepEqual([none.code, none.stdout, none.stderr], [1, '', "Error: No public port '91' published for pt1\n"]);
    const bad = await b('port', 'pt1', 'abc');
    assert.deepEqual([bad.code, bad.stderr], [1, 'Error: invalid port (abc): strconv.ParseUint: parsing "abc": invalid syntax\n']);
    const many = await b('port', 'pt1', '80', '90');
    assert.deepEqual([many.code, many.stderr], [1, "berth: 'berth port' requires at least 1 and at most 2 arguments\n\nUsage:  berth port CONTAINER [PRIVATE_PORT[/PROTO]]\n\nRun 'berth port --help' for more information\n"]);
    const prune = await b('container', 'prune', '-f', 'x');
    assert.deepEqual([prune.code, prune.stdout, prune.stderr], [1, '', "berth: 'berth container prune' accepts no arguments\n\nUsage:  berth container prune [OPTIONS]\n\nRun 'berth container prune --help' for more information\n"]);
    assert.equal((await b('ps', '-a', '--filter', 'name=pt1', '--format', '{{.Names}}')).stdout, 'pt1\n', 'nothing was pruned');
    await ok('rm', 'pt1');
  });

  test('import: history as moby\'s (no CREATED BY, "Imported from -"), the comment in the config', async () => {
    const tarFile = path.join(d.dir, 'rootfs.tar');
    fs.writeFileSync(tarFile, await tarDir(await busyboxRootfs(), false));
    await ok('import', tarFile, 'bb:imp');
    assert.equal(await ok('history', '--no-trunc', '--format', '{{json .CreatedBy}} {{.Comment}}', 'bb:imp'), '"" Imported from -\n');
    assert.equal(await ok('image', 'inspect', '--format', '{{.Comment}}', 'bb:imp'), 'Imported from -\n');
    assert.match(await ok('history', '--format', '{{.CreatedAt}}', 'bb:imp'), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\n$/);
    await ok('rmi', 'bb:imp');
  });

  test('network Created with nanoseconds; ls CreatedAt and inspect .Created as Go\'s time.String()', async () => {
    const created: string[] = [];
    for (const n of ['nt1', 'nt2', 'nt3']) {
      await ok('network', 'create', n);
      created.push((JSON.parse((await call(d.socket, 'GET', `/networks/${n}`)).body) as { Created: string }).Created);
    }
    for (const c of created) assert.match(c, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/);
    // ms precision would have at most 3 digits in all three
    assert.ok(created.some((c) => /\.\d{4,9}Z$/.test(c)), created.join(' '));
    const goString = (c: string) => c.replace('T', ' ').replace(/Z$/, ' +0000 UTC');
    assert.equal(await ok('network', 'ls', '--filter', 'name=nt1', '--format', '{{.CreatedAt}} {{.IPv4}}'), `${goString(created[0]!)} true\n`);
    assert.equal(await ok('network', 'inspect', '--format', '{{.Created}} {{json .Created}}', 'nt2'), `${goString(created[1]!)} ${JSON.stringify(created[1])}\n`);
    await ok('network', 'rm', 'nt1', 'nt2', 'nt3');
  });

  test('events --format: Go field names and exact timeNano in {{json .}}', async () => {
    await ok('create', '--name', 'ev2', 'bb:fid', 'true');
    await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 50));
    const out = await ok('events', '--since', '1m30s', '--until', '0s', '--filter', 'container=ev2', '--format', '{{.Type}} {{.Action}} {{.Status}} {{.Scope}} {{.From}} {{.TimeNano}}|{{json .}}');
    const m = /^container create create local bb:fid (\d{19})\|(\{.*\})\n$/.exec(out);
    assert.ok(m, out);
    assert.ok(m[2]!.endsWith(`"timeNano":${m[1]}}`), out);
    await ok('rm', 'ev2');
  });

  test('errors as docker 28 prints them: CLI-side ones as they are (no "Error: " added), bad flag values with the usage and 125', async () => {
    await ok('create', '--name', 'er1', 'bb:fid', 'true');
    const cp = await b('cp', 'er1:/a', 'er1:/b');
    assert.deepEqual([cp.code, cp.stderr], [1, 'copying between containers is not supported\n']);
    const since = await b('logs', '--since', 'abc', 'er1');
    assert.deepEqual([since.code, since.stderr], [1, 'invalid value for "since": failed to parse value as time or duration: "abc"\n']);
    const ev = await b('events', '--since', 'abc');
    assert.deepEqual([ev.code, ev.stderr], [1, 'failed to parse value as time or duration: "abc"\n']);
    const mem = await b('update', '--memory', 'abc', 'er1');
    assert.deepEqual([mem.code, mem.stderr], [125, "invalid argument \"abc\" for \"-m, --memory\" flag: invalid size: 'abc'\n\nUsage:  berth update [OPTIONS] CONTAINER [CONTAINER...]\n\nRun 'berth update --help' for more information\n"]);
    const run = await b('run', '--memory', 'abc', 'bb:fid', 'true');
    assert.deepEqual([run.code, run.stderr], [125, "invalid argument \"abc\" for \"-m, --memory\" flag: invalid size: 'abc'\n\nUsage:  berth run [OPTIONS] IMAGE [COMMAND] [ARG...]\n\nRun 'berth run --help' for more information\n"]);
    const filter = await b('ps', '--filter', 'x');
    assert.deepEqual([filter.code, filter.stderr], [125, 'invalid argument "x" for "-f, --filter" flag: bad format of filter (expected name=value)\n\nUsage:  berth ps [OPTIONS]\n\nRun \'berth ps --help\' for more information\n']);
    const rename = await b('rename', 'nosuch', 'x');
    assert.deepEqual([rename.code, rename.stderr], [1, 'Error response from daemon: No such container: nosuch\nError: failed to rename container named nosuch\n']);
    const img = await b('image', 'inspect', 'nosuch');
    assert.deepEqual([img.code, img.stdout, img.stderr], [1, '[]\n', 'Error response from daemon: No such image: nosuch:latest\n']);
    await ok('rm', 'er1');
  });

  test('logs --details: the attributes and a space before each line, as dockerd', async () => {
    await ok('run', '--name', 'lg1', 'bb:fid', 'echo', 'hi');
    assert.equal(await ok('logs', '--details', 'lg1'), ' hi\n');
    await ok('rm', 'lg1');
  });

  test('logs --tail: a value strconv.Atoi refuses, or a negative one, shows every line, as moby 28 (daemon/logs.go)', async () => {
    await ok('run', '--name', 'lg2', 'bb:fid', 'seq', '1', '3');
    for (const t of ['abc', '1e3', '-1', ' 2', 'all']) assert.equal(await ok('logs', '--tail', t, 'lg2'), '1\n2\n3\n', `--tail ${JSON.stringify(t)}`);
    assert.equal(await ok('logs', '--tail', '+2', 'lg2'), '2\n3\n');
    assert.equal(await ok('logs', '--tail', '0', 'lg2'), '');
    const raw = await call(d.socket, 'GET', '/containers/lg2/logs?stdout=1&tail=some');
    assert.equal(raw.status, 200, raw.body);
    await ok('rm', 'lg2');
  });

  test('--format over the wire: sub-pipelines, printf verbs, <no value> for a label not set (inspect, ps)', async () => {
    await ok('create', '--name', 'fm1', '--label', 'a=x,y', 'bb:fid', 'true');
    assert.equal(await ok('inspect', '--format', '{{join (split (index .Config.Labels "a") ",") "+"}}|{{.Config.Labels.nope}}|{{printf "%-5s|%t" .State.Status .State.Running}}', 'fm1'), 'x+y|<no value>|created|false\n');
    assert.equal(await ok('ps', '-a', '--filter', 'name=fm1', '--format', '{{printf "%.3s" .Names}} {{.Labels}} [{{.Label "a"}}] [{{.Label "nope"}}]'), 'fm1 a=x,y [x,y] []\n');
    await ok('rm', 'fm1');
  });
});

