// `docker commit` stores the layer blob only; the layer's tree is unpacked from it when a container is first
// made from the image (images/lazy-layers). What must hold: the image is whole at once (size, history, save),
// the first run sees the change, and a kill -9 of berthd mid-commit or mid-unpack leaves nothing the store
// then trusts: no image, no blob, no snapshot half-made; the commit and the run work after the restart.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isRoot, run } from '../helpers/bundle.js';
import { startDaemon, type Daemon } from '../helpers/daemon.js';
import { dockerCli } from '../helpers/docker-cli.js';
import { eventually } from '../helpers/leaks.js';
import { tarDir } from '../helpers/registry.js';
import { busyboxRootfs } from '../helpers/rootfs.js';
import { pidStartTime } from '../../src/util/owner.js';

const skip = !isRoot ? 'needs root' : !fs.existsSync('/usr/local/bin/docker') ? 'needs the docker CLI' : false;

/** Files in dir (recursively) whose names pass `keep`; [] when dir is missing. */
function filesUnder(dir: string, keep: (name: string) => boolean): string[] {
  const out: string[] = [];
  const walk = (d: string, depth: number) => {
    let ents: fs.Dirent[];
    try { ents = fs.readdirSync(d, { withFileTypes: true }); } catch { return; }
    for (const e of ents) {
      const p = path.join(d, e.name);
      if (keep(e.name)) out.push(p);
      if (e.isDirectory() && depth > 0) walk(p, depth - 1);
    }
  };
  walk(dir, 3);
  return out;
}

