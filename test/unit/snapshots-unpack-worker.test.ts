// snapshots/unpack-worker: a layer whose blob ends within its first 4 MB unpacks on the calling thread,
// a larger one on a worker thread (after the bytes read ahead); both give the same tree and diff ID.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { sha256 } from '../../src/content/digest.js';
import { Snapshotter } from '../../src/snapshots/overlay.js';
import { tarOf } from '../helpers/tar.js';

/** b in pieces of awkward sizes, as a network delivers it. */
async function* pieces(b: Buffer, size = 65521) { for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size); }

for (const [what, mb, workers] of [['a small layer on the calling thread', 1, 0], ['a large layer on a worker thread', 6, 1]] as const) {
  test(`${what}: its tree and diff ID`, async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-unpack-worker-'));
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const snaps = new Snapshotter(path.join(dir, 'root'));
    const big = randomBytes(mb << 20); // random: its gzip is as large as the tar
    const tar = await tarOf([
      [{ name: 'etc/', type: 'dir', mode: 0o755 }],
      [{ name: 'etc/motd', mode: 0o644 }, Buffer.from('hello\n')],
      [{ name: 'big', mode: 0o600 }, big],
    ]);
    let started = 0;
    const count = () => { started++; };
    process.on('worker', count);
    t.after(() => { process.off('worker', count); });
    for (const blob of [tar, gzipSync(tar)]) {
      const s = await snaps.unpack(sha256(tar), undefined, pieces(blob), sha256(tar));
      assert.equal(s.diffId, sha256(tar));
      assert.equal(fs.readFileSync(path.join(snaps.fsPath(s.name), 'etc/motd'), 'utf8'), 'hello\n');
      assert.ok(fs.readFileSync(path.join(snaps.fsPath(s.name), 'big')).equals(big));
      await snaps.remove(s.name);
    }
    assert.equal(started, workers * 2, `worker threads started for the plain and the gzip blob`);
  });
}
