// What a build leaves behind: nothing. Every step container goes with its cgroup, monitor and mounts
// after a build that succeeds or fails, when the client goes away mid-RUN (moby cancels the build), and
// when the daemon is stopped mid-RUN (a step container is the build's, not a user's: it must not outlive
// the daemon the way user containers do).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isRoot, run } from '../helpers/bundle.js';
import { eventListeners, scratchDir, startDaemon, type Daemon } from '../helpers/daemon.js';
import { containerCgroups, eventually, monitorsUnder, mountsUnder, running } from '../helpers/leaks.js';
import { tarDir } from '../helpers/registry.js';
import { busyboxRootfs } from '../helpers/rootfs.js';
import { Client } from '../../src/client/index.js';

const DOCKER = '/usr/local/bin/docker';
const skip = !isRoot ? 'needs root' : !fs.existsSync(DOCKER) ? `needs the docker CLI at ${DOCKER}` : false;

/** The containers a daemon creates from now on (from its events), and a way to wait for one's start. It returns
 *  once the daemon counts the subscription (a build started before it would have its step container missed). */
async function watchContainers(d: Daemon): Promise<{ created: Set<string>; started: (n: number) => Promise<boolean>; stop(): Promise<void> }> {
  const created = new Set<string>();
  let starts = 0;
  const ac = new AbortController();
  const listeners = await eventListeners(d);
  void new Client(d.host).events({ filters: { type: ['container'] }, signal: ac.signal }, (e) => {
    if (e.Action === 'create') created.add(e.Actor.ID);
    if (e.Action === 'start') starts++;
  }).catch(() => undefined);
  if (!await eventually(async () => (await eventListeners(d)) > listeners, 30_000)) { ac.abort(); assert.fail('the events subscription never registered'); }
  // stop() returns once berthd has let the subscription go: the next watch's count starts from a settled
  // baseline (an aborted one still counted there, leaving while the new one joins, would hide the new one)
  // (a daemon that is down holds no subscription)
  const stop = async () => { ac.abort(); await eventually(async () => (await eventListeners(d).catch(() => 0)) <= listeners, 30_000); };
  return { created, started: (n) => eventually(() => starts >= n, 30_000), stop };
}

async function importBusybox(d: Daemon): Promise<void> {
  const tarFile = path.join(d.dir, 'rootfs.tar');
  fs.writeFileSync(tarFile, await tarDir(await busyboxRootfs(), false));
  const r = await run(DOCKER, ['import', '-c', 'CMD ["sh"]', tarFile, 'bb:clean'], { env: buildEnv(d) });
  assert.equal(r.code, 0, r.stderr);
}

function buildEnv(d: Daemon): NodeJS.ProcessEnv {
  const e = { ...d.env };
  delete e.DOCKER_BUILDKIT;
  return e;
}

function context(d: Daemon, name: string, dockerfile: string): string {
  const dir = path.join(d.dir, name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'Dockerfile'), dockerfile);
  return dir;
}

/** Nothing of these containers is left: cgroups, monitors, mounts under the daemon's root. */
async function assertNothingLeft(d: Daemon, ids: Set<string>, what: string): Promise<void> {
  assert.ok(ids.size > 0, `${what}: the build made step containers`);
  const left = () => [...ids].flatMap((id) => containerCgroups(id));
  const clean = await eventually(() => left().length === 0 && monitorsUnder(d.root).length === 0 && mountsUnder(d.root).length === 0, 60_000);
  assert.ok(clean, `${what}: left behind: cgroups ${JSON.stringify(left())}, monitors ${JSON.stringify(monitorsUnder(d.root))}, mounts ${JSON.stringify(mountsUnder(d.root))}`);
}

/** After a failed check: kill what these containers left running (their processes, the daemon's monitors) and rmdir their cgroups. */
async function reap(d: Daemon, ids: Set<string>): Promise<void> {
  for (const m of monitorsUnder(d.root)) { try { process.kill(m.pid, 'SIGKILL'); } catch { /* gone */ } }
  for (const id of ids) {
    for (const dir of containerCgroups(id)) {
      for (const pid of fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) {
        try { process.kill(Number(pid), 'SIGKILL'); } catch { /* gone */ }
      }
    }
  }
  await eventually(() => {
    for (const id of ids) for (const dir of containerCgroups(id)) { try { fs.rmdirSync(dir); } catch { /* busy a while longer */ } }
    return [...ids].every((id) => containerCgroups(id).length === 0);
  }, 5000);
}

