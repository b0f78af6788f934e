// kill -9 of berthd leaves containers running; a new berthd finds them (ps, logs, exec, stop, wait) and
// learns the exit of one that ended while it was down.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isRoot, run } from '../helpers/bundle.js';
import { startDaemon, type Daemon } from '../helpers/daemon.js';
import { eventually, monitorsUnder, newSockets, running, socketInodes } from '../helpers/leaks.js';
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
    // shortlived ends when the test says so (a file in its root), once the daemon is down
    assert.equal((await docker('run', '-d', '--name', 'shortlived', 'bb:restart', 'sh', '-c', 'until [ -e /tmp/go ]; do sleep 0.05; done; exit 7')).code, 0);
    const state = async (name: string) => JSON.parse((await docker('inspect', name)).stdout)[0] as { Id: string; State: { Pid: number } };
    const keeper = await state('keeper');
    const pid = keeper.State.Pid;
    const shortPid = (await state('shortlived')).State.Pid;
    // shortlived ends while nobody watches it, and the new daemon starts only once its process is gone ('sleep 1' and
    // a fixed 1.5 s sleep after the restart let a slow restart or a fast one decide which path ran)
    await d.crashAndRestart(async () => {
      fs.writeFileSync(`/proc/${shortPid}/root/tmp/go`, '');
      assert.ok(await eventually(() => !running(shortPid), 30_000), 'shortlived ended while the daemon was down');
    });
    assert.ok(fs.existsSync(`/proc/${pid}`), 'the container process outlived the daemon');
    assert.equal((await docker('wait', 'shortlived')).stdout.trim(), '7');
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
    // attach sees only what comes after it is served: wait until the container's monitor holds one more socket
    // (its attach client) instead of sleeping 500 ms, which a loaded CI machine can outlast starting the CLI
    const [mon] = monitorsUnder(path.join(d.root, 'containers', keeper.Id));
    assert.ok(mon, 'the keeper has a monitor');
    const sockets = socketInodes(mon.pid);
    const attached = docker('attach', 'keeper');
    assert.ok(await eventually(() => newSockets(mon.pid, sockets) > 0, 30_000), 'the attach reached the monitor');
    assert.equal((await docker('exec', 'keeper', 'sh', '-c', 'echo after > /proc/1/fd/1')).code, 0);
    const waiting = docker('wait', 'keeper');
    assert.equal((await docker('stop', '-t', '1', 'keeper')).code, 0);
    assert.equal((await waiting).stdout.trim(), '137');
    assert.equal((await following).stdout, 'before\nafter\n');
    assert.equal((await attached).stdout, 'after\n');
    assert.equal((await docker('rm', 'keeper', 'shortlived')).code, 0);
  });
});
