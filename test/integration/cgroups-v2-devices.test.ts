// cgroup v2 device rules are an eBPF program: compiled in TypeScript, attached by berth-helper, enforced by
// the real kernel. This machine's cgroup2 hierarchy (/sys/fs/cgroup/unified on hybrid hosts) carries it.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { cgroup2Mountpoint, readMountinfo } from '../../src/runtime/cgroups/mode.js';
import { compileDeviceFilter, normalizeDeviceRules } from '../../src/runtime/cgroups/index.js';
import { runHostOps } from '../../src/runtime/sync.js';
import { isRoot } from '../helpers/bundle.js';

const v2 = cgroup2Mountpoint(readMountinfo());
const skip = !isRoot ? 'needs root' : !v2 ? 'needs a cgroup2 hierarchy' : false;

test('a device filter allows exactly the listed devices and accesses', { skip }, async () => {
  const dir = path.join(v2!, `berth-test-devbpf-${process.pid}`);
  fs.mkdirSync(dir);
  const child = spawn('/bin/sh', ['-c', [
    'read go',
    'head -c1 /dev/zero >/dev/null 2>&1 && echo zero-read',
    '(echo x >/dev/zero) 2>/dev/null && echo zero-write',
    'head -c1 /dev/urandom >/dev/null 2>&1 && echo urandom-read',
    'echo done',
  ].join('; ')], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (d) => { out += d; });
  const exited = new Promise((r) => child.on('close', r));
  try {
    const rules = normalizeDeviceRules([
      { allow: false, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },    // /dev/null, for the shell's redirections
      { allow: true, type: 'c', major: 1, minor: 5, access: 'r' },      // /dev/zero, read only
      { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' },    // /dev/urandom ...
      { allow: false, type: 'c', major: 1, minor: 9, access: 'r' },     // ... but a later rule takes reading away
    ]);
    await runHostOps([{ op: 'BPF_DEVICES', args: { cgroup: dir, insns: compileDeviceFilter(rules) } }]);
    fs.writeFileSync(path.join(dir, 'cgroup.procs'), String(child.pid));
    child.stdin!.end('go\n');
    await exited;
    assert.equal(out, 'zero-read\ndone\n');
  } finally {
    child.kill('SIGKILL');
    await exited;
    for (let i = 0; i < 50; i++) { try { fs.rmdirSync(dir); break; } catch { await new Promise((r) => setTimeout(r, 20)); } }
  }
});

test('a refused program gives the verifier\'s reason', { skip }, async () => {
  const dir = path.join(v2!, `berth-test-devbpf-bad-${process.pid}`);
  fs.mkdirSync(dir);
  try {
    // one instruction, no exit: the verifier refuses it
    await assert.rejects(runHostOps([{ op: 'BPF_DEVICES', args: { cgroup: dir, insns: Buffer.from([0xb7, 0, 0, 0, 0, 0, 0, 0]) } }]), /load device filter/);
  } finally { fs.rmdirSync(dir); }
});
