import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { TarParser } from '../../src/snapshots/tar-reader.js';
import type { TarHeader } from '../../src/snapshots/tar-header.js';
import { tarOf as write } from '../helpers/tar.js';

function parse(buf: Buffer, chunk = 7): Array<{ h: TarHeader; body: Buffer }> {
  const out: Array<{ h: TarHeader; body: Buffer }> = [];
  let parts: Buffer[] = [];
  const p = new TarParser({ entry: (h) => { parts = []; out.push({ h, body: Buffer.alloc(0) }); }, data: (c) => parts.push(Buffer.from(c)), end: () => { out[out.length - 1]!.body = Buffer.concat(parts); } });
  for (let i = 0; i < buf.length; i += chunk) p.push(buf.subarray(i, i + chunk));
  p.close();
  return out;
}


test('writer and parser round-trip long names, links, xattrs and big ids', async () => {
  const long = 'd/'.repeat(80) + 'file-with-a-long-name';
  const buf = await write([
    [{ name: 'dir/', type: 'dir', mode: 0o755, mtime: 1700000000 }],
    [{ name: long, mode: 0o4755, uid: 3000000, gid: 7, mtime: 1700000001, xattrs: { 'security.capability': Buffer.from([1, 0, 0, 2]) } }, Buffer.from('x'.repeat(1000))],
    [{ name: 'ln', type: 'symlink', linkname: 'l/'.repeat(70) }],
    [{ name: 'hard', type: 'link', linkname: long }],
  ]);
  const got = parse(buf);
  assert.deepEqual(got.map((e) => e.h.name), ['dir/', long, 'ln', 'hard']);
  assert.equal(got[0]!.h.type, 'dir');
  assert.equal(got[1]!.h.uid, 3000000);
  assert.equal(got[1]!.h.mode, 0o4755);
  assert.equal(got[1]!.body.toString(), 'x'.repeat(1000));
  assert.deepEqual(got[1]!.h.xattrs['security.capability'], Buffer.from([1, 0, 0, 2]));
  assert.equal(got[2]!.h.linkname, 'l/'.repeat(70));
  assert.equal(got[3]!.h.type, 'link');
  assert.equal(got[3]!.h.linkname, long);
});

test('parses what GNU tar writes (GNU long names, PAX) and what it reads of ours', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-tar-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const deep = path.join(dir, 'src', 'a'.repeat(60), 'b'.repeat(60));
  fs.mkdirSync(deep, { recursive: true });
  fs.writeFileSync(path.join(deep, 'f'), 'content');
  fs.symlinkSync('../x', path.join(dir, 'src', 'sym'));
  for (const format of ['gnu', 'posix']) {
    const tar = execFileSync('tar', [`--format=${format}`, '-C', path.join(dir, 'src'), '-cf', '-', '.']);
    const names = parse(tar, 1000).map((e) => e.h.name);
    assert.ok(names.includes(`./${'a'.repeat(60)}/${'b'.repeat(60)}/f`), format);
    assert.ok(names.includes('./sym'));
  }
  const ours = await write([[{ name: `${'n'.repeat(150)}/file` }, Buffer.from('abc')]]);
  fs.writeFileSync(path.join(dir, 'ours.tar'), ours);
  assert.equal(execFileSync('tar', ['-tf', path.join(dir, 'ours.tar')]).toString().trim(), `${'n'.repeat(150)}/file`);
});

test('a tar cut off mid-entry is an error', async () => {
  const buf = await write([[{ name: 'f' }, Buffer.alloc(2000)]]);
  assert.throws(() => parse(buf.subarray(0, 1500)), /unexpected end of tar stream/);
  assert.throws(() => { const b = Buffer.from(buf); b[0] = 0x41; parse(b); }, /bad checksum/);
});
