// Layer unpacking without root: content, links, metadata, and refusal of escaping entries.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { Snapshotter } from '../../src/snapshots/overlay.js';
import type { TarHeader } from '../../src/snapshots/tar-header.js';
import { sha256 } from '../../src/content/digest.js';
import { tarOf } from '../helpers/tar.js';
import { OWNER } from '../../src/util/owner.js';


function setup(t: { after: (fn: () => void) => void }) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-unpack-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const outside = path.join(dir, 'outside');
  fs.mkdirSync(outside);
  fs.writeFileSync(path.join(outside, 'secret'), 'secret');
  return { dir, outside, snaps: new Snapshotter(path.join(dir, 'root')) };
}

async function* one(b: Buffer) { yield b; }

test('unpacks files, dirs, symlinks, hard links, modes and mtimes (gzip)', async (t) => {
  const { snaps } = setup(t);
  const tar = await tarOf([
    [{ name: 'etc/', type: 'dir', mode: 0o750, mtime: 1600000000 }],
    [{ name: 'etc/motd', mode: 0o640, mtime: 1600000001 }, Buffer.from('hi\n')],
    [{ name: 'etc/link', type: 'symlink', linkname: '/etc/motd', mtime: 1600000002 }],
    [{ name: 'etc/hard', type: 'link', linkname: 'etc/motd' }],
    [{ name: 'deep/implicit/file', mode: 0o755 }, Buffer.from('x')],
  ]);
  const info = await snaps.unpack(sha256(tar), undefined, one(gzipSync(tar)), sha256(tar));
  const fsd = snaps.fsPath(info.name);
  assert.equal(fs.readFileSync(path.join(fsd, 'etc/motd'), 'utf8'), 'hi\n');
  assert.equal(fs.statSync(path.join(fsd, 'etc/motd')).mode & 0o7777, 0o640);
  assert.equal(fs.statSync(path.join(fsd, 'etc')).mode & 0o7777, 0o750);
  assert.equal(fs.statSync(path.join(fsd, 'etc')).mtimeMs, 1600000000 * 1000);
  assert.equal(fs.readlinkSync(path.join(fsd, 'etc/link')), '/etc/motd');
  assert.equal(fs.statSync(path.join(fsd, 'etc/hard')).ino, fs.statSync(path.join(fsd, 'etc/motd')).ino);
  assert.equal(fs.statSync(path.join(fsd, 'deep/implicit/file')).mode & 0o777, 0o755);
  assert.equal(info.size, 4);
  assert.equal(info.tarSize, tar.length);
});

test('a diff ID mismatch publishes nothing', async (t) => {
  const { snaps, dir } = setup(t);
  const tar = await tarOf([[{ name: 'a' }, Buffer.from('a')]]);
  await assert.rejects(snaps.unpack(sha256('x'), undefined, one(tar), sha256('x')), /does not match the diff ID/);
  assert.deepEqual(snaps.list(), []);
  assert.deepEqual(fs.readdirSync(path.join(dir, 'root', 'snapshots', '.tmp', OWNER)), []);
});

const evil: Record<string, Array<[Partial<TarHeader> & { name: string }, Buffer?]>> = {
  'dot-dot path': [[{ name: '../outside/pwned' }, Buffer.from('x')]],
  'nested dot-dot': [[{ name: 'a/../../outside/pwned' }, Buffer.from('x')]],
  'absolute path': [[{ name: '/tmp/pwned' }, Buffer.from('x')]],
  'absolute symlink escape': [[{ name: 'esc', type: 'symlink', linkname: '/' }], [{ name: 'esc/tmp/pwned' }, Buffer.from('x')]],
  'relative symlink escape': [[{ name: 'esc', type: 'symlink', linkname: '../../../../outside' }], [{ name: 'esc/pwned' }, Buffer.from('x')]],
  'symlink dir then dir entry below': [[{ name: 'esc', type: 'symlink', linkname: '/tmp' }], [{ name: 'esc/sub/', type: 'dir' }]],
  'hard link to outside': [[{ name: 'h', type: 'link', linkname: '../outside/secret' }]],
  'hard link absolute': [[{ name: 'h', type: 'link', linkname: '/etc/passwd' }]],
  'hard link through symlink': [[{ name: 'esc', type: 'symlink', linkname: '/etc' }], [{ name: 'h', type: 'link', linkname: 'esc/passwd' }]],
  'whiteout escape': [[{ name: '../.wh.secret' }]],
};

for (const [name, entries] of Object.entries(evil)) {
  test(`refuses a malicious layer: ${name}`, async (t) => {
    const { snaps, dir, outside } = setup(t);
    const tar = await tarOf([[{ name: 'ok' }, Buffer.from('fine')], ...entries]);
    await assert.rejects(snaps.unpack(sha256(tar), undefined, one(tar), sha256(tar)), /escapes the layer|absolute|not in the layer/);
    assert.deepEqual(snaps.list(), []);
    assert.deepEqual(fs.readdirSync(path.join(dir, 'root', 'snapshots', '.tmp', OWNER)), []);
    assert.deepEqual(fs.readdirSync(outside), ['secret']);
    assert.equal(fs.existsSync('/tmp/pwned'), false);
    assert.equal(fs.readFileSync(path.join(outside, 'secret'), 'utf8'), 'secret');
  });
}

test('unpacks zstd and plain layers the same as gzip', { skip: fs.existsSync('/usr/bin/zstd') ? undefined : 'needs zstd' }, async (t) => {
  const { snaps, dir } = setup(t);
  const tar = await tarOf([[{ name: 'z/file', mode: 0o644 }, Buffer.from('zstd!')]]);
  fs.writeFileSync(path.join(dir, 'l.tar'), tar);
  const { execFileSync } = await import('node:child_process');
  execFileSync('zstd', ['-q', '-19', path.join(dir, 'l.tar'), '-o', path.join(dir, 'l.tar.zst')]);
  const info = await snaps.unpack(sha256(tar), undefined, fs.createReadStream(path.join(dir, 'l.tar.zst'), { highWaterMark: 7 }), sha256(tar));
  assert.equal(fs.readFileSync(path.join(snaps.fsPath(info.name), 'z/file'), 'utf8'), 'zstd!');
  const plain = await snaps.unpack(sha256('other'), undefined, one(tar), sha256(tar)).catch((e: Error) => e);
  assert.ok(plain instanceof Error && /base layer|diff ID/.test(plain.message) || !(plain instanceof Error));
});
