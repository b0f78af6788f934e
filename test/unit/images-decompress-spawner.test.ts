// A layer's gzip decompressor in berthd starts through the spawner (useSpawner), not as a child of the
// daemon: a child_process spawn forks the whole daemon, and every page it writes afterwards takes a
// copy-on-write fault. On the worker thread (a layer over 4 MB) and on the calling thread (a small one):
// the same bytes, the tool's exit status and message, and no process left when the unpack stops early.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { sha256 } from '../../src/content/digest.js';
import { fileURLToPath } from 'node:url';
import { encodeRequest, SPAWNER_ADDR, useSpawner } from '../../src/runtime/spawner.js';
import { Snapshotter } from '../../src/snapshots/overlay.js';
import { findOnPath } from '../../src/util/fs.js';
import { OWNER } from '../../src/util/owner.js';
import { tarOf } from '../helpers/tar.js';

useSpawner();
const noGzip = findOnPath('gzip') ? undefined : 'needs gzip';

function setup(t: { after: (fn: () => void) => void }) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-decompress-spawner-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return { dir, snaps: new Snapshotter(path.join(dir, 'root')) };
}

/** An `igzip` first on PATH that runs script (after noting its parent's pid and its own in dir/pids). */
function fakeIgzip(t: { after: (fn: () => void) => void }, dir: string, script: string): void {
  const bin = path.join(dir, 'fakebin');
  fs.mkdirSync(bin, { recursive: true });
  fs.writeFileSync(path.join(bin, 'igzip'), `#!/bin/sh\necho "$PPID $$" >>${dir}/pids\n${script}\n`, { mode: 0o755 });
  const old = { PATH: process.env.PATH, BERTH_DISABLE_IGZIP: process.env.BERTH_DISABLE_IGZIP };
  process.env.PATH = `${bin}:${process.env.PATH ?? ''}`;
  delete process.env.BERTH_DISABLE_IGZIP;
  t.after(() => { process.env.PATH = old.PATH; if (old.BERTH_DISABLE_IGZIP !== undefined) process.env.BERTH_DISABLE_IGZIP = old.BERTH_DISABLE_IGZIP; });
}

async function* pieces(b: Buffer, size = 64 << 10) { for (let i = 0; i < b.length; i += size) yield b.subarray(i, i + size); }

/** A gzip layer of `big` bytes of random data (it does not compress: the blob is as big) and a small file. */
async function layer(big: number): Promise<{ tar: Buffer; gz: Buffer }> {
  const tar = await tarOf([
    [{ name: 'etc/', type: 'dir', mode: 0o755 }],
    [{ name: 'etc/motd', mode: 0o644 }, Buffer.from('hello\n')],
    [{ name: 'big', mode: 0o600 }, randomBytes(big)],
  ]);
  return { tar, gz: gzipSync(tar) };
}

const pidsOf = (dir: string) => fs.readFileSync(path.join(dir, 'pids'), 'utf8').trim().split('\n').map((l) => l.split(' ').map(Number) as [number, number]);

for (const [where, big] of [['worker thread', 6 << 20], ['calling thread', 1 << 20]] as const) {
  test(`${where}: the gzip tool starts through the spawner, not as a child of this process, and inflates the layer`, { skip: noGzip }, async (t) => {
    const { dir, snaps } = setup(t);
    fakeIgzip(t, dir, 'exec gzip -d -c');
    const { tar, gz } = await layer(big);
    const info = await snaps.unpack(sha256(tar), undefined, pieces(gz), sha256(tar));
    assert.equal(info.diffId, sha256(tar));
    assert.equal(fs.readFileSync(path.join(snaps.fsPath(info.name), 'etc/motd'), 'utf8'), 'hello\n');
    assert.equal(fs.statSync(path.join(snaps.fsPath(info.name), 'big')).size, big);
    const [[parent]] = pidsOf(dir) as [[number, number]];
    assert.notEqual(parent, process.pid, 'the tool is a child of this process: it was forked from it');
  });

  test(`${where}: a failing tool's exit status and message fail the unpack as invalid, nothing left`, async (t) => {
    const { dir, snaps } = setup(t);
    fakeIgzip(t, dir, 'cat >/dev/null; echo "igzip: Error invalid gzip header found for file (null)" >&2; exit 1');
    const { tar, gz } = await layer(big);
    await assert.rejects(snaps.unpack(sha256(tar), undefined, pieces(gz), sha256(tar)),
      (e: Error & { kind?: string }) => e.kind === 'InvalidArgument' && /exit 1: Error invalid gzip header found$/.test(e.message.replace(/\)$/, '')));
    assert.deepEqual(snaps.list(), []);
    assert.deepEqual(fs.readdirSync(path.join(dir, 'root', 'snapshots', '.tmp', OWNER)), []);
  });

  test(`${where}: a tool that writes a bad tar and hangs is killed when the unpack fails`, async (t) => {
    const { dir, snaps } = setup(t);
    // not a tar: the parser fails at once, while the tool still runs
    fakeIgzip(t, dir, `head -c 4096 /dev/zero | tr '\\0' 'x'; exec sleep 600`);
    const { tar, gz } = await layer(big);
    await assert.rejects(snaps.unpack(sha256(tar), undefined, pieces(gz), sha256(tar)), (e: Error & { kind?: string }) => e.kind === 'InvalidArgument');
    const [[, pid]] = pidsOf(dir) as [[number, number]];
    for (let i = 0; i < 50 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(!alive(pid), `the tool (pid ${pid}) still runs`);
    assert.deepEqual(snaps.list(), []);
  });
}

test('SPAWNER_ADDR matches native/spawner.h; the address goes first in argv', () => {
  const h = fs.readFileSync(fileURLToPath(new URL('../../../native/spawner.h', import.meta.url)), 'utf8');
  assert.match(h, new RegExp(`#define SPAWNER_ADDR 0x${SPAWNER_ADDR.toString(16)}u\\b`));
  const r = encodeRequest(Buffer.alloc(16), 3, ['/bin/sh', '-c'], false, '@x');
  assert.equal(r.readUInt32LE(8 + 16), (SPAWNER_ADDR | 3) >>> 0);
  assert.equal(r.readUInt32LE(8 + 20), 3);
  assert.equal(r.subarray(8 + 24).toString(), '@x\0/bin/sh\0-c\0');
});

function alive(pid: number): boolean {
  try { return !/^State:\s*Z/m.test(fs.readFileSync(`/proc/${pid}/status`, 'utf8')); } catch { return false; }
}
