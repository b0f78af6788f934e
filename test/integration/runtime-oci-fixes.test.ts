// `berth runtime` where OCI runtime-tools validation found it doing worse than runc: rootfsPropagation
// "shared" (pivot_root needs the rootfs's parent mount private for the pivot only), and a hostname set
// while joining an existing uts namespace by path, and a created container without a mount namespace (no
// /proc in its chroot for the exec fifo's reopen: it died before start, linux_ns_itype).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import { after, describe, test } from 'node:test';
import { isRoot, makeBundle, rmBundle, Runtime } from '../helpers/bundle.js';
import type { Spec } from '../../src/runtime/spec-types.js';

const skip = isRoot ? false : 'needs root';
const rt = new Runtime();

async function state(id: string): Promise<{ pid: number; status: string }> {
  const r = await rt.berth(['state', id]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as { pid: number; status: string };
}

async function runIn(edit: (s: Spec) => void, script: string): Promise<{ code: number; stdout: string; stderr: string }> {
  const b = await makeBundle((s) => { s.process!.args = ['/bin/sh', '-c', script]; edit(s); });
  try { return await rt.berth(['run', '--bundle', b.dir, b.id]); } finally { rmBundle(b); }
}

describe('runtime: OCI validation fixes', { skip }, () => {
  after(() => rt.cleanup());

  for (const prop of ['shared', 'rshared']) {
    test(`rootfsPropagation "${prop}": create succeeds and "/" is shared inside`, async () => {
      const r = await runIn((s) => { s.linux!.rootfsPropagation = prop; }, `awk '$5 == "/" { print }' /proc/self/mountinfo`);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, / shared:\d+/, r.stdout);
    });
  }

  test('rootfsPropagation "private" still gives a private "/"', async () => {
    const r = await runIn((s) => { s.linux!.rootfsPropagation = 'private'; }, `awk '$5 == "/" { print }' /proc/self/mountinfo`);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stdout, /shared:|master:/, r.stdout);
  });

  test('hostname is set in a uts namespace joined by path', async (t) => {
    const holder = spawn('unshare', ['--uts', 'sleep', '600'], { stdio: 'ignore' });
    t.after(() => { holder.kill('SIGKILL'); });
    // the holder's uts namespace differs from ours once unshare has exec'd sleep
    const mine = fs.readlinkSync('/proc/self/ns/uts');
    let nsPath = '';
    for (const end = Date.now() + 20_000; Date.now() < end && !nsPath;) { // 5 s (500 x 10 ms) was tight under load
      const p = `/proc/${holder.pid}/ns/uts`;
      if (fs.readlinkSync(p) !== mine && fs.readFileSync(`/proc/${holder.pid}/comm`, 'utf8').trim() === 'sleep') nsPath = p;
      else await new Promise((r) => setTimeout(r, 10));
    }
    assert.ok(nsPath, 'the holder never got its own uts namespace');
    const r = await runIn((s) => {
      s.hostname = 'joined-uts';
      s.linux!.namespaces = s.linux!.namespaces!.map((n) => (n.type === 'uts' ? { type: 'uts', path: nsPath } : n));
    }, 'hostname');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'joined-uts');
    assert.notEqual(os.hostname(), 'joined-uts');
  });

  test('no mount namespace: runs chrooted in root.path, as runc, and mounts nothing on the host', async () => {
    const before = fs.readFileSync('/proc/self/mountinfo', 'utf8');
    const r = await runIn((s) => {
      s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'mount');
      delete s.linux!.maskedPaths;
      delete s.linux!.readonlyPaths;
      s.root!.readonly = false;
    }, 'ls /bin/busybox && echo "$(readlink /proc/self/ns/mnt 2>/dev/null || echo no-proc)"');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^\/bin\/busybox\nno-proc\n$/, 'the bundle root, without the spec\'s mounts');
    assert.equal(fs.readFileSync('/proc/self/mountinfo', 'utf8'), before, 'nothing mounted in our namespace');
    const masked = await runIn((s) => { s.linux!.namespaces = s.linux!.namespaces!.filter((n) => n.type !== 'mount'); s.root!.readonly = false; }, 'true');
    assert.notEqual(masked.code, 0);
    assert.match(masked.stderr, /unable to restrict sys entries without a private MNT namespace/);
  });
  test('no mount namespace: a created container waits for start, then runs its program', async () => {
    const b = await makeBundle((s) => {
      s.process!.args = ['/bin/sleep', '1000'];
      s.linux!.namespaces = [];
      delete s.linux!.maskedPaths;
      delete s.linux!.readonlyPaths;
      delete s.hostname;
      s.root!.readonly = false;
    });
    try {
      const c = await rt.berth(['create', '--bundle', b.dir, b.id]);
      assert.equal(c.code, 0, c.stderr);
      const { pid, status } = await state(b.id);
      assert.equal(status, 'created');
      // every namespace is the runtime's own (runtime-tools linux_ns_itype reads them while created)
      for (const ns of ['cgroup', 'ipc', 'mnt', 'net', 'pid', 'uts'])
        assert.equal(fs.readlinkSync(`/proc/${pid}/ns/${ns}`), fs.readlinkSync(`/proc/self/ns/${ns}`), ns);
      const s = await rt.berth(['start', b.id]);
      assert.equal(s.code, 0, s.stderr);
      assert.equal((await state(b.id)).status, 'running');
      assert.match(fs.readlinkSync(`/proc/${pid}/exe`), /\/bin\/busybox$/);
    } finally {
      await rt.berth(['delete', '-f', b.id]);
      rmBundle(b);
    }
  });
});
