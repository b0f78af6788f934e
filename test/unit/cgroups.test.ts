// cgroups: planners (pure), mode detection, and both managers against temp dirs laid out like cgroupfs.
import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import type { DeviceCgroupRule, LinuxResources } from '../../src/runtime/spec-types.js';
import {
  planV1, planV2, v2DeviceRules, cpuSharesToWeight, blkioWeightToIOWeight, memorySwapToV2,
  detectCgroupMode, v1Mounts, cgroup2Mountpoint, resolveCgroupsPath, defaultCgroupsPath,
  cgroupManager, V1Manager, V2Manager, type V1Write, type V2Write,
} from '../../src/runtime/cgroups/index.js';

const MiB = 1024 * 1024;

function throwsKind(fn: () => unknown, kind: string, message: RegExp): void {
  assert.throws(fn, { name: 'BerthError', kind, message });
}
async function rejectsKind(p: Promise<unknown>, kind: string, message: RegExp): Promise<void> {
  await assert.rejects(p, { name: 'BerthError', kind, message });
}

// A subset of Docker's default device rules (moby oci/defaults.go + devices).
const dockerDevices: DeviceCgroupRule[] = [
  { allow: false, access: 'rwm' },
  { allow: true, type: 'c', major: null, minor: null, access: 'm' },
  { allow: true, type: 'b', major: -1, minor: -1, access: 'm' },
  { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
  { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' },
  { allow: true, type: 'c', major: 136, minor: -1, access: 'rwm' },
  { allow: true, type: 'c', major: 5, minor: 2, access: 'rwm' },
  { allow: false, type: 'c', major: 10, minor: 229, access: 'rwm' },
];

// docker run --memory 64m --cpus 1.5 --pids-limit 100 --cpu-shares 512 --cpuset-cpus 0
const docker: LinuxResources = {
  devices: dockerDevices,
  memory: { limit: 64 * MiB, swap: 128 * MiB },
  cpu: { shares: 512, quota: 150000, period: 100000, cpus: '0' },
  pids: { limit: 100 },
};

describe('planV1', () => {
  test('Docker-like resources', () => {
    const expected: V1Write[] = [
      { controller: 'cpuset', file: 'cpuset.cpus', value: '0' },
      { controller: 'devices', file: 'devices.deny', value: 'a' },
      { controller: 'devices', file: 'devices.allow', value: 'c *:* m' },
      { controller: 'devices', file: 'devices.allow', value: 'b *:* m' },
      { controller: 'devices', file: 'devices.allow', value: 'c 1:3 rwm' },
      { controller: 'devices', file: 'devices.allow', value: 'c 1:5 rwm' },
      { controller: 'devices', file: 'devices.allow', value: 'c 136:* rwm' },
      { controller: 'devices', file: 'devices.allow', value: 'c 5:2 rwm' },
      { controller: 'devices', file: 'devices.deny', value: 'c 10:229 rwm' },
      { controller: 'memory', file: 'memory.limit_in_bytes', value: '67108864' },
      { controller: 'memory', file: 'memory.memsw.limit_in_bytes', value: '134217728' },
      { controller: 'cpu', file: 'cpu.shares', value: '512' },
      { controller: 'cpu', file: 'cpu.cfs_period_us', value: '100000', retryAfter: 'cpu.cfs_quota_us' },
      { controller: 'cpu', file: 'cpu.cfs_quota_us', value: '150000' },
      { controller: 'pids', file: 'pids.max', value: '100' },
    ];
    assert.deepEqual(planV1(docker), expected);
  });

  test('memory: limit/memsw order follows the current limit (runc setMemoryAndSwap)', () => {
    const r: LinuxResources = { memory: { limit: 100 * MiB, swap: 200 * MiB } };
    const files = (cur?: number) => planV1(r, cur === undefined ? {} : { currentMemoryLimit: cur }).map((w) => w.file);
    // fresh cgroup (unlimited): limit first, else memsw < limit is refused
    assert.deepEqual(files(), ['memory.limit_in_bytes', 'memory.memsw.limit_in_bytes']);
    assert.deepEqual(files(-1), ['memory.limit_in_bytes', 'memory.memsw.limit_in_bytes']);
    // growing past the current limit: memsw first
    assert.deepEqual(files(32 * MiB), ['memory.memsw.limit_in_bytes', 'memory.limit_in_bytes']);
    // shrinking: limit first
    assert.deepEqual(files(300 * MiB), ['memory.limit_in_bytes', 'memory.memsw.limit_in_bytes']);
    // unlimited swap goes first
    assert.deepEqual(planV1({ memory: { limit: 64 * MiB, swap: -1 } }).map((w) => [w.file, w.value]), [
      ['memory.memsw.limit_in_bytes', '-1'],
      ['memory.limit_in_bytes', '67108864'],
    ]);
    // unlimited memory without swap: memsw -1 too, only where swap accounting exists
    assert.deepEqual(planV1({ memory: { limit: -1 } }), [
      { controller: 'memory', file: 'memory.memsw.limit_in_bytes', value: '-1', optional: true },
      { controller: 'memory', file: 'memory.limit_in_bytes', value: '-1' },
    ]);
  });

  test('memory extras, cpu realtime/burst/idle, pids max, blkio, hugetlb, net, rdma', () => {
    const w = planV1({
      memory: { reservation: 32 * MiB, swappiness: 0, disableOOMKiller: true, kernelTCP: 8 * MiB, kernel: 1 },
      cpu: { quota: -1, realtimePeriod: 1000000, realtimeRuntime: 950000, burst: 1000, idle: 0 },
      pids: { limit: 0 },
      blockIO: {
        weight: 500, leafWeight: 300,
        weightDevice: [{ major: 8, minor: 0, weight: 600, leafWeight: 200 }],
        throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }],
        throttleWriteBpsDevice: [{ major: 8, minor: 0, rate: 0 }],
        throttleReadIOPSDevice: [{ major: 8, minor: 16, rate: 100 }],
        throttleWriteIOPSDevice: [{ major: 8, minor: 16, rate: 50 }],
      },
      hugepageLimits: [{ pageSize: '2MB', limit: 4 * MiB }],
      network: { classID: 0x100001, priorities: [{ name: 'eth0', priority: 5 }] },
      rdma: { mlx5_1: { hcaHandles: 3, hcaObjects: 10000 } },
    });
    assert.deepEqual(w.map((x) => [x.controller, x.file, x.value]), [
      ['memory', 'memory.kmem.tcp.limit_in_bytes', '8388608'],
      ['memory', 'memory.soft_limit_in_bytes', '33554432'],
      ['memory', 'memory.oom_control', '1'],
      ['memory', 'memory.swappiness', '0'],
      ['cpu', 'cpu.cfs_quota_us', '-1'],
      ['cpu', 'cpu.cfs_burst_us', '1000'],
      ['cpu', 'cpu.idle', '0'],
      ['cpu', 'cpu.rt_period_us', '1000000'],
      ['cpu', 'cpu.rt_runtime_us', '950000'],
      ['pids', 'pids.max', 'max'],
      ['blkio', 'blkio.bfq.weight', '500'],
      ['blkio', 'blkio.leaf_weight', '300'],
      ['blkio', 'blkio.bfq.weight_device', '8:0 600'],
      ['blkio', 'blkio.leaf_weight_device', '8:0 200'],
      ['blkio', 'blkio.throttle.read_bps_device', '8:0 1048576'],
      ['blkio', 'blkio.throttle.write_bps_device', '8:0 0'],
      ['blkio', 'blkio.throttle.read_iops_device', '8:16 100'],
      ['blkio', 'blkio.throttle.write_iops_device', '8:16 50'],
      ['hugetlb', 'hugetlb.2MB.limit_in_bytes', '4194304'],
      ['net_cls', 'net_cls.classid', '1048577'],
      ['net_prio', 'net_prio.ifpriomap', 'eth0 5'],
      ['rdma', 'rdma.max', 'mlx5_1 hca_handle=3 hca_object=10000'],
    ]);
    assert.deepEqual(w.find((x) => x.file === 'blkio.bfq.weight')?.fallback, { file: 'blkio.weight', value: '500' });
    assert.deepEqual(planV1({ pids: { limit: -1 } }), [{ controller: 'pids', file: 'pids.max', value: 'max' }]);
  });

  test('device rules: wildcards, "a" rules, access order', () => {
    const v = (devices: DeviceCgroupRule[]) => planV1({ devices }).map((x) => `${x.file} ${x.value}`);
    assert.deepEqual(v([]), ['devices.deny a']);
    assert.deepEqual(v([{ allow: true, access: 'rwm' }]), ['devices.deny a', 'devices.allow a']);
    // the kernel reads only the type of an "a" line, so a narrower "a" rule is split into c and b
    assert.deepEqual(v([{ allow: true, type: 'a', major: 7, minor: null, access: 'mr' }]), [
      'devices.deny a', 'devices.allow c 7:* rm', 'devices.allow b 7:* rm',
    ]);
    assert.deepEqual(v([{ allow: true, type: 'b', major: 8, access: 'w' }]), ['devices.deny a', 'devices.allow b 8:* w']);
    // a deny-all after allows resets them, so it is kept
    assert.deepEqual(v([{ allow: true, type: 'c', major: 1, minor: 3 }, { allow: false }]), [
      'devices.deny a', 'devices.allow c 1:3 rwm', 'devices.deny a',
    ]);
    assert.deepEqual(planV1({}), []);
    assert.deepEqual(v2DeviceRules({ devices: dockerDevices.slice(0, 2) }), [
      { allow: false, type: 'a', major: -1, minor: -1, access: 'rwm' },
      { allow: true, type: 'c', major: -1, minor: -1, access: 'm' },
    ]);
  });

  test('unified is v2 only', () => {
    throwsKind(() => planV1({ unified: { 'memory.high': '1G' } }), 'InvalidArgument', /^linux\.resources\.unified: requires cgroup v2/);
    assert.deepEqual(planV1({ unified: {} }), []);
  });
});