describe('a build leaves nothing behind', { skip }, () => {
  let d: Daemon;
  before(async () => {
    d = await startDaemon();
    await importBusybox(d);
  });
  after(async () => { await d?.stop(); });

  test('a build that succeeds and one that fails: no step container, cgroup, monitor or mount is left', async () => {
    const w = await watchContainers(d);
    try {
      const ok = context(d, 'ok', 'FROM bb:clean\nRUN echo one > /one\nRUN sleep 2 & echo started in the background\nCOPY Dockerfile /\n');
      const r = await run(DOCKER, ['build', '-q', '--no-cache', '-t', 'clean:ok', ok], { env: buildEnv(d) });
      assert.equal(r.code, 0, r.stderr);
      const bad = context(d, 'bad', 'FROM bb:clean\nRUN echo two > /two\nRUN exit 3\n');
      const f = await run(DOCKER, ['build', '--no-cache', bad], { env: buildEnv(d) });
      assert.notEqual(f.code, 0, 'the failing RUN fails the build');
      assert.match(f.stderr + f.stdout, /returned a non-zero code: 3/);
      await assertNothingLeft(d, w.created, 'after two builds');
      const ps = await run(DOCKER, ['ps', '-aq'], { env: buildEnv(d) });
      assert.equal(ps.stdout.trim(), '', 'no container is listed');
    } finally { await w.stop(); }
  });

  test('an image removed during a build (rmi prunes layers) leaves the context of the build alone', async () => {
    const w = await watchContainers(d);
    try {
      // a second image (an import of its own) whose removal deletes it and collects unused layers
      const spare = await run(DOCKER, ['import', path.join(d.dir, 'rootfs.tar'), 'bb:spare'], { env: buildEnv(d) });
      assert.equal(spare.code, 0, spare.stderr);
      const dir = context(d, 'during-rmi', 'FROM bb:clean\nRUN sleep 3\nCOPY data.txt /data.txt\nRUN cat /data.txt\n');
      fs.writeFileSync(path.join(dir, 'data.txt'), 'context survives\n');
      const build = run(DOCKER, ['build', '--no-cache', '-t', 'clean:rmi', dir], { env: buildEnv(d) });
      assert.ok(await w.started(1), 'the RUN step started');
      const rmi = await run(DOCKER, ['rmi', 'bb:spare'], { env: buildEnv(d) });
      assert.equal(rmi.code, 0, rmi.stderr);
      assert.match(rmi.stdout, /Deleted: sha256:/, 'the image itself was deleted (and the store collected)');
      const r = await build;
      assert.equal(r.code, 0, r.stderr + r.stdout);
      assert.match(r.stdout, /context survives/);
    } finally { await w.stop(); }
  });

  test('the client goes away during a RUN: the build ends, its step container goes', async () => {
    const w = await watchContainers(d);
    try {
      const dir = context(d, 'gone', 'FROM bb:clean\nRUN sleep 300\nRUN echo never\n');
      const cli = spawn(DOCKER, ['build', dir], { env: buildEnv(d), stdio: 'ignore' });
      const exited = new Promise((r) => cli.once('exit', r));
      assert.ok(await w.started(1), 'the RUN step started');
      cli.kill('SIGKILL');
      await exited;
      await assertNothingLeft(d, w.created, 'after the client went away');
      assert.ok(await eventually(async () => (await run(DOCKER, ['ps', '-aq'], { env: buildEnv(d) })).stdout.trim() === '', 60_000), 'no container is listed');
    } finally {
      await w.stop();
      for (const id of w.created) await new Client(d.host).removeContainer(id, { force: true }).catch(() => undefined);
    }
  });

  test('the daemon stops during a RUN: the step container does not outlive it', async () => {
    const d2 = await startDaemon();
    const w = await watchContainers(d2).catch(async (e) => { await d2.stop(); throw e; });
    try {
      await importBusybox(d2);
      const dir = context(d2, 'stop', 'FROM bb:clean\nRUN sleep 300\n');
      const cli = spawn(DOCKER, ['build', dir], { env: buildEnv(d2), stdio: 'ignore' });
      const exited = new Promise((r) => cli.once('exit', r));
      assert.ok(await w.started(1), 'the RUN step started');
      const pid = d2.pid;
      process.kill(pid, 'SIGTERM');
      assert.ok(await eventually(() => !running(pid), 60_000), 'berthd exits on SIGTERM');
      await exited;
      await assertNothingLeft(d2, w.created, 'after the daemon stopped');
    } finally {
      await w.stop();
      await reap(d2, w.created);
      await d2.stop();
    }
  });

  test('the daemon is killed (-9) during a RUN: the next daemon removes the step container, its mount and snapshot; images stay', async () => {
    const d3 = await startDaemon();
    const w = await watchContainers(d3).catch(async (e) => { await d3.stop(); throw e; });
    const docker = (...a: string[]) => run(DOCKER, a, { env: buildEnv(d3) });
    try {
      await importBusybox(d3);
      // a step container the user keeps (--rm=false after a failed RUN) is an ordinary container: it stays
      const kept = await docker('build', '--rm=false', context(d3, 'kept', 'FROM bb:clean\nRUN exit 4\n'));
      assert.notEqual(kept.code, 0);
      const keptId = (await docker('ps', '-aq', '--no-trunc')).stdout.trim();
      assert.match(keptId, /^[0-9a-f]{64}$/, 'the failed step container is kept');
      const images = (await docker('images', '-a', '--no-trunc', '--format', '{{.ID}} {{.Repository}}:{{.Tag}}')).stdout;
      const cli = spawn(DOCKER, ['build', context(d3, 'kill', 'FROM bb:clean\nRUN sleep 300\n')], { env: buildEnv(d3), stdio: 'ignore' });
      const exited = new Promise((r) => cli.once('exit', r));
      assert.ok(await w.started(2), 'the sleep step started'); // the first start was the kept build's
      const step = [...w.created].at(-1)!;
      assert.ok(fs.existsSync(path.join(d3.root, 'snapshots', `ctr-${step}`)), 'the running step has a snapshot');
      const scratch = scratchDir(d3);
      assert.ok(fs.readdirSync(scratch).some((n) => n.startsWith('build-')), 'the build has its context in the daemon\'s scratch directory');
      await w.stop();
      const down = Math.floor(Date.now() / 1000);
      await d3.crashAndRestart(async () => { await exited; });
      const ids = new Set([...w.created].filter((id) => id !== keptId));
      await assertNothingLeft(d3, ids, 'after the daemon was killed');
      // its removal is a destroy event, as any container's (in the new daemon's history, from before it listened)
      const ev = await docker('events', '--since', String(down), '--until', String(Math.floor(Date.now() / 1000) + 1), '--filter', 'event=destroy', '--format', '{{.Actor.ID}}');
      assert.equal(ev.code, 0, ev.stderr);
      assert.deepEqual(ev.stdout.split('\n').filter(Boolean), [step], 'one destroy event: the step container\'s');
      assert.equal((await docker('ps', '-aq', '--no-trunc')).stdout.trim(), keptId, 'only the kept container is listed');
      const snaps = fs.readdirSync(path.join(d3.root, 'snapshots')).filter((n) => n.startsWith('ctr-'));
      assert.deepEqual(snaps, [`ctr-${keptId}`], 'only the kept container has a snapshot');
      assert.deepEqual(fs.readdirSync(path.join(d3.root, 'containers')), [keptId], 'only the kept container has a directory');
      assert.deepEqual(fs.readdirSync(path.join(d3.root, 'tmp')), [path.basename(scratchDir(d3))], 'the killed daemon\'s scratch, with the build\'s context, is gone');
      assert.deepEqual(fs.readdirSync(scratchDir(d3)), []);
      assert.equal((await docker('images', '-a', '--no-trunc', '--format', '{{.ID}} {{.Repository}}:{{.Tag}}')).stdout, images, 'the image store is as before the build');
      const r = await docker('run', '--rm', 'bb:clean', 'ls', '/bin/busybox');
      assert.equal(r.code, 0, r.stderr);
      assert.match(d3.log(), new RegExp(`container ${step}: removing the step container`));
    } finally {
      await w.stop();
      await reap(d3, w.created);
      await d3.stop();
    }
  });
});
