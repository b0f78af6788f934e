// containers/restart, containers/health, containers/init and util/go-duration: restart policy checks
// (moby ValidateRestartPolicy wording) and decisions (restartmanager), the backoff, healthcheck checks,
// the merge with the image's, probe results (moby handleProbeResult), the --init spec option, and
// the CLI's --restart and --health-* flags.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkRestartPolicy, nextDelay, policyRestarts, restartsAtDaemonStart, Restarts, type Restartable } from '../../src/containers/restart.js';
import { applyResult, checkHealthConfig, mergeHealthConfig, probeCommand, probeDelayMs, type Health } from '../../src/containers/health.js';
import { initBinary } from '../../src/containers/init.js';
import { buildContainerSpec, type SpecContext } from '../../src/containers/spec/index.js';
import { formatGoDuration, parseGoDuration } from '../../src/util/go-duration.js';
import { statusText, toContainerConfig } from '../../src/api/container-wire.js';
import { createRequest } from '../../src/cli/docker/containers.js';

const NEVER = '0001-01-01T00:00:00Z';

test('restart policy: docker\'s checks and words', () => {
  assert.equal(checkRestartPolicy(undefined), undefined);
  assert.equal(checkRestartPolicy({ Name: '' , MaximumRetryCount: 5 }), undefined); // before docker 25 clients sent ""
  assert.equal(checkRestartPolicy({ Name: 'no', MaximumRetryCount: 0 }), undefined);
  assert.deepEqual(checkRestartPolicy({ Name: 'always' }), { name: 'always' });
  assert.deepEqual(checkRestartPolicy({ Name: 'on-failure', MaximumRetryCount: 3 }), { name: 'on-failure', maximumRetryCount: 3 });
  assert.deepEqual(checkRestartPolicy({ Name: 'on-failure', MaximumRetryCount: 0 }), { name: 'on-failure' });
  assert.throws(() => checkRestartPolicy({ Name: 'sometimes' }), { message: "invalid restart policy: unknown policy 'sometimes'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'" });
  assert.throws(() => checkRestartPolicy({ Name: 'on-failure', MaximumRetryCount: -1 }), { message: 'invalid restart policy: maximum retry count cannot be negative' });
  assert.throws(() => checkRestartPolicy({ Name: 'unless-stopped', MaximumRetryCount: 1 }), { message: "invalid restart policy: maximum retry count can only be used with 'on-failure'" });
  assert.throws(() => checkRestartPolicy({ Name: 'no', MaximumRetryCount: -1 }), { message: "invalid restart policy: maximum retry count can only be used with 'on-failure' and cannot be negative" });
  // through the create request: 400 (InvalidArgument), and stored for inspect and update
  assert.throws(() => toContainerConfig({ Image: 'x', HostConfig: { RestartPolicy: { Name: 'bad', MaximumRetryCount: 0 } } }), (e: Error & { kind?: string }) => e.kind === 'InvalidArgument');
  assert.deepEqual(toContainerConfig({ Image: 'x', HostConfig: { RestartPolicy: { Name: 'always', MaximumRetryCount: 0 } } }).host.restartPolicy, { name: 'always' });
});

test('restart policy: which exits restart', () => {
  const end = (exitCode: number, restartCount = 0, manuallyStopped = false) => ({ exitCode, restartCount, manuallyStopped });
  assert.equal(policyRestarts(undefined, end(1)), false);
  assert.equal(policyRestarts({ name: 'no' }, end(1)), false);
  assert.equal(policyRestarts({ name: 'always' }, end(0, 100, true)), true);
  assert.equal(policyRestarts({ name: 'unless-stopped' }, end(0)), true);
  assert.equal(policyRestarts({ name: 'unless-stopped' }, end(0, 0, true)), false);
  assert.equal(policyRestarts({ name: 'on-failure' }, end(0)), false);
  assert.equal(policyRestarts({ name: 'on-failure' }, end(1, 1000)), true); // no maximum
  assert.equal(policyRestarts({ name: 'on-failure', maximumRetryCount: 3 }, end(1, 2)), true);
  assert.equal(policyRestarts({ name: 'on-failure', maximumRetryCount: 3 }, end(1, 3)), false);
});

test('restart backoff: 100 ms doubling to a minute, back to 100 ms after a run of 10 s', () => {
  let d = 0;
  const seen: number[] = [];
  for (let i = 0; i < 12; i++) { d = nextDelay(d, 50); seen.push(d); }
  assert.deepEqual(seen, [100, 200, 400, 800, 1600, 3200, 6400, 12800, 25600, 51200, 60000, 60000]);
  assert.equal(nextDelay(60000, 10_000), 100);
  assert.equal(nextDelay(800, 9_999), 1600);
});

