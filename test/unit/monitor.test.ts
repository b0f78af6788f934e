// The monitor's protocol tables match native/monitor.h, and the json-file log it writes is what docker
// writes: escaping, invalid UTF-8, 16 KiB splitting, a final partial line — read back by readLog.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ATTACH, FrameReader, LOG_LINE_MAX, MON, attachFrame, launchMonitor, parseLogLine, readLog, spawnIn, startMonitor, timeNs } from '../../src/monitor/index.js';
import { encodeSpawn, FIRST_PASSED_FD, SPAWN_SELF } from '../../src/monitor/protocol.js';
import { SPAWNER, SPAWNER_MAX_SOCKS, SPAWNER_SELF, encodeRequest } from '../../src/runtime/spawner.js';

const native = (f: string) => fs.readFileSync(fileURLToPath(new URL(`../../../native/${f}`, import.meta.url)), 'utf8');
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'berth-mon-'));

test('message and frame numbers match native/monitor.h', () => {
  const h = native('monitor.h');
  for (const [name, n] of Object.entries(MON)) assert.match(h, new RegExp(`MON_${name} = ${n},`));
  for (const [name, n] of Object.entries(ATTACH)) assert.match(h, new RegExp(`ATTACH_${name} = ${n},`));
  assert.equal((h.match(/\bMON_[A-Z]+ = \d+,/g) ?? []).length, Object.keys(MON).length, 'monitor.h has messages TypeScript does not know');
  assert.equal((h.match(/\bATTACH_[A-Z_]+ = \d+,/g) ?? []).length, Object.keys(ATTACH).length, 'monitor.h has frames TypeScript does not know');
  assert.match(h, new RegExp(`#define LOG_LINE_MAX ${LOG_LINE_MAX}\\b`));
  assert.match(h, new RegExp(`#define MON_FIRST_PASSED_FD ${FIRST_PASSED_FD}\\b`));
  assert.match(h, new RegExp(`#define MON_SPAWN_SELF 0x${SPAWN_SELF.toString(16)}u\\b`));
});

