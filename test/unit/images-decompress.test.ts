// gzip layers through igzip (an external process) and through Node's zlib where igzip is absent or
// disabled: the same bytes, and a bad stream or a lying decompressor fails the unpack with nothing left.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { sha256 } from '../../src/content/digest.js';
import { decompress } from '../../src/snapshots/decompress.js';
import { Snapshotter } from '../../src/snapshots/overlay.js';
import { findOnPath } from '../../src/util/fs.js';
import { OWNER } from '../../src/util/owner.js';
import { tarOf } from '../helpers/tar.js';

const IGZIP = findOnPath('igzip');
const noIgzip = IGZIP ? undefined : 'needs igzip (apt-get install isal)';

function setup(t: { after: (fn: () => void) => void }) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-decompress-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return { dir, snaps: new Snapshotter(path.join(dir, 'root')) };
}

/** Sets env vars for the test (a layer's worker thread copies process.env when it starts), restored after. */
function withEnv(t: { after: (fn: () => void) => void }, vars: Record<string, string | undefined>): void {
  const old = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  const set = (v: Record<string, string | undefined>) => { for (const [k, x] of Object.entries(v)) { if (x === undefined) delete process.env[k]; else process.env[k] = x; } };
  set(vars);
  t.after(() => set(old));
}

/** A directory holding an executable `igzip` that runs the given shell script. */
function fakeIgzip(dir: string, script: string): string {
  const bin = path.join(dir, 'fakebin');
  fs.mkdirSync(bin, { recursive: true });
  fs.writeFileSync(path.join(bin, 'igzip'), `#!/bin/sh\n${script}\n`, { mode: 0o755 });
  return bin;
}

/** b in pieces of awkward sizes, as a network delivers it. */
async function* pieces(b: Buffer, size = 1021) { for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size); }

async function all(src: AsyncIterable<Buffer>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of src) out.push(c);
  return Buffer.concat(out);
}

async function layer(): Promise<{ tar: Buffer; gz: Buffer }> {
  const tar = await tarOf([
    [{ name: 'etc/', type: 'dir', mode: 0o755 }],
    [{ name: 'etc/motd', mode: 0o644 }, Buffer.from('hello\n')],
    [{ name: 'big', mode: 0o600 }, Buffer.concat([randomBytes(300 << 10), Buffer.alloc(700 << 10, 'a')])],
  ]);
  return { tar, gz: gzipSync(tar) };
}

test('igzip and Node zlib inflate the same bytes, multi-member streams included', { skip: noIgzip }, async () => {
  const data = Buffer.concat([randomBytes(1 << 20), Buffer.alloc(3 << 20, 'x'), randomBytes(4096)]);
  const gz = Buffer.concat([gzipSync(data.subarray(0, 2 << 20)), gzipSync(data.subarray(2 << 20))]);
  const viaIgzip = await all(decompress(pieces(gz), { gunzip: IGZIP }));
  const viaZlib = await all(decompress(pieces(gz), { gunzip: null }));
  assert.equal(viaIgzip.length, data.length);
  assert.ok(viaIgzip.equals(data));
  assert.ok(viaZlib.equals(data));
});

