// runtime/create cgroupMountInfo: a `cgroup` mount shows the directories the container's cgroup manager makes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { cgroupMountInfo } from '../../src/runtime/create.js';
import { DEFAULT_CGROUP_PARENT } from '../../src/runtime/cgroups/mode.js';

test('cgroupMountInfo: each hierarchy\'s directory is its mount point and the resolved cgroupsPath, relative ones under the default parent', () => {
  for (const [given, resolved] of [['/berth/c1', '/berth/c1'], ['/a//b/', '/a/b'], ['c2', `${DEFAULT_CGROUP_PARENT}/c2`]] as const) {
    const info = cgroupMountInfo(given);
    const dirs = info.v2Dir !== undefined ? [info.v2Dir] : info.v1!.map((h) => h.hostDir);
    for (const d of dirs) {
      assert.ok(d.endsWith(resolved), `${d} for ${given}`);
      assert.ok(!d.includes('//'), d);
    }
  }
  assert.throws(() => cgroupMountInfo('/a/../b'), /must not contain/);
});
