// A committed image's new layer is a blob until first used (images/lazy-layers); docker shows the image whole
// from the start: its Size (the sum of its layers' unpacked sizes) in inspect, `docker images` and `system df`
// (-v too), df's LayersSize, and GraphDriver LowerDir naming every layer's directory. None of it may change on
// first use, nor after a kill -9 of berthd between the commit and the first use.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { Client } from '../../src/client/index.js';
import { isRoot } from '../helpers/bundle.js';
import { startDaemon, type Daemon } from '../helpers/daemon.js';
import { dockerCli } from '../helpers/docker-cli.js';
import { importBusybox } from '../helpers/images.js';
import { eventually } from '../helpers/leaks.js';

const skip = !isRoot ? 'needs root' : !fs.existsSync('/usr/local/bin/docker') ? 'needs the docker CLI' : false;

interface Df { LayersSize: number; Images: Array<{ Id: string; Size: number; SharedSize: number }> }

describe('a committed image not yet unpacked: sizes and LowerDir as after its first use', { skip }, () => {
  let d: Daemon;
  const { docker, ok } = dockerCli(() => d.env);
  // the new layer's files: docker's layer size is the bytes of its regular files (a hard link counted once,
  // a symlink, directories and the empty marker not at all)
  const FILES = 3_000_000 + 3_333;

  /** Everything that shows lazy:df's size or layers, through the CLI and the API. */
  const view = async () => {
    const [img] = JSON.parse(await ok('image', 'inspect', 'lazy:df'));
    const api = new Client(d.host);
    let df: Df; let list: Array<{ Id: string; Size: number }>;
    try {
      df = await api.json<Df>('GET', '/system/df');
      list = await api.json('GET', '/images/json');
    } finally { api.close(); }
    const dfv = (await ok('system', 'df', '-v')).split('\n').filter((l) => l.startsWith('lazy'))
      .map((l) => l.replace(/(About a minute|Less than a second|\d+ \w+) ago/, '_').replace(/\s+/g, ' '));
    return {
      inspect: { Size: img.Size, LowerDir: img.GraphDriver.Data.LowerDir as string },
      images: (await ok('images', '--format', '{{.Repository}}:{{.Tag}} {{.Size}}')).split('\n').filter((l) => l.startsWith('lazy')),
      list: list.find((i) => i.Id === img.Id)?.Size,
      df: { LayersSize: df.LayersSize, image: df.Images.find((i) => i.Id === img.Id)?.Size },
      dfCli: (await ok('system', 'df', '--format', '{{.Type}} {{.TotalCount}} {{.Size}}')).split('\n')[0],
      dfv,
    };
  };

  before(async () => {
    d = await startDaemon();
    await importBusybox(d, 'bb:df');
  });
  after(async () => { await d?.stop(); });

  test('inspect, images, system df (-v) and /system/df agree before the first use, after a kill -9, and after the first use', async () => {
    const id = (await ok('run', '-d', 'bb:df', 'sh', '-c',
      'head -c 3000000 /dev/urandom > /a; head -c 3333 /dev/urandom > /b; ln /a /hard; ln -s /a /sym; mkdir -p /d/e; touch /ready; sleep 100000')).trim();
    assert.ok(await eventually(async () => (await docker('exec', id, 'test', '-e', '/ready')).code === 0, 30_000), 'the container wrote its files');
    await ok('commit', id, 'lazy:df');
    await ok('rm', '-f', id);
    const [base] = JSON.parse(await ok('image', 'inspect', 'bb:df'));

    const first = await view();
    assert.equal(first.inspect.Size - base.Size, FILES, 'the new layer counts its files\' bytes');
    assert.equal(first.list, first.inspect.Size, '/images/json Size');
    assert.equal(first.df.image, first.inspect.Size, '/system/df image Size');
    assert.ok(first.df.LayersSize >= first.inspect.Size, `LayersSize counts the new layer: ${first.df.LayersSize}`);
    const lowers = first.inspect.LowerDir.split(':');
    assert.equal(lowers.length, 2, `LowerDir names both layers: ${first.inspect.LowerDir}`);
    assert.equal(lowers[1], base.GraphDriver.Data.LowerDir, 'the bottom layer last');
    assert.equal(first.dfv.length, 1, 'system df -v lists lazy:df');

    await d.crashAndRestart();
    assert.deepEqual(await view(), first, 'the same after a kill -9 and restart');

    await ok('run', '--rm', 'lazy:df', 'sh', '-c', 'cmp /a /hard && cmp /a /sym && test -s /b');
    assert.ok(fs.existsSync(lowers[0]!), 'the first use made the layer\'s directory named before');
    assert.deepEqual(await view(), first, 'the same once unpacked');
  });
});
