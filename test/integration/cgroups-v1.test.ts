// cgroups: V1Manager on the host's real v1 hierarchy (root; v1 or hybrid host). Everything lives
// under /berth-test/<random> and is destroyed in after().
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import {
  cgroupManager, detectCgroupMode, readMountinfo, v1Mounts, V1Manager, type CgroupManager,
} from '../../src/runtime/cgroups/index.js';
import type { LinuxResources } from '../../src/runtime/spec-types.js';
import { eventually } from '../helpers/leaks.js';

const MiB = 1024 * 1024;
const PARENT = '/berth-test';

function skipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root';
  const mode = detectCgroupMode();
  if (mode === 'v2') return 'needs cgroup v1 or hybrid (host is pure v2; v2 is covered by the unit tests)';
  const mounts = v1Mounts(readMountinfo());
  const missing = ['memory', 'pids', 'cpu', 'cpuset', 'devices', 'freezer'].filter((c) => !mounts[c]);
  return missing.length ? `needs v1 controllers ${missing.join(', ')}` : undefined;
}
const reason = skipReason();

const managers: CgroupManager[] = [];
const children: ChildProcess[] = [];
function newManager(): V1Manager {
  const m = cgroupManager(`${PARENT}/${randomBytes(6).toString('hex')}`);
  assert.ok(m instanceof V1Manager, 'a v1 or hybrid host gets the V1Manager');
  managers.push(m);
  return m;
}
function track(c: ChildProcess): ChildProcess {
  children.push(c);
  return c;
}

after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const m of managers) await m.destroy();
  if (reason) return;
  // The shared parent goes too when no other run is using it.
  for (const mp of new Set(Object.values(v1Mounts(readMountinfo())))) {
    try {
      fs.rmdirSync(path.join(mp, PARENT));
    } catch {
      /* absent or still in use */
    }
  }
});

const read = (dir: string, f: string) => fs.readFileSync(path.join(dir, f), 'utf8').trim();
const procState = (pid: number) => /^State:\s+(\S)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];

