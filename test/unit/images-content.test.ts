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