test('spawner message numbers match native/spawner.h', () => {
  const h = native('spawner.h');
  for (const [name, n] of Object.entries(SPAWNER)) assert.match(h, new RegExp(`SPAWNER_${name} = ${n},`));
  assert.equal((h.match(/\bSPAWNER_[A-Z]+ = \d+,/g) ?? []).length, Object.keys(SPAWNER).length, 'spawner.h has messages TypeScript does not know');
  assert.match(h, new RegExp(`#define SPAWNER_MAX_SOCKS ${SPAWNER_MAX_SOCKS}\\b`));
  assert.match(h, /#define SPAWNER_TOKEN 16\b/);
  assert.match(h, new RegExp(`#define SPAWNER_SELF 0x${SPAWNER_SELF.toString(16)}u\\b`));
  const r = encodeRequest(Buffer.alloc(16), 2, ['x'], true);
  assert.equal(r.readUInt32LE(8 + 16), (SPAWNER_SELF | 2) >>> 0);
});

test('SPAWN encoding and attach frames', () => {
  const p = encodeSpawn(['/bin/sh', '-c', 'x'], ['A=1'], 2);
  assert.deepEqual([p.readUInt32LE(0), p.readUInt32LE(4), p.readUInt32LE(8)], [2, 3, 1]);
  assert.equal(p.subarray(12).toString(), '/bin/sh\0-c\0x\0A=1\0');
  assert.throws(() => encodeSpawn(['a\0b'], [], 0));
  assert.equal(encodeSpawn(['x'], [], 1, true).readUInt32LE(0), (SPAWN_SELF | 1) >>> 0);
  const f = attachFrame(ATTACH.STDERR, Buffer.from('hey'));
  assert.deepEqual([...f.subarray(0, 8)], [2, 0, 0, 0, 0, 0, 0, 3]); // Docker's stdcopy header
  const r = new FrameReader(true);
  assert.deepEqual(r.push(f.subarray(0, 5)), []);
  assert.deepEqual(r.push(Buffer.concat([f.subarray(5), attachFrame(1, Buffer.from('a'))])).map((x) => [x.type, x.payload.toString()]), [[2, 'hey'], [1, 'a']]);
});

test('timeNs keeps nanoseconds; parseLogLine rejects what is not an entry', () => {
  assert.equal(timeNs('1970-01-01T00:00:01.000000002Z'), 1_000_000_002n);
  assert.equal(timeNs('1970-01-01T00:00:01.5Z'), 1_500_000_000n);
  assert.equal(timeNs('1970-01-01T01:00:00+01:00'), 0n);
  assert.equal(parseLogLine('{"log":'), undefined);
  assert.deepEqual(parseLogLine('{"log":"x\\n","stream":"stderr","time":"t"}'), { stream: 'stderr', line: 'x\n', time: 't' });
});

test('the log the monitor writes: escaping, invalid UTF-8, 16 KiB split, final partial line', async () => {
  const dir = tmp();
  const out = "process.stdout.write('a'.repeat(40000) + '\\n'); process.stderr.write(Buffer.from([0x71, 0x22, 0x5c, 0x09, 0x01, 0x0d, 0xff, 0xc3, 0xa9, 0x3c, 0x20, 0x65, 0x6e, 0x64]))";
  const m = await startMonitor({ dir, tty: false, argv: [process.execPath, '-e', out], stdin: false });
  m.containerPid(m.childPid);
  const st = await m.exited;
  assert.equal(st.exitCode, 0);
  const raw = fs.readFileSync(m.paths.log, 'utf8').split('\n');
  assert.equal(raw.pop(), '');
  for (const l of raw) assert.match(l, /^\{"log":".*","stream":"(stdout|stderr)","time":"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z"\}$/);
  assert.ok(raw.at(-1)!.startsWith('{"log":"q\\"\\\\\\t\\u0001\\r\\ufffdé< end","stream":"stderr","time":"'), raw.at(-1));
  const entries = [];
  for await (const e of readLog(m.paths.log)) entries.push(e);
  const stdout = entries.filter((e) => e.stream === 'stdout').map((e) => e.line);
  assert.deepEqual(stdout.map((l) => l.length), [LOG_LINE_MAX, LOG_LINE_MAX, 40000 - 2 * LOG_LINE_MAX + 1]);
  assert.equal(stdout.join(''), 'a'.repeat(40000) + '\n');
  assert.deepEqual(entries.filter((e) => e.stream === 'stderr').map((e) => e.line), ['q"\\\t\x01\r\ufffdé< end']);
  for (const e of entries) assert.ok(Math.abs(Number(timeNs(e.time) / 1_000_000n) - Date.now()) < 60_000, e.time);
  fs.rmSync(dir, { recursive: true });
});

// helperInProcess: the monitor's child runs berth-helper's own code without an exec, so argv[0] is never
// opened: a path that does not exist still runs (`--decode-plan` of an empty stdin prints nothing, exits 0)
test('a SPAWN of berth-helper itself runs in the forked child without an exec', async () => {
  const dir = tmp();
  try {
    const m = await startMonitor({ dir, tty: false, argv: ['/nonexistent/berth-helper', '--decode-plan'], env: [], stdin: false, helperInProcess: true });
    m.containerPid(m.childPid);
    assert.equal((await m.exited).exitCode, 0);
    fs.mkdirSync(path.join(dir, 'b'));
    const bad = await startMonitor({ dir: path.join(dir, 'b'), tty: false, argv: ['/nonexistent/berth-helper', 'nosuchmode'], env: [], stdin: false, helperInProcess: true });
    bad.containerPid(bad.childPid);
    assert.equal((await bad.exited).exitCode, 2); // helper_run's usage error, from the same code an exec would run
  } finally { fs.rmSync(dir, { recursive: true, force: true }); }
});

test('a monitor launched ahead waits for its SPAWN, runs it later, and leaves when let go unused', async () => {
  const dir = tmp();
  const alive = (pid: number) => { try { return !/^State:\s+Z/m.test(fs.readFileSync(`/proc/${pid}/status`, 'utf8')); } catch { return false; } };
  const until = async (f: () => boolean) => { for (let i = 0; i < 800 && !f(); i++) await new Promise((r) => setTimeout(r, 25)); return f(); }; // 20 s: a hang guard
  try {
    // used later: the same as a start in one go
    const early = await launchMonitor({ dir, tty: false, argv: [], stdin: false });
    // launch returns once the monitor process exists; it binds its attach socket soon after, before any SPAWN
    assert.equal(await until(() => fs.existsSync(path.join(dir, 'attach.sock'))), true, 'the waiting monitor listens');
    assert.equal(fs.statSync(path.join(dir, 'attach.sock')).isSocket(), true);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(early.gone, false);
    const m = await spawnIn(early, { dir, tty: false, argv: ['/bin/sh', '-c', 'exit 4'], stdin: false });
    m.containerPid(m.childPid);
    assert.equal((await m.exited).exitCode, 4);
    // let go before any SPAWN: nothing to watch, so it removes its socket and exits (no monitor left behind)
    fs.mkdirSync(path.join(dir, 'b'));
    const idle = await launchMonitor({ dir: path.join(dir, 'b'), tty: false, argv: [], stdin: false });
    assert.equal(alive(idle.pid), true);
    idle.discard();
    assert.equal(await until(() => !alive(idle.pid)), true, `monitor ${idle.pid} still runs`);
    assert.equal(fs.existsSync(path.join(dir, 'b', 'attach.sock')), false);
    await assert.rejects(spawnIn(idle, { dir: path.join(dir, 'b'), tty: false, argv: ['/bin/true'], stdin: false }), /ended before its start/);
  } finally { fs.rmSync(dir, { recursive: true, force: true }); }
});

test('a monitor whose daemon left before naming the container leaves once its child is gone', async () => {
  const dir = tmp();
  const alive = (pid: number) => { try { return !/^State:\s+Z/m.test(fs.readFileSync(`/proc/${pid}/status`, 'utf8')); } catch { return false; } };
  try {
    // the child ends when the test says so (a FIFO), not after 0.3 s that a loaded machine may spend before the check
    const go = path.join(dir, 'go');
    execFileSync('mkfifo', [go]);
    const m = await startMonitor({ dir, tty: false, argv: ['/bin/sh', '-c', `read x < ${go}`], stdin: false });
    // the daemon is killed between SPAWNED and CONTAINER: the monitor never learns which pid is the container
    m.close();
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(alive(m.monitorPid), true, 'it waits while its child runs');
    fs.writeFileSync(go, 'go\n');
    let gone = false;
    for (let i = 0; i < 800 && !(gone = !alive(m.monitorPid)); i++) await new Promise((r) => setTimeout(r, 25));
    assert.equal(gone, true, `monitor ${m.monitorPid} still runs with no child left`);
    assert.equal(fs.existsSync(m.paths.attach), false, 'its attach socket went with it');
  } finally { fs.rmSync(dir, { recursive: true, force: true }); }
});

test('a SPAWN that cannot exec is an ERROR naming the program', async () => {
  const dir = tmp();
  await assert.rejects(startMonitor({ dir, tty: false, argv: ['/nonexistent/prog'] }), /exec \/nonexistent\/prog: no such file or directory/i);
  assert.equal(fs.existsSync(path.join(dir, 'attach.sock')), false);
  fs.rmSync(dir, { recursive: true });
});

test('stdin and its close sent to a monitor before its SPAWN reach the process it starts (`docker run -i` attaches before start)', async () => {
  const dir = tmp();
  const until = async (f: () => boolean) => { for (let i = 0; i < 800 && !f(); i++) await new Promise((r) => setTimeout(r, 25)); return f(); }; // 20 s: a hang guard
  try {
    const early = await launchMonitor({ dir, tty: false, argv: [], stdin: true });
    assert.equal(await until(() => fs.existsSync(path.join(dir, 'attach.sock'))), true);
    const client = net.connect(path.join(dir, 'attach.sock'));
    await new Promise<void>((resolve, reject) => client.once('connect', resolve).once('error', reject));
    const got: Buffer[] = [];
    client.on('data', (d: Buffer) => got.push(d));
    client.write(Buffer.concat([attachFrame(ATTACH.STDIN, Buffer.from('before start\n')), attachFrame(ATTACH.CLOSE_STDIN)]));
    // the frames are in the monitor before its SPAWN (it took them as they came: they were dropped, and cat never saw EOF)
    await new Promise((r) => setTimeout(r, 200));
    const m = await spawnIn(early, { dir, tty: false, argv: ['/bin/cat'], stdin: true });
    m.containerPid(m.childPid);
    const st = await Promise.race([m.exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 20_000))]);
    if (st === 'hung') { process.kill(m.childPid, 'SIGKILL'); await m.exited; client.destroy(); }
    assert.notEqual(st, 'hung', 'cat never saw the close of its stdin');
    if (st !== 'hung') assert.equal(st.exitCode, 0);
    const lines = [];
    for await (const e of readLog(m.paths.log)) lines.push(e.line);
    assert.deepEqual(lines, ['before start\n']);
    client.destroy();
  } finally { fs.rmSync(dir, { recursive: true, force: true }); }
});
