// stats, top and update without root: the v1 and v2 counters read from temp dirs laid out like cgroupfs,
// /proc/stat and net/dev parsing, the wire shape and the CLI's numbers, ps output filtering, and
// update's validation and merge (docker's wording, nothing changed on a refusal).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { parseIoStat, parseV1Blkio, readV1Metrics, readV2Metrics, V1Manager, V2Manager } from '../../src/runtime/cgroups/index.js';
import { parseNetDev, parseProcStat, StatsSampler, type StatsTarget } from '../../src/containers/stats.js';
import { checkPsArgs, parsePsOutput } from '../../src/containers/top.js';
import { planUpdate, parseCpuList } from '../../src/containers/update.js';
import { statsWire, rfc3339Nano } from '../../src/api/stats-wire.js';
import { cpuPercent, statsRow } from '../../src/cli/docker/stats.js';
import { bytesSize, humanSize3 } from '../../src/cli/docker/output.js';
import { BerthError } from '../../src/errors.js';
import type { Container } from '../../src/containers/types.js';

const trees: string[] = [];
after(() => { for (const d of trees) fs.rmSync(d, { recursive: true, force: true }); });

function tree(files: Record<string, string>): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-stats-'));
  trees.push(d);
  for (const [f, v] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(d, f)), { recursive: true });
    fs.writeFileSync(path.join(d, f), v);
  }
  return d;
}

const throwsKind = (kind: string) => (f: () => unknown, re: RegExp) => assert.throws(f, (e: unknown) => e instanceof BerthError && e.kind === kind && re.test(e.message));
const throwsBad = throwsKind('InvalidArgument');
const throwsConflict = throwsKind('Conflict');

describe('cgroup v2 metrics from a cgroupfs-shaped directory', () => {
  const root = tree({
    'berth/c1/cpu.stat': 'usage_usec 2500\nuser_usec 1500\nsystem_usec 1000\nnr_periods 10\nnr_throttled 2\nthrottled_usec 300\n',
    'berth/c1/memory.current': '52428800\n',
    'berth/c1/memory.max': 'max\n',
    'berth/c1/memory.peak': '60000000\n',
    'berth/c1/memory.stat': 'anon 1000\nfile 50331648\nshmem 50331648\ninactive_file 4096\nactive_file 8192\n',
    'berth/c1/memory.events': 'low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n',
    'berth/c1/pids.current': '2\n',
    'berth/c1/pids.max': '100\n',
    'berth/c1/io.stat': '8:0 rbytes=4096 wbytes=8192 rios=1 wios=2 dbytes=0 dios=0\n254:1 rbytes=10 wbytes=0 rios=1 wios=0 dbytes=0 dios=0\n',
  });

  test('every counter docker stats reports, in its units', () => {
    const m = new V2Manager(root, '/berth/c1').metrics();
    assert.equal(m.cgroupVersion, 2);
    assert.deepEqual(m.cpu, { totalNs: 2_500_000, kernelNs: 1_000_000, userNs: 1_500_000, throttling: { periods: 10, throttledPeriods: 2, throttledTimeNs: 300_000 } });
    assert.equal(m.memory.usage, 52428800);
    assert.equal(m.memory.limit, -1, '"max" is unlimited');
    assert.equal(m.memory.maxUsage, 60000000);
    assert.equal(m.memory.failcnt, 1, 'memory.events oom');
    assert.equal(m.memory.stats.inactive_file, 4096);
    assert.equal(m.memory.stats.shmem, 50331648);
    assert.deepEqual(m.pids, { current: 2, limit: 100 });
    assert.deepEqual(m.blkio.serviceBytes, [
      { major: 8, minor: 0, op: 'read', value: 4096 }, { major: 8, minor: 0, op: 'write', value: 8192 },
      { major: 254, minor: 1, op: 'read', value: 10 }, { major: 254, minor: 1, op: 'write', value: 0 },
    ]);
    assert.deepEqual(m.blkio.serviced.slice(0, 2), [{ major: 8, minor: 0, op: 'read', value: 1 }, { major: 8, minor: 0, op: 'write', value: 2 }]);
  });

  test('missing files (no memory.peak before 5.19, no io controller) leave zeros, not errors', () => {
    const d = tree({ 'x/cpu.stat': 'usage_usec 1\n', 'x/memory.current': '5\n' });
    const m = readV2Metrics(path.join(d, 'x'));
    assert.equal(m.memory.maxUsage, undefined);
    assert.equal(m.memory.limit, -1);
    assert.deepEqual(m.blkio, { serviceBytes: [], serviced: [] });
    assert.deepEqual(m.pids, { current: 0, limit: -1 });
  });
});

