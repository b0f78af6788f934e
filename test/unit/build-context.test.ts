// The build context as POST /build receives it: files unpacked with their content hashed on the way in,
// and COPY's cache key the same whether a file's digest came from that or from reading the file.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { receiveContext } from '../../src/build/context.js';
import { checksumSources, resolveSources } from '../../src/build/copy.js';
import { TarWriter } from '../../src/snapshots/tar-writer.js';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** A tar of the entries, handed over in small pieces (as a socket would) */
async function* tarOf(entries: Array<[Parameters<TarWriter['entry']>[0], Buffer?]>): AsyncGenerator<Uint8Array> {
  const parts: Buffer[] = [];
  const w = new TarWriter((c) => { parts.push(Buffer.from(c)); });
  for (const [h, body] of entries) await w.entry(h, body);
  await w.finish();
  const all = Buffer.concat(parts);
  for (let i = 0; i < all.length; i += 7919) yield all.subarray(i, i + 7919);
}

test('receiveContext: every file is unpacked whole and its sha256 recorded; a hard link shares it, a replaced entry has the new one', async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-ctx-'));
  try {
    const big = randomBytes(3 << 20);
    const old = Buffer.from('first version\n');
    const now = Buffer.from('second version\n');
    const ctx = await receiveContext(tarOf([
      [{ name: 'Dockerfile', type: 'file', mode: 0o644, size: 12 }, Buffer.from('FROM scratch')],
      [{ name: 'data/', type: 'dir', mode: 0o755 }],
      [{ name: 'data/big', type: 'file', mode: 0o600, size: big.length }, big],
      [{ name: 'data/empty', type: 'file', mode: 0o644, size: 0 }, Buffer.alloc(0)],
      [{ name: 'data/twice', type: 'file', mode: 0o644, size: old.length }, old],
      [{ name: 'data/twice', type: 'file', mode: 0o644, size: now.length }, now],
      [{ name: 'data/big-link', type: 'link', mode: 0o600, linkname: 'data/big' }],
      [{ name: 'data/sym', type: 'symlink', mode: 0o777, linkname: 'big' }],
    ]), tmp, 'Dockerfile');
    try {
      const at = (rel: string) => path.join(ctx.dir, rel);
      // the Dockerfile is there to read; other content may still be held in memory, but names, modes and
      // sizes are all in place (what a cache probe looks at)
      assert.equal(fs.readFileSync(at('Dockerfile'), 'utf8'), 'FROM scratch');
      assert.equal(fs.statSync(at('data/big')).size, big.length);
      ctx.materialize();
      assert.deepEqual(fs.readFileSync(at('data/big')), big);
      assert.deepEqual(fs.readFileSync(at('data/twice')), now);
      assert.deepEqual(fs.readFileSync(at('data/big-link')), big);
      assert.equal(fs.statSync(at('data/big')).mode & 0o777, 0o600);
      assert.deepEqual(ctx.sums.get(at('data/big')), { size: big.length, sha256: sha(big) });
      assert.deepEqual(ctx.sums.get(at('data/big-link')), { size: big.length, sha256: sha(big) });
      assert.deepEqual(ctx.sums.get(at('data/empty')), { size: 0, sha256: sha(Buffer.alloc(0)) });
      assert.deepEqual(ctx.sums.get(at('data/twice')), { size: now.length, sha256: sha(now) });
      assert.equal(ctx.sums.has(at('data/sym')), false);

      // COPY's key: the digests taken on the way in give the same key as reading the files, and a
      // change of content changes it
      const sources = resolveSources(ctx.dir, 'data', 'copy', true);
      const known = (host: string, st: fs.Stats) => { const s = ctx.sums.get(host); return s && s.size === st.size ? s.sha256 : undefined; };
      let asked = 0;
      const counted = (host: string, st: fs.Stats) => { asked++; return known(host, st); };
      const read = checksumSources(sources);
      assert.equal(checksumSources(sources, counted), read);
      assert.equal(asked, 4, 'every regular file was looked up');
      fs.writeFileSync(at('data/twice'), 'third version\n');
      assert.notEqual(checksumSources(resolveSources(ctx.dir, 'data', 'copy', true)), read);
    } finally {
      ctx.remove();
    }
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test('receiveContext: a tar cut off inside a file is an error and leaves no directory behind', async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-ctx-'));
  try {
    const body = randomBytes(1 << 20);
    async function* cut(): AsyncGenerator<Uint8Array> {
      let n = 0;
      for await (const c of tarOf([[{ name: 'Dockerfile', type: 'file', mode: 0o644, size: 12 }, Buffer.from('FROM scratch')], [{ name: 'f', type: 'file', mode: 0o644, size: body.length }, body]])) {
        if (n > 600 << 10) return;
        n += c.length;
        yield c;
      }
    }
    await assert.rejects(receiveContext(cut(), tmp, 'Dockerfile'));
    assert.deepEqual(fs.readdirSync(tmp), []);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test('receiveContext: content is held in memory until materialize (within its budget, never the Dockerfile), then written into the files unpacked; beyond the budget it is written as it comes', async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-ctx-'));
  try {
    const a = randomBytes(300 << 10);
    const b = randomBytes(200 << 10);
    const c = randomBytes(100 << 10);
    const entries = (): Array<[Parameters<TarWriter['entry']>[0], Buffer?]> => [
      [{ name: 'build/Dockerfile.app', type: 'file', mode: 0o644, size: 12 }, Buffer.from('FROM scratch')],
      [{ name: 'a', type: 'file', mode: 0o640, size: a.length }, a],
      [{ name: 'b', type: 'file', mode: 0o644, size: b.length }, b],
      [{ name: 'gone/', type: 'dir', mode: 0o755 }],
      [{ name: 'gone/x', type: 'file', mode: 0o644, size: c.length }, c],
      // a tree replaced by a file: the content held for what was below it is dropped
      [{ name: 'gone', type: 'file', mode: 0o644, size: c.length }, c],
    ];
    // 400 KB: a is held, b does not fit and is written as it streams in
    const ctx = await receiveContext(tarOf(entries()), tmp, 'build/Dockerfile.app', { holdBytes: 400 << 10 });
    try {
      const at = (rel: string) => path.join(ctx.dir, rel);
      assert.equal(fs.readFileSync(at('build/Dockerfile.app'), 'utf8'), 'FROM scratch');
      assert.deepEqual(fs.readFileSync(at('b')), b, 'beyond the budget: written at once');
      const st = fs.statSync(at('a'));
      assert.equal(st.size, a.length);
      assert.equal(st.mode & 0o777, 0o640);
      assert.notDeepEqual(fs.readFileSync(at('a')), a, 'held, not written yet');
      assert.deepEqual(ctx.sums.get(at('a')), { size: a.length, sha256: sha(a) });
      ctx.materialize();
      assert.deepEqual(fs.readFileSync(at('a')), a);
      assert.deepEqual(fs.readFileSync(at('gone')), c);
      ctx.materialize(); // again: nothing left to write
      assert.deepEqual(fs.readFileSync(at('a')), a);
    } finally {
      ctx.remove();
    }
    // the budget is back once a context is released: the same stream holds again
    const again = await receiveContext(tarOf(entries()), tmp, 'build/Dockerfile.app', { holdBytes: 400 << 10 });
    try {
      assert.notDeepEqual(fs.readFileSync(path.join(again.dir, 'a')), a);
    } finally {
      again.release();
      fs.rmSync(again.dir, { recursive: true, force: true });
    }
    assert.deepEqual(fs.readdirSync(tmp), []);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
