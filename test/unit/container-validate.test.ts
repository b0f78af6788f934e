// containers/validate: the range and relation checks of create (moby verifyPlatformContainerResources
// wording), and the shape check that lets the service skip a malformed stored record.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkLimits, checkStopTimeout, MAX_STOP_TIMEOUT, recordProblem, type Limits } from '../../src/containers/validate.js';
import { BerthError } from '../../src/errors.js';

const HOST = { ncpu: 2 };
const refuses = (l: Limits, m: RegExp) => assert.throws(() => checkLimits(l, HOST), (e: BerthError) => e.kind === 'InvalidArgument' && m.test(e.message), JSON.stringify(l));

test('limits: what docker accepts passes (0 and -1 mean unset/unlimited)', () => {
  assert.deepEqual(checkLimits({}, HOST), []);
  assert.deepEqual(checkLimits({ memory: 0, memorySwap: 0, memorySwappiness: -1, pidsLimit: 0, cpuShares: 0, blkioWeight: 0, oomScoreAdj: 0, shmSize: 0 }, HOST), []);
  assert.deepEqual(checkLimits({ memory: 64 << 20, memorySwap: -1, memoryReservation: 32 << 20, memorySwappiness: 60, nanoCpus: 1.5e9, cpuShares: 512, pidsLimit: -1, blkioWeight: 300, oomScoreAdj: -1000, ulimits: [{ name: 'nofile', soft: 1024, hard: 2048 }], hostname: 'web', stopTimeout: -1 }, HOST), []);
  assert.deepEqual(checkLimits({ cpuPeriod: 100000, cpuQuota: 50000 }, HOST), []);
  assert.deepEqual(checkLimits({ cpuQuota: -1 }, HOST), []);
  assert.deepEqual(checkLimits({ nanoCpus: 2e9 }, HOST), []);
  assert.deepEqual(checkLimits({ pidsLimit: 4194304, cpuShares: 262144 }, HOST), []);
  assert.match(checkLimits({ oomKillDisable: true }, HOST)[0]!, /OOM killer is disabled for the container, but no memory limit is set/);
});

test('limits: memory', () => {
  refuses({ memory: 1024 }, /^Minimum memory limit allowed is 6MB$/);
  refuses({ memory: -1 }, /^Minimum memory limit allowed is 6MB$/);
  refuses({ memory: 64 << 20, memorySwap: 32 << 20 }, /^Minimum memoryswap limit should be larger than memory limit, see usage$/);
  refuses({ memorySwap: 64 << 20 }, /^You should always set the Memory limit when using Memoryswap limit, see usage$/);
  refuses({ memory: 64 << 20, memorySwap: -2 }, /memory swap/);
  refuses({ memorySwappiness: 101 }, /^Invalid value: 101, valid memory swappiness range is 0-100$/);
  refuses({ memorySwappiness: -2 }, /valid memory swappiness range is 0-100/);
  refuses({ memoryReservation: 1 }, /^Minimum memory reservation allowed is 6MB$/);
  refuses({ memory: 8 << 20, memoryReservation: 16 << 20 }, /^Minimum memory limit can not be less than memory reservation limit, see usage$/);
});

test('limits: cpu', () => {
  refuses({ nanoCpus: 1e15 }, /^Range of CPUs is from 0\.01 to 2\.00, as there are only 2 CPUs available$/);
  refuses({ nanoCpus: 2e9 + 1 }, /Range of CPUs/);
  refuses({ nanoCpus: -1 }, /Range of CPUs/);
  refuses({ nanoCpus: 1000 }, /Range of CPUs/);
  refuses({ nanoCpus: 1e9, cpuPeriod: 100000 }, /^Conflicting options: Nano CPUs and CPU Period cannot both be set$/);
  refuses({ nanoCpus: 1e9, cpuQuota: 50000 }, /^Conflicting options: Nano CPUs and CPU Quota cannot both be set$/);
  refuses({ cpuShares: -1 }, /^invalid CPU shares \(-1\): value must be a positive integer$/);
  refuses({ cpuShares: 262145 }, /invalid CPU shares \(262145\)/);
  refuses({ cpuPeriod: 999 }, /^CPU cfs period can not be less than 1ms \(i\.e\. 1000\) or larger than 1s \(i\.e\. 1000000\)$/);
  refuses({ cpuPeriod: 1000001 }, /CPU cfs period/);
  refuses({ cpuQuota: 999 }, /^CPU cfs quota can not be less than 1ms \(i\.e\. 1000\)$/);
  refuses({ cpuQuota: -2 }, /CPU cfs quota/);
  refuses({ cpuQuota: 2 ** 44 }, /CPU cfs quota can not be larger than/);
});

