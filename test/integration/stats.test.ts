// stats, top, pause/unpause, update and event filters through berthd with the real docker CLI, docker-py
// and `berth`: the memory a container holds shows in `docker stats --no-stream`, a stream's samples carry
// the previous one, `docker top` lists the process, a paused counter stops and resumes, `docker update`
// rewrites the live cgroup (and a refused update changes nothing), `docker events --filter` picks them out.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isRoot, run } from '../helpers/bundle.js';
import { berth, startDaemon, type Daemon } from '../helpers/daemon.js';
import { importBusybox } from '../helpers/images.js';

const DOCKER = '/usr/local/bin/docker';
const skip = !isRoot ? 'needs root' : !fs.existsSync(DOCKER) ? 'needs the docker CLI' : false;
const MiB = 1024 * 1024;

/** A process's cgroup directory for a controller (v1) or the unified one (v2), from /proc/<pid>/cgroup. */
function cgroupDir(pid: number, controller: string): string {
  const lines = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').trim().split('\n').map((l) => l.split(':'));
  const v1 = lines.find((l) => l[1]!.split(',').includes(controller));
  if (v1) return path.join('/sys/fs/cgroup', controller, v1[2]!);
  return path.join('/sys/fs/cgroup', lines.find((l) => l[0] === '0')![2]!);
}

/** Polls until `f` holds; the bound only keeps a broken build from hanging, it is not what is tested. */
async function until(f: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 300; i++) { if (await f()) return; await new Promise((r) => setTimeout(r, 100)); }
  assert.fail(`gave up waiting: ${what}`);
}

/** The first `n` JSON documents of a streamed GET, then the connection is closed. */
function streamed(socket: string, p: string, n: number): Promise<Array<Record<string, any>>> {
  return new Promise((resolve, reject) => {
    const out: Array<Record<string, any>> = [];
    const req = http.get({ socketPath: socket, path: p }, (res) => {
      let buf = '';
      res.on('data', (d: Buffer) => {
        buf += d.toString();
        let i;
        while ((i = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, i).trim();
          buf = buf.slice(i + 1);
          if (line) out.push(JSON.parse(line));
          if (out.length === n) { req.destroy(); resolve(out); return; }
        }
      });
      res.on('end', () => { if (buf.trim()) out.push(JSON.parse(buf)); resolve(out); });
    });
    req.on('error', (e) => { if (out.length < n) reject(e); });
  });
}

