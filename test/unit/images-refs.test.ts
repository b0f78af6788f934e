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
    assert.deepEqual(fs.readdirSync(path.join(root, 'images')).filter((n) => n.includes('lock')), [], 'a lock file was left');
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('a tag stamps the record\'s LastTagTime, also when the reference already names the image; a digest does not', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-refs-'));
  try {
    const svc = new ImageService({ root });
    const id = `sha256:${'b'.repeat(64)}`;
    await svc.store.put({ id, manifests: [{ digest: `sha256:${'c'.repeat(64)}`, mediaType: 'application/vnd.oci.image.manifest.v1+json', size: 1, repos: [] }], indexes: [], added: '2020-01-01T00:00:00.000Z' });
    await svc.addRefs(id, ['docker.io/library/app:latest']);
    const t1 = svc.store.get(id)!.lastTagTime;
    assert.ok(t1 && Date.parse(t1) > Date.parse('2020-01-02'), `no LastTagTime: ${t1}`);
    await new Promise((r) => setTimeout(r, 5));
    const recFile = path.join(root, 'images', 'db', `${'b'.repeat(64)}.json`);
    const before = fs.statSync(recFile);
    await svc.addRefs(id, ['docker.io/library/app:latest']); // docker stamps every tag, a rebuild's too
    const t2 = svc.store.get(id)!.lastTagTime!;
    // the stamp goes beside the record: a rebuild's re-tag does not rewrite (and fsync) the record
    const after = fs.statSync(recFile);
    assert.equal(after.ino, before.ino);
    assert.equal(after.mtimeMs, before.mtimeMs);
    assert.ok(Date.parse(t2) > Date.parse(t1), `${t2} is not after ${t1}`);
    assert.equal(svc.store.get(id)!.manifests.length, 1, 'the record lost its manifests');
    await svc.addRefs(id, [`docker.io/library/app@sha256:${'c'.repeat(64)}`]);
    assert.equal(svc.store.get(id)!.lastTagTime, t2);
    assert.equal(svc.store.refs()[`docker.io/library/app@sha256:${'c'.repeat(64)}`], id);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('resolve parses an image\'s config and manifest once and shares them frozen; a config blob removed since is still NotFound', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-refs-'));
  try {
    const svc = new ImageService({ root });
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', config: { Env: ['A=1'] }, rootfs: { type: 'layers', diff_ids: [] } }));
    const id = svc.content.writeBlob(config);
    const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: id, size: config.length }, layers: [] }));
    const mdigest = svc.content.writeBlob(manifest);
    await svc.store.put({ id, manifests: [{ digest: mdigest, mediaType: 'application/vnd.oci.image.manifest.v1+json', size: manifest.length, repos: [] }], indexes: [], added: '2020-01-01T00:00:00.000Z' });
    await svc.addRefs(id, ['docker.io/library/app:latest']);
    const a = svc.resolve('app');
    const b = svc.resolve(id);
    assert.equal(b.config, a.config, 'the config was parsed again');
    assert.equal(b.manifest, a.manifest, 'the manifest was parsed again');
    assert.deepEqual(a.config.config, { Env: ['A=1'] });
    assert.throws(() => { (a.config.config!.Env as string[]).push('B=2'); }, TypeError, 'a shared config can be changed');
    fs.rmSync(svc.content.path(id));
    assert.throws(() => svc.resolve(id), (e: Error & { kind?: string }) => e.kind === 'NotFound');
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('a name that names no image is NotFound in docker\'s words: the reference with its default tag, a bare ID with sha256:', () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-refs-'));
  try {
    const svc = new ImageService({ root });
    const hex = '0123456789'.repeat(6) + '0123';
    // what Debian's dockerd 20.10.24 answers to POST /containers/create and DELETE /images/{name} (docker 28 the same)
    const cases: Array<[string, string]> = [
      ['nosuch', 'nosuch:latest'],
      ['nosuch:v1', 'nosuch:v1'],
      ['abc123', 'abc123:latest'],
      ['docker.io/library/nosuch', 'nosuch:latest'],
      ['localhost:5000/x/y', 'localhost:5000/x/y:latest'],
      [`nosuch@sha256:${hex}`, `nosuch@sha256:${hex}`],
      [`sha256:${hex}`, `sha256:${hex}`],
      [hex, `sha256:${hex}`],
    ];
    for (const [name, shown] of cases) {
      assert.throws(() => svc.resolveId(name), (e: Error & { kind?: string }) => e.kind === 'NotFound' && e.message === `No such image: ${shown}`, name);
      assert.throws(() => svc.resolve(name), (e: Error) => e.message === `No such image: ${shown}`, name);
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

test('a record\'s layer sizes (a commit\'s layer not unpacked yet) survive a put of the same image without them, and join one without', async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-refs-'));
  try {
    const svc = new ImageService({ root });
    const id = `sha256:${'d'.repeat(64)}`;
    const man = (c: string) => ({ digest: `sha256:${c.repeat(64)}`, mediaType: 'application/vnd.oci.image.manifest.v1+json', size: 1, repos: [] });
    const diffId = `sha256:${'f'.repeat(64)}`;
    await svc.store.put({ id, manifests: [man('e')], indexes: [], added: '2020-01-01T00:00:00.000Z', layerSizes: { [diffId]: 1234 } });
    await svc.store.put({ id, manifests: [man('1')], indexes: [], added: '2021-01-01T00:00:00.000Z' }); // loaded or pulled again
    assert.deepEqual(svc.store.get(id)!.layerSizes, { [diffId]: 1234 });
    const other = `sha256:${'2'.repeat(64)}`;
    await svc.store.put({ id: other, manifests: [man('3')], indexes: [], added: '2020-01-01T00:00:00.000Z' });
    assert.equal(svc.store.get(other)!.layerSizes, undefined);
    await svc.store.put({ id: other, manifests: [man('3')], indexes: [], added: '2020-01-01T00:00:00.000Z', layerSizes: { [diffId]: 99 } });
    assert.deepEqual(svc.store.get(other)!.layerSizes, { [diffId]: 99 });
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
