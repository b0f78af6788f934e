import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { ContentStore } from '../../src/content/store.js';
import { sha256 } from '../../src/content/digest.js';

function tmp(t: { after: (fn: () => void) => void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-content-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const chunks = (b: Buffer) => Readable.from([b.subarray(0, 3), b.subarray(3)]);

test('ingest verifies digest and size while streaming and publishes atomically', async (t) => {
  const cs = new ContentStore(tmp(t));
  const data = Buffer.from('hello, layers');
  const d = await cs.ingest(chunks(data), { digest: sha256(data), size: data.length });
  assert.equal(d, sha256(data));
  assert.deepEqual(cs.read(d), data);
  assert.deepEqual(cs.list(), [d]);
  assert.deepEqual(fs.readdirSync(cs.ingestDir), []);
});

test('a wrong digest or size leaves nothing behind', async (t) => {
  const cs = new ContentStore(tmp(t));
  const data = Buffer.from('the real bytes');
  const wrong = sha256('other bytes');
  await assert.rejects(cs.ingest(chunks(data), { digest: wrong, size: data.length }), /digest mismatch/);
  await assert.rejects(cs.ingest(chunks(data), { digest: sha256(data), size: data.length + 1 }), /does not match the expected/);
  await assert.rejects(cs.ingest(chunks(data), { digest: sha256(data), size: 4 }), /more than the expected 4 bytes/);
  assert.deepEqual(cs.list(), []);
  assert.deepEqual(fs.readdirSync(cs.ingestDir), []);
  assert.equal(cs.has(wrong), false);
});

test('gc removes unreferenced blobs only', async (t) => {
  const cs = new ContentStore(tmp(t));
  const keep = cs.writeBlob('keep me');
  const drop = cs.writeBlob('drop me');
  const r = cs.gc(new Set([keep]));
  assert.deepEqual(r.removed, [drop]);
  assert.equal(r.bytes, 7);
  assert.deepEqual(cs.list(), [keep]);
});

test('a blob hashed aside: a worker hashes the temp file as it is written, and commit takes its digest', async (t) => {
  const { FileHasher } = await import('../../src/content/hash-worker.js');
  const cs = new ContentStore(tmp(t));
  const w = cs.writer({});
  w.write(Buffer.alloc(0));
  w.hashAside();
  const h = new FileHasher(w.tmp);
  // ~9 MB in uneven pieces: the worker is told of the growth in steps and reads what each step covers
  const data = Buffer.alloc(9_000_001);
  for (let i = 0; i < data.length; i += 4096) data[i] = (i / 4096) & 0xff;
  for (let o = 0; o < data.length; o += 700_001) { w.write(data.subarray(o, o + 700_001)); h.written(w.size); }
  const d = await h.finish(w.size);
  assert.equal(d, sha256(data));
  const other = cs.writer({});
  other.hashAside();
  assert.throws(() => other.commit(), /needs its digest/);
  other.abort();
  assert.equal(w.commit(d), d);
  assert.deepEqual(cs.read(d), data);
  // a file shorter than the length given is an error, not a digest of what was there
  const short = path.join(tmp(t), 'short');
  fs.writeFileSync(short, 'abc');
  await assert.rejects(new FileHasher(short).finish(10), /ends at 3 bytes, 10 were written/);
  await assert.rejects(new FileHasher(path.join(short, 'missing')).finish(1), /ENOTDIR|ENOENT/);
});

test('a big layer berth writes itself is hashed aside: its digest is the sha256 of the tar, blob and tree hold it', async (t) => {
  const { ImageService } = await import('../../src/images/service.js');
  const { ingestOwnLayer } = await import('../../src/images/layers.js');
  const { tarOf } = await import('../helpers/tar.js');
  const root = tmp(t);
  const svc = new ImageService({ root });
  // 20 MB: past the size from which the worker hashes (16 MB), with a small file on each side
  const big = Buffer.alloc(20 << 20);
  for (let i = 0; i < big.length; i += 512) big[i] = (i >> 9) & 0xff;
  const tar = await tarOf([[{ name: 'a' }, Buffer.from('first')], [{ name: 'big' }, big], [{ name: 'z' }, Buffer.from('last')]]);
  const r = await ingestOwnLayer(svc, async (sink) => { for (let o = 0; o < tar.length; o += 300_000) await sink(tar.subarray(o, o + 300_000)); }, { chain: (d) => d });
  assert.equal(r.digest, sha256(tar));
  assert.equal(r.diffId, sha256(tar));
  assert.ok(svc.content.read(r.digest).equals(tar));
  assert.ok(fs.readFileSync(path.join(svc.snapshots.fsPath(r.chain), 'big')).equals(big));
  assert.equal(fs.readFileSync(path.join(svc.snapshots.fsPath(r.chain), 'z'), 'utf8'), 'last');
});
