// Checks the test fixtures themselves: the static probe run directly on the host, and the busybox rootfs.
import { execFile, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildProbe, busyboxRootfs, copyRootfs, isStaticElf } from '../helpers/rootfs.js';

function hasTool(cmd: string): boolean {
  try {
    execFileSync(cmd, ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const skipProbe = hasTool('gcc') ? false : 'needs gcc (apt-get install build-essential)';
const skipRootfs = skipProbe || (fs.existsSync('/bin/busybox') ? false : 'needs /bin/busybox (apt-get install busybox-static)');

interface ProbeRun {
  pid: number;
  code: number | null;
  json: any;
  stderr: string;
}

/** Runs the probe and parses its single JSON line. */
function probe(bin: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<ProbeRun> {
  return new Promise((resolve, reject) => {
    const child = execFile(bin, args, { env }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: number }).code ?? null) : 0;
      const lines = stdout.trim().split('\n');
      if (lines.length !== 1) return reject(new Error(`probe ${args.join(' ')}: expected one line, got ${stdout}`));
      try {
        resolve({ pid: child.pid!, code: typeof code === 'number' ? code : null, json: JSON.parse(lines[0]), stderr });
      } catch (e) {
        reject(new Error(`probe ${args.join(' ')}: bad JSON ${lines[0]}`, { cause: e }));
      }
    });
  });
}

function hostStatus(field: string): string {
  const line = fs.readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith(field + ':'));
  return line!.split(':')[1].trim();
}

test('probe builds static and is cached by content', { skip: skipProbe }, async () => {
  const bin = await buildProbe();
  assert.match(path.basename(bin), /^probe-[0-9a-f]{16}$/);
  assert.equal(await isStaticElf(bin), true);
  assert.equal(await buildProbe(), bin);
});

test('probe facts describes the calling process', { skip: skipProbe }, async () => {
  const bin = await buildProbe();
  const r = await probe(bin, ['facts'], { ...process.env, PROBE_TEST: 'a "quoted"\tvalue' });
  const f = r.json;
  assert.equal(r.code, 0);
  assert.equal(f.pid, r.pid);
  assert.equal(f.ppid, process.pid);
  assert.equal(f.uid, process.getuid!());
  assert.equal(f.euid, process.geteuid!());
  assert.equal(f.gid, process.getgid!());
  assert.ok(Array.isArray(f.groups));
  assert.equal(f.hostname, os.hostname());
  assert.equal(f.umask, parseInt(hostStatus('Umask'), 8));
  assert.equal(f.cwd, process.cwd());
  for (const k of ['effective', 'permitted', 'inheritable', 'bounding', 'ambient']) {
    assert.match(f.caps[k], /^[0-9a-f]{16}$/, `caps.${k}`);
  }
  assert.equal(f.caps.bounding, hostStatus('CapBnd'));
  assert.equal(typeof f.seccomp, 'number');
  assert.equal(typeof f.noNewPrivs, 'number');
  assert.equal(f.rlimits.nofile.length, 2);
  assert.ok(f.rlimits.nofile[0] > 0);
  assert.equal(Object.keys(f.rlimits).length, 15);
  assert.equal(typeof f.oomScoreAdj, 'number');
  assert.equal(f.ns.mnt, fs.readlinkSync('/proc/self/ns/mnt'));
  assert.equal(f.ns.pid, fs.readlinkSync('/proc/self/ns/pid'));
  assert.ok(f.cgroup.length > 0);
  assert.ok(f.mounts.length > 0);
  const root = f.mounts.find((m: { target: string }) => m.target === '/');
  assert.ok(root, 'a mount on /');
  for (const k of ['fstype', 'source', 'options', 'super', 'propagation']) assert.equal(typeof root[k], 'string', k);
  const fds = f.fds.map((d: { fd: number }) => d.fd);
  for (const fd of [0, 1, 2]) assert.ok(fds.includes(fd), `fd ${fd}`);
  assert.ok(f.env.includes('PROBE_TEST=a "quoted"\tvalue'));
  assert.equal(f.argv0, bin);
  // no arguments means facts
  assert.equal((await probe(bin, [])).json.uid, f.uid);
});

