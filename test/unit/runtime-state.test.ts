// runtime/state: a record saved with its spec's JSON made beforehand is the same file as one saved plainly.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { StateStore, type ContainerRecord } from '../../src/runtime/state.js';
import type { Spec } from '../../src/runtime/spec-types.js';

test('StateStore.save with specJson writes what JSON.stringify of the record would, the spec in its place', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-state-'));
  try {
    const store = new StateStore(root);
    const spec = { ociVersion: '1.0.2', root: { path: 'rootfs' }, annotations: { '"spec":0': '"spec":0 \\"spec\\":0' } } as unknown as Spec;
    // a path that holds the key's text itself: inside a JSON string its quotes are escaped, so it is left alone
    const r: ContainerRecord = { id: 'c1', pid: 7, pidStart: '99', bundle: '/b/"spec":0', rootfs: '/b/rootfs', created: 'now', cgroupsPath: '/berth/c1', spec, creating: true };
    store.claim('c1');
    store.save(r);
    const plain = fs.readFileSync(path.join(root, 'c1', 'state.json'), 'utf8');
    store.save(r, JSON.stringify(spec));
    const made = fs.readFileSync(path.join(root, 'c1', 'state.json'), 'utf8');
    assert.equal(made, plain);
    assert.deepEqual(store.load('c1'), r);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('specText is JSON.stringify(spec), a frozen seccomp profile\'s text made once and reused', async () => {
  const { specText } = await import('../../src/runtime/state.js');
  const { deepFreeze } = await import('../../src/util/freeze.js');
  const profile = deepFreeze({ defaultAction: 'SCMP_ACT_ERRNO', syscalls: [{ names: ['read', '"seccomp":0'], action: 'SCMP_ACT_ALLOW' }] });
  const spec = (extra: object) => ({
    ociVersion: '1.0.2', process: { args: ['sh'], env: ['X="seccomp":0'] }, annotations: { '"seccomp":0': '"seccomp":0 \\"seccomp\\":0' },
    linux: { namespaces: [{ type: 'pid' }], seccomp: profile, maskedPaths: ['/proc/kcore'] }, ...extra,
  }) as unknown as Spec;
  for (const s of [spec({}), spec({ hostname: 'h' }), { ...spec({}), linux: { ...spec({}).linux, seccomp: { ...profile } } } as Spec, { ociVersion: '1' } as Spec]) {
    assert.equal(specText(s), JSON.stringify(s));
    assert.equal(specText(s), JSON.stringify(s), 'again, from the kept text');
  }
});