describe('cgroup v1 metrics from per-controller directories', () => {
  test('cpuacct ticks and per-CPU usage, memory.stat, throttle blkio when CFQ is empty', () => {
    const root = tree({
      'cpuacct/berth/c1/cpuacct.usage': '123456789\n',
      'cpuacct/berth/c1/cpuacct.usage_percpu': '100000000 23456789 \n',
      'cpuacct/berth/c1/cpuacct.stat': 'user 7\nsystem 3\n',
      'cpu/berth/c1/cpu.stat': 'nr_periods 4\nnr_throttled 1\nthrottled_time 5000\n',
      'memory/berth/c1/memory.usage_in_bytes': '1048576\n',
      'memory/berth/c1/memory.max_usage_in_bytes': '2097152\n',
      'memory/berth/c1/memory.limit_in_bytes': '9223372036854771712\n',
      'memory/berth/c1/memory.failcnt': '0\n',
      'memory/berth/c1/memory.stat': 'cache 4096\nrss 8192\ntotal_inactive_file 4096\n',
      'pids/berth/c1/pids.current': '1\n',
      'pids/berth/c1/pids.max': 'max\n',
      'blkio/berth/c1/blkio.io_service_bytes_recursive': 'Total 0\n',
      'blkio/berth/c1/blkio.throttle.io_service_bytes_recursive': '8:0 Read 512\n8:0 Write 1024\n8:0 Sync 0\n8:0 Async 1536\n8:0 Total 1536\nTotal 1536\n',
    });
    const mounts = Object.fromEntries(['cpuacct', 'cpu', 'memory', 'pids', 'blkio'].map((c) => [c, path.join(root, c)]));
    const m = new V1Manager(mounts, '/berth/c1').metrics();
    assert.equal(m.cgroupVersion, 1);
    assert.equal(m.cpu.totalNs, 123456789);
    assert.deepEqual(m.cpu.perCpuNs, [100000000, 23456789]);
    assert.equal(m.cpu.userNs, 70_000_000, 'USER_HZ ticks in ns');
    assert.equal(m.cpu.kernelNs, 30_000_000);
    assert.deepEqual(m.cpu.throttling, { periods: 4, throttledPeriods: 1, throttledTimeNs: 5000 });
    assert.equal(m.memory.limit, -1, 'the page-rounded LONG_MAX is unlimited');
    assert.equal(m.memory.maxUsage, 2097152);
    assert.equal(m.memory.stats.total_inactive_file, 4096);
    assert.deepEqual(m.pids, { current: 1, limit: -1 });
    assert.deepEqual(m.blkio.serviceBytes.map((e) => `${e.op}=${e.value}`), ['Read=512', 'Write=1024', 'Sync=0', 'Async=1536', 'Total=1536']);
  });

  test('an unmounted controller reads as zeros', () => {
    const m = readV1Metrics(() => undefined);
    assert.equal(m.cpu.totalNs, 0);
    assert.deepEqual(m.memory, { usage: 0, limit: -1, failcnt: 0, stats: {} });
  });

  test('blkio and io.stat parsers', () => {
    assert.deepEqual(parseV1Blkio('8:16 Read 1\n8:16 5\nTotal 6\ngarbage\n'), [{ major: 8, minor: 16, op: 'Read', value: 1 }, { major: 8, minor: 16, op: '', value: 5 }]);
    assert.deepEqual(parseIoStat(''), { serviceBytes: [], serviced: [] });
  });
});

describe('host counters', () => {
  test('/proc/stat: the first seven cpu fields in ns, one online CPU per cpuN line', () => {
    const s = parseProcStat('cpu  10 1 5 100 4 0 0 7 0 0\ncpu0 5 1 2 50 2 0 0 0 0 0\ncpu1 5 0 3 50 2 0 0 0 0 0\nintr 1\n');
    assert.equal(s.systemCpuNs, 120 * 1e7);
    assert.equal(s.onlineCpus, 2);
    const real = parseProcStat(fs.readFileSync('/proc/stat', 'utf8'));
    assert.equal(real.onlineCpus, os.cpus().length);
  });

  test('net/dev: every interface but lo', () => {
    const text = 'Inter-|   Receive                                                |  Transmit\n face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n'
      + '    lo:     100       1    0    0    0     0          0         0      100       1    0    0    0     0       0          0\n'
      + '  eth0:    2048      12    1    2    0     0          0         0     1024       8    3    4    0     0       0          0\n';
    assert.deepEqual(parseNetDev(text), { eth0: { rxBytes: 2048, rxPackets: 12, rxErrors: 1, rxDropped: 2, txBytes: 1024, txPackets: 8, txErrors: 3, txDropped: 4 } });
  });
});