test('restart manager: a user\'s kill is not undone; a user\'s start resets the count', async () => {
  const started: string[] = [];
  const r = new Restarts({ start: async (id) => { started.push(id); }, still: () => true });
  const c: Restartable = { id: 'c1', config: { host: { restartPolicy: { name: 'always' } } }, state: { status: 'running', exitCode: 0, startedAt: '', finishedAt: '' }, restartCount: 0 };
  assert.equal(r.afterExit(c, 1, 5), true);
  assert.equal(c.restartCount, 1);
  await new Promise((res) => setTimeout(res, 150));
  assert.deepEqual(started, ['c1']);
  r.userKill(c, 15, undefined); // docker stop
  assert.equal(r.afterExit(c, 143, 5), false);
  assert.equal(c.manuallyStopped, true);
  // with a stop signal of its own, another signal (HUP) does not cancel the restart of an `always` container
  const h: Restartable = { ...c, id: 'c2', config: { stopSignal: 'SIGQUIT', host: { restartPolicy: { name: 'always' } } }, manuallyStopped: false };
  r.userKill(h, 1, 3);
  assert.equal(r.afterExit(h, 129, 5), true);
  r.cancel('c2');
  r.userStart(c);
  assert.equal(c.restartCount, 0);
  assert.equal(c.manuallyStopped, false);
});

test('restart at daemon start: always, unless-stopped not stopped by a user, on-failure with retries left; never a container that never ran', () => {
  const c = (name: string, o: Partial<Restartable['state']> = {}, extra: Partial<Restartable> = {}): Restartable => ({
    id: 'x', config: { host: { restartPolicy: { name: name as 'always' } } }, restartCount: 0,
    state: { status: 'exited', exitCode: 0, startedAt: '2026-01-01T00:00:00Z', finishedAt: '2026-01-01T00:00:01Z', ...o }, ...extra,
  });
  assert.equal(restartsAtDaemonStart(c('always', {}, { manuallyStopped: true }), NEVER), true);
  assert.equal(restartsAtDaemonStart(c('unless-stopped', {}, { manuallyStopped: true }), NEVER), false);
  assert.equal(restartsAtDaemonStart(c('unless-stopped'), NEVER), true);
  assert.equal(restartsAtDaemonStart(c('on-failure', { exitCode: 1 }), NEVER), true);
  assert.equal(restartsAtDaemonStart(c('on-failure', { exitCode: 0 }), NEVER), false);
  assert.equal(restartsAtDaemonStart(c('always', { status: 'created', startedAt: NEVER }), NEVER), false);
  assert.equal(restartsAtDaemonStart(c('no', { status: 'restarting' }), NEVER), true);
});

test('healthcheck: docker\'s checks and words', () => {
  assert.equal(checkHealthConfig(null), undefined);
  assert.deepEqual(checkHealthConfig({ Test: ['CMD-SHELL', 'true'], Interval: 1e9, Timeout: null, Retries: null, StartPeriod: null }), { test: ['CMD-SHELL', 'true'], interval: 1e9 });
  assert.throws(() => checkHealthConfig({ Interval: 999_999 }), { message: 'Interval in Healthcheck cannot be less than 1ms' });
  assert.throws(() => checkHealthConfig({ Timeout: -1 }), { message: 'Timeout in Healthcheck cannot be less than 1ms' });
  assert.throws(() => checkHealthConfig({ StartPeriod: 5 }), { message: 'StartPeriod in Healthcheck cannot be less than 1ms' });
  assert.throws(() => checkHealthConfig({ StartInterval: 5 }), { message: 'StartInterval in Healthcheck cannot be less than 1ms' });
  assert.throws(() => checkHealthConfig({ Retries: -1 }), { message: 'Retries in Healthcheck cannot be negative' });
  assert.throws(() => toContainerConfig({ Image: 'x', Healthcheck: { Test: ['CMD', 'true'], Interval: 10 } }), (e: Error & { kind?: string }) => e.kind === 'InvalidArgument');
});

