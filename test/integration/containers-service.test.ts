// containers/service end to end, without the HTTP layer: image -> snapshot -> spec -> monitor -> runtime.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Containers } from '../../src/containers/service.js';
import { attach } from '../../src/monitor/index.js';
import { ImageService } from '../../src/images/index.js';
import type { ContainerNetworks } from '../../src/network/types.js';
import { isRoot } from '../helpers/bundle.js';
import { eventually } from '../helpers/leaks.js';
import { tarDir } from '../helpers/registry.js';
import { busyboxRootfs } from '../helpers/rootfs.js';

const skip = isRoot ? false : 'needs root';

describe('container service', { skip }, () => {
  let root: string, execRoot: string, images: ImageService, svc: Containers;
  const opts = () => ({ root, execRoot, images });

  before(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-svc-'));
    execRoot = fs.mkdtempSync('/run/berth-test-svc-');
    images = new ImageService({ root });
    const tar = await tarDir(await busyboxRootfs(), false);
    await images.import((async function* () { yield tar; })(), { ref: 'busybox:test', config: { Cmd: ['sh'], Env: ['PATH=/bin:/usr/bin'] } });
    svc = new Containers(opts());
  });
  after(async () => {
    for (const c of svc.list({ all: true })) await svc.remove(c.id, { force: true }).catch(() => undefined);
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(execRoot, { recursive: true, force: true });
  });

  test('run to completion: exit code, logs by stream, state, then remove leaves nothing', async () => {
    const { id } = await svc.create('c1', { image: 'busybox:test', cmd: ['sh', '-c', 'echo out; echo err >&2; exit 3'], host: {} });
    assert.equal(svc.get('c1').state.status, 'created');
    assert.equal(await svc.start(id), true);
    assert.deepEqual(await svc.wait('c1'), { exitCode: 3, error: undefined });
    const c = svc.get(id.slice(0, 10));
    assert.equal(c.state.status, 'exited');
    assert.equal(c.state.exitCode, 3);
    const lines: string[] = [];
    for await (const l of svc.logs('c1')) lines.push(`${l.stream}:${l.line}`);
    assert.deepEqual(lines.sort(), ['stderr:err\n', 'stdout:out\n']);
    await svc.remove('c1');
    assert.throws(() => svc.get('c1'), /No such container: c1/);
    assert.equal(fs.existsSync(path.join(root, 'containers', id)), false);
    assert.equal(images.snapshots.list().some((s) => s.name === `ctr-${id}`), false, 'the container snapshot is gone');
    assert.ok(!fs.readFileSync('/proc/self/mountinfo', 'utf8').includes(id), 'nothing of it is mounted');
  });

  test('start: the image config comes from the create, not a second resolve of the image (issue 13)', async () => {
    const { id } = await svc.create(undefined, { image: 'busybox:test', cmd: ['sh', '-c', 'echo "$PATH"'], host: {} });
    const resolve = images.resolve;
    let calls = 0;
    images.resolve = function (this: ImageService, name: string) { calls++; return resolve.call(this, name); };
    try {
      assert.equal(await svc.start(id), true);
    } finally {
      images.resolve = resolve;
    }
    assert.equal(calls, 0, 'the start resolved the image again');
    assert.deepEqual(await svc.wait(id), { exitCode: 0, error: undefined });
    const lines: string[] = [];
    for await (const l of svc.logs(id)) lines.push(l.line);
    assert.deepEqual(lines, ['/bin:/usr/bin\n'], "the image's Env reached the process");
    await svc.remove(id);
  });

  test('names: docker\'s conflict wording; a running container is not removed without force', async () => {
    const { id } = await svc.create('web', { image: 'busybox:test', cmd: ['sleep', '1000'], host: {} });
    await assert.rejects(svc.create('web', { image: 'busybox:test', host: {} }), /Conflict\. The container name "\/web" is already in use by container/);
    await assert.rejects(svc.create(undefined, { image: 'nope:1', host: {} }), /No such image: nope:1/);
    await svc.start('web');
    assert.equal(await svc.start('web'), false, 'already running');
    assert.equal(svc.list().length, 1);
    assert.ok(svc.get('web').state.pid > 0);
    await assert.rejects(svc.remove('web'), /cannot remove container "\/web": container is running/);
    // sleep as PID 1 ignores SIGTERM: stop escalates to SIGKILL after the timeout
    assert.equal(await svc.stop('web', 1), true);
    assert.equal(svc.get(id).state.exitCode, 137);
    assert.equal(await svc.stop('web', 1), false, 'already stopped');
    await svc.remove(id);
  });

  test('two starts at once: one runs the container, the other finds it running', async () => {
    const { id } = await svc.create('twice', { image: 'busybox:test', cmd: ['sleep', '1000'], host: {} });
    const results = await Promise.allSettled([svc.start(id), svc.start(id)]);
    assert.deepEqual(results.map((r) => r.status === 'fulfilled' ? r.value : (r.reason as Error).message).sort(), [false, true]);
    const c = svc.get(id);
    assert.equal(c.state.status, 'running');
    // start answers once the process is let go (as runc start): its exec may come a moment later on a loaded host,
    // later than the 5 s this waited before; once it is sleep it stays sleep, so a poll cannot miss it
    const cmdline = () => fs.readFileSync(`/proc/${c.state.pid}/cmdline`, 'utf8');
    await eventually(() => cmdline().startsWith('sleep'), 60_000, 50);
    assert.ok(cmdline().startsWith('sleep'), `the recorded pid is the running sleep: ${cmdline()}`);
    assert.equal(await svc.stop(id, 1), true);
    await svc.remove(id);
  });

  test('exec: runs in the container with env, user and exit code; output reaches an attached client', async () => {
    const { id } = await svc.create('execbox', { image: 'busybox:test', cmd: ['sleep', '1000'], host: {} });
    await svc.start(id);
    const execId = await svc.execCreate('execbox', { cmd: ['sh', '-c', 'echo "$X"; id -u; cat /etc/hostname; exit 4'], env: ['X=from-exec'], user: 'berth' });
    let out = '';
    let closed!: Promise<unknown>;
    const { exited } = await svc.execStart(execId, async (sock) => {
      const a = await attach(sock);
      closed = new Promise((r) => a.on('close', r));
      a.on('stdout', (d: Buffer) => { out += d; });
    });
    assert.equal(svc.execInspect(execId).running, true);
    assert.equal((await exited).exitCode, 4);
    // the monitor hangs up after the last byte: wait for that, not 50 ms that a loaded machine can outlast
    await closed;
    assert.equal(out, `from-exec\n1000\n${id.slice(0, 12)}\n`);
    assert.equal(svc.execInspect(execId).exitCode, 4);
    await assert.rejects(svc.execStart(execId), /has already run/);
    await svc.stop(id, 0);
    await assert.rejects(svc.execCreate(id, { cmd: ['true'] }), /is not running/);
    await svc.remove(id);
  });

  test('memory limit: OOM kill shows as 137 and oomKilled', async () => {
    const { id } = await svc.create(undefined, { image: 'busybox:test', cmd: ['/bin/probe', 'alloc', '256'], host: { memory: 32 << 20 } });
    await svc.start(id);
    assert.equal((await svc.wait(id)).exitCode, 137);
    assert.equal(svc.get(id).state.oomKilled, true);
    await svc.remove(id);
  });

  test('--rm removes the container when it exits', async () => {
    const { id } = await svc.create(undefined, { image: 'busybox:test', cmd: ['true'], host: { autoRemove: true } });
    const removed = svc.wait(id, 'removed');
    await svc.start(id);
    await removed;
    assert.throws(() => svc.get(id), /No such container/);
  });

  test('an attach waiting for the start is connected before the process runs, and gets all of a short --rm run', async () => {
    const { id } = await svc.create(undefined, { image: 'busybox:test', cmd: ['echo', 'all of it'], host: { autoRemove: true } });
    let out = '';
    let held = false;
    let closed!: Promise<void>;
    svc.onNextStart(id, async (sock) => {
      const a = await attach(sock);
      closed = new Promise((r) => a.on('close', r));
      a.on('stdout', (d: Buffer) => { out += d; });
      await new Promise((r) => setTimeout(r, 300));
      held = out === '' && svc.get(id).state.status === 'created'; // still waiting for us: nothing ran yet
    });
    const removed = svc.wait(id, 'removed');
    await svc.start(id);
    await removed;
    await closed;
    assert.equal(held, true, 'the process waited for the connection');
    assert.equal(out, 'all of it\n');
  });

  test('a restarted daemon finds a running container and learns its exit', async () => {
    const { id } = await svc.create('survivor', { image: 'busybox:test', cmd: ['sleep', '1000'], host: {} });
    await svc.start(id);
    const again = new Containers(opts());
    await again.restore();
    assert.equal(again.get('survivor').state.status, 'running');
    const exited = again.wait('survivor');
    await again.kill('survivor', 'KILL');
    assert.equal((await exited).exitCode, 137);
    assert.equal(again.get('survivor').state.status, 'exited');
    await again.remove('survivor');
    svc = new Containers(opts()); // the first instance's view of it is stale now
  });

  test('a restarted daemon starts a policy container that ended while it was down once, however long its restore takes', async () => {
    const { id } = await svc.create('comeback', { image: 'busybox:test', cmd: ['sleep', '1000'], host: { restartPolicy: { name: 'always' } } });
    // what the dead daemon left: a record that says running, and the exit file its monitor wrote after it died
    const dir = path.join(root, 'containers', id);
    const rec = JSON.parse(fs.readFileSync(path.join(dir, 'config.v2.json'), 'utf8'));
    rec.state = { ...rec.state, status: 'running', pid: 0, startedAt: new Date(Date.now() - 60_000).toISOString() };
    fs.writeFileSync(path.join(dir, 'config.v2.json'), JSON.stringify(rec));
    fs.writeFileSync(path.join(dir, 'exit.json'), JSON.stringify({ exitCode: 137, signal: 9, finishedAt: new Date().toISOString() }));
    // a network reconcile slower than the policy's first delay (100 ms), as on a loaded machine: it returns once
    // the policy's start has begun, so that restore() goes on while that start is under way
    const lines: string[] = [];
    let begun = () => {};
    const policyStart = new Promise<void>((r) => { begun = r; });
    const networks = {
      reconcile: () => Promise.race([policyStart, new Promise<void>((r) => setTimeout(r, 5000))]),
      detachAll: async () => undefined, containerEndpoints: () => [],
      get: (name: string) => { throw new Error(`no network ${name}`); },
    } as unknown as ContainerNetworks;
    const again = new Containers({ ...opts(), networks, debug: (m) => { lines.push(m); begun(); } });
    try {
      await again.restore();
      await eventually(() => again.get('comeback').state.status === 'running', 60_000, 50);
      await new Promise((r) => setTimeout(r, 500)); // a second start, if one was scheduled, has had its turn
      assert.equal(again.get('comeback').state.status, 'running');
      assert.deepEqual(lines.filter((l) => l.includes('start by its restart policy')), [`container ${id}: start by its restart policy`]);
      assert.equal(again.get('comeback').restartCount, 1);
    } finally {
      await again.remove('comeback', { force: true });
      svc = new Containers(opts());
    }
  });
});