describe('stats samples and their wire shape', () => {
  const root = tree({ 'c/cpu.stat': 'usage_usec 10\n', 'c/memory.current': '100\n', 'c/memory.max': '1000\n', 'c/memory.stat': 'inactive_file 40\n' });
  const target: StatsTarget = { id: 'c', pid: 0, cgroup: () => new V2Manager(root, '/c'), ownNetwork: true };
  const ctr = { id: 'a'.repeat(64), name: 'web' } as Container;

  test('a pair on demand has an earlier sample; the next call reuses the last one; one-shot takes one', async () => {
    const s = new StatsSampler();
    const first = await s.pair(target);
    assert.ok(first.pre && first.pre.readMs < first.cur.readMs);
    const second = await s.pair(target);
    assert.equal(second.pre, first.cur, 'the cached sample is the previous one');
    s.forget('c');
    assert.equal((await s.pair(target, false)).pre, undefined);
  });

  test('StatsResponse: names, times, limit capped at the host memory, precpu; a stopped container is zeros', async () => {
    const p = await new StatsSampler().pair(target);
    const w = statsWire(ctr, p, 500) as Record<string, any>;
    assert.equal(w.name, '/web');
    assert.equal(w.memory_stats.limit, 500, 'a limit above the host memory shows the host memory (moby)');
    assert.equal(w.memory_stats.usage, 100);
    assert.equal(w.memory_stats.max_usage, undefined, 'v2 has no max_usage');
    assert.equal(w.preread, rfc3339Nano(p.pre!.readMs));
    assert.match(w.read, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    assert.equal(w.networks, undefined, 'no interface of its own');
    assert.equal(w.cpu_stats.cpu_usage.total_usage, 10_000);
    const z = statsWire(ctr, undefined, 500) as Record<string, any>;
    assert.equal(z.read, '0001-01-01T00:00:00Z');
    assert.deepEqual(z.memory_stats, {});
    const row = statsRow(w as never);
    assert.equal(row.MemUsage, '60B / 500B', 'inactive_file is left out of the usage, as the docker CLI does');
    assert.equal(row.MemPerc, '12.00%');
    assert.equal(statsRow(z as never).CPUPerc, '--');
  });

  test('CPU % and sizes as the docker CLI prints them', () => {
    assert.equal(cpuPercent({ cpu_stats: { cpu_usage: { total_usage: 300 }, system_cpu_usage: 2000, online_cpus: 2 }, precpu_stats: { cpu_usage: { total_usage: 100 }, system_cpu_usage: 1000 } } as never), 40);
    assert.equal(cpuPercent({ cpu_stats: { cpu_usage: { total_usage: 300 }, system_cpu_usage: 1000, online_cpus: 2 }, precpu_stats: { cpu_usage: { total_usage: 100 }, system_cpu_usage: 1000 } } as never), 0);
    assert.equal(bytesSize(48 * 1024 * 1024 + 400 * 1024), '48.39MiB');
    assert.equal(bytesSize(0), '0B');
    assert.equal(humanSize3(1234), '1.23kB');
    assert.equal(humanSize3(648), '648B');
  });
});

describe('top', () => {
  const out = 'UID        PID  PPID  C STIME TTY          TIME CMD\nroot         1     0  0 10:00 ?        00:00:01 /sbin/init splash\nroot       42     1  0 10:01 ?        00:00:00 sleep 1000\n';
  test('the container\'s rows, the command kept whole', () => {
    const r = parsePsOutput(out, [42]);
    assert.deepEqual(r.titles, ['UID', 'PID', 'PPID', 'C', 'STIME', 'TTY', 'TIME', 'CMD']);
    assert.deepEqual(r.processes, [['root', '42', '1', '0', '10:01', '?', '00:00:00', 'sleep 1000']]);
  });
  test('threads (PID "-") follow their process; no PID column is an error; pid renames are refused', () => {
    const t = parsePsOutput('PID TID CMD\n42 - sleep\n- 42 -\n- 43 -\n7 - other\n- 7 -\n', [42]);
    assert.equal(t.processes.length, 3);
    assert.throws(() => parsePsOutput('USER CMD\nroot x\n', [1]), /Couldn't find PID field in ps output/);
    throwsBad(() => checkPsArgs('-o user=PID'), /specifying "user=PID" is not allowed/);
    checkPsArgs('-o pid=PID,comm');
  });
});

describe('update', () => {
  const host = { ncpu: 2, cpus: '0-1', mems: '0' };
  test('merges what is given, keeps docker\'s stored swap, and names the groups to rewrite', () => {
    const p = planUpdate({ memory: 64 << 20 }, { memory: 96 << 20, pidsLimit: 50 }, host);
    assert.equal(p.host.memory, 96 << 20);
    assert.equal(p.host.memorySwap, 128 << 20, 'create\'s twice-the-memory swap stays as it was');
    assert.equal(p.host.pidsLimit, 50);
    assert.deepEqual([...p.touched].sort(), ['memory', 'pids']);
    assert.deepEqual(p.resources, { memory: { limit: 96 << 20, swap: 128 << 20 }, pids: { limit: 50 } });
    const unlimited = planUpdate({ pidsLimit: 50 }, { pidsLimit: -1 }, host);
    assert.equal(unlimited.host.pidsLimit, 0);
    assert.deepEqual(unlimited.resources, { pids: { limit: -1 } });
    const cpu = planUpdate({}, { nanoCpus: 1.5e9, cpusetCpus: '1' }, host);
    assert.deepEqual(cpu.resources, { cpu: { period: 100000, quota: 150000, cpus: '1' } });
    assert.equal(planUpdate({}, { restartPolicy: { Name: 'always', MaximumRetryCount: 0 } }, host).resources, undefined);
  });

  test('docker\'s refusals', () => {
    throwsConflict(() => planUpdate({ memory: 64 << 20 }, { memory: 256 << 20 }, host), /^Memory limit should be smaller than already set memoryswap limit, update the memoryswap at the same time$/);
    throwsConflict(() => planUpdate({}, { memory: 64 << 20 }, host), /Memory limit should be smaller than already set memoryswap limit/);
    throwsBad(() => planUpdate({}, { memory: 1 << 20 }, host), /^Minimum memory limit allowed is 6MB$/);
    throwsConflict(() => planUpdate({ cpuPeriod: 50000 }, { nanoCpus: 1e9 }, host), /^Conflicting options: Nano CPUs cannot be updated as CPU Period has already been set$/);
    throwsConflict(() => planUpdate({ nanoCpus: 1e9 }, { cpuQuota: 50000 }, host), /^Conflicting options: CPU Quota cannot be updated as NanoCPUs has already been set$/);
    throwsBad(() => planUpdate({}, { cpusetCpus: '0-3' }, host), /^Requested CPUs are not available - requested 0-3, available: 0-1$/);
    throwsBad(() => planUpdate({}, { cpusetMems: '1' }, host), /^Requested memory nodes are not available - requested 1, available: 0$/);
    throwsBad(() => planUpdate({}, { blkioWeight: 5 }, host), /^Range of blkio weight is from 10 to 1000$/);
    throwsBad(() => planUpdate({}, { restartPolicy: { Name: 'sometimes', MaximumRetryCount: 0 } }, host), /^invalid restart policy: unknown policy 'sometimes'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'$/);
    throwsBad(() => planUpdate({}, { restartPolicy: { Name: 'always', MaximumRetryCount: 3 } }, host), /maximum retry count can only be used with 'on-failure'$/);
    throwsConflict(() => planUpdate({ autoRemove: true }, { restartPolicy: { Name: 'always', MaximumRetryCount: 0 } }, host), /^Restart policy cannot be updated because AutoRemove is enabled for the container$/);
    throwsBad(() => planUpdate({ memory: 64 << 20 }, { memoryReservation: 100 << 20 }, host), /^Minimum memory limit can not be less than memory reservation limit, see usage$/);
    const cur = { memory: 64 << 20 };
    assert.throws(() => planUpdate(cur, { memory: 256 << 20 }, host));
    assert.deepEqual(cur, { memory: 64 << 20 }, 'the stored config is not touched');
  });

  test('cpuset lists', () => {
    assert.deepEqual(parseCpuList('0-2,5'), [0, 1, 2, 5]);
    assert.equal(parseCpuList('2-1'), undefined);
    assert.equal(parseCpuList('a'), undefined);
  });
});