test('probe syscall, read, write, open', { skip: skipProbe }, async () => {
  const bin = await buildProbe();
  const sock = (await probe(bin, ['syscall', 'socket'])).json;
  assert.equal(sock.name, 'socket');
  assert.ok(sock.ret >= 0);
  assert.equal(sock.errno, 0);
  assert.equal(sock.error, null);
  const chroot = (await probe(bin, ['syscall', 'chroot'])).json;
  assert.equal(chroot.ret, process.getuid!() === 0 ? 0 : -1);
  const unknown = await probe(bin, ['syscall', 'nope']);
  assert.equal(unknown.code, 2);

  if (fs.existsSync('/etc/hostname')) {
    const rd = (await probe(bin, ['read', '/etc/hostname'])).json;
    assert.equal(rd.ok, true);
    assert.equal(rd.data, fs.readFileSync('/etc/hostname', 'utf8').slice(0, 4096));
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'probe-'));
  try {
    const file = path.join(dir, 'f');
    assert.equal((await probe(bin, ['write', file, 'hello\n'])).json.ok, true);
    assert.equal((await probe(bin, ['read', file])).json.data, 'hello\n');
    assert.equal((await probe(bin, ['open', file, 'r'])).json.ok, true);
    const missing = (await probe(bin, ['read', path.join(dir, 'missing')])).json;
    assert.deepEqual(missing, { ok: false, errno: 2, error: 'No such file or directory', data: null });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('probe alloc, fork, exit, sleep, signals', { skip: skipProbe }, async () => {
  const bin = await buildProbe();
  const alloc = await probe(bin, ['alloc', '4']);
  assert.equal(alloc.json.ok, true);
  assert.match(alloc.stderr, /alloc 4 MiB/);
  assert.deepEqual((await probe(bin, ['fork', '3'])).json, { forked: 3, errno: 0, error: null });
  const ex = await probe(bin, ['exit', '3']);
  assert.equal(ex.code, 3);
  assert.deepEqual((await probe(bin, ['sleep', '0.05'])).json, { slept: 0.05 });
  assert.match((await probe(bin, ['signals'])).json.blocked, /^[0-9a-f]{16}$/);
});

test('busybox rootfs has shell, probe and users', { skip: skipRootfs }, async () => {
  const rootfs = await busyboxRootfs();
  assert.equal(await busyboxRootfs(), rootfs);
  assert.equal(fs.readlinkSync(path.join(rootfs, 'bin/sh')), 'busybox');
  assert.equal(fs.realpathSync(path.join(rootfs, 'usr/bin/env')), path.join(rootfs, 'bin/busybox'));
  assert.ok(fs.statSync(path.join(rootfs, 'bin/probe')).mode & 0o111);
  const passwd = fs.readFileSync(path.join(rootfs, 'etc/passwd'), 'utf8');
  assert.match(passwd, /^root:x:0:0:/m);
  assert.match(passwd, /^berth:x:1000:1000:/m);
  assert.match(fs.readFileSync(path.join(rootfs, 'etc/group'), 'utf8'), /^extra:x:1001:/m);
  assert.equal(fs.statSync(path.join(rootfs, 'tmp')).mode & 0o7777, 0o1777);
  for (const d of ['proc', 'sys', 'dev', 'root', 'run', 'var/tmp']) assert.ok(fs.statSync(path.join(rootfs, d)).isDirectory(), d);
});

test('busybox rootfs runs under chroot', { skip: skipRootfs || (process.getuid!() === 0 ? false : 'needs root') }, async () => {
  const rootfs = await busyboxRootfs();
  const out = execFileSync('chroot', [rootfs, '/bin/sh', '-c', 'id -un; /bin/probe read /etc/hostname'], {
    encoding: 'utf8',
  });
  const [user, json] = out.trim().split('\n');
  assert.equal(user, 'root');
  assert.equal(JSON.parse(json).data, 'berth\n');
});

test('copyRootfs makes a private copy', { skip: skipRootfs }, async () => {
  const dest = fs.mkdtempSync(path.join(os.tmpdir(), 'rootfs-copy-'));
  try {
    await copyRootfs(dest);
    assert.equal(fs.readlinkSync(path.join(dest, 'bin/sh')), 'busybox');
    assert.equal(fs.statSync(path.join(dest, 'tmp')).mode & 0o7777, 0o1777);
    fs.writeFileSync(path.join(dest, 'etc/hostname'), 'changed\n');
    assert.equal(fs.readFileSync(path.join(await busyboxRootfs(), 'etc/hostname'), 'utf8'), 'berth\n');
  } finally {
    fs.rmSync(dest, { recursive: true, force: true });
  }
});