test('healthcheck: the image\'s fills what the container left unset (moby merge); probe commands', () => {
  const image = { test: ['CMD', 'check'], interval: 5e9, retries: 4 };
  assert.deepEqual(mergeHealthConfig(undefined, image), image);
  assert.deepEqual(mergeHealthConfig({ interval: 1e9 }, image), { test: ['CMD', 'check'], interval: 1e9, retries: 4 });
  assert.deepEqual(mergeHealthConfig({ test: ['NONE'] }, image), { test: ['NONE'], interval: 5e9, retries: 4 });
  assert.equal(probeCommand({ test: ['NONE'] }), undefined);
  assert.equal(probeCommand({ test: ['CMD'] }), undefined);
  assert.deepEqual(probeCommand({ test: ['CMD', 'a', 'b'] }), ['a', 'b']);
  assert.deepEqual(probeCommand({ test: ['CMD-SHELL', 'a && b'] }), ['/bin/sh', '-c', 'a && b']);
});

test('healthcheck results: retries failures make unhealthy, one success healthy, 5 kept, the start period forgives', () => {
  const started = '2026-01-01T00:00:00.000Z';
  const at = (s: number) => new Date(Date.parse(started) + s * 1000).toISOString();
  const r = (s: number, exitCode: number) => ({ start: at(s), end: at(s), exitCode, output: '' });
  let h: Health = { status: 'starting', failingStreak: 0, log: [] };
  h = applyResult(h, r(1, 1), { retries: 2, startPeriod: 5e9 }, started);
  assert.deepEqual([h.status, h.failingStreak], ['starting', 0]); // inside the start period
  h = applyResult(h, r(6, 1), { retries: 2, startPeriod: 5e9 }, started);
  assert.deepEqual([h.status, h.failingStreak], ['starting', 1]);
  h = applyResult(h, r(7, 1), { retries: 2, startPeriod: 5e9 }, started);
  assert.deepEqual([h.status, h.failingStreak], ['unhealthy', 2]);
  for (let i = 0; i < 4; i++) h = applyResult(h, r(8 + i, 0), undefined, started);
  assert.deepEqual([h.status, h.failingStreak, h.log.length], ['healthy', 0, 5]);
  assert.equal(h.log[0]!.start, at(7));
  h = applyResult(h, r(20, 1), undefined, started); // default retries: 3
  assert.deepEqual([h.status, h.failingStreak], ['healthy', 1]);
  // the start interval while starting inside the start period, the interval otherwise
  const cfg = { interval: 10e9, startPeriod: 60e9, startInterval: 1e9 };
  assert.equal(probeDelayMs(cfg, { status: 'starting', failingStreak: 0, log: [] }, started, Date.parse(at(3))), 1000);
  assert.equal(probeDelayMs(cfg, { status: 'healthy', failingStreak: 0, log: [] }, started, Date.parse(at(3))), 10_000);
  assert.equal(probeDelayMs(cfg, { status: 'starting', failingStreak: 0, log: [] }, started, Date.parse(at(61))), 10_000);
  assert.equal(probeDelayMs(undefined, undefined, started, Date.parse(at(1))), 30_000);
});

test('ps status shows the health as docker does', () => {
  const now = Date.parse('2026-01-01T00:00:10Z');
  const s = { status: 'running' as const, pid: 1, exitCode: 0, oomKilled: false, error: '', startedAt: '2026-01-01T00:00:00Z', finishedAt: NEVER };
  assert.equal(statusText({ ...s, health: { status: 'starting', failingStreak: 0, log: [] } }, now), 'Up 10 seconds (health: starting)');
  assert.equal(statusText({ ...s, health: { status: 'healthy', failingStreak: 0, log: [] } }, now), 'Up 10 seconds (healthy)');
  assert.equal(statusText({ ...s, health: { status: 'unhealthy', failingStreak: 3, log: [] } }, now), 'Up 10 seconds (unhealthy)');
  assert.equal(statusText(s, now), 'Up 10 seconds');
});