test('V1Manager: create, apply, join, freeze, thaw, stats, destroy', { skip: reason }, async () => {
  const m = newManager();
  m.create();
  assert.equal(m.exists(), true);
  const r: LinuxResources = {
    memory: { limit: 64 * MiB, reservation: 32 * MiB },
    cpu: { shares: 512, quota: 150000, period: 100000, cpus: '0', mems: '0' },
    pids: { limit: 100 },
    devices: [
      { allow: false, access: 'rwm' },
      { allow: true, type: 'c', major: -1, minor: -1, access: 'm' },
      { allow: true, type: 'b', major: null, minor: null, access: 'm' },
      { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
      { allow: true, type: 'c', major: 136, minor: -1, access: 'rwm' },
    ],
  };
  const mem = m.dir('memory')!;
  const swapAccounting = fs.existsSync(path.join(mem, 'memory.memsw.limit_in_bytes'));
  if (swapAccounting) r.memory!.swap = 128 * MiB;
  m.apply(r);
  assert.equal(read(mem, 'memory.limit_in_bytes'), String(64 * MiB));
  assert.equal(read(mem, 'memory.soft_limit_in_bytes'), String(32 * MiB));
  if (swapAccounting) assert.equal(read(mem, 'memory.memsw.limit_in_bytes'), String(128 * MiB));
  assert.equal(read(m.dir('pids')!, 'pids.max'), '100');
  assert.equal(read(m.dir('cpu')!, 'cpu.shares'), '512');
  assert.equal(read(m.dir('cpu')!, 'cpu.cfs_period_us'), '100000');
  assert.equal(read(m.dir('cpu')!, 'cpu.cfs_quota_us'), '150000');
  assert.equal(read(m.dir('cpuset')!, 'cpuset.cpus'), '0');
  assert.equal(read(m.dir('cpuset')!, 'cpuset.mems'), '0');
  assert.deepEqual(read(m.dir('devices')!, 'devices.list').split('\n').sort(), ['b *:* m', 'c *:* m', 'c 1:3 rwm', 'c 136:* rwm'].sort());

  // Raising the limit afterwards exercises the memsw-first order (a wrong order gets EINVAL).
  if (swapAccounting) {
    m.apply({ memory: { limit: 256 * MiB, swap: 512 * MiB } });
    assert.equal(read(mem, 'memory.limit_in_bytes'), String(256 * MiB));
    m.apply({ memory: { limit: 32 * MiB, swap: 64 * MiB } });
    assert.equal(read(mem, 'memory.memsw.limit_in_bytes'), String(64 * MiB));
  }

  // A kernel refusal names the file and the value.
  assert.throws(() => m.apply({ cpu: { cpus: '4095' } }), { name: 'BerthError', kind: 'InvalidArgument', message: /^write cpuset\.cpus=4095: E(INVAL|RANGE): .*\(in \/.*\/berth-test\/[0-9a-f]+\)$/ });
  assert.equal(read(m.dir('cpuset')!, 'cpuset.cpus'), '0');

  // The shell execs sleep only after the join, so its memory and CPU time are charged here
  // (v1 does not move earlier charges with the task).
  const child = track(spawn('/bin/sh', ['-c', 'read go; exec /bin/sleep 60'], { stdio: ['pipe', 'ignore', 'ignore'] }));
  const pid = child.pid!;
  m.join(pid);
  child.stdin!.end('go\n');
  // polled up to 20 s: the shell reads and execs at once, but 1 s (200 x 5 ms) was tight for a loaded CI machine
  await eventually(() => fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'sleep', 20_000);
  assert.equal(fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim(), 'sleep');
  const lines = fs.readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n');
  for (const c of ['memory', 'pids', 'cpu', 'cpuacct', 'cpuset', 'devices', 'freezer']) {
    assert.ok(lines.some((l) => l.split(':')[1]!.split(',').includes(c) && l.endsWith(`:${m.path}`)), `${c} in /proc/${pid}/cgroup:\n${lines.join('\n')}`);
  }
  assert.deepEqual(m.pids(), [pid]);

  await m.freeze();
  assert.equal(m.state(), 'frozen');
  assert.equal(read(m.dir('freezer')!, 'freezer.state'), 'FROZEN');
  assert.match(procState(pid) ?? '', /^[DS]$/); // frozen tasks sleep in the refrigerator
  m.thaw();
  assert.equal(m.state(), 'thawed');
  assert.equal(read(m.dir('freezer')!, 'freezer.state'), 'THAWED');

  const s = m.stats();
  assert.ok(s.memory.usage > 0, `memory usage ${s.memory.usage}`);
  assert.equal(s.memory.limit, swapAccounting ? 32 * MiB : 64 * MiB);
  assert.ok((s.memory.maxUsage ?? 0) >= s.memory.usage);
  assert.equal(s.memory.oomKills, 0);
  assert.deepEqual(s.pids, { current: 1, limit: 100 });
  assert.ok(s.cpu.usageNs > 0, `cpu usage ${s.cpu.usageNs}`);

  const exited = once(child, 'exit');
  await m.destroy(); // kills the sleep, removes every controller's directory
  assert.deepEqual((await exited)[1], 'SIGKILL');
  assert.equal(m.exists(), false);
  for (const mp of new Set(Object.values(v1Mounts(readMountinfo())))) {
    assert.equal(fs.existsSync(path.join(mp, m.path)), false, `${mp}${m.path} left behind`);
  }
});

test('V1Manager: a real OOM kill is counted', { skip: reason, timeout: 30000 }, async () => {
  const m = newManager();
  m.create();
  const swapAccounting = fs.existsSync(path.join(m.dir('memory')!, 'memory.memsw.limit_in_bytes'));
  m.apply({ memory: { limit: 16 * MiB, ...(swapAccounting ? { swap: 16 * MiB } : {}), swappiness: 0 } });
  // tail keeps a newline-free stream in memory; the pipeline starts only after the join.
  const child = track(spawn('/bin/sh', ['-c', 'read go; head -c 67108864 /dev/zero | tail'], { stdio: ['pipe', 'ignore', 'ignore'] }));
  const exited = once(child, 'exit');
  m.join(child.pid!);
  child.stdin!.end('go\n');
  const [code, signal] = await exited;
  assert.ok(code === 137 || signal === 'SIGKILL', `exit ${code} ${signal}`);
  assert.ok(m.oomKillCount() >= 1, `oom_kill ${m.oomKillCount()}`);
  assert.ok(m.stats().memory.oomKills >= 1);
  assert.ok((m.stats().memory.maxUsage ?? 0) >= 15 * MiB);
  await m.destroy();
  assert.equal(m.exists(), false);
});