describe('planV2', () => {
  test('Docker-like resources', () => {
    const expected: V2Write[] = [
      { file: 'pids.max', value: '100' },
      { file: 'memory.swap.max', value: '67108864' },
      { file: 'memory.max', value: '67108864' },
      { file: 'cpu.weight', value: '59' },
      { file: 'cpu.max', value: '150000 100000' },
      { file: 'cpuset.cpus', value: '0' },
    ];
    assert.deepEqual(planV2(docker), expected);
  });

  test('cpu shares -> weight (runc >= 1.3 quadratic fit)', () => {
    assert.deepEqual([0, 2, 3, 512, 1024, 2048, 262144, 300000].map(cpuSharesToWeight), [0, 1, 2, 59, 100, 174, 10000, 10000]);
  });

  test('blkio weight -> io.weight', () => {
    assert.deepEqual([0, 10, 100, 500, 1000].map(blkioWeightToIOWeight), [0, 1, 910, 4950, 10000]);
  });

  test('memory swap conversion', () => {
    assert.equal(memorySwapToV2(128 * MiB, 64 * MiB), 64 * MiB);
    assert.equal(memorySwapToV2(0, -1), -1);
    assert.equal(memorySwapToV2(-1, 64 * MiB), -1);
    assert.equal(memorySwapToV2(0, 64 * MiB), 0);
    const mem = (memory: LinuxResources['memory']) => planV2({ memory });
    assert.deepEqual(mem({ limit: 64 * MiB, swap: 64 * MiB }), [
      { file: 'memory.swap.max', value: '0', optional: true },
      { file: 'memory.max', value: '67108864' },
    ]);
    assert.deepEqual(mem({ limit: -1 }), [
      { file: 'memory.swap.max', value: 'max', optional: true },
      { file: 'memory.max', value: 'max' },
    ]);
    assert.deepEqual(mem({ limit: 64 * MiB, swap: -1, reservation: 32 * MiB, swappiness: 10, disableOOMKiller: true }), [
      { file: 'memory.swap.max', value: 'max', optional: true },
      { file: 'memory.max', value: '67108864' },
      { file: 'memory.low', value: '33554432' },
    ]);
    assert.deepEqual(mem({ limit: 64 * MiB }), [{ file: 'memory.max', value: '67108864' }]);
  });

  test('cpu.max forms, burst, idle, cpuset', () => {
    const cpu = (c: LinuxResources['cpu']) => planV2({ cpu: c }).map((w) => `${w.file}=${w.value}`);
    assert.deepEqual(cpu({ quota: 50000, period: 100000 }), ['cpu.max=50000 100000']);
    assert.deepEqual(cpu({ quota: -1, period: 50000 }), ['cpu.max=max 50000']);
    assert.deepEqual(cpu({ period: 20000 }), ['cpu.max=max 20000']);
    assert.deepEqual(cpu({ quota: 20000 }), ['cpu.max=20000']);
    assert.deepEqual(cpu({ quota: 0, shares: 1024 }), ['cpu.weight=100']);
    assert.deepEqual(cpu({ burst: 1000, idle: 1, cpus: '0-1', mems: '0' }), ['cpu.max.burst=1000', 'cpu.idle=1', 'cpuset.cpus=0-1', 'cpuset.mems=0']);
  });

  test('pids, io, hugetlb, rdma, unified, devices not written', () => {
    assert.deepEqual(planV2({ pids: { limit: 0 } }), [{ file: 'pids.max', value: 'max' }]);
    assert.deepEqual(planV2({
      blockIO: {
        weight: 500,
        leafWeight: 100,
        weightDevice: [{ major: 8, minor: 0, weight: 1000 }],
        throttleReadBpsDevice: [{ major: 8, minor: 0, rate: 1048576 }],
        throttleWriteBpsDevice: [{ major: 8, minor: 0, rate: 0 }],
        throttleReadIOPSDevice: [{ major: 8, minor: 16, rate: 100 }],
        throttleWriteIOPSDevice: [{ major: 8, minor: 0, rate: 50 }],
      },
    }), [
      { file: 'io.bfq.weight', value: '500', fallback: { file: 'io.weight', value: '4950' } },
      { file: 'io.bfq.weight', value: '8:0 1000', fallback: { file: 'io.weight', value: '8:0 10000' } },
      { file: 'io.max', value: '8:0 rbps=1048576 wbps=max wiops=50' },
      { file: 'io.max', value: '8:16 riops=100' },
    ]);
    assert.deepEqual(planV2({ hugepageLimits: [{ pageSize: '1GB', limit: -1 }] }, { hugePageSizes: ['2MB', '1GB'] }), [
      { file: 'hugetlb.1GB.max', value: 'max' },
      { file: 'hugetlb.1GB.rsvd.max', value: 'max', optional: true },
    ]);
    assert.deepEqual(planV2({ rdma: { mlx4_0: { hcaHandles: 2 } } }), [{ file: 'rdma.max', value: 'mlx4_0 hca_handle=2' }]);
    // unified comes last, so it overrides
    assert.deepEqual(planV2({ pids: { limit: 5 }, unified: { 'pids.max': '7', 'memory.high': '1000000' } }), [
      { file: 'pids.max', value: '5' },
      { file: 'pids.max', value: '7' },
      { file: 'memory.high', value: '1000000' },
    ]);
    assert.deepEqual(planV2({ devices: dockerDevices }), []);
  });

  test('v1-only settings are refused', () => {
    throwsKind(() => planV2({ cpu: { realtimeRuntime: 1000 } }), 'InvalidArgument', /^linux\.resources\.cpu\.realtimeRuntime: realtime scheduling is not supported on cgroup v2/);
    throwsKind(() => planV2({ network: { classID: 1 } }), 'InvalidArgument', /^linux\.resources\.network:/);
  });
});

