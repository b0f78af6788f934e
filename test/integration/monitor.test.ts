// Root integration: berth-helper monitor with real processes — exit codes, the json-file log, attach
// (stdin, close-stdin, several clients), a TTY whose master arrives on the console socket, passed fds,
// surviving the death of the process that started it, a late CONTAINER for a reparented grandchild,
// log rotation followed by readLog, and its resident memory.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { newSockets, socketInodes } from '../helpers/leaks.js';
import { attach, readExitFile, readLog, startMonitor, type Attachment, type LogEntry } from '../../src/monitor/index.js';

const isRoot = process.getuid?.() === 0;
const PY = '/usr/bin/python3';
const skip = !isRoot ? 'needs root' : !fs.existsSync(PY) ? `needs ${PY}` : false;
const dirs: string[] = [];
const tmp = () => { const d = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-mon-')); dirs.push(d); return d; };
const sh = (script: string) => ['/bin/sh', '-c', script];

async function entries(file: string): Promise<LogEntry[]> {
  const out: LogEntry[] = [];
  for await (const e of readLog(file)) out.push(e);
  return out;
}

/** Resolves once `pred` holds for what the client has received on stdout so far. */
function received(a: Attachment, pred: (s: string) => boolean, ms = 20_000): Promise<string> {
  let got = '';
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out; received ${JSON.stringify(got)}`)), ms);
    a.on('stdout', (d: Buffer) => { got += d.toString(); if (pred(got)) { clearTimeout(t); resolve(got); } });
  });
}

async function until(what: string, f: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  for (const end = Date.now() + ms; Date.now() < end; await sleep(20)) if (await f()) return;
  assert.fail(`timed out waiting for ${what}`);
}

const alive = (pid: number) => { try { return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8')); } catch { return false; } };

describe('monitor', { skip }, () => {
  after(() => { for (const d of dirs) fs.rmSync(d, { recursive: true, force: true }); });

  test('stdout and stderr lines in the log with their streams and times; exit 3 in the exit file', async () => {
    const before = Date.now();
    const m = await startMonitor({ dir: tmp(), tty: false, argv: sh('echo out; echo err >&2; exit 3') });
    m.containerPid(m.childPid);
    const st = await m.exited;
    assert.equal(st.exitCode, 3);
    assert.equal(st.signal, null);
    assert.deepEqual(await readExitFile(m.paths.exit), st);
    const log = await entries(m.paths.log);
    assert.deepEqual(log.map((e) => [e.stream, e.line]).sort(), [['stderr', 'err\n'], ['stdout', 'out\n']]);
    for (const e of log) {
      const t = Date.parse(e.time);
      assert.ok(t >= before - 1000 && t <= Date.now() + 1000, e.time);
    }
    assert.ok(Date.parse(st.finishedAt) >= before - 1000);
    assert.equal(fs.existsSync(m.paths.attach), false, 'attach socket left behind');
    await until('monitor exit', () => !alive(m.monitorPid));
  });

  test('monitors come from the one spawner, not from a fork of ours; a dead spawner is replaced', async () => {
    const ppid = (pid: number) => Number(/^PPid:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1]);
    const spawnerOf = (pid: number) => { const p = ppid(pid); return fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').split('\0')[1] === 'spawner' ? p : 0; };
    const one = await startMonitor({ dir: tmp(), tty: false, argv: sh('exit 0'), fds: ['pipe'], stdin: false });
    const first = spawnerOf(one.monitorPid);
    assert.ok(first > 0, `monitor ${one.monitorPid} is a child of ${ppid(one.monitorPid)}, not of a berth-helper spawner`);
    assert.equal(ppid(first), process.pid);
    one.containerPid(one.childPid);
    assert.equal((await one.exited).exitCode, 0);
    const two = await startMonitor({ dir: tmp(), tty: false, argv: sh('exit 4') });
    assert.equal(spawnerOf(two.monitorPid), first, 'a second spawner was started');
    two.containerPid(two.childPid);
    assert.equal((await two.exited).exitCode, 4);
    await until('monitors reaped by the spawner, no zombies', () => !fs.existsSync(`/proc/${two.monitorPid}`));
    process.kill(first, 'SIGKILL');
    await until('spawner gone', () => !alive(first));
    // the request that finds it dead is started directly; the one after it by a new spawner
    for (let i = 0; i < 2; i++) {
      const m = await startMonitor({ dir: tmp(), tty: false, argv: sh('echo again') });
      m.containerPid(m.childPid);
      assert.equal((await m.exited).exitCode, 0);
      assert.deepEqual((await entries(m.paths.log)).map((e) => e.line), ['again\n']);
    }
  });

  test('a child killed by SIGKILL exits 137 with signal 9', async () => {
    const m = await startMonitor({ dir: tmp(), tty: false, argv: sh('kill -9 $$') });
    m.containerPid(m.childPid);
    assert.deepEqual((({ exitCode, signal }) => ({ exitCode, signal }))(await m.exited), { exitCode: 137, signal: 9 });
  });

  test('attach: live output to every client, stdin to cat, close-stdin ends it', async () => {
    const m = await startMonitor({ dir: tmp(), tty: false, argv: ['/bin/cat'] });
    m.containerPid(m.childPid);
    const sockets = socketInodes(m.monitorPid);
    const a = await attach(m.paths.attach), b = await attach(m.paths.attach);
    const gotA = received(a, (s) => s === 'hello\nworld\n'), gotB = received(b, (s) => s === 'hello\nworld\n');
    // both clients accepted before the first byte: the monitor holds their sockets (a 50 ms sleep was a guess that
    // a monitor starved on a loaded machine can outlast, and the one accepted late misses 'hello')
    await until('both clients accepted', () => newSockets(m.monitorPid, sockets) >= 2);
    a.write('hello\n');
    b.write('world\n');
    await Promise.all([gotA, gotB]);
    const closed = new Promise((r) => a.on('close', r));
    a.closeStdin();
    assert.equal((await m.exited).exitCode, 0);
    await closed;
    assert.deepEqual((await entries(m.paths.log)).map((e) => e.line), ['hello\n', 'world\n']);
  });

  test('stdin the container is slow to read waits for it; close-stdin comes after the data', async () => {
    const m = await startMonitor({ dir: tmp(), tty: false, argv: sh('sleep 0.5; wc -c') });
    m.containerPid(m.childPid);
    const a = await attach(m.paths.attach);
    const got = received(a, (s) => s.trim() === String(1 << 20));
    for (let i = 0; i < 16; i++) a.write(Buffer.alloc(65536, 0x61));
    a.closeStdin();
    await got;
    assert.equal((await m.exited).exitCode, 0);
  });

  test('a client that does not read is dropped; the container and the log do not wait for it', async () => {
    const m = await startMonitor({ dir: tmp(), tty: false, argv: [process.execPath, '-e', "for (let i = 0; i < 20000; i++) process.stdout.write('x'.repeat(99) + '\\n')"] });
    m.containerPid(m.childPid);
    const a = await attach(m.paths.attach);
    a.socket.pause();
    const closed = new Promise((r) => a.on('close', r));
    assert.equal((await m.exited).exitCode, 0);
    a.socket.resume();
    await closed;
    assert.equal((await entries(m.paths.log)).length, 20000);
  });

  test('stdin: false gives the child /dev/null', async () => {
    const m = await startMonitor({ dir: tmp(), tty: false, argv: ['/bin/cat'], stdin: false });
    m.containerPid(m.childPid);
    assert.equal((await m.exited).exitCode, 0);
  });

  test('TTY: the master arrives on the console socket; output, input and resize go through it', async () => {
    // The child plays the runtime: it makes a PTY, sends the master on the console socket (fd 3) and runs a shell on the slave.
    const child = [
      'import os, socket',
      'm, s = os.openpty()',
      'c = socket.socket(fileno=3)',
      'socket.send_fds(c, [os.ttyname(s).encode()], [m])',
      'os.close(m); c.close()',
      'os.setsid()',
      'for fd in (0, 1, 2): os.dup2(s, fd)',
      'os.execv("/bin/sh", ["sh", "-c", "echo ready; read line; stty size; echo got $line; exit 7"])',
    ].join('\n');
    const m = await startMonitor({ dir: tmp(), tty: true, argv: [PY, '-c', child] });
    m.containerPid(m.childPid);
    const a = await attach(m.paths.attach);
    const ready = received(a, (s) => s.includes('ready'), 5000); // bounded: it may have come before the attach
    a.resize(30, 100);
    const done = received(a, (s) => /got go/.test(s));
    await ready.catch(() => undefined); // 'ready' may come before we attached; the log has it either way
    a.write('go\n');
    const out = await done;
    assert.match(out, /30 100\r\n/);
    assert.equal((await m.exited).exitCode, 7);
    const log = (await entries(m.paths.log)).map((e) => e.line).join('');
    assert.match(log, /ready\r\n[^]*30 100\r\ngot go\r\n/);
  });

  test('fds given as pipes reach the child as fd 3 and up', async () => {
    const m = await startMonitor({ dir: tmp(), tty: false, argv: sh('echo hi >&3; read x <&3; echo "got $x"'), fds: ['pipe'] });
    m.containerPid(m.childPid);
    const s = m.sockets[0]!;
    const hi = await new Promise<string>((r) => s.once('data', (d: Buffer) => r(d.toString())));
    assert.equal(hi, 'hi\n');
    s.end('yo\n');
    assert.equal((await m.exited).exitCode, 0);
    assert.deepEqual((await entries(m.paths.log)).map((e) => e.line), ['got yo\n']);
  });

  test('the monitor survives the death of the process that started it', async () => {
    const dir = tmp();
    // the output comes when the test says so, after the new attach is served, not after a second that the kill, the
    // exit and the attach may outlast on a loaded machine
    const go = path.join(dir, 'go');
    execFileSync('mkfifo', [go]);
    const index = fileURLToPath(new URL('../../src/monitor/index.js', import.meta.url));
    const script = `import { startMonitor } from ${JSON.stringify(index)};
      const m = await startMonitor({ dir: ${JSON.stringify(dir)}, tty: false, argv: ['/bin/sh', '-c', 'read x < ${go}; echo done; exit 4'] });
      m.containerPid(m.childPid);
      console.log(JSON.stringify({ monitorPid: m.monitorPid }));
      setInterval(() => {}, 1000);`;
    // its output through pipes of this test's (not its stderr), and killed in the finally below with what it started:
    // a failed test must leave no process behind
    const daemon = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let daemonErr = '';
    daemon.stderr!.on('data', (d: Buffer) => { daemonErr += d; });
    const daemonExit = new Promise((r) => daemon.once('exit', r));
    let monitorPid = 0;
    try {
      const line = await new Promise<string>((resolve, reject) => {
        daemon.stdout!.once('data', (d: Buffer) => resolve(d.toString()));
        void daemonExit.then((c) => reject(new Error(`the "daemon" exited (${c}) before it started the monitor: ${daemonErr}`)));
      });
      ({ monitorPid } = JSON.parse(line) as { monitorPid: number });
      daemon.kill('SIGKILL');
      await daemonExit;
      await survivor(dir, go, monitorPid, daemon.pid!);
    } finally {
      daemon.kill('SIGKILL');
      if (monitorPid && alive(monitorPid)) {
        // the sh that waits on the fifo for ever would outlive its killed monitor
        let children: string[] = [];
        try { children = fs.readFileSync(`/proc/${monitorPid}/task/${monitorPid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean); } catch { /* gone */ }
        for (const p of [monitorPid, ...children.map(Number)]) { try { process.kill(p, 'SIGKILL'); } catch { /* gone */ } }
      }
    }
  });

  async function survivor(dir: string, go: string, monitorPid: number, daemonPid: number): Promise<void> {
    assert.ok(alive(monitorPid), 'monitor died with its parent');
    const ppid = Number(fs.readFileSync(`/proc/${monitorPid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
    assert.notEqual(ppid, daemonPid);
    // a new "daemon" attaches to the running monitor and sees the rest of the output
    const sockets = socketInodes(monitorPid);
    const a = await attach(path.join(dir, 'attach.sock'));
    const done = received(a, (s) => s === 'done\n');
    await until('the attach accepted', () => newSockets(monitorPid, sockets) > 0);
    fs.writeFileSync(go, 'go\n');
    await done;
    await until('exit file', async () => (await readExitFile(path.join(dir, 'exit.json'))) !== undefined);
    assert.equal((await readExitFile(path.join(dir, 'exit.json')))!.exitCode, 4);
    assert.deepEqual((await entries(path.join(dir, 'json.log'))).map((e) => e.line), ['done\n']);
    await until('monitor exit', () => !alive(monitorPid));
  }

  test('a late CONTAINER names a grandchild that was reparented to the monitor and has already exited', async () => {
    const m = await startMonitor({ dir: tmp(), tty: false, argv: sh('(sleep 0.2; exit 5) & echo $!; exit 0') });
    await until('grandchild pid in the log', async () => (await entries(m.paths.log)).length > 0);
    const grandchild = Number((await entries(m.paths.log))[0]!.line);
    // reaped by the monitor (gone from /proc, not a zombie) before CONTAINER names it: the path this test is for
    await until('grandchild reaped', () => !fs.existsSync(`/proc/${grandchild}`));
    m.containerPid(grandchild);
    assert.equal((await m.exited).exitCode, 5);
  });

  test('the log rotates at --log-max-size; readLog -f follows across rotations until aborted', async () => {
    // max-file 20 keeps every rotated file (300 lines make ~6), so a follower may be any number of rotations behind
    // without an entry being dropped from the disk: what it must not lose is then fixed, not a race with the writer
    const m = await startMonitor({ dir: tmp(), tty: false, argv: sh('i=0; while [ $i -lt 300 ]; do echo line $i; i=$((i+1)); sleep 0.002; done'), logMaxSize: 4096, logMaxFiles: 20 });
    m.containerPid(m.childPid);
    const ac = new AbortController();
    const seen: string[] = [];
    const follow = (async () => { for await (const e of readLog(m.paths.log, { follow: true, signal: ac.signal })) seen.push(e.line); })();
    // a follower that falls behind: it takes one entry, then nothing until the writer is done (many rotations later)
    const slow: string[] = [];
    const slowFollow = (async () => {
      for await (const e of readLog(m.paths.log, { follow: true, signal: ac.signal })) {
        slow.push(e.line);
        if (slow.length === 1) await m.exited;
      }
    })();
    await m.exited;
    ac.abort();
    await Promise.all([follow, slowFollow]);
    assert.ok(fs.existsSync(`${m.paths.log}.2`), 'rotated more than once');
    for (const f of fs.readdirSync(path.dirname(m.paths.log)).filter((n) => n.startsWith('json.log'))) {
      assert.ok(fs.statSync(path.join(path.dirname(m.paths.log), f)).size <= 4096, `${f} is at most --log-max-size`);
    }
    const all = Array.from({ length: 300 }, (_, i) => `line ${i}\n`);
    assert.deepEqual(seen, all); // no entry lost or repeated by a follower
    assert.deepEqual(slow, all.slice(all.indexOf(slow[0]!)), 'a follower several rotations behind reads every file it missed, in order');
    const tail = [];
    for await (const e of readLog(m.paths.log, { tail: 3 })) tail.push(e.line);
    assert.deepEqual(tail, ['line 297\n', 'line 298\n', 'line 299\n']);
  });

  test('since and until select entries by time', async () => {
    // each line goes out 300 ms after the test saw the one before in the log (FIFOs): with 'sleep 0.3' in the child
    // a monitor starved for that long on a loaded machine read two lines at once and stamped them the same ms
    const dir = tmp();
    const go = [1, 2].map((i) => { const f = path.join(dir, `go${i}`); execFileSync('mkfifo', [f]); return f; });
    const m = await startMonitor({ dir, tty: false, argv: sh(`echo a; read x < ${go[0]}; echo b; read x < ${go[1]}; echo c`) });
    m.containerPid(m.childPid);
    for (const [i, f] of go.entries()) {
      await until(`line ${i + 1} in the log`, async () => (await entries(m.paths.log)).length > i);
      await sleep(300);
      fs.writeFileSync(f, 'go\n');
    }
    await m.exited;
    const all = await entries(m.paths.log);
    const t = (i: number) => Date.parse(all[i]!.time) / 1000;
    const pick = async (o: { since?: number; until?: number }) => { const r = []; for await (const e of readLog(m.paths.log, o)) r.push(e.line); return r; };
    assert.deepEqual(await pick({ since: t(1) - 0.1 }), ['b\n', 'c\n']);
    assert.deepEqual(await pick({ until: t(1) + 0.1 }), ['a\n', 'b\n']);
  });

  test('resident memory of an idle monitor', async (t) => {
    const m = await startMonitor({ dir: tmp(), tty: false, argv: ['/bin/sleep', '30'] });
    m.containerPid(m.childPid);
    const a = await attach(m.paths.attach);
    await sleep(100);
    const rss = Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${m.monitorPid}/status`, 'utf8'))![1]);
    t.diagnostic(`monitor VmRSS ${rss} kB (one attach client)`);
    a.close();
    process.kill(m.childPid, 'SIGTERM');
    assert.equal((await m.exited).exitCode, 143);
    assert.ok(rss < 1024, `RSS ${rss} kB`);
  });
});