describe('commit stores the blob; the tree comes on first use', { skip }, () => {
  let d: Daemon;
  const { docker, ok } = dockerCli(() => d.env);
  /** a running container with `mb` MB of random files under /big and their md5sums in /sums */
  const changed = async (mb: number) => {
    const id = (await ok('run', '-d', 'bb:lazy', 'sh', '-c', `mkdir /big; for i in $(seq ${mb}); do dd if=/dev/urandom of=/big/f$i bs=1048576 count=1 2>/dev/null; done; md5sum /big/* > /sums; touch /ready; sleep 100000`)).trim();
    assert.ok(await eventually(async () => (await docker('exec', id, 'test', '-e', '/ready')).code === 0, 60_000), 'the container wrote its files');
    return id;
  };
  const ingest = () => path.join(d.root, 'content', 'ingest');
  /** kill -9 and restart the daemon from the inotify callback of the first event in dir that `when` picks: a poll
   *  can miss a write or an unpack shorter than its interval (CI's did). */
  const crashOn = (dir: string, when: (ev: string, name: string) => boolean) => {
    let done: Promise<void> | undefined;
    const seen = new Promise<void>((resolve) => {
      const w = fs.watch(dir, (ev, name) => {
        if (done || !when(ev, String(name))) return;
        done = d.crashAndRestart();
        w.close();
        resolve();
      });
    });
    return { seen, get done() { return done!; } };
  };
  const layerBlobs = () => fs.readdirSync(path.join(d.root, 'content', 'blobs', 'sha256')).length;

  before(async () => {
    d = await startDaemon();
    const tarFile = path.join(d.dir, 'rootfs.tar');
    fs.writeFileSync(tarFile, await tarDir(await busyboxRootfs(), false));
    await ok('import', '-c', 'CMD ["sh"]', tarFile, 'bb:lazy');
  });
  after(async () => { await d?.stop(); });

  test('the committed image is whole before its first run (size, history); the first run unpacks it, a second reuses it', async () => {
    const id = await changed(4);
    const snapshots = () => fs.readdirSync(path.join(d.root, 'snapshots')).filter((n) => !n.startsWith('.')).length;
    const before = snapshots();
    await ok('commit', id, 'lazy:one');
    assert.equal(snapshots(), before, 'no layer tree made by the commit');
    const [img] = JSON.parse(await ok('image', 'inspect', 'lazy:one'));
    assert.ok(img.Size >= 4 << 20, `image size counts the new layer: ${img.Size}`);
    const top = (await ok('history', '--human=false', '--format', '{{.Size}}', 'lazy:one')).split('\n')[0]!;
    assert.ok(Number(top) >= 4 << 20, `history sizes the new layer: ${top}`);
    assert.equal(await ok('run', '--rm', 'lazy:one', 'md5sum', '-c', '-s', '/sums'), '');
    assert.equal(snapshots(), before + 1, 'the first run made the layer tree');
    const [again] = JSON.parse(await ok('image', 'inspect', 'lazy:one'));
    assert.equal(again.Size, img.Size, 'the size stays the same once unpacked (the commit recorded it)');
    // two at once from a new image (a new layer: a stamp more): one unpack, both see the files
    await ok('exec', id, 'touch', '/stamp');
    await ok('commit', id, 'lazy:two');
    const [a, b] = await Promise.all([docker('run', '--rm', 'lazy:two', 'md5sum', '-c', '-s', '/sums'), docker('run', '--rm', 'lazy:two', 'md5sum', '-c', '-s', '/sums')]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    assert.equal(snapshots(), before + 2, 'one tree for lazy:two\'s layer');
    await ok('rm', '-f', id);
  });

  test('kill -9 of berthd mid-commit: no image, no blob, no temp file after the restart; the commit works then', async () => {
    const id = await changed(48);
    const blobs = layerBlobs();
    // the commit through the API, left hanging when the daemon dies
    const req = http.request({ socketPath: d.socket, method: 'POST', path: `/commit?container=${id}&repo=lazy&tag=killed` });
    req.on('error', () => undefined);
    assert.ok(fs.existsSync(ingest()), 'the store made its ingest directory');
    const crash = crashOn(ingest(), (ev, name) => ev === 'change' && name.endsWith('.tmp'));
    req.end();
    const first = await Promise.race([crash.seen.then(() => 'writing' as const), new Promise((r) => setTimeout(r, 60_000, 'timeout').unref())]);
    assert.equal(first, 'writing', 'the layer blob is being written');
    await crash.done;
    req.destroy();
    assert.notEqual((await docker('image', 'inspect', 'lazy:killed')).code, 0, 'no image from the cut commit');
    assert.deepEqual(filesUnder(ingest(), (n) => n.endsWith('.tmp')), [], 'the cut blob is removed at start');
    assert.equal(layerBlobs(), blobs, 'no blob from the cut commit');
    // the container was paused for the commit: it runs on after the restart
    assert.ok(await eventually(async () => (await ok('inspect', '-f', '{{.State.Status}}', id)).trim() === 'running', 10_000), `state: ${(await ok('inspect', '-f', '{{.State.Status}}', id)).trim()}`);
    await ok('commit', id, 'lazy:after');
    assert.equal(await ok('run', '--rm', 'lazy:after', 'md5sum', '-c', '-s', '/sums'), '');
    await ok('rm', '-f', id);
  });

  test('kill -9 of berthd while the first run unpacks the layer: no snapshot is trusted half-made; the run works after', async () => {
    const id = await changed(48);
    await ok('commit', id, 'lazy:unpack');
    await ok('rm', '-f', id);
    // The daemon's staging directory for layer trees (snapshots/overlay: .tmp/<pid>-<start time>). A poll can miss
    // an unpack that takes less than its interval (CI did), so inotify tells the moment the layer's directory is
    // made and the kill goes out from that callback.
    const staging = path.join(d.root, 'snapshots', '.tmp', `${d.pid}-${pidStartTime(d.pid)}`);
    assert.ok(fs.existsSync(staging), `the store made its staging directory ${staging}`);
    const crash = crashOn(staging, (_ev, name) => name.startsWith('layer-'));
    const cli = run('/usr/local/bin/docker', ['run', '--rm', 'lazy:unpack', 'true'], { env: d.env });
    const first = await Promise.race([crash.seen.then(() => 'unpack' as const), cli.then(() => 'exit' as const)]);
    assert.equal(first, 'unpack', `the layer is being unpacked when the run ends: ${JSON.stringify(await cli)}`);
    await crash.done;
    await cli;
    assert.equal(await ok('run', '--rm', 'lazy:unpack', 'md5sum', '-c', '-s', '/sums'), '');
  });
});