test('limits: pids, blkio, oom score, shm, ulimits, hostname, stop timeout', () => {
  refuses({ pidsLimit: 4194305 }, /PIDs limit 4194305/);
  refuses({ blkioWeight: 9 }, /^Range of blkio weight is from 10 to 1000$/);
  refuses({ blkioWeight: 1001 }, /^Range of blkio weight is from 10 to 1000$/);
  refuses({ oomScoreAdj: 1001 }, /^Invalid value 1001, range for oom score adj is \[-1000, 1000\]$/);
  refuses({ oomScoreAdj: -1001 }, /range for oom score adj/);
  refuses({ shmSize: -1 }, /^SHM size can not be less than 0$/);
  refuses({ ulimits: [{ name: 'bogus', soft: 1, hard: 1 }] }, /^invalid ulimit type: bogus$/);
  refuses({ ulimits: [{ name: 'nofile', soft: 20, hard: 10 }] }, /^ulimit soft limit must be less than or equal to hard limit: 20 > 10$/);
  refuses({ ulimits: [{ name: 'nofile', soft: -5, hard: 10 }] }, /invalid ulimit nofile/);
  refuses({ hostname: 'h'.repeat(65) }, /is too long \(maximum 64 bytes\)/);
  refuses({ stopTimeout: MAX_STOP_TIMEOUT + 1 }, /invalid StopTimeout/);
  checkStopTimeout(3000000);
  checkStopTimeout(-1);
  checkStopTimeout(undefined);
  assert.throws(() => checkStopTimeout(1e12, 't'), /invalid t 1000000000000: the maximum is 9223372036 seconds/);
});

function record(): Record<string, unknown> {
  return {
    id: 'a'.repeat(64), name: 'web', created: '2026-01-01T00:00:00Z', image: 'busybox', imageId: 'sha256:' + 'b'.repeat(64), path: 'sh', args: ['-c', 'true'],
    logPath: '/x/json.log', attachSocket: '/x.sock', restartCount: 0, mounts: [],
    state: { status: 'exited', pid: 0, exitCode: 0, oomKilled: false, error: '', startedAt: '0001-01-01T00:00:00Z', finishedAt: '0001-01-01T00:00:00Z' },
    config: { image: 'busybox', cmd: ['sh'], labels: { a: 'b' }, host: { binds: ['/tmp:/x'], memory: 67108864, ulimits: [{ name: 'nofile', soft: 1, hard: 2 }], networkMode: 'default' } },
  };
}

test('records: a sound record passes, a malformed one says why', () => {
  assert.equal(recordProblem(record()), undefined);
  const cases: Array<[(r: any) => void, RegExp]> = [
    [(r) => { r.config.host.binds = '/tmp:/x'; }, /^config\.host\.binds is not a list of strings$/],
    [(r) => { r.config.labels = 'x'; }, /^config\.labels is not a map of strings$/],
    [(r) => { r.config.host.memory = 'x'; }, /^config\.host\.memory is not a number$/],
    [(r) => { r.config.tty = 'yes'; }, /^config\.tty is not a boolean$/],
    [(r) => { r.config.host.ulimits = [{ name: 'nofile' }]; }, /ulimits holds a malformed entry/],
    [(r) => { delete r.state; }, /^state is missing$/],
    [(r) => { r.config.host = 5; }, /^config\.host is not a object$/],
    [(r) => { r.args = 'sh'; }, /^args is not a list of strings$/],
  ];
  for (const [spoil, why] of cases) {
    const r = record();
    spoil(r);
    assert.match(recordProblem(r) ?? '(none)', why);
  }
  assert.equal(recordProblem([1]), 'not a JSON object');
  assert.equal(recordProblem(null), 'not a JSON object');
});
