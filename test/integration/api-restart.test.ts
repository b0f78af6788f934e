// kill -9 of berthd leaves containers running; a new berthd finds them (ps, logs, exec, stop, wait) and
// learns the exit of one that ended while it was down.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isRoot, run } from '../helpers/bundle.js';
import { startDaemon, type Daemon } from '../helpers/daemon.js';
import { tarDir } from '../helpers/registry.js';
import { busyboxRootfs } from '../helpers/rootfs.js';

const haveDocker = fs.existsSync('/usr/local/bin/docker') || fs.existsSync('/usr/bin/docker');
const skip = !isRoot ? 'needs root' : !haveDocker ? 'needs the docker CLI' : false;

describe('berthd restart', { skip }, () => {
  let d: Daemon;
  const docker = (...args: string[]) => run('docker', args, { env: d.env });

  before(async () => {
    d = await startDaemon();
    const tarFile = path.join(d.dir, 'rootfs.tar');
    fs.writeFileSync(tarFile, await tarDir(await busyboxRootfs(), false));
    assert.equal((await docker('import', '-c', 'CMD ["sh"]', tarFile, 'bb:restart')).code, 0);
  });
  after(async () => { await d?.stop(); });

  test('containers survive kill -9 of the daemon and are managed by the next one', async () => {
    assert.equal((await docker('run', '-d', '--name', 'keeper', 'bb:restart', 'sh', '-c', 'echo before; sleep 1000')).code, 0);
    assert.equal((await docker('run', '-d', '--name', 'shortlived', 'bb:restart', 'sh', '-c', 'sleep 1; exit 7')).code, 0);
    const pid = JSON.parse((await docker('inspect', 'keeper')).stdout)[0].State.Pid as number;
    await d.crashAndRestart();
    assert.ok(fs.existsSync(`/proc/${pid}`), 'the container process outlived the daemon');
    await new Promise((r) => setTimeout(r, 1500)); // shortlived ends while nobody watches it… or just after
    const ps = await docker('ps', '--format', '{{.Names}}');
    assert.equal(ps.stdout.trim(), 'keeper');
    assert.equal((await docker('logs', 'keeper')).stdout, 'before\n');
    const ex = await docker('exec', 'keeper', 'sh', '-c', 'echo still here');
    assert.equal(ex.stdout, 'still here\n');
    const short = JSON.parse((await docker('inspect', 'shortlived')).stdout)[0].State;
    assert.equal(short.Status, 'exited');
    assert.equal(short.ExitCode, 7);
    // logs -f and attach follow the container through the new daemon
    const following = docker('logs', '-f', 'keeper');
    const attached = docker('attach', 'keeper');
    await new Promise((r) => setTimeout(r, 500));
    assert.equal((await docker('exec', 'keeper', 'sh', '-c', 'echo after > /proc/1/fd/1')).code, 0);
    await new Promise((r) => setTimeout(r, 300));
    const waiting = docker('wait', 'keeper');
    assert.equal((await docker('stop', '-t', '1', 'keeper')).code, 0);
    assert.equal((await waiting).stdout.trim(), '137');
    assert.equal((await following).stdout, 'before\nafter\n');
    assert.equal((await attached).stdout, 'after\n');
    assert.equal((await docker('rm', 'keeper', 'shortlived')).code, 0);
  });
});
