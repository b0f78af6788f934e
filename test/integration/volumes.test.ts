// Named volumes through the real docker CLI: create/ls/inspect/rm, `-v name:/path` (auto-created),
// data surviving container removal and a berthd kill -9, the in-use refusal, bad input.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isRoot } from '../helpers/bundle.js';
import { startDaemon, type Daemon } from '../helpers/daemon.js';
import { dockerCli } from '../helpers/docker-cli.js';
import { tarDir } from '../helpers/registry.js';
import { importBusybox } from '../helpers/images.js';
import { busyboxRootfs } from '../helpers/rootfs.js';

const skip = !isRoot ? 'needs root' : !fs.existsSync('/usr/local/bin/docker') ? 'needs the docker CLI' : false;

describe('volumes (docker CLI)', { skip }, () => {
  let d: Daemon;
  const { docker, ok } = dockerCli(() => d.env);

  before(async () => {
    d = await startDaemon();
    await importBusybox(d, 'bb:vol');
    // an image whose VOLUME /data has content: owner 1000:1000, mode 0640 on the file, 0750 on the dir
    const rootfs = fs.mkdtempSync(path.join(d.dir, 'rootfs-'));
    fs.cpSync(await busyboxRootfs(), rootfs, { recursive: true, verbatimSymlinks: true });
    fs.rmSync(path.join(rootfs, 'data'), { recursive: true, force: true });
    fs.mkdirSync(path.join(rootfs, 'data'), { mode: 0o750 });
    fs.writeFileSync(path.join(rootfs, 'data', 'seed'), 'from image\n', { mode: 0o640 });
    fs.chownSync(path.join(rootfs, 'data', 'seed'), 1000, 1000);
    fs.chmodSync(path.join(rootfs, 'data'), 0o750);
    const volTar = path.join(d.dir, 'rootfs-vol.tar');
    fs.writeFileSync(volTar, await tarDir(rootfs, false));
    await ok('import', '-c', 'CMD ["sh"]', '-c', 'VOLUME /data', volTar, 'bb:withvol');
  });
  after(async () => { await d?.stop(); });

  test('create, ls with filters, inspect, rm; unknown volume is a 404', async () => {
    assert.equal((await ok('volume', 'create', '--label', 'team=a', 'v1')).trim(), 'v1');
    await ok('volume', 'create', 'v2');
    assert.deepEqual((await ok('volume', 'ls', '-q')).trim().split('\n'), ['v1', 'v2']);
    assert.equal((await ok('volume', 'ls', '-q', '--filter', 'label=team=a')).trim(), 'v1');
    assert.equal((await ok('volume', 'ls', '-q', '--filter', 'name=2')).trim(), 'v2');
    const [info] = JSON.parse(await ok('volume', 'inspect', 'v1'));
    assert.equal(info.Driver, 'local');
    assert.deepEqual(info.Labels, { team: 'a' });
    assert.ok(fs.statSync(info.Mountpoint).isDirectory());
    await ok('volume', 'rm', 'v1', 'v2');
    assert.equal((await ok('volume', 'ls', '-q')).trim(), '');
    const r = await docker('volume', 'inspect', 'nosuch');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /no such volume/);
    const bad = await docker('volume', 'create', 'bad/name');
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /includes invalid characters for a local volume name/);
  });

  test('-v name:/path: auto-created; data survives container removal and berthd kill -9; in use is a 409', async () => {
    await ok('run', '--name', 'writer', '-v', 'keep:/data', 'bb:vol', 'sh', '-c', 'echo hello > /data/f');
    assert.equal((await ok('volume', 'ls', '-q')).trim(), 'keep');
    const busy = await docker('volume', 'rm', 'keep');
    assert.notEqual(busy.code, 0);
    assert.match(busy.stderr, /remove keep: volume is in use - \[[0-9a-f]{64}\]/);
    await ok('rm', 'writer');
    await d.crashAndRestart();
    assert.equal(await ok('run', '--rm', '-v', 'keep:/data', 'bb:vol', 'cat', '/data/f'), 'hello\n');
    await ok('volume', 'rm', 'keep');
    assert.equal((await ok('volume', 'ls', '-q')).trim(), '');
  });

  test('image VOLUME: an anonymous volume gets the image content with owner and modes; rm -v removes it', async () => {
    await ok('run', '--name', 'anon', 'bb:withvol', 'sh', '-c', 'cat /data/seed; stat -c "%u:%g %a" /data/seed /data; echo more > /data/new');
    const out = await ok('logs', 'anon');
    assert.equal(out, 'from image\n1000:1000 640\n0:0 750\n');
    const names = (await ok('volume', 'ls', '-q')).trim().split('\n');
    assert.equal(names.length, 1);
    assert.match(names[0]!, /^[0-9a-f]{64}$/);
    const [info] = JSON.parse(await ok('volume', 'inspect', names[0]!));
    assert.equal(fs.readFileSync(path.join(info.Mountpoint, 'new'), 'utf8'), 'more\n');
    await ok('rm', '-v', 'anon');
    assert.equal((await ok('volume', 'ls', '-q')).trim(), '');
  });

  test('a named volume is filled from the image once; nocopy leaves it empty', async () => {
    await ok('run', '--rm', '-v', 'seeded:/data', 'bb:withvol', 'rm', '/data/seed');
    assert.equal(await ok('run', '--rm', '-v', 'seeded:/data', 'bb:withvol', 'ls', '/data'), '');
    assert.equal(await ok('run', '--rm', '-v', 'fresh:/data:nocopy', 'bb:withvol', 'ls', '/data'), '');
    await ok('volume', 'rm', 'seeded', 'fresh');
  });
});
