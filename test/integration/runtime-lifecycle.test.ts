// Root integration: the runc verbs end to end — create/start/state/kill/delete, exec, pause/resume,
// TTY, hooks, resource limits, and that nothing is left behind.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { eventually, running } from '../helpers/leaks.js';
import { BERTH, cgroupDirs, isRoot, makeBundle, parseJSON, rmBundle, run, Runtime, type Bundle } from '../helpers/bundle.js';

const skip = isRoot ? false : 'needs root';
const rt = new Runtime();

async function state(id: string): Promise<{ status: string; pid: number }> {
  const r = await rt.berth(['state', id]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

async function waitStatus(id: string, want: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const r = await rt.berth(['state', id]); // may not exist yet while a `run` is still creating it
    if (r.code === 0 && JSON.parse(r.stdout).status === want) return;
    await sleep(50);
  }
  assert.fail(`${id} never reached ${want}`);
}

function assertGone(b: Bundle): void {
  assert.equal(fs.existsSync(path.join(rt.root, b.id)), false, 'state directory left behind');
  for (const d of cgroupDirs(b.cgroupsPath)) assert.equal(fs.existsSync(d), false, `cgroup left behind: ${d}`);
  const mounts = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  assert.ok(!mounts.includes(b.dir), 'a mount of the bundle is left on the host');
}

describe('runtime lifecycle', { skip }, () => {
  after(() => rt.cleanup());

  test('create waits for start; state walks created -> running -> stopped; delete cleans up', async () => {
    const b = await makeBundle((s) => { s.process!.args = ['/bin/sh', '-c', 'echo started > /dev/shm/x; exec sleep 1000']; });
    try {
      const pidFile = path.join(b.dir, 'pid');
      const c = await rt.berth(['create', '--bundle', b.dir, '--pid-file', pidFile, b.id]);
      assert.equal(c.code, 0, c.stderr);
      const st = await state(b.id);
      assert.equal(st.status, 'created');
      assert.equal(Number(fs.readFileSync(pidFile, 'utf8')), st.pid);
      // before start the process is berth-helper running from a sealed memfd (CVE-2019-5736)
      assert.match(fs.readlinkSync(`/proc/${st.pid}/exe`), /^\/memfd:berth-helper/);
      assert.equal((await rt.berth(['create', '--bundle', b.dir, b.id])).code, 1, 'a second create with the same id must fail');
      const s1 = await rt.berth(['start', b.id]);
      assert.equal(s1.code, 0, s1.stderr);
      await waitStatus(b.id, 'running');
      assert.match(fs.readlinkSync(`/proc/${st.pid}/exe`), /\/bin\/busybox$/);
      assert.match((await rt.berth(['start', b.id])).stderr, /cannot start an already running container/);
      const list = await rt.berth(['list', '--format', 'json']);
      assert.ok(JSON.parse(list.stdout).some((x: { id: string; status: string }) => x.id === b.id && x.status === 'running'));
      assert.equal((await rt.berth(['delete', b.id])).code, 1, 'delete of a running container needs --force');
      assert.equal((await rt.berth(['kill', b.id, 'KILL'])).code, 0);
      await waitStatus(b.id, 'stopped');
      assert.equal((await rt.berth(['kill', b.id])).code, 1, 'kill of a stopped container fails');
      const d = await rt.berth(['delete', b.id]);
      assert.equal(d.code, 0, d.stderr);
      assertGone(b);
      assert.equal((await rt.berth(['state', b.id])).code, 1);
    } finally { rmBundle(b); }
  });

  test('a TERM before start ends the waiting process, as runc\'s init (PID 1 has no handler of its own then)', async () => {
    const b = await makeBundle((s) => { s.process!.args = ['/bin/sh', '-c', 'echo ran > /dev/shm/ran; exec sleep 1000']; });
    try {
      const c = await rt.berth(['create', '--bundle', b.dir, b.id]);
      assert.equal(c.code, 0, c.stderr);
      assert.equal((await state(b.id)).status, 'created');
      assert.equal((await rt.berth(['kill', b.id, 'TERM'])).code, 0);
      await waitStatus(b.id, 'stopped'); // before: it went on waiting, and start ran the program
      assert.match((await rt.berth(['start', b.id])).stderr, /cannot start a container that has stopped/);
      const d = await rt.berth(['delete', b.id]);
      assert.equal(d.code, 0, d.stderr);
      assertGone(b);
    } finally { rmBundle(b); }
  });

  test('delete --force kills a running container and removes every trace', async () => {
    const b = await makeBundle((s) => { s.process!.args = ['/bin/sleep', '1000']; });
    try {
      assert.equal((await rt.berth(['run', '-d', '-b', b.dir, b.id])).code, 0);
      await waitStatus(b.id, 'running');
      const { pid } = await state(b.id);
      const d = await rt.berth(['delete', '--force', b.id]);
      assert.equal(d.code, 0, d.stderr);
      // gone or a zombie: polled, where a 100 ms sleep assumed the SIGKILLed process gets the CPU to exit in time
      assert.ok(await eventually(() => !running(pid), 10_000), 'process survived delete -f');
      assertGone(b);
    } finally { rmBundle(b); }
  });

  test('run returns the exit code, and 128+n when killed by a signal', async () => {
    const b = await makeBundle((s) => { s.process!.args = ['/bin/probe', 'exit', '42']; });
    try {
      const r = await rt.berth(['run', '-b', b.dir, b.id]);
      assert.equal(r.code, 42, r.stderr);
      assertGone(b);
    } finally { rmBundle(b); }
    const k = await makeBundle((s) => { s.process!.args = ['/bin/sleep', '1000']; });
    try {
      const running = rt.berth(['run', '-b', k.dir, k.id]);
      await waitStatus(k.id, 'running');
      assert.equal((await rt.berth(['kill', k.id, 'SIGKILL'])).code, 0);
      assert.equal((await running).code, 137);
      assertGone(k);
    } finally { rmBundle(k); }
  });

  test('exec joins the container: same namespaces, cgroup, env; exit code passes through', async () => {
    const b = await makeBundle((s) => { s.process!.args = ['/bin/sleep', '1000']; s.process!.env!.push('FROM=config'); });
    try {
      assert.equal((await rt.berth(['run', '-d', '-b', b.dir, b.id])).code, 0);
      await waitStatus(b.id, 'running');
      const { pid } = await state(b.id);
      const r = await rt.berth(['exec', '-e', 'EXTRA=1', b.id, '/bin/probe', 'facts']);
      assert.equal(r.code, 0, r.stderr);
      const f = parseJSON<{ ns: Record<string, string>; env: string[]; pid: number; cgroup: string[]; uid: number }>(r);
      for (const n of ['mnt', 'uts', 'ipc', 'pid', 'net', 'cgroup']) assert.equal(f.ns[n], fs.readlinkSync(`/proc/${pid}/ns/${n}`), `${n} differs`);
      assert.ok(f.env.includes('FROM=config') && f.env.includes('EXTRA=1'));
      assert.notEqual(f.pid, 1);
      assert.ok(f.cgroup.every((l) => l.endsWith(':/')), f.cgroup.join(' '));
      const u = await rt.berth(['exec', '-u', '1000:1000', '--cwd', '/tmp', b.id, '/bin/sh', '-c', 'id -u; pwd; exit 7']);
      assert.equal(u.code, 7);
      assert.equal(u.stdout, '1000\n/tmp\n');
      const missing = await rt.berth(['exec', b.id, 'no-such-program']);
      assert.notEqual(missing.code, 0);
      assert.match(missing.stderr, /executable file not found in \$PATH/);
      const procFile = path.join(b.dir, 'process.json');
      fs.writeFileSync(procFile, JSON.stringify({ ...b.spec.process, args: ['/bin/sh', '-c', 'echo "$FROM_FILE $(id -u)"'], env: ['FROM_FILE=yes', 'PATH=/bin'], user: { uid: 1000, gid: 1000 } }));
      const pf = await rt.berth(['exec', '--process', procFile, b.id]);
      assert.equal(pf.code, 0, pf.stderr);
      assert.equal(pf.stdout, 'yes 1000\n');
      const ps = await rt.berth(['ps', '--format', 'json', b.id]);
      assert.deepEqual(JSON.parse(ps.stdout), [pid]);
    } finally {
      await rt.berth(['delete', '-f', b.id]);
      rmBundle(b);
    }
  });

  test('pause freezes and resume thaws', async () => {
    const b = await makeBundle((s) => { s.process!.args = ['/bin/sh', '-c', 'while true; do echo tick >> /dev/shm/ticks; sleep 0.05; done']; });
    try {
      assert.equal((await rt.berth(['run', '-d', '-b', b.dir, b.id])).code, 0);
      await waitStatus(b.id, 'running');
      const { pid } = await state(b.id);
      const ticks = async () => (await rt.berth(['exec', b.id, '/bin/sh', '-c', 'wc -l < /dev/shm/ticks'])).stdout.trim();
      assert.equal((await rt.berth(['pause', b.id])).code, 0);
      assert.equal((await state(b.id)).status, 'paused');
      const freezer = fs.readFileSync(path.join('/sys/fs/cgroup/freezer', b.cgroupsPath, 'freezer.state'), 'utf8').trim();
      assert.equal(freezer, 'FROZEN');
      const stat1 = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      await sleep(300);
      assert.equal(fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(' ')[13], stat1.split(' ')[13], 'a frozen process used CPU');
      assert.match((await rt.berth(['pause', b.id])).stderr, /cannot pause container .* in paused state/);
      assert.equal((await rt.berth(['resume', b.id])).code, 0);
      assert.equal((await state(b.id)).status, 'running');
      const n1 = Number(await ticks());
      // polled: 300 ms without one tick of a 50 ms loop is possible on a loaded machine
      assert.ok(await eventually(async () => Number(await ticks()) > n1, 10_000), 'the loop did not go on after resume');
    } finally {
      await rt.berth(['delete', '-f', b.id]);
      rmBundle(b);
    }
  });

  test('a TTY works in the foreground: the process sees a terminal of the right size', async () => {
    const b = await makeBundle((s) => {
      s.process!.terminal = true;
      s.process!.args = ['/bin/sh', '-c', 'tty; stty size; echo done'];
    });
    try {
      // script(1) gives `berth runtime run` a real terminal, as a user's shell would
      const cmd = `stty cols 91 rows 27; ${process.execPath} ${BERTH} runtime --root ${rt.root} run -b ${b.dir} ${b.id}`;
      const r = await run('script', ['-qec', cmd, '/dev/null']);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /\/dev\/pts\/0/);
      assert.match(r.stdout, /27 91/);
      assert.match(r.stdout, /done/);
    } finally { rmBundle(b); }
  });

  test('--console-socket: the PTY master goes to the socket, as runc sends it', async () => {
    const sock = path.join(os.tmpdir(), `berth-console-${process.pid}.sock`);
    const recv = spawn('/usr/bin/python3', [new URL('../../../test/fixtures/recvtty.py', import.meta.url).pathname, sock], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    recv.stdout!.on('data', (d) => { out += d; });
    const recvDone = new Promise((res) => recv.on('close', res));
    const b = await makeBundle((s) => { s.process!.terminal = true; s.process!.consoleSize = { height: 30, width: 100 }; s.process!.args = ['/bin/sh', '-c', 'tty; stty size']; });
    try {
      for (const end = Date.now() + 30_000; Date.now() < end && !out.includes('listening');) await sleep(20);
      const r = await rt.berth(['run', '--console-socket', sock, '-b', b.dir, b.id]);
      assert.equal(r.code, 0, r.stderr);
      await recvDone;
      assert.match(out, /name \/dev\/pts\/0/);
      assert.match(out, /\/dev\/pts\/0\r?\n30 100/);
    } finally { recv.kill(); rmBundle(b); fs.rmSync(sock, { force: true }); }
  });

  test('exec -t gives the new process a terminal', async () => {
    const b = await makeBundle((s) => { s.process!.args = ['/bin/sleep', '1000']; });
    try {
      assert.equal((await rt.berth(['run', '-d', '-b', b.dir, b.id])).code, 0);
      await waitStatus(b.id, 'running');
      const r = await run('script', ['-qec', `${process.execPath} ${BERTH} runtime --root ${rt.root} exec -t ${b.id} /bin/sh -c 'tty; exit 3'`, '/dev/null']);
      assert.equal(r.code, 3, r.stdout);
      assert.match(r.stdout, /\/dev\/pts\/\d+/);
    } finally {
      await rt.berth(['delete', '-f', b.id]);
      rmBundle(b);
    }
  });

  test('a user namespace: root inside is an unprivileged uid on the host', async () => {
    const b = await makeBundle((s) => {
      s.linux!.namespaces!.push({ type: 'user' });
      s.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      s.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      s.process!.args = ['/bin/sh', '-c', 'cat /proc/self/uid_map; /bin/probe facts & wait; sleep 1000'];
    });
    try {
      assert.equal((await rt.berth(['run', '-d', '-b', b.dir, b.id])).code, 0);
      await waitStatus(b.id, 'running');
      const { pid } = await state(b.id);
      const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
      assert.match(status, /Uid:\s+100000\s+100000/);
      assert.notEqual(fs.readlinkSync(`/proc/${pid}/ns/user`), fs.readlinkSync('/proc/self/ns/user'));
      const r = await rt.berth(['exec', b.id, '/bin/probe', 'facts']);
      const f = parseJSON<{ uid: number; ns: Record<string, string> }>(r);
      assert.equal(f.uid, 0);
      assert.equal(f.ns.user, fs.readlinkSync(`/proc/${pid}/ns/user`));
      const map = await rt.berth(['exec', b.id, '/bin/cat', '/proc/self/uid_map']);
      assert.match(map.stdout, /^\s*0\s+100000\s+65536/);
    } finally {
      await rt.berth(['delete', '-f', b.id]);
      rmBundle(b);
    }
  });

  test('hooks run in order with the state on stdin', async () => {
    // startContainer runs inside the container: the log directory is bind-mounted there at the same path
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-hooks-'));
    const log = path.join(dir, 'log');
    const hook = (name: string) => ({ path: '/bin/sh', args: ['sh', '-c', `read -r state; echo "${name} $(echo "$state" | grep -o '"status":"[a-z]*"')" >> ${log}`] });
    const b = await makeBundle((s) => {
      s.process!.args = ['/bin/true'];
      s.mounts!.push({ destination: dir, type: 'bind', source: dir, options: ['rbind', 'rw'] });
      s.hooks = {
        prestart: [hook('prestart')], createRuntime: [hook('createRuntime')], createContainer: [hook('createContainer')],
        startContainer: [hook('startContainer')], poststart: [hook('poststart')], poststop: [hook('poststop')],
      };
    });
    try {
      const r = await rt.berth(['run', '-b', b.dir, b.id]);
      assert.equal(r.code, 0, r.stderr);
      const lines = fs.readFileSync(log, 'utf8').trim().split('\n');
      assert.deepEqual(lines.map((l) => l.split(' ')[0]), ['prestart', 'createRuntime', 'createContainer', 'startContainer', 'poststart', 'poststop']);
      assert.match(lines[0]!, /"status":"creating"/);
      assert.match(lines[5]!, /"status":"stopped"/);
    } finally { rmBundle(b); fs.rmSync(dir, { recursive: true, force: true }); }
  });

  test('a failing createRuntime hook fails create and leaves nothing', async () => {
    const b = await makeBundle((s) => { s.hooks = { createRuntime: [{ path: '/bin/false' }] }; });
    try {
      const r = await rt.berth(['create', '-b', b.dir, b.id]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /hooks\.createRuntime\[0\] \/bin\/false: exit status 1/);
      assertGone(b);
    } finally { rmBundle(b); }
  });

  test('memory limit: a process that exceeds it is OOM-killed and the kernel counts it', async () => {
    const b = await makeBundle((s) => {
      s.linux!.resources = { ...s.linux!.resources, memory: { limit: 32 << 20, swap: 32 << 20 } };
      s.process!.args = ['/bin/probe', 'alloc', '256'];
    });
    try {
      const r = await rt.berth(['run', '--keep', '-b', b.dir, b.id]);
      assert.equal(r.code, 137, `expected SIGKILL from the OOM killer: ${r.stdout} ${r.stderr}`);
      const oom = fs.readFileSync(path.join('/sys/fs/cgroup/memory', b.cgroupsPath, 'memory.oom_control'), 'utf8');
      assert.ok(Number(/oom_kill (\d+)/.exec(oom)?.[1]) >= 1, oom);
      assert.equal(fs.readFileSync(path.join('/sys/fs/cgroup/memory', b.cgroupsPath, 'memory.limit_in_bytes'), 'utf8').trim(), String(32 << 20));
      assert.equal((await rt.berth(['delete', b.id])).code, 0);
      assertGone(b);
    } finally { rmBundle(b); }
  });

  test('pids limit stops a fork loop', async () => {
    const b = await makeBundle((s) => {
      s.linux!.resources = { ...s.linux!.resources, pids: { limit: 10 } };
      s.process!.args = ['/bin/probe', 'fork', '50'];
    });
    try {
      const r = await rt.berth(['run', '-b', b.dir, b.id]);
      assert.equal(r.code, 0, r.stderr);
      const f = parseJSON<{ forked: number; errno: number }>(r);
      assert.equal(f.forked, 9, 'pid 1 plus 9 children make 10');
      assert.equal(f.errno, 11, 'EAGAIN');
    } finally { rmBundle(b); }
  });

  test('the waiting parent of a foreground run is back in our own cgroups while the process runs', async () => {
    const b = await makeBundle((s) => { s.process!.args = ['/bin/sleep', '1000']; });
    const fg = spawn(process.execPath, [BERTH, 'runtime', '--root', rt.root, 'run', '-b', b.dir, b.id], { stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => fg.on('exit', (code) => resolve(code)));
    try {
      await waitStatus(b.id, 'running');
      const { pid } = await state(b.id);
      const parent = Number(/\) \S+ (\d+)/.exec(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'))![1]);
      assert.notEqual(parent, fg.pid, 'the helper is the process\'s parent');
      assert.equal(fs.readFileSync(`/proc/${parent}/cgroup`, 'utf8'), fs.readFileSync('/proc/self/cgroup', 'utf8'));
      const inside = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').filter((l) => /^\d+:[^:]+:/.test(l));
      assert.ok(inside.length > 0 && inside.every((l) => l.endsWith(`:${b.cgroupsPath}`) || l.endsWith(':/')), inside.join('\n'));
      assert.equal((await rt.berth(['kill', b.id, 'KILL'])).code, 0);
      assert.equal(await exited, 137);
      assertGone(b);
    } finally {
      fg.kill('SIGKILL');
      await rt.berth(['delete', '-f', b.id]);
      rmBundle(b);
    }
  });

  test('a foreground exec: the process joins the container\'s cgroups, its waiting parent stays in ours', async () => {
    const b = await makeBundle((s) => { s.process!.args = ['/bin/sleep', '1000']; });
    const pidFile = path.join(b.dir, 'exec.pid');
    try {
      assert.equal((await rt.berth(['run', '-d', '-b', b.dir, b.id])).code, 0);
      await waitStatus(b.id, 'running');
      const { pid: init } = await state(b.id);
      const fg = spawn(process.execPath, [BERTH, 'runtime', '--root', rt.root, 'exec', '--pid-file', pidFile, b.id, '/bin/sleep', '1000'], { stdio: 'ignore' });
      const exited = new Promise<number | null>((resolve) => fg.on('exit', (code) => resolve(code)));
      try {
        // the pid file (written atomically) comes once a new node process has run the exec: 5 s was tight under load
        assert.ok(await eventually(() => fs.existsSync(pidFile), 30_000), 'the exec wrote its pid file');
        const pid = Number(fs.readFileSync(pidFile, 'utf8'));
        const parent = Number(/\) \S+ (\d+)/.exec(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'))![1]);
        assert.equal(fs.readFileSync(`/proc/${parent}/cgroup`, 'utf8'), fs.readFileSync('/proc/self/cgroup', 'utf8'));
        assert.equal(fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8'), fs.readFileSync(`/proc/${init}/cgroup`, 'utf8'));
        process.kill(pid, 'SIGKILL');
        assert.equal(await exited, 137);
      } finally { fg.kill('SIGKILL'); }
    } finally {
      await rt.berth(['delete', '-f', b.id]);
      rmBundle(b);
    }
  });

  test('cpu and cpuset settings reach the cgroup', async () => {
    const b = await makeBundle((s) => {
      s.linux!.resources = { ...s.linux!.resources, cpu: { shares: 512, quota: 50000, period: 100000, cpus: '0' } };
      s.process!.args = ['/bin/sleep', '1000'];
    });
    try {
      assert.equal((await rt.berth(['run', '-d', '-b', b.dir, b.id])).code, 0);
      const read = (c: string, f: string) => fs.readFileSync(path.join('/sys/fs/cgroup', c, b.cgroupsPath, f), 'utf8').trim();
      assert.equal(read('cpu', 'cpu.shares'), '512');
      assert.equal(read('cpu', 'cpu.cfs_quota_us'), '50000');
      assert.equal(read('cpuset', 'cpuset.cpus'), '0');
      const { pid } = await state(b.id);
      assert.match(fs.readFileSync(`/proc/${pid}/status`, 'utf8'), /Cpus_allowed_list:\s+0\n/);
    } finally {
      await rt.berth(['delete', '-f', b.id]);
      rmBundle(b);
    }
  });

  test('run whose reader goes away (BERTH_DEBUG=1 … 2>&1 | head -1): the run goes on to its exit code and deletes the container', async () => {
    // the container outlives the reader and exits 7: berth's own debug lines then meet a closed pipe (EPIPE)
    const b = await makeBundle((s) => { s.process!.args = ['/bin/sh', '-c', 'sleep 0.5; seq 1 100000 2>/dev/null; exit 7']; });
    try {
      const pipeline = `"$0" "$1" runtime --root "$2" run --bundle "$3" "$4" 2>&1 | head -1; exit \${PIPESTATUS[0]}`;
      const r = await run('bash', ['-c', pipeline, process.execPath, BERTH, rt.root, b.dir, b.id], { env: { ...process.env, BERTH_DEBUG: '1' } });
      assert.match(r.stdout, /^berth: [\d.]+ms /, 'head saw berth\'s first debug line');
      assert.equal(r.code, 7, `berth exits with the container's code, not of EPIPE: ${r.stderr}`);
      assertGone(b);
      assert.equal((await rt.berth(['list', '-q'])).stdout.trim(), '', 'no container is listed');
    } finally {
      await rt.berth(['delete', '-f', b.id]);
      rmBundle(b);
    }
  });
});
