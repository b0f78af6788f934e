// Scratch space shared by processes on one root: berthd's start (clearTmp) and a snapshot gc remove only what
// processes that are gone left, never a live process's build context, load or staged layer.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { ImageService } from '../../src/images/index.js';
import { OWNER, ownerAlive, pidStartTime } from '../../src/util/owner.js';

/** Owner names of another live process (a sleep we end after the test) and of one that has exited. */
async function owners(t: { after: (fn: () => void) => void }): Promise<{ live: string; dead: string }> {
  const sleeper = spawn('sleep', ['60'], { stdio: 'ignore' });
  t.after(() => { sleeper.kill('SIGKILL'); });
  const short = spawn('sleep', ['0.2'], { stdio: 'ignore' });
  const gone = new Promise((r) => short.once('exit', r));
  const dead = `${short.pid}-${pidStartTime(short.pid!)}`;
  await gone;
  const live = `${sleeper.pid}-${pidStartTime(sleeper.pid!)}`;
  assert.ok(ownerAlive(live) && !ownerAlive(dead) && ownerAlive(OWNER));
  return { live, dead };
}

function root(t: { after: (fn: () => void) => void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-scratch-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

test('clearTmp at daemon start removes a gone process\'s scratch and older unnamed entries, not a live process\'s load', async (t) => {
  const { live, dead } = await owners(t);
  const svc = new ImageService({ root: root(t) });
  const tmp = path.dirname(svc.tmp);
  assert.equal(path.basename(svc.tmp), OWNER, 'this process works in a directory of its own');
  for (const p of [`${live}/load-1/blob`, `${dead}/build-2/Dockerfile`, 'build-old/Dockerfile', `${OWNER}/build-3/Dockerfile`]) {
    fs.mkdirSync(path.dirname(path.join(tmp, p)), { recursive: true });
    fs.writeFileSync(path.join(tmp, p), 'x');
  }
  await svc.clearTmp();
  assert.deepEqual(fs.readdirSync(tmp).sort(), [live, OWNER].sort());
  assert.ok(fs.existsSync(path.join(tmp, live, 'load-1', 'blob')), 'the other process\'s load is untouched');
});

test('snapshot gc removes staged layers of gone processes only', async (t) => {
  const { live, dead } = await owners(t);
  const svc = new ImageService({ root: root(t) });
  const staging = path.join(svc.snapshots.dir, '.tmp');
  for (const p of [`${live}/layer-1/fs/a`, `${dead}/layer-2/fs/b`, 'layer-old/fs/c', `${OWNER}/layer-3/fs/d`]) {
    fs.mkdirSync(path.dirname(path.join(staging, p)), { recursive: true });
    fs.writeFileSync(path.join(staging, p), 'x');
  }
  await svc.gc();
  assert.deepEqual(fs.readdirSync(staging).sort(), [live, OWNER].sort());
  assert.ok(fs.existsSync(path.join(staging, live, 'layer-1', 'fs', 'a')), 'another process\'s staged layer is untouched');
  assert.ok(fs.existsSync(path.join(staging, OWNER, 'layer-3', 'fs', 'd')), 'this process\'s own staging (a pull under way) is untouched');
});