test('a gzip layer is inflated by igzip on PATH; without igzip, or with BERTH_DISABLE_IGZIP=1, by Node zlib', async (t) => {
  const { dir, snaps } = setup(t);
  const { tar, gz } = await layer();
  // an igzip that only says it ran: the layer fails exactly when igzip is what inflates it
  const bin = fakeIgzip(dir, 'echo "fake igzip ran" >&2; exit 3');
  withEnv(t, { PATH: `${bin}:${process.env.PATH ?? ''}`, BERTH_DISABLE_IGZIP: undefined });
  await assert.rejects(snaps.unpack(sha256(tar), undefined, pieces(gz), sha256(tar)), (e: Error & { kind?: string }) => e.kind === 'InvalidArgument' && /fake igzip ran/.test(e.message));
  assert.deepEqual(snaps.list(), []);
  assert.deepEqual(fs.readdirSync(path.join(dir, 'root', 'snapshots', '.tmp', OWNER)), []);

  process.env.BERTH_DISABLE_IGZIP = '1';
  const a = await snaps.unpack(sha256(tar), undefined, pieces(gz), sha256(tar));
  assert.equal(a.diffId, sha256(tar));
  assert.equal(fs.readFileSync(path.join(snaps.fsPath(a.name), 'etc/motd'), 'utf8'), 'hello\n');
  await snaps.remove(a.name);

  // no igzip anywhere on PATH
  delete process.env.BERTH_DISABLE_IGZIP;
  process.env.PATH = path.join(dir, 'empty-bin');
  const b = await snaps.unpack(sha256(tar), undefined, pieces(gz), sha256(tar));
  assert.equal(b.diffId, sha256(tar));
  assert.equal(fs.statSync(path.join(snaps.fsPath(b.name), 'big')).size, 1000 << 10);
});

for (const how of ['truncated output', 'altered output'] as const) {
  test(`a decompressor that exits 0 with ${how} fails the unpack cleanly (the diff ID is checked, not trusted)`, async (t) => {
    const { dir, snaps } = setup(t);
    const { tar, gz } = await layer();
    // altered: a file's content only, so the tar stays valid and only its digest tells
    const bin = fakeIgzip(dir, how === 'truncated output' ? 'gzip -d -c | head -c 200000; exit 0' : "gzip -d -c | LC_ALL=C sed 's/hello/jello/'; exit 0");
    withEnv(t, { PATH: `${bin}:${process.env.PATH ?? ''}`, BERTH_DISABLE_IGZIP: undefined });
    await assert.rejects(snaps.unpack(sha256(tar), undefined, pieces(gz), sha256(tar)), how === 'truncated output' ? /unexpected end|truncated/ : /does not match the diff ID/);
    assert.deepEqual(snaps.list(), []);
    assert.deepEqual(fs.readdirSync(path.join(dir, 'root', 'snapshots', '.tmp', OWNER)), []);
  });
}

for (const gunzip of ['igzip', 'zlib'] as const) {
  for (const how of ['bad CRC', 'no trailer', 'cut in half', 'bad data'] as const) {
    test(`${gunzip}: a gzip layer with ${how} fails the unpack as invalid, nothing left`, { skip: gunzip === 'igzip' ? noIgzip : undefined }, async (t) => {
      const { dir, snaps } = setup(t);
      withEnv(t, { BERTH_DISABLE_IGZIP: gunzip === 'zlib' ? '1' : undefined });
      const { tar, gz } = await layer();
      let bad = Buffer.from(gz);
      // the tar inside is whole for 'bad CRC' and 'no trailer': only the gzip stream itself tells
      if (how === 'bad CRC') bad[bad.length - 8]! ^= 0xff;
      else if (how === 'no trailer') bad = bad.subarray(0, bad.length - 8);
      else if (how === 'cut in half') bad = bad.subarray(0, bad.length >> 1);
      else for (let i = 100; i < bad.length; i += 997) bad[i]! ^= 0x5a;
      const e = await snaps.unpack(sha256(tar), undefined, pieces(bad), sha256(tar)).then(() => undefined, (x: Error & { kind?: string }) => x);
      assert.ok(e, 'the unpack succeeded');
      assert.equal(e.kind, 'InvalidArgument', e.message);
      assert.match(e.message, gunzip === 'igzip' ? /igzip|does not match the diff ID|invalid tar|unexpected end/ : /gzip|does not match the diff ID|invalid tar|unexpected end/);
      assert.deepEqual(snaps.list(), []);
      assert.deepEqual(fs.readdirSync(path.join(dir, 'root', 'snapshots', '.tmp', OWNER)), []);
    });
  }
}