describe('validation (both planners)', () => {
  const cases: Array<[string, LinuxResources, RegExp]> = [
    ['negative shares', { cpu: { shares: -1 } }, /^linux\.resources\.cpu\.shares: must not be negative/],
    ['shares out of range', { cpu: { shares: 1 } }, /^linux\.resources\.cpu\.shares: must be between 2 and 262144/],
    ['period 0 with quota', { cpu: { quota: 50000, period: 0 } }, /^linux\.resources\.cpu\.period: must be > 0 when quota is set/],
    ['period out of range', { cpu: { period: 500 } }, /^linux\.resources\.cpu\.period: must be between 1000 and 1000000/],
    ['tiny quota', { cpu: { quota: 10 } }, /^linux\.resources\.cpu\.quota: must be >= 1000/],
    ['quota below -1', { cpu: { quota: -5 } }, /^linux\.resources\.cpu\.quota: must be >= -1/],
    ['bad cpuset', { cpu: { cpus: '0-' } }, /^linux\.resources\.cpu\.cpus: invalid cpu list "0-"/],
    ['bad mems', { cpu: { mems: 'a' } }, /^linux\.resources\.cpu\.mems:/],
    ['swap < limit', { memory: { limit: 64 * MiB, swap: 32 * MiB } }, /^linux\.resources\.memory\.swap: must be >= memory limit/],
    ['swap without limit', { memory: { swap: 32 * MiB } }, /^linux\.resources\.memory\.swap: requires a memory limit/],
    ['negative limit', { memory: { limit: -2 } }, /^linux\.resources\.memory\.limit: must be >= -1/],
    ['fractional limit', { memory: { limit: 1.5 } }, /^linux\.resources\.memory\.limit: must be an integer/],
    ['swappiness > 100', { memory: { swappiness: 101 } }, /^linux\.resources\.memory\.swappiness: must be <= 100/],
    ['unknown hugepage size', { hugepageLimits: [{ pageSize: '3MB', limit: 1 }] }, /^linux\.resources\.hugepageLimits\[0\]\.pageSize: unknown hugepage size "3MB"/],
    ['malformed hugepage size', { hugepageLimits: [{ pageSize: '2M', limit: 1 }] }, /^linux\.resources\.hugepageLimits\[0\]\.pageSize: unknown hugepage size/],
    ['blkio weight', { blockIO: { weight: 5 } }, /^linux\.resources\.blockIO\.weight: must be between 10 and 1000/],
    ['weight device', { blockIO: { weightDevice: [{ major: 8, minor: 0, weight: 2000 }] } }, /^linux\.resources\.blockIO\.weightDevice\[0\]\.weight:/],
    ['throttle rate', { blockIO: { throttleReadBpsDevice: [{ major: 8, minor: 0, rate: -1 }] } }, /^linux\.resources\.blockIO\.throttleReadBpsDevice\[0\]\.rate: must not be negative/],
    ['device access', { devices: [{ allow: true, type: 'c', major: 1, minor: 3, access: 'rx' }] }, /^linux\.resources\.devices\[0\]\.access:/],
    ['device type', { devices: [{ allow: true, type: 'p' as 'c' }] }, /^linux\.resources\.devices\[0\]\.type:/],
    ['device major', { devices: [{ allow: true, type: 'c', major: -3 }] }, /^linux\.resources\.devices\[0\]\.major:/],
    ['cpu idle', { cpu: { idle: 2 } }, /^linux\.resources\.cpu\.idle: must be <= 1/],
  ];
  for (const [name, r, re] of cases) {
    test(name, () => {
      throwsKind(() => planV1(r), 'InvalidArgument', re);
      throwsKind(() => planV2(r), 'InvalidArgument', re);
    });
  }
  test('hugepage size not offered by this kernel', () => {
    throwsKind(() => planV2({ hugepageLimits: [{ pageSize: '1GB', limit: 1 }] }, { hugePageSizes: ['2MB'] }), 'InvalidArgument', /unknown hugepage size "1GB" \(supported: 2MB\)/);
  });
  test('unified keys must be file names', () => {
    throwsKind(() => planV2({ unified: { '../cgroup.procs': '1' } }), 'InvalidArgument', /^linux\.resources\.unified\["\.\.\/cgroup\.procs"\]/);
    throwsKind(() => planV2({ unified: { memory: '1' } }), 'InvalidArgument', /controller\.parameter/);
  });
});

