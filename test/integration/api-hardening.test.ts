// Regressions of issue 7 items 5 and 6 through a real berthd: malformed create/exec bodies are 400s
// naming the field and store nothing (so `docker ps -a` keeps working); a malformed record on disk is
// skipped after a restart; out-of-range limits are 400s; `docker stop -t 3000000` waits instead of
// killing at once (a setTimeout overflow).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isRoot, run } from '../helpers/bundle.js';
import { startDaemon, type Daemon } from '../helpers/daemon.js';
import { tarDir } from '../helpers/registry.js';
import { busyboxRootfs } from '../helpers/rootfs.js';

const DOCKER = '/usr/local/bin/docker';
const skip = !isRoot ? 'needs root' : !fs.existsSync(DOCKER) ? 'needs the docker CLI at /usr/local/bin/docker' : false;
const IMAGE = 'bb:hardening';

function post(socket: string, p: string, body: string): Promise<{ status: number; message: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: socket, method: 'POST', path: p, headers: { 'Content-Type': 'application/json' } }, (res) => {
      let b = '';
      res.on('data', (c: Buffer) => { b += c.toString(); });
      res.on('end', () => { let m = b; try { m = JSON.parse(b).message ?? b; } catch { /* not JSON */ } resolve({ status: res.statusCode!, message: m }); });
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('hardening: type-checked requests and limits', { skip }, () => {
  let d: Daemon;
  const docker = (...args: string[]) => run(DOCKER, args, { env: d.env });
  const ok = async (...args: string[]) => {
    const r = await docker(...args);
    assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}\n${d.log().slice(-2000)}`);
    return r.stdout;
  };
  const create = (body: object) => post(d.socket, '/v1.50/containers/create', JSON.stringify({ Image: IMAGE, Cmd: ['true'], ...body }));

  before(async () => {
    d = await startDaemon();
    const tarFile = path.join(d.dir, 'rootfs.tar');
    fs.writeFileSync(tarFile, await tarDir(await busyboxRootfs(), false));
    await ok('import', '-c', 'CMD ["sh"]', tarFile, IMAGE);
  });
  after(async () => { await d?.stop(); });

  test('create with wrong types: 400 naming the field, nothing stored, ps -a still works', async () => {
    const before = await ok('ps', '-aq');
    const cases: Array<[object, RegExp]> = [
      [{ HostConfig: { Binds: '/tmp:/x' } }, /^invalid type for HostConfig\.Binds: expected array, got string$/],
      [{ Labels: 'x' }, /^invalid type for Labels: expected object, got string$/],
      [{ HostConfig: { Memory: 'x' } }, /^invalid type for HostConfig\.Memory: expected integer, got string$/],
      [{ Tty: 'yes' }, /^invalid type for Tty: expected boolean, got string$/],
      [{ HostConfig: { Ulimits: 'x' } }, /^invalid type for HostConfig\.Ulimits: expected array, got string$/],
    ];
    for (const [body, message] of cases) {
      const r = await create(body);
      assert.equal(r.status, 400, `${JSON.stringify(body)} → ${r.status} ${r.message}`);
      assert.match(r.message, message);
    }
    // all four at once, as in the issue
    const all = await create({ HostConfig: { Binds: '/tmp:/x', Memory: 'x' }, Labels: 'x', Tty: 'yes' });
    assert.equal(all.status, 400, all.message);
    assert.equal(await ok('ps', '-aq'), before, 'nothing was stored');
    await ok('ps', '-a');
    // a 5000-deep document is a 400, not a 500
    const deep = await post(d.socket, '/v1.50/containers/create', '['.repeat(5000) + ']'.repeat(5000));
    assert.equal(deep.status, 400, deep.message);
    assert.match(deep.message, /nested more than 100 levels/);
  });

  test('exec create with wrong types: 400 naming the field', async () => {
    await ok('run', '-d', '--name', 'execee', IMAGE, 'sleep', '1000');
    const cmd = await post(d.socket, '/v1.50/containers/execee/exec', JSON.stringify({ Cmd: [1] }));
    assert.equal(cmd.status, 400, cmd.message);
    assert.match(cmd.message, /^invalid type for Cmd\[0\]: expected string, got integer$/);
    const user = await post(d.socket, '/v1.50/containers/execee/exec', JSON.stringify({ Cmd: ['true'], User: 5 }));
    assert.equal(user.status, 400, user.message);
    assert.match(user.message, /^invalid type for User: expected string, got integer$/);
    await ok('rm', '-f', 'execee');
  });

  test('limits out of range are 400s with docker\'s wording', async () => {
    const mem = await create({ HostConfig: { Memory: 1e30 } });
    assert.equal(mem.status, 400, mem.message);
    assert.match(mem.message, /HostConfig\.Memory/);
    const cpus = await create({ HostConfig: { NanoCpus: 1e15 } });
    assert.equal(cpus.status, 400, cpus.message);
    assert.match(cpus.message, /^Range of CPUs is from 0\.01 to \d+\.00, as there are only \d+ CPUs available$/);
    const swappiness = await create({ HostConfig: { MemorySwappiness: 200 } });
    assert.equal(swappiness.status, 400, swappiness.message);
    assert.match(swappiness.message, /valid memory swappiness range is 0-100/);
    const cli = await docker('create', '--blkio-weight', '5', IMAGE);
    assert.notEqual(cli.code, 0);
    assert.match(cli.stderr, /Range of blkio weight is from 10 to 1000/);
    const stop = await post(d.socket, '/v1.50/containers/nosuch/stop?t=1000000000000', '');
    assert.equal(stop.status, 400, stop.message);
    assert.match(stop.message, /stop timeout/);
  });

  test('docker stop -t 3000000 waits for the container instead of killing it at once', async () => {
    // the shell reports the SIGTERM and keeps running: only a SIGKILL ends it
    await ok('run', '-d', '--name', 'stubborn', IMAGE, 'sh', '-c', 'trap "echo got-term" TERM; echo ready; while true; do sleep 0.1; done');
    // the trap is set once 'ready' is out: a SIGTERM before it meets a PID 1 without a handler, which ignores it
    for (let i = 0; !(await ok('logs', 'stubborn')).includes('ready'); i++) {
      assert.ok(i < 200, 'the container never got ready');
      await new Promise((r) => setTimeout(r, 50));
    }
    const stopping = new Promise<number>((resolve) => {
      const c = spawn(DOCKER, ['stop', '-t', '3000000', 'stubborn'], { env: d.env, stdio: 'ignore' });
      c.on('close', (code) => resolve(code ?? -1));
    });
    // wait until the SIGTERM arrived (the old code sent its SIGKILL a moment after it)…
    for (let i = 0; !(await ok('logs', 'stubborn')).includes('got-term'); i++) {
      assert.ok(i < 200, 'the container never got its SIGTERM');
      await new Promise((r) => setTimeout(r, 50));
    }
    // …then give an early SIGKILL ample time to land
    await new Promise((r) => setTimeout(r, 2000));
    const state = JSON.parse(await ok('inspect', 'stubborn'))[0].State;
    assert.equal(state.Running, true, `still running 2 s after the SIGTERM: ${JSON.stringify(state)}`);
    await ok('kill', 'stubborn');
    assert.equal(await stopping, 0, 'docker stop returns once the container is gone');
    await ok('rm', 'stubborn');
  });

  test('a malformed record on disk is skipped (and logged) after a restart; the others are listed', async () => {
    await ok('create', '--name', 'good', IMAGE, 'true');
    const badId = (await ok('create', '--name', 'bad', IMAGE, 'true')).trim();
    const file = path.join(d.root, 'containers', badId, 'config.v2.json');
    const rec = JSON.parse(fs.readFileSync(file, 'utf8'));
    rec.config.host.binds = '/tmp:/x'; // what the unchecked API used to store
    fs.writeFileSync(file, JSON.stringify(rec));
    await d.crashAndRestart();
    const ps = await ok('ps', '-a', '--format', '{{.Names}}');
    assert.match(ps, /^good$/m);
    assert.doesNotMatch(ps, /^bad$/m);
    await ok('images');
    await ok('info');
    assert.match(d.log(), new RegExp(`container ${badId}: skipping its record .*config\\.host\\.binds is not a list of strings`));
    await ok('rm', 'good');
  });
});
