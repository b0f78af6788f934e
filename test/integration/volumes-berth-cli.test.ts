// `berth volume …`, `berth run --mount/-v/--volumes-from/--log-opt` against berthd: docker's grammar and output.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { isRoot } from '../helpers/bundle.js';
import { berth, startDaemon, type Daemon } from '../helpers/daemon.js';
import { importBusybox } from '../helpers/images.js';

describe('berth volume and mount flags', { skip: isRoot ? false : 'needs root' }, () => {
  let d: Daemon;
  const b = (...args: string[]) => berth(args, d.env);
  const ok = async (...args: string[]) => {
    const r = await b(...args);
    assert.equal(r.code, 0, `berth ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };

  before(async () => {
    d = await startDaemon();
    await importBusybox(d, 'bb:cli');
  });
  after(async () => { await d?.stop(); });

  test('volume create/ls/inspect/rm/prune', async () => {
    assert.equal(await ok('volume', 'create', '--label', 'team=a', 'cv1'), 'cv1\n');
    assert.equal(await ok('volume', 'create', '-o', 'type=tmpfs', '-o', 'device=tmpfs', '-o', 'o=size=1m', 'cv2'), 'cv2\n');
    assert.match(await ok('volume', 'ls'), /^DRIVER +VOLUME NAME\nlocal +cv1\nlocal +cv2\n$/);
    assert.equal(await ok('volume', 'ls', '-q', '--filter', 'label=team=a'), 'cv1\n');
    assert.equal(await ok('volume', 'ls', '--format', '{{.Name}} {{.Labels}}'), 'cv1 team=a\ncv2 \n');
    const [v] = JSON.parse(await ok('volume', 'inspect', 'cv2'));
    assert.deepEqual(v.Options, { type: 'tmpfs', device: 'tmpfs', o: 'size=1m' });
    assert.equal(await ok('volume', 'inspect', '-f', '{{.Driver}} {{.Name}}', 'cv1'), 'local cv1\n');
    const miss = await b('volume', 'inspect', 'nosuch');
    assert.equal(miss.code, 1);
    assert.match(miss.stderr, /get nosuch: no such volume/);
    await ok('create', '--name', 'user', '-v', 'cv1:/d', 'bb:cli', 'true');
    const busy = await b('volume', 'rm', 'cv1');
    assert.equal(busy.code, 1);
    assert.match(busy.stderr, /^Error response from daemon: remove cv1: volume is in use - \[[0-9a-f]{64}\]\n$/);
    await ok('rm', 'user');
    assert.equal(await ok('volume', 'rm', 'cv1'), 'cv1\n');
    await ok('volume', 'create');
    const pr = await ok('volume', 'prune', '-f');
    assert.match(pr, /^Deleted Volumes:\n[0-9a-f]{64}\n\nTotal reclaimed space: 0B\n$/);
    assert.equal(await ok('volume', 'prune', '-a', '-f'), 'Deleted Volumes:\ncv2\n\nTotal reclaimed space: 0B\n');
    assert.equal(await ok('volume', 'ls', '-q'), '');
  });

  test('run --mount, -v, --volumes-from, --log-opt as the docker CLI sends them', async () => {
    await ok('run', '--name', 'wr', '--mount', 'type=volume,src=bv,dst=/v', '-v', '/anon', '--mount', 'type=tmpfs,dst=/t,tmpfs-size=1m',
      '--log-opt', 'max-size=1m', '--log-opt', 'max-file=2', 'bb:cli', 'sh', '-c', 'echo data > /v/f');
    assert.equal(await ok('run', '--rm', '--volumes-from', 'wr:ro', 'bb:cli', 'sh', '-c', 'cat /v/f; touch /v/g 2>/dev/null || echo ro'), 'data\nro\n');
    const i = JSON.parse(await ok('inspect', 'wr'))[0];
    assert.deepEqual(i.HostConfig.LogConfig, { Type: 'json-file', Config: { 'max-size': '1m', 'max-file': '2' } });
    assert.deepEqual(i.Mounts.map((m: { Type: string; Destination: string }) => `${m.Type} ${m.Destination}`), ['volume /anon', 'tmpfs /t', 'volume /v']);
    const bad = await b('run', '--rm', '--mount', 'type=bind,target=/x,bogus=1', 'bb:cli', 'true');
    assert.equal(bad.code, 125); // docker's code for a run that did not get as far as the container
    assert.match(bad.stderr, /invalid argument "type=bind,target=\/x,bogus=1" for "--mount" flag: unexpected key 'bogus'/);
    await ok('rm', '-v', 'wr');
    await ok('volume', 'rm', 'bv');
  });
});