// Mountinfo of this project's CI machine: hybrid, cpu and cpuacct mounted separately.
const HYBRID = `30 22 0:27 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
31 30 0:28 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
32 30 0:29 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
33 30 0:30 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
34 30 0:31 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
35 30 0:32 / /sys/fs/cgroup/devices rw,relatime - cgroup cgroup rw,devices
36 30 0:33 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
37 30 0:34 / /sys/fs/cgroup/blkio rw,relatime - cgroup cgroup rw,blkio
38 30 0:35 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
39 30 0:36 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
40 30 0:37 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
`;
// systemd on a v1 distro: co-mounted controllers, optional fields before the separator.
const V1 = `25 21 0:22 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:9 - tmpfs tmpfs ro,mode=755
26 25 0:23 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:10 - cgroup cgroup rw,xattr,name=systemd
29 25 0:26 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:13 - cgroup cgroup rw,cpu,cpuacct
30 25 0:27 / /sys/fs/cgroup/net_cls,net_prio rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup rw,net_cls,net_prio
31 25 0:28 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:15 - cgroup cgroup rw,memory
32 99 0:28 /docker/abc /mnt/my\\040cg rw - cgroup cgroup rw,memory
`;
const V2 = `35 24 0:30 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot
`;

describe('mode detection and paths', () => {
  test('detectCgroupMode', () => {
    assert.equal(detectCgroupMode(HYBRID), 'hybrid');
    assert.equal(detectCgroupMode(V1), 'v1');
    assert.equal(detectCgroupMode(V2), 'v2');
    throwsKind(() => detectCgroupMode('22 1 0:21 / /proc rw - proc proc rw\n'), 'FailedPrecondition', /no cgroup filesystem/);
    assert.match(detectCgroupMode(), /^(v1|v2|hybrid)$/);
  });

  test('v1Mounts reads each controller from mountinfo', () => {
    assert.deepEqual(v1Mounts(HYBRID), {
      cpu: '/sys/fs/cgroup/cpu', cpuacct: '/sys/fs/cgroup/cpuacct', cpuset: '/sys/fs/cgroup/cpuset',
      memory: '/sys/fs/cgroup/memory', devices: '/sys/fs/cgroup/devices', freezer: '/sys/fs/cgroup/freezer',
      blkio: '/sys/fs/cgroup/blkio', pids: '/sys/fs/cgroup/pids', 'name=systemd': '/sys/fs/cgroup/systemd',
    });
    assert.deepEqual(v1Mounts(V1), {
      'name=systemd': '/sys/fs/cgroup/systemd',
      cpu: '/sys/fs/cgroup/cpu,cpuacct', cpuacct: '/sys/fs/cgroup/cpu,cpuacct',
      net_cls: '/sys/fs/cgroup/net_cls,net_prio', net_prio: '/sys/fs/cgroup/net_cls,net_prio',
      memory: '/sys/fs/cgroup/memory', // the full mount wins over the bind of /docker/abc
    });
    assert.deepEqual(v1Mounts(V1.split('\n').filter((l) => !l.startsWith('31 ')).join('\n')).memory, '/mnt/my cg');
    assert.equal(cgroup2Mountpoint(HYBRID), '/sys/fs/cgroup/unified');
    assert.equal(cgroup2Mountpoint(V2), '/sys/fs/cgroup');
    assert.equal(cgroup2Mountpoint(V1), undefined);
  });

  test('cgroupsPath rules', () => {
    assert.equal(defaultCgroupsPath('abc'), '/berth/abc');
    assert.equal(resolveCgroupsPath('/machine/abc'), '/machine/abc');
    assert.equal(resolveCgroupsPath('abc'), '/berth/abc');
    assert.equal(resolveCgroupsPath('a/b/'), '/berth/a/b');
    assert.equal(resolveCgroupsPath('//x//y'), '/x/y');
    throwsKind(() => resolveCgroupsPath('system.slice:berth:abc'), 'NotImplemented', /systemd/);
    throwsKind(() => resolveCgroupsPath(':berth:abc'), 'NotImplemented', /slice:prefix:name/);
    throwsKind(() => resolveCgroupsPath('/berth/../etc'), 'InvalidArgument', /"\.\."/);
    throwsKind(() => resolveCgroupsPath('/'), 'InvalidArgument', /hierarchy root/);
    throwsKind(() => resolveCgroupsPath(''), 'InvalidArgument', /must not be empty/);
  });

  test('cgroupManager picks by mode', () => {
    const v1 = cgroupManager('abc', { mountinfo: HYBRID });
    assert.ok(v1 instanceof V1Manager);
    assert.equal(v1.path, '/berth/abc');
    assert.equal(v1.dir('memory'), '/sys/fs/cgroup/memory/berth/abc');
    assert.equal(v1.dir('cpuacct'), '/sys/fs/cgroup/cpuacct/berth/abc');
    assert.ok(cgroupManager('abc', { mountinfo: V1 }) instanceof V1Manager);
    const v2 = cgroupManager('/x/abc', { mountinfo: V2 });
    assert.ok(v2 instanceof V2Manager);
    assert.equal(v2.dir, '/sys/fs/cgroup/x/abc');
    const tmp = cgroupManager('abc', { mode: 'v2', v2Root: '/tmp/cg' });
    assert.ok(tmp instanceof V2Manager && tmp.dir === '/tmp/cg/berth/abc');
    throwsKind(() => cgroupManager('system.slice:docker:abc', { mountinfo: V2 }), 'NotImplemented', /systemd/);
  });
});

