// Issue 7 items 8, 10, 12: a container whose monitor is killed -9 is recorded exited and leaves nothing;
// every failed start releases its helper and fds; a restarted daemon clears what a dead one left mid-start.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startMonitor } from '../../src/monitor/index.js';
import { HELPER_PATH } from '../../src/runtime/sync.js';
import { isRoot, run } from '../helpers/bundle.js';
import { startDaemon, type Daemon, type DaemonExit } from '../helpers/daemon.js';
import { containerCgroups, eventually, fdCount, helperProcesses, monitorsUnder, mountsUnder, running } from '../helpers/leaks.js';
import { tarDir } from '../helpers/registry.js';
import { busyboxRootfs } from '../helpers/rootfs.js';

const haveDocker = fs.existsSync('/usr/local/bin/docker') || fs.existsSync('/usr/bin/docker');
const skip = !isRoot ? 'needs root' : !haveDocker ? 'needs the docker CLI' : false;

interface State { Status: string; Running: boolean; Pid: number; ExitCode: number; Error: string }

describe('hardening: lifecycle', { skip }, () => {
  let d: Daemon;
  const docker = (...args: string[]) => run('docker', args, { env: d.env });
  const state = async (id: string): Promise<State> => JSON.parse((await docker('inspect', id)).stdout)[0].State as State;
  const cdir = (id: string) => path.join(d.root, 'containers', id);

  before(async () => {
    d = await startDaemon();
    const tarFile = path.join(d.dir, 'rootfs.tar');
    fs.writeFileSync(tarFile, await tarDir(await busyboxRootfs(), false));
    assert.equal((await docker('import', '-c', 'CMD ["sh"]', tarFile, 'bb:hard')).code, 0);
  });
  after(async () => { await d?.stop(); });

  /** kill -9 the monitor of `id`, then: exited (137, an error naming the monitor), process gone, stop and rm -f work, nothing left. */
  async function killMonitorAndCheck(id: string): Promise<void> {
    const pid = (await state(id)).Pid;
    assert.ok(running(pid), 'the container runs');
    const mons = monitorsUnder(cdir(id));
    assert.equal(mons.length, 1, 'one monitor for the container');
    process.kill(mons[0]!.pid, 'SIGKILL');
    assert.ok(await eventually(async () => (await state(id)).Status === 'exited', 20_000), 'the container is recorded exited');
    const st = await state(id);
    assert.equal(st.ExitCode, 137);
    assert.match(st.Error, /monitor/);
    assert.ok(await eventually(() => !running(pid), 20_000), 'the container process is gone');
    assert.equal((await docker('stop', id)).code, 0);
    assert.deepEqual(containerCgroups(id), []);
    assert.deepEqual(mountsUnder(cdir(id)), []);
    assert.equal((await docker('rm', '-f', id)).code, 0);
    assert.equal(fs.existsSync(cdir(id)), false);
  }

  test('kill -9 of a container\'s monitor ends the container; stop and rm -f work', async () => {
    const r = await docker('run', '-d', 'bb:hard', 'sleep', '1000');
    assert.equal(r.code, 0, r.stderr);
    await killMonitorAndCheck(r.stdout.trim());
  });

  test('kill -9 of the monitor of a container a restarted daemon found', async () => {
    const r = await docker('run', '-d', 'bb:hard', 'sleep', '1000');
    assert.equal(r.code, 0, r.stderr);
    await d.crashAndRestart();
    await killMonitorAndCheck(r.stdout.trim());
  });

  test('failed starts leave no helper and no fd behind', async () => {
    const src = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'berth-bind-')), 'missing', 'dir');
    try {
      const cases: Array<{ args: string[]; ok: boolean }> = [
        // docker creates a missing -v source as a directory
        { args: ['-v', `${src}:/x`, 'bb:hard', 'test', '-d', '/x'], ok: true },
        // refused before the runtime's helper gets its plan
        { args: ['--ulimit', 'nofile=-1:-1', 'bb:hard', 'true'], ok: false },
        // refused by the cgroup, with the helper already spawned
        { args: ['--cpuset-cpus', String(os.cpus().length + 60), 'bb:hard', 'true'], ok: false },
        // refused by the helper itself
        { args: ['bb:hard', '/no/such/program'], ok: false },
      ];
      const run1 = async () => {
        for (const c of cases) {
          const r = await docker('run', '--rm', ...c.args);
          assert.equal(r.code === 0, c.ok, `docker run ${c.args.join(' ')}: ${r.code} ${r.stderr}`);
          if (!c.ok) assert.match(r.stderr, /Error response from daemon: \S/);
        }
      };
      await run1(); // warm up: the daemon's own lazily opened fds
      assert.ok(fs.statSync(src).isDirectory(), 'the bind source was made');
      // a start's helper runs in its monitor's forked child (no exec: its cmdline is the monitor's), so the
      // daemon's monitors count too: after failed (and --rm) runs none may stay
      const inits = () => new Set([...helperProcesses().filter((p) => p.argv[1] === 'init'), ...monitorsUnder(d.root)].map((p) => p.pid));
      const before = inits();
      const fds = fdCount(d.pid);
      for (let i = 0; i < 10; i++) await run1();
      // other tests on the machine may run helpers too: only one that stays is a leak
      const fresh = () => [...inits()].filter((p) => !before.has(p));
      assert.ok(await eventually(() => fresh().length === 0, 60_000), `berth-helper init or monitor left: ${fresh().join(' ')}`);
      // polled: the last CLI's connection may not be closed on the daemon's side yet (a leak stays)
      assert.ok(await eventually(() => fdCount(d.pid) <= fds + 2, 60_000), `berthd had ${fds} fds, now ${fdCount(d.pid)}`);
      assert.equal((await docker('ps', '-aq')).stdout.trim(), '', '--rm removed every container');
    } finally {
      fs.rmSync(path.dirname(path.dirname(src)), { recursive: true, force: true });
    }
  });

  test('a restarted daemon unmounts and stops what a daemon killed mid-start left', async () => {
    const r = await docker('create', 'bb:hard', 'true');
    assert.equal(r.code, 0, r.stderr);
    const id = r.stdout.trim();
    // as far as the dead daemon got: the rootfs mounted, a monitor started
    const rec = JSON.parse(fs.readFileSync(path.join(cdir(id), 'config.v2.json'), 'utf8')) as { mounts: Array<{ type: string; source: string; options: string[] }> };
    const rootfs = path.join(cdir(id), 'rootfs');
    fs.mkdirSync(rootfs, { recursive: true });
    const m = rec.mounts[0]!;
    assert.equal((await run('mount', ['-t', m.type, '-o', m.options.join(','), m.source, rootfs])).code, 0);
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-mon-'));
    const mon = await startMonitor({ dir: tmp, tty: false, argv: [HELPER_PATH, 'init'], fds: ['pipe'], paths: { exit: path.join(cdir(id), 'exit.json') } });
    // and a create it never finished: a directory without a record
    const half = path.join(d.root, 'containers', 'f'.repeat(64));
    fs.mkdirSync(half);
    try {
      assert.deepEqual(mountsUnder(rootfs), [rootfs]);
      await d.crashAndRestart();
      assert.equal(fs.existsSync(half), false, 'restore removed the half-made container directory');
      assert.deepEqual(mountsUnder(rootfs), [], 'restore unmounted the rootfs');
      assert.equal(running(mon.monitorPid), false, 'restore ended the monitor');
      assert.equal((await docker('start', '-a', id)).code, 0);
      assert.equal((await docker('rm', id)).code, 0);
    } finally {
      mon.abort();
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
  test('SIGTERM while a reader is stuck on a client that stopped reading: berthd ends it and exits in bounded time; the next daemon sees the containers', async () => {
    // a stopped container with more in its root than socket buffers hold: its export cannot finish
    const big = await docker('run', '--name', 'bigroot', 'bb:hard', 'dd', 'if=/dev/zero', 'of=/big', 'bs=1M', 'count=16');
    assert.equal(big.code, 0, big.stderr);
    const stoppedId = (await docker('inspect', '-f', '{{.Id}}', 'bigroot')).stdout.trim();
    const rootfs = path.join(cdir(stoppedId), 'rootfs');
    const r = await docker('run', '-d', '--name', 'outlives', 'bb:hard', 'sleep', '1000');
    assert.equal(r.code, 0, r.stderr);
    const pid = (await state('outlives')).Pid;
    // an attach stream (a hijacked connection the HTTP server no longer tracks), up before the signal …
    const attach = net.connect(d.socket, () => attach.write(`POST /containers/outlives/attach?stream=1&stdout=1&stderr=1 HTTP/1.1\r\nHost: berth\r\nUpgrade: tcp\r\nConnection: Upgrade\r\n\r\n`));
    attach.on('error', () => undefined);
    const upgraded = await new Promise<string>((resolve) => attach.once('data', (b: Buffer) => resolve(b.toString())));
    assert.match(upgraded, /^HTTP\/1\.1 101 /);
    // … and an export whose client reads its first bytes and then stops reading, without closing
    const reader = net.connect(d.socket, () => reader.write(`GET /containers/${stoppedId}/export HTTP/1.1\r\nHost: berth\r\n\r\n`));
    reader.on('error', () => undefined);
    await new Promise<void>((resolve) => reader.once('data', () => { reader.pause(); resolve(); }));
    try {
      assert.deepEqual(mountsUnder(rootfs), [rootfs], 'the export holds the stopped container\'s root mounted');
      let exit: DaemonExit | undefined;
      let left: string[] = [];
      let shutdown = '';
      await d.termAndRestart(async (e) => { exit = e; left = mountsUnder(rootfs); shutdown = d.log().slice(d.log().lastIndexOf('SIGTERM: shutting down')); });
      // the old shutdown waited for the attach stream until its 5 s backstop fired: the daemon's log says which way
      // it ended (a bound on the time, 4 s, was a timing a loaded CI machine could miss without the bug)
      assert.deepEqual({ code: exit!.code, signal: exit!.signal }, { code: 0, signal: null }, 'berthd exited by itself');
      assert.doesNotMatch(shutdown, /still not done after/, `berthd's shutdown hit its backstop (${exit!.ms} ms): ${shutdown}`);
      assert.match(shutdown, /shutdown: done/, `berthd ended its shutdown itself (${exit!.ms} ms): ${shutdown}`);
      assert.deepEqual(left, [], 'no mount of the stopped container was left behind');
      assert.ok(running(pid), 'the running container outlived the daemon');
      const st = await state('outlives');
      assert.equal(st.Running, true);
      assert.equal(st.Pid, pid);
      const again = await docker('start', '-a', 'bigroot');
      assert.equal(again.code, 0, again.stderr);
      assert.equal((await docker('rm', 'bigroot')).code, 0);
      assert.equal((await docker('rm', '-f', 'outlives')).code, 0);
      assert.ok(await eventually(() => !running(pid), 20_000), 'rm -f ended the container');
    } finally {
      reader.destroy();
      attach.destroy();
    }
  });
});
