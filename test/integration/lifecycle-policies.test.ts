// Restart policies, healthchecks and --init through berthd with the real docker CLI, docker-py and
// `berth`: on-failure:N restarts exactly N times; `always` is not undone by a user's stop but comes
// back by itself, and after a berthd kill -9 (also when it died while berthd was down); a failing
// healthcheck turns the container unhealthy with a health_status event, and probes go on after a
// berthd restart; --init reaps the zombie a plain PID 1 leaves and forwards `docker stop`'s SIGTERM;
// bad policies and healthchecks are 400s that create nothing. Waits poll with a deadline; no assertion
// is about how long something took.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import { createHash } from 'node:crypto';
import * as http from 'node:http';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isRoot, run } from '../helpers/bundle.js';
import { berth, getJson, startDaemon, type Daemon } from '../helpers/daemon.js';
import { eventually } from '../helpers/leaks.js';
import { tarDir } from '../helpers/registry.js';
import { busyboxRootfs } from '../helpers/rootfs.js';

const DOCKER = '/usr/local/bin/docker';
const haveTini = fs.existsSync('/usr/bin/tini-static');
const skip = !isRoot ? 'needs root' : !fs.existsSync(DOCKER) ? 'needs the docker CLI at /usr/local/bin/docker' : false;
const IMG = 'bb:life';

interface State { Status: string; Pid: number; ExitCode: number; Health?: { Status: string; FailingStreak: number; Log: Array<{ ExitCode: number; Output: string }> } }