// ---- temp-dir cgroupfs ----

const tmpdirs: string[] = [];
after(() => {
  for (const d of tmpdirs) fs.rmSync(d, { recursive: true, force: true });
});
function tmpdir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-cg-'));
  tmpdirs.push(d);
  return d;
}
function put(dir: string, files: Record<string, string>): void {
  fs.mkdirSync(dir, { recursive: true });
  for (const [f, v] of Object.entries(files)) fs.writeFileSync(path.join(dir, f), v);
}
const read = (...p: string[]) => fs.readFileSync(path.join(...p), 'utf8');
// cgroupfs deletes interface files with the directory; a plain directory needs them removed first.
// rmdir as the kernel does it on a cgroup: busy while a sub-cgroup is in it, and then nothing of it goes
const rmPlain = (log?: string[]) => (d: string) => {
  if (fs.readdirSync(d, { withFileTypes: true }).some((e) => e.isDirectory())) throw Object.assign(new Error(`EBUSY: resource busy or locked, rmdir '${d}'`), { code: 'EBUSY' });
  log?.push(d);
  for (const f of fs.readdirSync(d)) fs.unlinkSync(path.join(d, f));
  fs.rmdirSync(d);
};

const CONTROLLERS = 'cpuset cpu io memory pids';
function v2Core(extra: Record<string, string> = {}): Record<string, string> {
  return { 'cgroup.controllers': CONTROLLERS, 'cgroup.subtree_control': '', 'cgroup.procs': '', ...extra };
}
// What the kernel shows in a new child once the parent enabled the controllers.
function v2Leaf(): Record<string, string> {
  return v2Core({
    'cgroup.events': 'populated 0\nfrozen 0\n', 'cgroup.freeze': '0', 'cgroup.kill': '', 'cgroup.type': 'domain',
    'memory.max': 'max', 'memory.low': '0', 'memory.swap.max': 'max', 'memory.current': '1234567', 'memory.peak': '2345678',
    'memory.events': 'low 0\nhigh 0\nmax 4\noom 2\noom_kill 1\noom_group_kill 0\n',
    'cpu.weight': '100', 'cpu.max': 'max 100000', 'cpu.max.burst': '0', 'cpu.idle': '0',
    'cpu.stat': 'usage_usec 5000\nuser_usec 3000\nsystem_usec 2000\n',
    'pids.max': 'max', 'pids.current': '3', 'io.weight': 'default 100', 'io.max': '',
    'cpuset.cpus': '', 'cpuset.mems': '',
  });
}

