// docker exec through berthd with the real docker CLI: output, exit codes, stdin, user, a TTY, errors.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isRoot, run } from '../helpers/bundle.js';
import { berth, startDaemon, type Daemon } from '../helpers/daemon.js';
import { eventually } from '../helpers/leaks.js';
import { tarDir } from '../helpers/registry.js';
import { busyboxRootfs } from '../helpers/rootfs.js';

const haveDocker = fs.existsSync('/usr/local/bin/docker') || fs.existsSync('/usr/bin/docker');
const skip = !isRoot ? 'needs root' : !haveDocker ? 'needs the docker CLI' : false;

describe('docker exec against berthd', { skip }, () => {
  let d: Daemon;
  const docker = (args: string[], input?: string) => run('docker', args, { env: d.env, input });

  before(async () => {
    d = await startDaemon();
    const tarFile = path.join(d.dir, 'rootfs.tar');
    fs.writeFileSync(tarFile, await tarDir(await busyboxRootfs(), false));
    const imp = await docker(['import', '-c', 'CMD ["sh"]', tarFile, 'bb:exec']);
    assert.equal(imp.code, 0, imp.stderr);
    const r = await docker(['run', '-d', '--name', 'ex', 'bb:exec', 'sleep', '1000']);
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => { await d?.stop(); });

  test('output on the right streams and the exit code', async () => {
    const r = await docker(['exec', 'ex', 'sh', '-c', 'echo out; echo err >&2; exit 5']);
    assert.equal(r.code, 5);
    assert.equal(r.stdout, 'out\n');
    assert.equal(r.stderr, 'err\n');
  });

  test('stdin, env, user and working directory', async () => {
    const r = await docker(['exec', '-i', '-e', 'GREETING=hello', '-u', '1000', '-w', '/tmp', 'ex', 'sh', '-c', 'read x; echo "$GREETING $x $(id -u) $(pwd)"'], 'world\n');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'hello world 1000 /tmp\n');
  });

  test('a missing program: a clear message and 127', async () => {
    const r = await docker(['exec', 'ex', 'no-such-program']);
    assert.equal(r.code, 127);
    assert.match(r.stderr + r.stdout, /executable file not found in \$PATH/);
  });

  test('-t gives a terminal; -d leaves the process running', async () => {
    const t = await run('script', ['-qec', `docker exec -t ex sh -c 'tty'`, '/dev/null'], { env: d.env });
    assert.match(t.stdout, /\/dev\/pts\/\d+/);
    const det = await docker(['exec', '-d', 'ex', 'sh', '-c', 'sleep 0.2; echo done > /tmp/detached']);
    assert.equal(det.code, 0, det.stderr);
    // the detached process goes on after exec -d returns: polled for its file, not 600 ms for a 200 ms sleep
    const detached = async () => (await docker(['exec', 'ex', 'cat', '/tmp/detached'])).stdout;
    assert.ok(await eventually(async () => (await detached()) === 'done\n', 30_000), `the detached exec wrote its file: ${JSON.stringify(await detached())}`);
  });

  test('berth exec: the same grammar through the berth CLI', async () => {
    const r = await berth(['exec', '-e', 'A=1', 'ex', 'sh', '-c', 'echo "a=$A"; exit 6'], d.env);
    assert.equal(r.code, 6, r.stderr);
    assert.equal(r.stdout, 'a=1\n');
    const i = await berth(['exec', '-i', 'ex', 'cat'], d.env, Buffer.from('through stdin\n'));
    assert.equal(i.stdout, 'through stdin\n');
    assert.equal((await berth(['exec', 'ex', 'no-such-program'], d.env)).code, 127);
  });

  test('berth events and system df', async () => {
    const ev = await berth(['events', '--since', '0', '--until', String(Math.ceil(Date.now() / 1000) + 1), '--filter', 'type=container'], d.env);
    assert.equal(ev.code, 0, ev.stderr);
    assert.match(ev.stdout, /container start [0-9a-f]{64} \(.*name=ex/);
    assert.match(ev.stdout, /container exec_start /);
    const df = await berth(['system', 'df'], d.env);
    assert.equal(df.code, 0, df.stderr);
    assert.match(df.stdout, /^TYPE\s+TOTAL\s+ACTIVE\s+SIZE\s+RECLAIMABLE\nImages\s+1\s/);
  });

  test('the next exec runs under a monitor started ahead of it, one of the kind last asked for', async () => {
    // monitors of this daemon's execs by pid: started by berth-helper, their files under <root>/run/exec;
    // a monitor's child is a fork of it (the helper runs in it without an exec), with the same command line
    const execDir = path.join(d.root, 'run', 'exec') + '/';
    const ppid = (p: string | number) => Number(/^PPid:\s+(\d+)$/m.exec(fs.readFileSync(`/proc/${p}/status`, 'utf8'))?.[1]);
    const forks = () => fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).flatMap((p) => {
      try {
        const argv = fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0');
        return argv[1] === 'monitor' && argv.some((a) => a.startsWith(execDir)) ? [{ pid: Number(p), ppid: ppid(p) }] : [];
      } catch { return []; }
    });
    const monitors = () => { const all = forks(); return all.filter((m) => !all.some((o) => o.pid === m.ppid)).map((m) => m.pid); };
    /** the warm monitor's child, spawned ahead too: the helper, waiting for the next exec's plan */
    const waiting = (mon: number) => forks().filter((m) => m.ppid === mon).length;
    const until = async <T>(f: () => T | undefined): Promise<T | undefined> => {
      for (let i = 0; i < 400; i++) { const v = f(); if (v !== undefined) return v; await new Promise((r) => setTimeout(r, 25)); }
      return undefined;
    };
    assert.equal((await docker(['exec', 'ex', 'true'])).code, 0);
    const warm = await until(() => { const m = monitors(); return m.length === 1 ? m[0] : undefined; });
    assert.ok(warm, `one monitor waits for the next exec: ${monitors().join(' ')}`);
    assert.ok(await until(() => (waiting(warm) === 1 ? true : undefined)), 'its child waits for a plan');
    // docker exec -d asks for the same kind (no TTY, no stdin): its process is the warm monitor's child
    assert.equal((await docker(['exec', '-d', 'ex', 'sleep', '4242'])).code, 0);
    const sleeper = await until(() => fs.readdirSync('/proc').find((p) => {
      try { return fs.readFileSync(`/proc/${p}/cmdline`, 'utf8') === 'sleep\x004242\x00'; } catch { return false; }
    }));
    assert.ok(sleeper, 'the detached exec runs');
    assert.match(fs.readFileSync(`/proc/${sleeper}/status`, 'utf8'), new RegExp(`^PPid:\\s+${warm}$`, 'm'));
    process.kill(Number(sleeper), 'SIGKILL');
    // another kind (a TTY) gets a monitor of its own kind next; the one for the old kind is let go
    const t = await run('script', ['-qec', `docker exec -t ex true`, '/dev/null'], { env: d.env });
    assert.equal(t.code, 0, t.stdout);
    const tty = await until(() => { const m = monitors(); return m.length === 1 && fs.readFileSync(`/proc/${m[0]}/cmdline`, 'utf8').includes('\0--tty\0') ? m[0] : undefined; });
    assert.ok(tty, `one monitor, for a TTY: ${monitors().join(' ')}`);
    // the one let go leaves with its child: only the TTY monitor and its waiting child are left
    assert.ok(await until(() => (forks().length === 2 && waiting(tty) === 1 ? true : undefined)), `left: ${JSON.stringify(forks())}`);
    assert.equal((await docker(['exec', 'ex', 'echo', 'cold again'])).stdout, 'cold again\n');
    // a warm child killed while it waits takes no plan: the next exec starts cold, and the one killed goes
    const plain = await until(() => { const m = monitors(); return m.length === 1 && waiting(m[0]) === 1 && !fs.readFileSync(`/proc/${m[0]}/cmdline`, 'utf8').includes('\0--tty\0') ? m[0] : undefined; });
    assert.ok(plain, `a monitor without TTY waits: ${JSON.stringify(forks())}`);
    process.kill(forks().find((f) => f.ppid === plain)!.pid, 'SIGKILL');
    await new Promise((r) => setTimeout(r, 200));
    const after = await docker(['exec', 'ex', 'echo', 'after a kill']);
    assert.equal(after.stdout, 'after a kill\n', after.stderr);
    assert.ok(await until(() => (!monitors().includes(plain) ? true : undefined)), `the monitor of the killed child is gone: ${monitors().join(' ')}`);
  });

  test('exec into a stopped container is refused', async () => {
    await docker(['run', '-d', '--name', 'gone', 'bb:exec', 'true']);
    await docker(['wait', 'gone']);
    const r = await docker(['exec', 'gone', 'true']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /is not running/);
  });
});
