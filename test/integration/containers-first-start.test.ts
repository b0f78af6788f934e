// A container's first start takes what its image's root holds (where mount destinations resolve, passwd and
// group) from an earlier first start of the same image (containers/service rootFacts, issue 13). Only while
// its root is still the image's: a root changed before that start (docker cp) is looked at again.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isRoot } from '../helpers/bundle.js';
import { startDaemon, type Daemon } from '../helpers/daemon.js';
import { dockerCli, DOCKER } from '../helpers/docker-cli.js';
import { tarDir } from '../helpers/registry.js';
import { busyboxRootfs } from '../helpers/rootfs.js';

const skip = !isRoot ? 'needs root' : !fs.existsSync(DOCKER) ? 'needs the docker CLI at /usr/local/bin/docker' : false;
const INTO_PROC = /mounts\[\d+\]\.destination: \/hostile resolves to \/proc\/sys in the rootfs: "\/proc\/sys" cannot be mounted because it is inside \/proc/;

describe('containers: first starts of one image', { skip }, () => {
  let d: Daemon;
  let src: string;
  const { docker, ok } = dockerCli(() => d.env, { log: () => d.log() });

  before(async () => {
    d = await startDaemon();
    const tarFile = path.join(d.dir, 'rootfs.tar');
    fs.writeFileSync(tarFile, await tarDir(await busyboxRootfs(), false));
    await ok('import', '-c', 'CMD ["sh"]', tarFile, 'bb:first');
    src = path.join(d.dir, 'src');
    fs.mkdirSync(src);
  });
  after(async () => { await d?.stop(); });

  test('a symlink copied in before the first start is judged, though an earlier container of the image had none', async () => {
    // the first: /d is missing in the image, the bind goes where it says
    assert.equal(await ok('run', '--rm', '-v', `${src}:/d/x`, 'bb:first', 'sh', '-c', 'test -d /d/x && echo bound'), 'bound\n');
    // the second: its /d made a symlink to /proc/sys by cp before its start (cp into /d/x would go to the bind's source)
    const id = (await ok('create', '-v', `${src}:/d/x`, 'bb:first', 'true')).trim();
    const link = path.join(d.dir, 'link');
    fs.mkdirSync(link);
    fs.symlinkSync('/proc/sys', path.join(link, 'd'));
    await ok('cp', path.join(link, 'd'), `${id}:/d`);
    const r = await docker('start', id);
    assert.notEqual(r.code, 0, 'the start was refused');
    assert.match(r.stderr, /mounts\[\d+\]\.destination: \/d\/x resolves to \/proc\/sys\/x in the rootfs: "\/proc\/sys\/x" cannot be mounted because it is inside \/proc/);
    await ok('rm', '-f', id);
  });

  test('a symlink in the image refuses every first start, the later ones too', async () => {
    await ok('run', '--name', 'mk', 'bb:first', 'ln', '-s', '/proc/sys', '/hostile');
    await ok('commit', 'mk', 'bb:hostile');
    await ok('rm', 'mk');
    for (let i = 0; i < 3; i++) {
      const r = await docker('run', '--rm', '-v', `${src}:/hostile`, 'bb:hostile', 'true');
      assert.notEqual(r.code, 0, `run ${i} was refused`);
      assert.match(r.stderr, INTO_PROC);
    }
  });

  test('hostname, hosts and resolv.conf: made at the first start, one a killed daemon left half written replaced, the same again at the next start', async () => {
    const id = (await ok('create', '--hostname', 'h1', 'bb:first', 'sh', '-c', 'cat /etc/hostname /etc/hosts /etc/resolv.conf')).trim();
    const dir = path.join(d.root, 'containers', id);
    assert.equal(fs.existsSync(path.join(dir, 'hosts')), false, 'made by the start, not the create');
    const first = await ok('start', '-a', id);
    assert.match(first, /^h1\n127\.0\.0\.1\tlocalhost\n/);
    assert.match(first, /nameserver /);
    // as far as a killed daemon got (hosts is written again once the network is attached)
    fs.writeFileSync(path.join(dir, 'hostname'), 'h');
    fs.writeFileSync(path.join(dir, 'resolv.conf'), 'names');
    assert.equal(await ok('start', '-a', id), first);
    assert.equal(await ok('start', '-a', id), first);
    await ok('rm', id);
  });

  test('users and groups come from each first start\'s image: a user the image has, one the other image lacks', async () => {
    await ok('run', '--name', 'mk2', 'bb:first', 'sh', '-c', 'echo "app:x:1234:4321::/home/app:/bin/sh" >> /etc/passwd; echo "grp:x:4321:" >> /etc/group');
    await ok('commit', 'mk2', 'bb:users');
    await ok('rm', 'mk2');
    for (let i = 0; i < 2; i++) {
      assert.equal(await ok('run', '--rm', '-u', 'app', 'bb:users', 'id'), 'uid=1234(app) gid=4321(grp)\n');
      const r = await docker('run', '--rm', '-u', 'app', 'bb:first', 'id');
      assert.notEqual(r.code, 0, 'bb:first has no user app');
      assert.match(r.stderr, /unable to find user app/);
    }
  });
});