describe('V2Manager on a temp dir', () => {
  function setup() {
    const root = tmpdir();
    put(root, v2Core());
    put(path.join(root, 'berth'), v2Core()); // an earlier container already made /berth
    const m = new V2Manager(root, '/berth/c1', { removeDir: rmPlain(), freezeTimeoutMs: 2000 });
    return { root, m, leaf: path.join(root, 'berth', 'c1') };
  }

  test('create enables controllers in every ancestor, not in the leaf', () => {
    const { root, m, leaf } = setup();
    fs.writeFileSync(path.join(root, 'berth', 'cgroup.subtree_control'), 'cpu memory'); // partly enabled
    fs.writeFileSync(path.join(root, 'cgroup.controllers'), 'cpuset cpu io memory hugetlb pids rdma misc');
    assert.equal(m.exists(), false);
    m.create();
    assert.equal(m.exists(), true);
    assert.equal(read(root, 'cgroup.subtree_control'), '+cpuset +cpu +io +memory +hugetlb +pids +rdma +misc');
    assert.equal(read(root, 'berth', 'cgroup.subtree_control'), '+cpuset +io +pids');
    assert.ok(fs.statSync(leaf).isDirectory());
    assert.equal(fs.existsSync(path.join(leaf, 'cgroup.subtree_control')), false);
    m.create(); // idempotent
  });

  test('only controllers the parent lists are enabled', () => {
    const { root, m } = setup();
    fs.writeFileSync(path.join(root, 'cgroup.controllers'), 'memory pids');
    m.create();
    assert.equal(read(root, 'cgroup.subtree_control'), '+memory +pids');
  });

  test('apply writes the planned files', () => {
    const { m, leaf } = setup();
    assert.throws(() => m.apply(docker), { kind: 'FailedPrecondition', message: /does not exist/ });
    m.create();
    put(leaf, v2Leaf());
    m.apply(docker);
    assert.equal(read(leaf, 'pids.max'), '100');
    assert.equal(read(leaf, 'memory.max'), '67108864');
    assert.equal(read(leaf, 'memory.swap.max'), '67108864');
    assert.equal(read(leaf, 'cpu.weight'), '59');
    assert.equal(read(leaf, 'cpu.max'), '150000 100000');
    assert.equal(read(leaf, 'cpuset.cpus'), '0');
    m.apply({ blockIO: { weight: 500 } }); // no io.bfq.weight: converted into io.weight
    assert.equal(read(leaf, 'io.weight'), '4950');
    fs.writeFileSync(path.join(leaf, 'io.bfq.weight'), 'default 100');
    m.apply({ blockIO: { weight: 500 } });
    assert.equal(read(leaf, 'io.bfq.weight'), '500');
    m.apply({ unified: { 'memory.low': '42' } });
    assert.equal(read(leaf, 'memory.low'), '42');
  });

  test('missing files: optional skipped, controller not enabled named, write errors name file and value', () => {
    const { m, leaf } = setup();
    m.create();
    put(leaf, v2Leaf());
    fs.unlinkSync(path.join(leaf, 'memory.swap.max'));
    m.apply({ memory: { limit: 64 * MiB, swap: 64 * MiB } }); // "0" to a missing swap.max: no swap accounting, fine
    throwsKind(() => m.apply({ memory: { limit: 64 * MiB, swap: 128 * MiB } }), 'InvalidArgument', /cannot set memory\.swap\.max: the kernel does not support it/);
    throwsKind(() => m.apply({ hugepageLimits: [{ pageSize: '2MB', limit: 1 }] }) , 'InvalidArgument', /hugetlb\.2MB\.max: the hugetlb controller is not enabled for \/berth\/c1 \(available: cpuset cpu io memory pids\)/);
    fs.unlinkSync(path.join(leaf, 'memory.max'));
    fs.mkdirSync(path.join(leaf, 'memory.max')); // any write error
    throwsKind(() => m.apply({ memory: { limit: 64 * MiB } }), 'Internal', /^write memory\.max=67108864: EISDIR: /);
  });

  test('join, pids (recursive), stats, oomKillCount', () => {
    const { m, leaf } = setup();
    m.create();
    put(leaf, v2Leaf());
    m.join(4242);
    assert.equal(read(leaf, 'cgroup.procs'), '4242');
    put(path.join(leaf, 'sub'), { 'cgroup.procs': '4243\n4244\n4242\n' });
    assert.deepEqual(m.pids().sort(), [4242, 4243, 4244]);
    assert.deepEqual(m.stats(), {
      memory: { usage: 1234567, limit: -1, maxUsage: 2345678, oomKills: 1 },
      pids: { current: 3, limit: -1 },
      cpu: { usageNs: 5000000 },
    });
    m.apply({ memory: { limit: 64 * MiB }, pids: { limit: 10 } });
    assert.equal(m.stats().memory.limit, 64 * MiB);
    assert.equal(m.stats().pids.limit, 10);
    assert.equal(m.oomKillCount(), 1);
    throwsKind(() => m.join(0), 'InvalidArgument', /invalid pid/);
    throwsKind(() => new V2Manager(tmpdir(), 'x').join(1), 'FailedPrecondition', /does not exist/);
  });

  test('freeze waits for cgroup.events "frozen 1"; thaw', async () => {
    const { m, leaf } = setup();
    m.create();
    put(leaf, v2Leaf());
    let resolved = false;
    const p = m.freeze().then(() => { resolved = true; });
    await new Promise((r) => setTimeout(r, 40));
    assert.equal(read(leaf, 'cgroup.freeze'), '1');
    assert.equal(resolved, false);
    assert.equal(m.state(), 'thawed');
    fs.writeFileSync(path.join(leaf, 'cgroup.events'), 'populated 1\nfrozen 1\n'); // the kernel finished
    await p;
    assert.equal(m.state(), 'frozen');
    m.thaw();
    assert.equal(read(leaf, 'cgroup.freeze'), '0');
  });

  test('freeze times out, thaws again', async () => {
    const { root, leaf } = setup();
    const m = new V2Manager(root, '/berth/c1', { freezeTimeoutMs: 50 });
    m.create();
    put(leaf, v2Leaf());
    await rejectsKind(m.freeze(), 'Unavailable', /did not report frozen after 50ms/);
    assert.equal(read(leaf, 'cgroup.freeze'), '0');
    fs.unlinkSync(path.join(leaf, 'cgroup.freeze'));
    await rejectsKind(m.freeze(), 'InvalidArgument', /cgroup\.freeze/);
  });

  test('destroy writes cgroup.kill and removes leaf-first; fine when gone', async () => {
    const { root } = setup();
    const log: string[] = [];
    let killed = '';
    const m = new V2Manager(root, '/berth/c1', {
      removeDir: (d) => {
        if (d.endsWith('c1')) killed = read(d, 'cgroup.kill');
        rmPlain(log)(d);
      },
    });
    m.create();
    const leaf = path.join(root, 'berth', 'c1');
    put(leaf, v2Leaf());
    put(path.join(leaf, 'sub', 'deeper'), { 'cgroup.procs': '' });
    await m.destroy();
    assert.equal(killed, '1');
    assert.deepEqual(log.map((d) => path.relative(root, d)), ['berth/c1/sub/deeper', 'berth/c1/sub', 'berth/c1']);
    assert.equal(m.exists(), false);
    assert.ok(fs.existsSync(path.join(root, 'berth')));
    await m.destroy();
  });

  test('destroy retries EBUSY', async () => {
    const { root } = setup();
    let calls = 0;
    const m = new V2Manager(root, '/berth/c1', {
      removeDir: (d) => {
        if (++calls < 3) throw Object.assign(new Error('EBUSY: resource busy or locked, rmdir'), { code: 'EBUSY' });
        rmPlain()(d);
      },
    });
    m.create();
    await m.destroy();
    assert.equal(calls, 3);
    assert.equal(m.exists(), false);
  });
});

