// volumes/store: named volumes on disk — create/get/list/remove/prune, bad names, in-use refusal,
// and that a volume (with its data) is read back by a new store over the same root (a restart).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { BerthError } from '../../src/errors.js';
import { VolumeStore } from '../../src/volumes/store.js';
import { volumeNamesOf } from '../../src/volumes/users.js';

const tmpRoot = () => fs.mkdtempSync(path.join(os.tmpdir(), 'berth-vol-'));

test('volumes: create is idempotent, data and metadata survive a new store (restart)', () => {
  const root = tmpRoot();
  try {
    const events: string[] = [];
    const a = new VolumeStore({ root, publish: (act, n) => events.push(`${act} ${n}`) });
    const v = a.create({ name: 'data1', labels: { k: 'v' } });
    assert.equal(v.mountpoint, path.join(root, 'volumes', 'data1', '_data'));
    assert.equal(fs.statSync(path.join(root, 'volumes')).mode & 0o777, 0o700);
    fs.writeFileSync(path.join(v.mountpoint, 'f'), 'kept');
    assert.equal(a.create({ name: 'data1' }).createdAt, v.createdAt);
    assert.deepEqual(events, ['create data1']);
    const b = new VolumeStore({ root });
    assert.deepEqual(b.get('data1').labels, { k: 'v' });
    assert.equal(fs.readFileSync(path.join(b.get('data1').mountpoint, 'f'), 'utf8'), 'kept');
    assert.deepEqual(b.list().map((x) => x.name), ['data1']);
  } finally { fs.rmSync(root, { recursive: true, force: true }); }
});

test('volumes: a half-made volume (no metadata) is removed at start', () => {
  const root = tmpRoot();
  try {
    fs.mkdirSync(path.join(root, 'volumes', 'half', '_data'), { recursive: true });
    fs.mkdirSync(path.join(root, 'volumes', '.x.1.tmp'), { recursive: true });
    const s = new VolumeStore({ root });
    assert.deepEqual(s.list(), []);
    assert.deepEqual(fs.readdirSync(path.join(root, 'volumes')), []);
  } finally { fs.rmSync(root, { recursive: true, force: true }); }
});

test('volumes: bad names, options and drivers are 4xx kinds and create nothing', async () => {
  const root = tmpRoot();
  try {
    const s = new VolumeStore({ root });
    const kind = async (f: () => unknown) => { try { await f(); } catch (e) { return (e as BerthError).kind; } return 'ok'; };
    assert.equal(await kind(() => s.create({ name: '../x' })), 'InvalidArgument');
    assert.equal(await kind(() => s.create({ name: 'a' })), 'InvalidArgument');
    assert.equal(await kind(() => s.create({ name: 'x'.repeat(300) })), 'InvalidArgument');
    assert.equal(s.find('x'.repeat(300)), undefined);
    assert.equal(await kind(() => s.create({ name: 'ok1', options: { bogus: '1' } })), 'InvalidArgument');
    assert.equal(await kind(() => s.create({ name: 'ok2', driver: 'nfs' })), 'NotFound');
    assert.equal(await kind(() => s.get('nope')), 'NotFound');
    assert.equal(await kind(() => s.remove('nope')), 'NotFound');
    assert.equal(await kind(() => s.remove('nope', true)), 'ok');
    assert.deepEqual(fs.readdirSync(path.join(root, 'volumes')), []);
  } finally { fs.rmSync(root, { recursive: true, force: true }); }
});

test('volumes: a volume in use is not removed or pruned (409 wording); unused ones are', async () => {
  const root = tmpRoot();
  try {
    const users: Record<string, string[]> = { busy: ['c1'] };
    const events: string[] = [];
    const s = new VolumeStore({ root, inUse: (n) => users[n] ?? [], publish: (a, n) => events.push(`${a} ${n}`) });
    s.create({ name: 'busy' });
    s.create({ name: 'idle' });
    const anon = s.create({ anonymous: true });
    await assert.rejects(() => s.remove('busy'), (e: BerthError) => e.kind === 'Conflict' && e.message === 'remove busy: volume is in use - [c1]');
    assert.ok(s.find('busy'));
    assert.deepEqual((await s.prune(() => true, false)).VolumesDeleted, [anon.name]);
    assert.deepEqual((await s.prune(() => true, true)).VolumesDeleted, ['idle']);
    assert.deepEqual(s.list().map((v) => v.name), ['busy']);
    users.busy = [];
    await s.remove('busy');
    assert.deepEqual(s.list(), []);
    assert.ok(events.includes('destroy busy'));
  } finally { fs.rmSync(root, { recursive: true, force: true }); }
});

test('volumes: names used by an older record (no mountPoints) are the non-absolute -v sources', () => {
  assert.deepEqual(volumeNamesOf({ config: { host: { binds: ['data:/d', '/host:/h:ro', 'cache:/c:ro'] } } } as never), ['data', 'cache']);
});
