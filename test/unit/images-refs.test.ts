import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { ImageService } from '../../src/images/index.js';

test('tagging an image with references it already has leaves the reference map untouched; a new one rewrites it', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-refs-'));
  try {
    const svc = new ImageService({ root });
    const id = `sha256:${'a'.repeat(64)}`;
    const refsFile = path.join(root, 'images', 'refs.json');
    await svc.addRefs(id, ['docker.io/library/app:latest']);
    const first = fs.statSync(refsFile).ino;
    await svc.addRefs(id, ['docker.io/library/app:latest']); // a cached rebuild tags the same image again
    assert.equal(fs.statSync(refsFile).ino, first, 'an unchanged map was rewritten');
    await svc.addRefs(id, ['docker.io/library/app:latest', 'docker.io/library/app:v2']);
    assert.notEqual(fs.statSync(refsFile).ino, first);
    assert.deepEqual(svc.store.refs(), { 'docker.io/library/app:latest': id, 'docker.io/library/app:v2': id });
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