describe('restart policies, healthchecks, --init', { skip }, () => {
  let d: Daemon;
  const docker = (...args: string[]) => run(DOCKER, args, { env: d.env });
  const ok = async (...args: string[]): Promise<string> => {
    const r = await docker(...args);
    assert.equal(r.code, 0, `docker ${args.join(' ')} → ${r.code}: ${r.stderr}\n${d.log().slice(-3000)}`);
    return r.stdout;
  };
  const inspect = async (name: string): Promise<{ State: State; RestartCount: number; HostConfig: { RestartPolicy: { Name: string; MaximumRetryCount: number } } }> =>
    JSON.parse(await ok('inspect', name))[0];
  /** Polls until `cond` holds; fails with what it last saw after the deadline (a hang guard, not a timing check). */
  const until = async <T>(what: string, get: () => Promise<T>, cond: (v: T) => boolean, deadlineMs = 30_000): Promise<T> => {
    const end = Date.now() + deadlineMs;
    for (;;) {
      const v = await get();
      if (cond(v)) return v;
      if (Date.now() > end) assert.fail(`${what}: still ${JSON.stringify(v)}\n${d.log().slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const state = async (name: string) => (await inspect(name)).State;

  before(async () => {
    d = await startDaemon();
    const tarFile = path.join(d.dir, 'rootfs.tar');
    fs.writeFileSync(tarFile, await tarDir(await busyboxRootfs(), false));
    await ok('import', '-c', 'CMD ["sh"]', tarFile, IMG);
  });
  after(async () => { await d?.stop(); });

  test('on-failure:3 restarts a crashing container exactly 3 times; RestartCount says 3', async () => {
    const since = String(Math.floor(Date.now() / 1000) - 1);
    await ok('run', '-d', '--name', 'crash', '--restart', 'on-failure:3', IMG, 'sh', '-c', 'echo ran; exit 3');
    // a run that the policy restarts leaves the container `restarting`; only the last one leaves it exited
    const st = await until('crash ends', () => inspect('crash'), (c) => c.State.Status === 'exited');
    assert.equal(st.RestartCount, 3);
    assert.equal(st.State.ExitCode, 3);
    assert.deepEqual(st.HostConfig.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 3 });
    assert.equal(await ok('logs', 'crash'), 'ran\n'.repeat(4));
    const starts = await ok('events', '--since', since, '--until', String(Math.floor(Date.now() / 1000) + 1), '--filter', 'container=crash', '--filter', 'event=start', '--format', '{{.Action}}');
    assert.equal(starts, 'start\n'.repeat(4));
    // a user's start begins the count again (moby resets RestartCount on start)
    await ok('start', 'crash');
    assert.equal((await until('crash ends again', () => inspect('crash'), (c) => c.State.Status === 'exited' && c.RestartCount === 3)).RestartCount, 3);
    await ok('rm', 'crash');
  });

  test('`always` restarts a container that died by itself, but a docker stop stays stopped; a restart loop shows `restarting`', async () => {
    await ok('run', '-d', '--name', 'keep', '--restart', 'always', IMG, 'sleep', '1000');
    const pid = (await state('keep')).Pid;
    process.kill(pid, 'SIGKILL'); // not through the API: the policy brings it back
    const back = await until('keep comes back', () => inspect('keep'), (c) => c.State.Status === 'running' && c.State.Pid !== pid);
    assert.equal(back.RestartCount, 1);
    await ok('stop', '-t', '1', 'keep');
    const stopped = await inspect('keep');
    assert.equal(stopped.State.Status, 'exited');
    assert.equal(stopped.RestartCount, 1);
    assert.equal((await ok('ps', '-q', '--filter', 'name=keep')).trim(), '');

    // a container that fails at once backs off further each time: ps shows it Restarting between runs. That state is
    // transient, so `ps` runs only once an inspect (no CLI to start) sees it, and again if the wait ended first: the
    // waits double (moby: 100 ms up to a minute), so one is soon longer than a `ps` however loaded the machine
    await ok('run', '-d', '--name', 'loop', '--restart', 'always', IMG, 'sh', '-c', 'exit 1');
    const restartingPs = async () => (await getJson<{ State: { Restarting: boolean } }>(d.socket, '/containers/loop/json')).State.Restarting
      ? ok('ps', '--filter', 'name=loop', '--format', '{{.Status}}') : '(not restarting)';
    const ps = await until('loop shows as restarting', restartingPs, (s) => /^Restarting \(1\)/.test(s), 180_000);
    assert.match(ps, /^Restarting \(1\) /);
    await ok('stop', 'loop'); // stops the waiting, too
    const loop = await inspect('loop');
    assert.equal(loop.State.Status, 'exited');
    const count = loop.RestartCount;
    await ok('rm', 'keep', 'loop');
    assert.ok(count >= 1);
  });

  test('after berthd kill -9: `always` containers come back, a stopped unless-stopped one does not', async () => {
    await ok('run', '-d', '--name', 'a1', '--restart', 'always', IMG, 'sleep', '1000');         // dies while berthd is down
    await ok('run', '-d', '--name', 'a2', '--restart', 'always', IMG, 'sleep', '1000');         // stopped by the user before
    await ok('run', '-d', '--name', 'u1', '--restart', 'unless-stopped', IMG, 'sleep', '1000'); // stopped by the user before
    await ok('run', '-d', '--name', 'n1', IMG, 'sleep', '1000');                                // no policy, dies while down
    // more that die while down: the restore takes longer than the first one's 100 ms restart delay
    for (const n of ['a3', 'a4', 'a5']) await ok('run', '-d', '--name', n, '--restart', 'always', IMG, 'sleep', '1000');
    await ok('stop', '-t', '1', 'a2', 'u1');
    const a1 = await inspect('a1'), n1 = await inspect('n1');
    const more = await Promise.all(['a3', 'a4', 'a5'].map((n) => inspect(n)));
    // freeze berthd so it cannot see the exits, kill the containers' processes, then kill -9 and start a new one
    process.kill(d.pid, 'SIGSTOP');
    try {
      for (const p of [a1, n1, ...more].map((c) => c.State.Pid)) process.kill(p, 'SIGKILL');
      const exitFile = (id: string) => path.join(d.root, 'containers', id, 'exit.json');
      // each monitor writes its exit file once its container died (and it stays): a deadline as a hang guard only
      for (const id of [a1, n1, ...more].map((c) => (c as unknown as { Id: string }).Id)) {
        assert.ok(await eventually(() => fs.existsSync(exitFile(id)), 60_000, 50), `no exit file for ${id}`);
      }
    } finally {
      await d.crashAndRestart();
    }
    const a1After = await until('a1 comes back', () => inspect('a1'), (c) => c.State.Status === 'running');
    assert.notEqual(a1After.State.Pid, a1.State.Pid);
    assert.equal(a1After.RestartCount, 1);
    await until('a2 comes back', () => state('a2'), (s) => s.Status === 'running');
    // one policy start each: an exit while berthd was down schedules the restart, and the daemon start must not
    // schedule it again (--debug logs every policy start; the log is this daemon's and the one before's)
    for (const n of ['a3', 'a4', 'a5']) await until(`${n} comes back`, () => state(n), (s) => s.Status === 'running');
    const idOf = async (n: string) => (await inspect(n) as unknown as { Id: string }).Id;
    const policyStarts = (id: string) => d.log().split('\n').filter((l) => l.includes(`container ${id}: start by its restart policy`)).length;
    for (const n of ['a1', 'a2', 'a3', 'a4', 'a5']) assert.equal(policyStarts(await idOf(n)), 1, `${n}: ${d.log().slice(-3000)}`);
    assert.equal((await state('u1')).Status, 'exited');
    assert.equal((await state('n1')).Status, 'exited');
    assert.equal((await state('n1')).ExitCode, 137);
    await ok('rm', '-f', 'a1', 'a2', 'u1', 'n1', 'a3', 'a4', 'a5');
  });

  test('a healthcheck that starts failing turns the container unhealthy with health_status events; probes go on after a berthd restart', async () => {
    const since = String(Math.floor(Date.now() / 1000) - 1); // events from here on, also those before `docker events` connects
    await ok('run', '-d', '--name', 'hc', '--health-cmd', 'head -c 5000 /dev/zero | tr "\\0" a; test ! -f /tmp/bad', '--health-interval', '200ms', '--health-retries', '2', IMG, 'sleep', '1000');
    const events = spawnLines(DOCKER, ['events', '--since', since, '--filter', 'container=hc', '--filter', 'event=health_status', '--format', '{{.Action}}'], d.env);
    try {
      const healthy = await until('hc healthy', () => state('hc'), (s) => s.Health?.Status === 'healthy');
      assert.equal(healthy.Health!.FailingStreak, 0);
      assert.equal(healthy.Health!.Log.at(-1)!.ExitCode, 0);
      assert.equal(healthy.Health!.Log.at(-1)!.Output, 'a'.repeat(4096)); // docker keeps 4096 bytes of output
      assert.match(await ok('ps', '--filter', 'name=hc', '--format', '{{.Status}}'), /^Up .* \(healthy\)\n$/);
      assert.equal((await ok('ps', '--filter', 'health=healthy', '--format', '{{.Names}}')).trim(), 'hc');
      await ok('exec', 'hc', 'touch', '/tmp/bad');
      const sick = await until('hc unhealthy', () => state('hc'), (s) => s.Health?.Status === 'unhealthy');
      assert.ok(sick.Health!.FailingStreak >= 2);
      assert.ok(sick.Health!.Log.length <= 5);
      assert.equal(sick.Health!.Log.at(-1)!.ExitCode, 1);
      assert.match(await ok('ps', '--filter', 'name=hc', '--format', '{{.Status}}'), /\(unhealthy\)/);
      await until('health_status events', async () => events.lines.join(','), (l) => l === 'health_status: healthy,health_status: unhealthy');
    } finally {
      events.child.kill();
    }

    // a new berthd picks the probes up: the container turns healthy again once the cause is gone
    await d.crashAndRestart();
    const since2 = String(Math.floor(Date.now() / 1000) - 1);
    const events2 = spawnLines(DOCKER, ['events', '--since', since2, '--filter', 'container=hc', '--filter', 'event=health_status', '--format', '{{.Action}}'], d.env);
    try {
      assert.equal((await state('hc')).Health?.Status, 'unhealthy');
      await ok('exec', 'hc', 'rm', '/tmp/bad');
      await until('hc healthy after the daemon restart', () => state('hc'), (s) => s.Health?.Status === 'healthy');
      await until('health_status event from the new daemon', async () => events2.lines.join(','), (l) => l === 'health_status: healthy');
    } finally {
      events2.child.kill();
    }
    await ok('rm', '-f', 'hc');
  });

  test('the image\'s HEALTHCHECK runs; the container\'s settings override it, --no-healthcheck turns it off', async () => {
    // a `docker save` layout by hand: one layer (the busybox root) and a config with a Healthcheck
    const w = path.join(d.dir, 'hcimg');
    fs.mkdirSync(w, { recursive: true });
    const layer = await tarDir(await busyboxRootfs(), false);
    const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
    fs.writeFileSync(path.join(w, 'layer.tar'), layer);
    const config = JSON.stringify({
      architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [`sha256:${sha(layer)}`] },
      config: { Cmd: ['sleep', '1000'], Healthcheck: { Test: ['CMD-SHELL', 'echo from-image'], Interval: 1e9, Retries: 2 } },
    });
    fs.writeFileSync(path.join(w, `${sha(config)}.json`), config);
    fs.writeFileSync(path.join(w, 'manifest.json'), JSON.stringify([{ Config: `${sha(config)}.json`, RepoTags: ['bb:hc'], Layers: ['layer.tar'] }]));
    const tar = path.join(d.dir, 'hcimg.tar');
    assert.equal((await run('tar', ['-C', w, '-cf', tar, '.'])).code, 0);
    await ok('load', '-i', tar);
    // the container's interval wins, the image's command and retries stay (moby's merge)
    await ok('run', '-d', '--name', 'fromimg', '--health-interval', '150ms', 'bb:hc');
    assert.deepEqual(JSON.parse(await ok('inspect', '-f', '{{json .Config.Healthcheck}}', 'fromimg')), { Test: ['CMD-SHELL', 'echo from-image'], Interval: 150_000_000, Retries: 2 });
    const s = await until('fromimg healthy', () => state('fromimg'), (x) => x.Health?.Status === 'healthy');
    assert.equal(s.Health!.Log.at(-1)!.Output, 'from-image\n');
    await ok('run', '-d', '--name', 'offimg', '--no-healthcheck', 'bb:hc');
    assert.equal((await state('offimg')).Health, undefined);
    await ok('rm', '-f', 'fromimg', 'offimg');
  });

  test('a probe past its timeout fails with docker\'s message; --no-healthcheck has none', async () => {
    await ok('run', '-d', '--name', 'slow', '--health-cmd', 'sleep 30', '--health-interval', '100ms', '--health-timeout', '300ms', '--health-retries', '1', IMG, 'sleep', '1000');
    const s = await until('slow unhealthy', () => state('slow'), (x) => x.Health?.Status === 'unhealthy');
    assert.equal(s.Health!.Log.at(-1)!.ExitCode, -1);
    assert.equal(s.Health!.Log.at(-1)!.Output, 'Health check exceeded timeout (300ms)');
    // before its first probe (an hour away) a container is starting
    await ok('run', '-d', '--name', 'later', '--health-cmd', 'true', '--health-interval', '1h', IMG, 'sleep', '1000');
    assert.equal((await state('later')).Health?.Status, 'starting');
    assert.match(await ok('ps', '--filter', 'name=later', '--format', '{{.Status}}'), /^Up .* \(health: starting\)\n$/);
    await ok('run', '-d', '--name', 'none', '--no-healthcheck', IMG, 'sleep', '1000');
    assert.equal((await state('none')).Health, undefined);
    assert.deepEqual(JSON.parse(await ok('inspect', '-f', '{{json .Config.Healthcheck}}', 'none')), { Test: ['NONE'] });
    await ok('rm', '-f', 'slow', 'later', 'none');
  });

  test('--init reaps the zombie that a plain PID 1 leaves, and forwards docker stop\'s SIGTERM', { skip: !haveTini ? 'needs tini-static (Debian tini)' : false }, async () => {
    // the inner sh leaves an orphan subshell to PID 1 and exits; PID 1 then execs a sleep, which never waits.
    // The orphan marks its end in a file just before it exits.
    const orphan = 'sh -c "(sleep 1; touch /tmp/orphan-done) &"; exec sleep 1000';
    const procs = (name: string) => ok('exec', name, 'sh', '-c', 'for s in /proc/[0-9]*/status; do n=$(grep ^Name: $s | cut -f2); st=$(grep ^State: $s | cut -f2 | cut -c1); echo "$n $st"; done; [ -e /tmp/orphan-done ] && echo orphan-done; true');
    await ok('run', '-d', '--name', 'plain', IMG, 'sh', '-c', orphan);
    await until('a zombie under a plain PID 1', () => procs('plain'), (p) => /^orphan-done$/m.test(p) && / Z$/m.test(p));

    await ok('run', '-d', '--init', '--name', 'inited', IMG, 'sh', '-c', orphan);
    assert.equal((await ok('exec', 'inited', 'cat', '/proc/1/comm')).trim(), 'docker-init');
    // the orphan ends and is reaped: once it is done, no zombie stays (a non-reaping PID 1 would keep one forever)
    await until('the orphan reaped under --init', () => procs('inited'), (x) => /^orphan-done$/m.test(x) && !/ Z$/m.test(x));
    assert.equal(JSON.parse(await ok('inspect', '-f', '{{json .HostConfig.Init}}', 'inited')), true);
    // tini passes SIGTERM to the sleep, which dies of it (143); a plain sleep as PID 1 ignores it until SIGKILL
    await ok('stop', '-t', '60', 'inited');
    assert.equal((await state('inited')).ExitCode, 143);
    // berth's own CLI: --init
    const r = await berth(['run', '--rm', '--init', IMG, 'cat', '/proc/1/comm'], d.env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'docker-init\n');
    await ok('rm', '-f', 'plain', 'inited');
  });

  test('--init without an init binary: start fails with a clear error, the container stays', async () => {
    const saved = process.env.BERTH_INIT_PATH;
    process.env.BERTH_INIT_PATH = path.join(d.dir, 'no-such-init'); // the second daemon inherits it
    let d2: Daemon | undefined;
    try {
      d2 = await startDaemon();
      const tarFile = path.join(d.dir, 'rootfs.tar');
      assert.equal((await run(DOCKER, ['import', tarFile, IMG], { env: d2.env })).code, 0);
      const r = await run(DOCKER, ['run', '--init', '--name', 'noinit', IMG, 'true'], { env: d2.env });
      assert.equal(r.code, 125);
      assert.match(r.stderr, /--init: no init binary: .*no-such-init does not exist; install Debian's tini package/);
      assert.equal((await run(DOCKER, ['inspect', '-f', '{{.State.Status}}', 'noinit'], { env: d2.env })).stdout, 'exited\n');
    } finally {
      if (saved === undefined) delete process.env.BERTH_INIT_PATH; else process.env.BERTH_INIT_PATH = saved;
      await d2?.stop();
    }
  });

  test('berth run: --restart and --health-* reach the daemon', async () => {
    let r = await berth(['run', '-d', '--name', 'bcli', '--restart', 'on-failure:2', '--health-cmd', 'true', '--health-interval', '150ms', IMG, 'sleep', '1000'], d.env);
    assert.equal(r.code, 0, r.stderr);
    const c = await inspect('bcli');
    assert.deepEqual(c.HostConfig.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 2 });
    assert.deepEqual(JSON.parse(await ok('inspect', '-f', '{{json .Config.Healthcheck}}', 'bcli')), { Test: ['CMD-SHELL', 'true'], Interval: 150_000_000 });
    await until('bcli healthy', () => state('bcli'), (s) => s.Health?.Status === 'healthy');
    r = await berth(['run', '-d', '--restart', 'on-failure:x', IMG], d.env);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /invalid restart policy format: maximum retry count must be an integer/);
    r = await berth(['run', '-d', '--no-healthcheck', '--health-cmd', 'true', IMG], d.env);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /--no-healthcheck conflicts with --health-\* options/);
    await ok('rm', '-f', 'bcli');
  });

  test('bad restart policies and healthchecks are 400s with docker\'s words, and create nothing', async () => {
    const before = await ok('ps', '-aq');
    const cases: Array<[object, RegExp]> = [
      [{ HostConfig: { RestartPolicy: { Name: 'bogus' } } }, /^invalid restart policy: unknown policy 'bogus'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'$/],
      [{ HostConfig: { RestartPolicy: { Name: 'on-failure', MaximumRetryCount: -1 } } }, /^invalid restart policy: maximum retry count cannot be negative$/],
      [{ HostConfig: { RestartPolicy: { Name: 'always', MaximumRetryCount: 2 } } }, /^invalid restart policy: maximum retry count can only be used with 'on-failure'$/],
      [{ HostConfig: { RestartPolicy: { Name: 'always' }, AutoRemove: true } }, /^can't create 'AutoRemove' container with restart policy$/],
      [{ Healthcheck: { Test: ['CMD', 'true'], Interval: 1000 } }, /^Interval in Healthcheck cannot be less than 1ms$/],
      [{ Healthcheck: { Test: ['CMD', 'true'], Timeout: -5 } }, /^Timeout in Healthcheck cannot be less than 1ms$/],
      [{ Healthcheck: { Test: ['CMD', 'true'], Retries: -1 } }, /^Retries in Healthcheck cannot be negative$/],
      [{ Healthcheck: { Test: ['CMD', 'true'], StartPeriod: 10 } }, /^StartPeriod in Healthcheck cannot be less than 1ms$/],
    ];
    for (const [extra, msg] of cases) {
      const r = await post(d.socket, '/containers/create', { Image: IMG, Cmd: ['true'], ...extra });
      assert.equal(r.status, 400, JSON.stringify(extra));
      assert.match((JSON.parse(r.body) as { message: string }).message, msg);
    }
    // the docker CLI shows the daemon's words
    const r = await docker('run', '-d', '--restart', 'sometimes', IMG);
    assert.equal(r.code, 125);
    assert.match(r.stderr, /invalid restart policy: unknown policy 'sometimes'/);
    assert.equal(await ok('ps', '-aq'), before);
  });

  test('docker-py: restart policy and healthcheck', { skip: !fs.existsSync('/usr/bin/python3') ? 'needs python3' : false }, async () => {
    const py = `
import docker, sys, time
c = docker.DockerClient(base_url=sys.argv[1])
img = sys.argv[2]
def until(f, what):
    end = time.time() + 30
    while not f():
        if time.time() > end: raise SystemExit("timeout: " + what)
        time.sleep(0.1)
ct = c.containers.run(img, ["sh", "-c", "exit 2"], detach=True, restart_policy={"Name": "on-failure", "MaximumRetryCount": 2})
def ended():
    ct.reload()
    return ct.status == "exited"
until(ended, "on-failure container ends")
print(ct.attrs["RestartCount"], ct.attrs["HostConfig"]["RestartPolicy"]["Name"])
hc = c.containers.run(img, ["sleep", "1000"], detach=True, healthcheck={"test": ["CMD-SHELL", "echo fine"], "interval": 200000000, "retries": 2})
def healthy():
    hc.reload()
    return hc.attrs["State"].get("Health", {}).get("Status") == "healthy"
until(healthy, "healthy")
print(hc.attrs["State"]["Health"]["Log"][-1]["Output"].strip())
try:
    c.containers.create(img, restart_policy={"Name": "bogus"})
except docker.errors.APIError as e:
    print(e.status_code)
ct.remove(force=True)
hc.remove(force=True)
`;
    const r = await run('/usr/bin/python3', ['-c', py, d.host, IMG], { env: d.env });
    if (/No module named 'docker'/.test(r.stderr)) return;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '2 on-failure\nfine\n400\n');
  });
});

function spawnLines(cmd: string, args: string[], env: NodeJS.ProcessEnv): { child: ChildProcess; lines: string[] } {
  const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'ignore'] });
  const lines: string[] = [];
  let buf = '';
  child.stdout!.on('data', (b: Buffer) => {
    buf += b.toString();
    const parts = buf.split('\n');
    buf = parts.pop()!;
    lines.push(...parts);
  });
  return { child, lines };
}

function post(socket: string, p: string, body: unknown): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: socket, method: 'POST', path: p, headers: { 'Content-Type': 'application/json' } }, (res) => {
      let b = '';
      res.on('data', (d) => { b += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: b }));
    });
    req.on('error', reject);
    req.end(JSON.stringify(body));
  });
}
