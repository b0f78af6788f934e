import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { LinuxSeccomp } from '../../src/runtime/spec-types.js';
import { compileSeccomp, dockerDefaultProfile } from '../../src/runtime/seccomp/index.js';
import { compileSeccompCached, seccompCacheDir } from '../../src/runtime/seccomp-cache.js';

function tmp(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'berth-seccomp-cache-'));
}

const profile = (): LinuxSeccomp => dockerDefaultProfile({ capabilities: ['CAP_CHOWN', 'CAP_KILL'] });

test('seccomp cache: the first compile is kept in one file, later ones read it and get the same filter', async () => {
  const dir = path.join(tmp(), 'cache');
  try {
    const first = await compileSeccompCached(profile(), dir);
    const want = compileSeccomp(profile());
    assert.deepEqual(first.filter, want.filter);
    assert.equal(first.flags, want.flags);
    const files = fs.readdirSync(dir);
    assert.equal(files.length, 1);
    assert.equal(fs.statSync(dir).mode & 0o777, 0o700);
    assert.equal(fs.statSync(path.join(dir, files[0]!)).mode & 0o777, 0o600);
    // served from the file: make its filter recognisably different and see that come back
    const file = path.join(dir, files[0]!);
    const b = fs.readFileSync(file);
    b[b.length - 1] ^= 0xff;
    fs.writeFileSync(file, b);
    const second = await compileSeccompCached(profile(), dir);
    assert.equal(second.filter.length, want.filter.length);
    assert.notDeepEqual(second.filter, want.filter);
  } finally {
    fs.rmSync(path.dirname(dir), { recursive: true, force: true });
  }
});

test('seccomp cache: a file holding another profile under our name is not used, nor a torn one', async () => {
  const dir = tmp();
  try {
    const a: LinuxSeccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] };
    const b: LinuxSeccomp = { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['rmdir'], action: 'SCMP_ACT_ERRNO' }] };
    assert.notDeepEqual(compileSeccomp(a).filter, compileSeccomp(b).filter);
    await compileSeccompCached(a, dir);
    const [fa] = fs.readdirSync(dir);
    await compileSeccompCached(b, dir);
    const fb = fs.readdirSync(dir).find((f) => f !== fa)!;
    // b's file holds a's profile and filter (as when two profiles share a hash)
    fs.copyFileSync(path.join(dir, fa!), path.join(dir, fb));
    assert.deepEqual((await compileSeccompCached(b, dir)).filter, compileSeccomp(b).filter);
    // a torn file (cut inside the filter) is compiled again
    fs.writeFileSync(path.join(dir, fa!), fs.readFileSync(path.join(dir, fa!)).subarray(0, 20));
    assert.deepEqual((await compileSeccompCached(a, dir)).filter, compileSeccomp(a).filter);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('seccomp cache: no directory compiles only; the place under a state root is no valid container id', async () => {
  const s: LinuxSeccomp = { defaultAction: 'SCMP_ACT_ALLOW' };
  assert.deepEqual((await compileSeccompCached(s)).filter, compileSeccomp(s).filter);
  assert.equal(seccompCacheDir('/run/berth/runtime'), '/run/berth/runtime/@seccomp');
  assert.doesNotMatch('@seccomp', /^[\w+\-.]+$/);
});