describe('stats, top, pause, update (docker CLI, docker-py, berth)', { skip }, () => {
  let d: Daemon;
  const docker = (...args: string[]) => run(DOCKER, args, { env: d.env });
  const ok = async (...args: string[]) => {
    const r = await docker(...args);
    assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}\n${d.log().slice(-2000)}`);
    return r.stdout;
  };
  const inspect = async (name: string) => JSON.parse(await ok('inspect', name))[0];

  before(async () => {
    d = await startDaemon();
    await importBusybox(d, 'bb:stats');
    // 48 MiB in /dev/shm (a tmpfs): charged to the container's memory cgroup and never reclaimable as page cache
    await ok('run', '-d', '--name', 'mem', 'bb:stats', 'sh', '-c', 'dd if=/dev/zero of=/dev/shm/fill bs=1M count=48 2>/dev/null && echo filled && exec sleep 100000');
    await ok('run', '-d', '--name', 'idle', 'bb:stats', 'sleep', '100000');
    await until(async () => (await docker('logs', 'mem')).stdout.includes('filled'), 'mem filled /dev/shm');
  });
  after(async () => { await d?.stop(); });

  test('docker stats --no-stream shows the memory each container holds, for several at once', async () => {
    const out = await ok('stats', '--no-stream', '--format', '{{.Name}} {{.MemUsage}} {{.PIDs}} {{.CPUPerc}}', 'mem', 'idle');
    const rows = Object.fromEntries(out.trim().split('\n').map((l) => { const [n, ...rest] = l.split(' '); return [n!, rest]; }));
    const mib = (s: string) => { const m = /^([\d.]+)(B|KiB|MiB|GiB)$/.exec(s); assert.ok(m, s); return Number(m[1]) * { B: 1 / MiB, KiB: 1 / 1024, MiB: 1, GiB: 1024 }[m[2] as 'B']; };
    assert.ok(mib(rows.mem![0]!) >= 48, `mem uses ${rows.mem![0]} (expected ≥ 48MiB): ${out}`);
    assert.ok(mib(rows.idle![0]!) < 16, `idle uses ${rows.idle![0]}: ${out}`);
    assert.equal(rows.mem![3], '1', 'one process (sleep)');
    assert.match(rows.mem![4]!, /^\d+\.\d\d%$/);
    // the default table, with docker's columns
    const table = await ok('stats', '--no-stream', 'mem');
    assert.match(table, /^CONTAINER ID +NAME +CPU % +MEM USAGE \/ LIMIT +MEM % +NET I\/O +BLOCK I\/O +PIDS\n/);
    assert.match(table, /\n[0-9a-f]{12} +mem +\d+\.\d\d% +[\d.]+MiB \/ [\d.]+GiB/);
  });

  test('docker stats (streaming) redraws the table with each new sample', async () => {
    const child = spawn(DOCKER, ['stats', '--format', '{{.Name}} {{.MemUsage}}', 'mem'], { env: d.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => { out += b.toString(); });
    const closed = new Promise((r) => child.once('close', r));
    try {
      // each redraw starts with the cursor-home escape on a terminal-less stdout too
      await until(() => (out.match(/mem [\d.]+MiB \//g) ?? []).length >= 3, `three redraws: ${out}`);
    } finally {
      // the CLI (28.x) keeps drawing "--" rows after a SIGINT when not on a terminal; the redraws are what is tested
      child.kill('SIGKILL');
      await closed;
    }
  });

  test('stream=false carries a previous sample; the stream yields successive samples, each with the one before', async () => {
    const one = await streamed(d.socket, '/containers/mem/stats?stream=false', 1);
    const s = one[0]!;
    assert.equal(s.name, '/mem');
    assert.ok(s.memory_stats.usage >= 48 * MiB);
    assert.ok(s.memory_stats.stats && typeof s.memory_stats.stats === 'object' && Object.keys(s.memory_stats.stats).length > 5);
    assert.ok(s.cpu_stats.system_cpu_usage > s.precpu_stats.system_cpu_usage, 'precpu is an earlier sample');
    assert.notEqual(s.preread, '0001-01-01T00:00:00Z');
    assert.ok(s.cpu_stats.online_cpus >= 1);
    assert.equal(s.pids_stats.current, 1);
    const shot = (await streamed(d.socket, '/containers/mem/stats?stream=false&one-shot=true', 1))[0]!;
    assert.ok(shot.cpu_stats.cpu_usage.total_usage > 0);
    // moby's TestStats: one-shot has no previous sample, even with one cached by the call just before
    assert.equal(shot.preread, '0001-01-01T00:00:00Z');
    assert.equal(shot.precpu_stats.cpu_usage.total_usage, 0);
    const [a, b] = await streamed(d.socket, '/containers/mem/stats', 2);
    assert.ok(a && b, 'two samples');
    assert.equal(b.preread, a.read, 'the second sample\'s precpu is the first sample');
    assert.equal(b.precpu_stats.cpu_usage.total_usage, a.cpu_stats.cpu_usage.total_usage);
    assert.ok(Date.parse(b.read) > Date.parse(a.read));
    // a stopped container answers zeros, as docker does
    await ok('create', '--name', 'never', 'bb:stats', 'true');
    const z = (await streamed(d.socket, '/containers/never/stats?stream=false', 1))[0]!;
    assert.equal(z.read, '0001-01-01T00:00:00Z');
    await ok('rm', 'never');
  });

  test('docker top lists the container\'s processes, with ps_args; a stopped container is a 409', async () => {
    const out = await ok('top', 'idle');
    const [head, ...rows] = out.trim().split('\n');
    assert.match(head!, /^UID +PID +PPID +C +STIME +TTY +TIME +CMD$/);
    assert.equal(rows.length, 1, out);
    assert.match(rows[0]!, /sleep 100000$/);
    const pid = (await inspect('idle')).State.Pid;
    assert.match(rows[0]!, new RegExp(`^\\S+ +${pid} `));
    const custom = await ok('top', 'idle', '-o', 'pid,comm');
    assert.deepEqual(custom.trim().split('\n').map((l) => l.trim().split(/\s+/)), [['PID', 'COMMAND'], [String(pid), 'sleep']]);
    const badArgs = await run('/usr/bin/curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--unix-socket', d.socket, 'http://x/containers/idle/top?ps_args=--no-such-option']);
    assert.equal(badArgs.stdout, '400', 'arguments ps refuses are the client\'s');
    await ok('create', '--name', 'stopped', 'bb:stats', 'true');
    const r = await docker('top', 'stopped');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Error response from daemon: container [0-9a-f]{64} is not running/);
    await ok('rm', 'stopped');
  });

  test('pause freezes (a counter stops), exec is refused, unpause resumes it; stop of a paused container delivers its signal', async () => {
    await ok('run', '-d', '--name', 'count', 'bb:stats', 'sh', '-c', 'trap "exit 7" TERM; i=0; while :; do i=$((i+1)); echo $i > /tmp/n; sleep 0.05; done');
    const pid = (await inspect('count')).State.Pid;
    const counter = () => { try { return Number(fs.readFileSync(`/proc/${pid}/root/tmp/n`, 'utf8')); } catch { return 0; } };
    await until(() => counter() > 0, 'the counter starts');
    await ok('pause', 'count');
    const st = await inspect('count');
    assert.equal(st.State.Status, 'paused');
    assert.equal(st.State.Paused, true);
    assert.equal(fs.readFileSync(path.join(cgroupDir(pid, 'freezer'), 'freezer.state'), 'utf8').trim(), 'FROZEN');
    const frozenAt = counter();
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(counter(), frozenAt, 'a frozen counter does not advance');
    assert.match(await ok('ps', '--filter', 'name=count', '--format', '{{.Status}}'), /\(Paused\)/);
    const ex = await docker('exec', 'count', 'true');
    assert.notEqual(ex.code, 0);
    assert.match(ex.stderr, /is paused, unpause the container before exec/);
    const again = await docker('pause', 'count');
    assert.match(again.stderr, /is already paused/);
    const start = await docker('start', 'count');
    assert.match(start.stderr, /cannot start a paused container, try unpause instead/);
    const rm = await docker('rm', 'count');
    assert.match(rm.stderr, /container is paused and must be unpaused first/);
    await ok('unpause', 'count');
    assert.equal((await inspect('count')).State.Status, 'running');
    await until(() => counter() > frozenAt, 'the counter advances again');
    const un = await docker('unpause', 'count');
    assert.match(un.stderr, /is not paused/);
    // a paused container stopped: thawed after the signal, so its TERM trap runs (exit 7, not 137 after the timeout)
    await ok('pause', 'count');
    await ok('stop', '-t', '20', 'count');
    const end = await inspect('count');
    assert.equal(end.State.Status, 'exited');
    assert.equal(end.State.ExitCode, 7);
    await ok('rm', 'count');
  });

  test('docker update rewrites the running container\'s cgroup and its record; a refused update changes nothing', async () => {
    await ok('run', '-d', '--name', 'upd', '-m', '64m', 'bb:stats', 'sleep', '1000');
    const pid = (await inspect('upd')).State.Pid;
    const mem = cgroupDir(pid, 'memory');
    const v1 = mem.includes('/memory/');
    const limitFile = path.join(mem, v1 ? 'memory.limit_in_bytes' : 'memory.max');
    const pidsFile = path.join(cgroupDir(pid, 'pids'), 'pids.max');
    const limit = () => Number(fs.readFileSync(limitFile, 'utf8'));
    assert.equal(limit(), 64 * MiB);
    await ok('update', '--memory', '96m', '--pids-limit', '50', '--restart', 'on-failure:2', 'upd');
    assert.equal(limit(), 96 * MiB);
    assert.equal(fs.readFileSync(pidsFile, 'utf8').trim(), '50');
    let h = (await inspect('upd')).HostConfig;
    assert.equal(h.Memory, 96 * MiB);
    assert.equal(h.PidsLimit, 50);
    assert.deepEqual(h.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 2 });
    // bad values: docker's words, a 400, the cgroup and the record as they were
    for (const [args, msg] of [
      [['--memory', '256m'], /Cannot update container [0-9a-f]{64}: Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time/],
      [['--memory', '1m'], /Minimum memory limit allowed is 6MB/],
      [['--cpuset-cpus', '4096'], /Requested CPUs are not available - requested 4096/],
      [['--blkio-weight', '5'], /Range of blkio weight is from 10 to 1000/],
      [['--restart', 'sometimes'], /invalid restart policy: unknown policy 'sometimes'/],
      [['--pids-limit', '60', '--memory', '300m', '--memory-swap', '200m'], /Minimum memoryswap limit should be larger than memory limit/],
    ] as Array<[string[], RegExp]>) {
      const r = await docker('update', ...args, 'upd');
      assert.notEqual(r.code, 0, args.join(' '));
      assert.match(r.stderr, msg);
    }
    assert.equal(limit(), 96 * MiB);
    assert.equal(fs.readFileSync(pidsFile, 'utf8').trim(), '50');
    h = (await inspect('upd')).HostConfig;
    assert.equal(h.Memory, 96 * MiB);
    assert.equal(h.PidsLimit, 50);
    // memory and swap raised together (memsw first: the kernel wants memsw >= limit at every step)
    await ok('update', '--memory', '200m', '--memory-swap', '300m', 'upd');
    assert.equal(limit(), 200 * MiB);
    await ok('rm', '-f', 'upd');
  });

  test('events: pause, unpause, update, top, image save with --filter type/event/container/label and --since/--until', async () => {
    const since = String(Math.floor(Date.now() / 1000) - 1);
    await ok('run', '-d', '--name', 'ev', '--label', 'team=blue', 'bb:stats', 'sleep', '1000');
    await ok('pause', 'ev');
    await ok('unpause', 'ev');
    await ok('update', '--cpu-shares', '512', 'ev');
    await ok('top', 'ev');
    await ok('save', '-o', path.join(d.dir, 'saved.tar'), 'bb:stats');
    const untilT = String(Math.floor(Date.now() / 1000) + 1);
    await new Promise((r) => setTimeout(r, 1100)); // --until must have passed, or the CLI waits for it
    const evs = async (...f: string[]) => (await ok('events', '--since', since, '--until', untilT, '--format', '{{.Type}} {{.Action}} {{.Actor.Attributes.name}}', ...f)).trim().split('\n').filter(Boolean);
    assert.deepEqual(await evs('--filter', 'container=ev', '--filter', 'event=pause', '--filter', 'event=unpause', '--filter', 'event=update', '--filter', 'event=top'),
      ['container pause ev', 'container unpause ev', 'container update ev', 'container top ev']);
    assert.deepEqual(await evs('--filter', 'label=team=blue', '--filter', 'event=update'), ['container update ev']);
    assert.deepEqual(await evs('--filter', 'type=image', '--filter', 'event=pause'), []);
    assert.deepEqual(await evs('--filter', 'type=image', '--filter', 'event=save'), ['image save bb:stats']);
    await ok('rm', '-f', 'ev');
  });

  test('berth stats --no-stream, top, pause/unpause, update', async () => {
    const env = d.env;
    const s = await berth(['stats', '--no-stream', 'mem'], env);
    assert.equal(s.code, 0, s.stderr);
    assert.match(s.stdout, /^CONTAINER ID +NAME +CPU % +MEM USAGE \/ LIMIT +MEM % +NET I\/O +BLOCK I\/O +PIDS\n[0-9a-f]{12} +mem +\d+\.\d\d% +(4[89]|[5-9]\d)(\.\d+)?MiB \//);
    const t = await berth(['top', 'idle'], env);
    assert.equal(t.code, 0, t.stderr);
    assert.match(t.stdout, /sleep 100000\n$/);
    assert.equal((await berth(['pause', 'idle'], env)).code, 0);
    assert.equal((await inspect('idle')).State.Paused, true);
    assert.equal((await berth(['unpause', 'idle'], env)).code, 0);
    assert.equal((await inspect('idle')).State.Paused, false);
    const u = await berth(['update', '--cpu-shares', '256', 'idle'], env);
    assert.equal(u.code, 0, u.stderr);
    assert.equal((await inspect('idle')).HostConfig.CpuShares, 256);
    const bad = await berth(['update', '--memory', '1m', 'idle'], env);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /Minimum memory limit allowed is 6MB/);
  });

  test('docker-py: stats (one and a stream), top, pause/unpause, update', async () => {
    const py = `
import docker, json, sys
c = docker.DockerClient(base_url=sys.argv[1])
m = c.containers.get('mem')
s = m.stats(stream=False)
st = m.stats(stream=True, decode=True)
a = next(st); b = next(st); st.close()
t = m.top()
i = c.containers.get('idle')
i.pause(); paused = c.containers.get('idle').status; i.unpause()
r = i.update(mem_limit='32m', memswap_limit='64m')
print(json.dumps({'usage': s['memory_stats']['usage'], 'pre': s['precpu_stats'].get('system_cpu_usage', 0), 'b_pre': b['preread'], 'a_read': a['read'],
  'titles': t['Titles'], 'procs': t['Processes'], 'paused': paused, 'update': r, 'mem': c.containers.get('idle').attrs['HostConfig']['Memory']}))
`;
    const r = await run('/usr/bin/python3', ['-c', py, d.host], { timeout: 60_000 });
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.ok(j.usage >= 48 * MiB);
    assert.ok(j.pre > 0);
    assert.equal(j.b_pre, j.a_read);
    assert.ok(j.titles.includes('PID') && j.titles.includes('CMD'));
    assert.ok(j.procs.some((p: string[]) => p[p.length - 1].startsWith('sleep 100000')));
    assert.equal(j.paused, 'paused');
    assert.deepEqual(j.update, { Warnings: [] });
    assert.equal(j.mem, 32 * MiB);
  });
});
