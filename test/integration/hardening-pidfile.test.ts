// Issue 7 item 12: the pid file belongs to a live berthd only. A daemon killed -9 and not yet reaped
// (a zombie) must not keep the next one from starting; a running one must.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { isRoot, run } from '../helpers/bundle.js';
import { berthdPath, pingSocket } from '../helpers/daemon.js';
import { eventually, isZombie } from '../helpers/leaks.js';

describe('hardening: berthd pid file', { skip: isRoot ? false : 'needs root' }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berthd-pid-'));
  const socket = path.join(dir, 'berth.sock');
  const pidfile = path.join(dir, 'berthd.pid');
  const args = [berthdPath(), '-H', `unix://${socket}`, '--root', path.join(dir, 'root')];
  const started: ChildProcess[] = [];
  after(async () => {
    for (const c of started) if (c.exitCode === null && c.signalCode === null) { const gone = new Promise((r) => c.once('exit', r)); c.kill('SIGKILL'); await gone; }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('a zombie berthd does not own the pid file; a live one does', async () => {
    // the first daemon's parent never waits: once killed, it stays a zombie
    const sh = spawn('sh', ['-c', `"$0" "$@" >/dev/null 2>&1 & echo $!; exec sleep 1000`, process.execPath, ...args], { stdio: ['ignore', 'pipe', 'ignore'] });
    started.push(sh);
    const first = Number(await new Promise<string>((r) => sh.stdout!.once('data', (b: Buffer) => r(b.toString()))));
    assert.ok(await eventually(async () => (await pingSocket(socket)) === 200, 30_000), 'the first berthd serves');
    assert.equal(fs.readFileSync(pidfile, 'utf8').trim(), String(first));

    const refused = await run(process.execPath, args);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, new RegExp(`another berthd \\(pid ${first}\\) owns ${pidfile.replace(/[.]/g, '\\.')}`));

    process.kill(first, 'SIGKILL');
    assert.ok(await eventually(() => isZombie(first)), 'the killed berthd is a zombie');
    const second = spawn(process.execPath, args, { stdio: 'ignore' });
    started.push(second);
    const up = await eventually(async () => second.exitCode !== null || (await pingSocket(socket)) === 200, 30_000);
    assert.ok(up && second.exitCode === null, `the second berthd started (exit ${second.exitCode})`);
    assert.equal(fs.readFileSync(pidfile, 'utf8').trim(), String(second.pid));
    assert.ok(isZombie(first), 'still a zombie: the lock, not the reaping, decided');
  });
});