test('--init: docker-init runs the command, bind-mounted read-only; a missing binary is a clear error', () => {
  const ctx: SpecContext = { id: 'c'.repeat(64), rootfs: '/r', containerDir: '/d', hostDevice: () => undefined, cgroupMode: 'v2', initPath: '/usr/bin/tini-static' };
  const s = buildContainerSpec({ image: 'x', cmd: ['sleep', '1'], host: { init: true } }, {}, ctx);
  assert.deepEqual(s.process!.args, ['/sbin/docker-init', '--', 'sleep', '1']);
  assert.deepEqual(s.mounts!.find((m) => m.destination === '/sbin/docker-init'), { destination: '/sbin/docker-init', type: 'bind', source: '/usr/bin/tini-static', options: ['bind', 'ro'] });
  assert.deepEqual(buildContainerSpec({ image: 'x', cmd: ['sleep', '1'], host: {} }, {}, ctx).process!.args, ['sleep', '1']);
  assert.throws(() => initBinary({ BERTH_INIT_PATH: '/nonexistent/tini' }), /--init: no init binary: \/nonexistent\/tini does not exist; install Debian's tini package/);
});

test('Go durations both ways', () => {
  assert.equal(parseGoDuration('1s'), 1e9);
  assert.equal(parseGoDuration('1m30s'), 90e9);
  assert.equal(parseGoDuration('1.5h'), 5400e9);
  assert.equal(parseGoDuration('200ms'), 200e6);
  assert.equal(parseGoDuration('-3s'), -3e9);
  assert.equal(parseGoDuration('0'), 0);
  assert.equal(parseGoDuration('5'), undefined);
  assert.equal(parseGoDuration('1x'), undefined);
  assert.equal(parseGoDuration(''), undefined);
  assert.equal(formatGoDuration(30e9), '30s');
  assert.equal(formatGoDuration(300e6), '300ms');
  assert.equal(formatGoDuration(1.5e9), '1.5s');
  assert.equal(formatGoDuration(90e9), '1m30s');
  assert.equal(formatGoDuration(3600e9), '1h0m0s');
});

test('berth run --restart and --health-* send what the docker CLI sends', () => {
  const o = createRequest(['--restart', 'on-failure:3', '--health-cmd', 'curl -f x', '--health-interval', '5s', '--health-retries', '2', 'busybox'], true);
  assert.deepEqual(o.body.HostConfig!.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 3 });
  assert.deepEqual(o.body.Healthcheck, { Test: ['CMD-SHELL', 'curl -f x'], Interval: 5e9, Timeout: 0, StartPeriod: 0, StartInterval: 0, Retries: 2 });
  assert.deepEqual(createRequest(['--restart', 'always', 'busybox'], true).body.HostConfig!.RestartPolicy, { Name: 'always', MaximumRetryCount: 0 });
  assert.deepEqual(createRequest(['busybox'], true).body.HostConfig!.RestartPolicy, { Name: 'no', MaximumRetryCount: 0 });
  assert.equal(createRequest(['busybox'], true).body.Healthcheck, undefined);
  assert.deepEqual(createRequest(['--no-healthcheck', 'busybox'], true).body.Healthcheck, { Test: ['NONE'] });
  assert.throws(() => createRequest(['--restart', ':3', 'busybox'], true), /no policy provided before colon/);
  assert.throws(() => createRequest(['--rm', '--restart', 'always', 'busybox'], true), { message: 'conflicting options: cannot specify both --restart and --rm' });
  assert.throws(() => createRequest(['--restart', 'on-failure:x', 'busybox'], true), /maximum retry count must be an integer/);
  assert.throws(() => createRequest(['--no-healthcheck', '--health-retries', '1', 'busybox'], true), /--no-healthcheck conflicts with --health-\* options/);
  assert.throws(() => createRequest(['--health-interval', '-1s', 'busybox'], true), /--health-interval cannot be negative/);
  assert.throws(() => createRequest(['--health-timeout', 'soon', 'busybox'], true), /invalid argument "soon" for "--health-timeout" flag/);
});

test('docker update --restart: the stored policy changes; AutoRemove refuses one; no name leaves it', async () => {
  const { applyRestartUpdate } = await import('../../src/containers/restart.js');
  const host: { restartPolicy?: { name: 'always' | 'no' | 'on-failure' | 'unless-stopped'; maximumRetryCount?: number }; autoRemove?: boolean } = {};
  applyRestartUpdate(host, { Name: 'on-failure', MaximumRetryCount: 2 });
  assert.deepEqual(host.restartPolicy, { name: 'on-failure', maximumRetryCount: 2 });
  applyRestartUpdate(host, { Name: '' });
  assert.deepEqual(host.restartPolicy, { name: 'on-failure', maximumRetryCount: 2 });
  applyRestartUpdate(host, { Name: 'no' });
  assert.equal(host.restartPolicy, undefined);
  assert.throws(() => applyRestartUpdate({ autoRemove: true }, { Name: 'always' }), { message: 'Restart policy cannot be updated because AutoRemove is enabled for the container' });
  assert.throws(() => applyRestartUpdate(host, { Name: 'bogus' }), /unknown policy 'bogus'/);
});