describe('V1Manager on a temp dir', () => {
  function setup() {
    const base = tmpdir();
    const mp = (c: string) => path.join(base, c);
    const mounts: Record<string, string> = {
      cpu: mp('cpu,cpuacct'), cpuacct: mp('cpu,cpuacct'), cpuset: mp('cpuset'), memory: mp('memory'),
      pids: mp('pids'), freezer: mp('freezer'), devices: mp('devices'), blkio: mp('blkio'),
    };
    for (const dir of new Set(Object.values(mounts))) put(dir, { 'cgroup.procs': '' });
    put(mp('cpuset'), { 'cpuset.cpus': '0-3', 'cpuset.mems': '0' });
    // cpuset files the kernel would show, empty, in the new directories
    put(path.join(mp('cpuset'), 'berth'), { 'cpuset.cpus': '', 'cpuset.mems': '' });
    put(path.join(mp('cpuset'), 'berth', 'c1'), { 'cpuset.cpus': '', 'cpuset.mems': '', 'cgroup.procs': '' });
    const m = new V1Manager(mounts, 'c1', { removeDir: rmPlain() });
    const leaf = (c: string) => path.join(mounts[c]!, 'berth', 'c1');
    return { base, mounts, m, leaf };
  }
  const memFiles = {
    'memory.limit_in_bytes': '9223372036854771712', 'memory.memsw.limit_in_bytes': '9223372036854771712',
    'memory.usage_in_bytes': '4096', 'memory.max_usage_in_bytes': '8192', 'memory.soft_limit_in_bytes': '',
    'memory.oom_control': 'oom_kill_disable 0\nunder_oom 0\noom_kill 3\n', 'cgroup.procs': '',
  };

  test('create makes every controller dir and copies cpuset from the parent', () => {
    const { m, leaf } = setup();
    m.create();
    for (const c of ['cpu', 'memory', 'pids', 'freezer', 'devices', 'blkio']) assert.ok(fs.statSync(leaf(c)).isDirectory(), c);
    assert.equal(read(leaf('cpuset'), '..', 'cpuset.cpus'), '0-3');
    assert.equal(read(leaf('cpuset'), 'cpuset.cpus'), '0-3');
    assert.equal(read(leaf('cpuset'), 'cpuset.mems'), '0');
  });

  test('apply: writes, missing memsw and blkio files, unmounted controller', () => {
    const { m, leaf } = setup();
    m.create();
    put(leaf('memory'), memFiles);
    put(leaf('pids'), { 'pids.max': 'max' });
    put(leaf('cpu'), { 'cpu.shares': '1024', 'cpu.cfs_period_us': '100000', 'cpu.cfs_quota_us': '-1' });
    put(leaf('devices'), { 'devices.allow': '', 'devices.deny': '' });
    m.apply(docker);
    assert.equal(read(leaf('memory'), 'memory.limit_in_bytes'), '67108864');
    assert.equal(read(leaf('memory'), 'memory.memsw.limit_in_bytes'), '134217728');
    assert.equal(read(leaf('cpu'), 'cpu.cfs_quota_us'), '150000');
    assert.equal(read(leaf('pids'), 'pids.max'), '100');
    assert.equal(read(leaf('cpuset'), 'cpuset.cpus'), '0');
    assert.equal(read(leaf('devices'), 'devices.deny'), 'c 10:229 rwm'); // each rule is its own write; the last one stays

    fs.unlinkSync(path.join(leaf('memory'), 'memory.memsw.limit_in_bytes'));
    m.apply({ memory: { limit: -1 } }); // implied memsw -1: skipped without swap accounting
    assert.equal(read(leaf('memory'), 'memory.limit_in_bytes'), '-1');
    throwsKind(() => m.apply({ memory: { limit: 64 * MiB, swap: 128 * MiB } }), 'InvalidArgument',
      /^linux\.resources: the kernel does not support memory\.memsw\.limit_in_bytes \(swap accounting is off/);

    throwsKind(() => m.apply({ blockIO: { weight: 300 } }), 'InvalidArgument', /does not support blkio\.weight \(needs the BFQ or CFQ I\/O scheduler\)/);
    put(leaf('blkio'), { 'blkio.weight': '500' });
    m.apply({ blockIO: { weight: 300 } });
    assert.equal(read(leaf('blkio'), 'blkio.weight'), '300');
    put(leaf('blkio'), { 'blkio.bfq.weight': '100' });
    m.apply({ blockIO: { weight: 200 } });
    assert.equal(read(leaf('blkio'), 'blkio.bfq.weight'), '200');

    throwsKind(() => m.apply({ hugepageLimits: [{ pageSize: '2MB', limit: 0 }] }), 'InvalidArgument', /hugetlb\.2MB\.limit_in_bytes \(the hugetlb controller is not mounted\)/);
    throwsKind(() => m.apply({ unified: { 'memory.high': '1' } }), 'InvalidArgument', /requires cgroup v2/);
    fs.unlinkSync(path.join(leaf('pids'), 'pids.max'));
    fs.mkdirSync(path.join(leaf('pids'), 'pids.max'));
    throwsKind(() => m.apply({ pids: { limit: 1 } }), 'Internal', /^write pids\.max=1: EISDIR: /);
  });

  test('setUp: cpuset and directories with other writes made here, the rest and the device rules left to the helper', () => {
    const { m, leaf } = setup();
    put(leaf('pids'), { 'pids.max': 'max' });
    const s = m.setUp({
      devices: [{ allow: false, access: 'rwm' }, { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }],
      pids: { limit: 100 },
    });
    assert.deepEqual([...s.mkdirs].sort(), ['blkio', 'cpu', 'devices', 'freezer', 'memory'].map(leaf).sort());
    for (const dir of s.mkdirs) assert.equal(fs.existsSync(dir), false, dir); // the helper makes them
    assert.equal(read(leaf('pids'), 'pids.max'), '100');
    assert.equal(read(leaf('cpuset'), 'cpuset.cpus'), '0-3');
    assert.equal(read(leaf('cpuset'), 'cpuset.mems'), '0');
    assert.deepEqual(s.writes, [
      { path: path.join(leaf('devices'), 'devices.deny'), value: 'a' },
      { path: path.join(leaf('devices'), 'devices.allow'), value: 'c 1:3 rwm' },
    ]);
    // with its parent set up and the leaf not there yet, the cpuset leaf is the helper's too, with the parent's values
    const { m: m3, mounts: mounts3, leaf: leaf3 } = setup();
    fs.rmSync(leaf3('cpuset'), { recursive: true });
    put(path.join(mounts3.cpuset!, 'berth'), { 'cpuset.cpus': '1-2', 'cpuset.mems': '0' });
    const s3 = m3.setUp({ devices: [{ allow: false, access: 'rwm' }] });
    assert.ok(s3.mkdirs.includes(leaf3('cpuset')));
    assert.equal(fs.existsSync(leaf3('cpuset')), false);
    assert.deepEqual(s3.writes, [
      { path: path.join(leaf3('cpuset'), 'cpuset.cpus'), value: '1-2' },
      { path: path.join(leaf3('cpuset'), 'cpuset.mems'), value: '0' },
      { path: path.join(leaf3('devices'), 'devices.deny'), value: 'a' },
    ]);
    // a limit's errors are still this side's: the missing memsw file named, with its hint
    const { m: m2, leaf: leaf2 } = setup();
    put(leaf2('memory'), memFiles);
    fs.unlinkSync(path.join(leaf2('memory'), 'memory.memsw.limit_in_bytes'));
    throwsKind(() => m2.setUp({ memory: { limit: 64 * MiB, swap: 128 * MiB } }), 'InvalidArgument',
      /^linux\.resources: the kernel does not support memory\.memsw\.limit_in_bytes \(swap accounting is off/);
  });

  test('freeze, thaw, state, stats, oomKillCount', async () => {
    const { m, leaf } = setup();
    m.create();
    put(leaf('memory'), memFiles);
    put(leaf('freezer'), { 'freezer.state': 'THAWED' });
    put(leaf('pids'), { 'pids.current': '2', 'pids.max': 'max' });
    put(leaf('cpuacct'), { 'cpuacct.usage': '123456789' });
    assert.equal(m.state(), 'thawed');
    await m.freeze();
    assert.equal(m.state(), 'frozen');
    m.thaw();
    assert.equal(read(leaf('freezer'), 'freezer.state'), 'THAWED');
    assert.deepEqual(m.stats(), {
      memory: { usage: 4096, limit: -1, maxUsage: 8192, oomKills: 3 },
      pids: { current: 2, limit: -1 },
      cpu: { usageNs: 123456789 },
    });
    assert.equal(m.oomKillCount(), 3);
  });

  test('join writes each hierarchy once; destroy kills the processes and removes every dir', async () => {
    const { m, leaf, mounts } = setup();
    m.create();
    for (const c of ['cpu', 'memory', 'pids', 'freezer', 'devices', 'blkio']) put(leaf(c), { 'cgroup.procs': '' });
    put(leaf('freezer'), { 'freezer.state': 'THAWED' });
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    const exited = once(child, 'exit');
    m.join(child.pid!);
    for (const c of ['cpu', 'cpuset', 'memory', 'pids', 'freezer']) assert.equal(read(leaf(c), 'cgroup.procs'), String(child.pid));
    assert.deepEqual(m.pids(), [child.pid]);
    await m.destroy();
    const [code, signal] = await exited;
    assert.equal(code, null);
    assert.equal(signal, 'SIGKILL');
    assert.equal(m.exists(), false);
    for (const mp of new Set(Object.values(mounts))) assert.ok(fs.existsSync(path.join(mp, 'berth')));
    await m.destroy(); // already gone
  });
});
