// runtime/plan-server: plans run one after another in forks of one server; a failing plan leaves it serving.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { PlanServer } from '../../src/runtime/plan-server.js';
import { spawnHelper } from '../../src/runtime/sync.js';
import type { Op } from '../../src/runtime/plan/encode.js';

describe('plan server', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-plan-server-'));
  const pids: number[] = [];
  const server = new PlanServer('test plan', () => {
    const proc = spawnHelper('net', ['ignore', 'ignore', 'inherit']);
    proc.unref?.();
    pids.push(proc.pid);
    return proc;
  });
  after(() => {
    server.close();
    // the helper writes to this file's stderr: one left by a failed test must not outlive it
    for (const pid of pids) {
      try { if (fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('berth-helper')) process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const mkdir = (name: string, from?: string): Op => ({ op: 'MKDIR', args: { mode: 0o755, inroot: 0, path: path.join(dir, name) }, from });

  test('runs plans in order, reports a failing op by its field, and keeps serving after it', async () => {
    assert.equal(server.idle, true);
    const first = server.run([mkdir('a'), mkdir('a/b')]);
    const second = server.run([mkdir('c')]);
    assert.equal(server.idle, false, 'plans under way');
    await Promise.all([first, second]);
    assert.equal(server.idle, true);
    for (const d of ['a/b', 'c']) assert.ok(fs.statSync(path.join(dir, d)).isDirectory(), d);

    fs.writeFileSync(path.join(dir, 'file'), '');
    await assert.rejects(server.run([mkdir('d'), mkdir('file/x', 'mounts[3].destination')]), (e: Error & { errno?: number }) => {
      assert.match(e.message, /^mounts\[3\]\.destination: /);
      assert.ok(e.errno, 'an ERROR from the plan carries its errno');
      return true;
    });
    assert.ok(fs.statSync(path.join(dir, 'd')).isDirectory(), 'ops before the failing one ran');
    await server.run([mkdir('e')]);
    assert.ok(fs.statSync(path.join(dir, 'e')).isDirectory());
    assert.equal(pids.length, 1, 'one server for every plan');
  });

  test('a server that cannot start is an error of its own (runHostOps then spawns a helper)', async () => {
    const none = new PlanServer('test plan', () => { throw new Error('nope'); });
    await assert.rejects(none.run([mkdir('f')]), (e: Error & { serverStart?: boolean }) => e.serverStart === true && /nope/.test(e.message));
    assert.equal(none.idle, true);
  });
});
