// berth cp's local ends without a daemon: the planned tar of a tree (its length known before it is sent,
// its pieces filled in one buffer) and the extraction of a container's tar, which is hostile.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { planTar, tarBody, untarLocal } from '../../src/cli/docker/cp.js';
import { TarParser } from '../../src/snapshots/tar-reader.js';
import { header, type TarHeader } from '../../src/snapshots/tar-header.js';
import { TarWriter } from '../../src/snapshots/tar-writer.js';
import type { BodySource } from '../../src/util/http-body.js';

async function* stream(...parts: Buffer[]): AsyncGenerator<Uint8Array> { yield* parts; }
/**
 * The tar as client/http1 hands berth cp out a rawAnswer's body: reads into one buffer, each fed in pieces,
 * the buffer scribbled over once `settled` ran (what the extractor still held then would be garbage).
 */
function reused(tar: Buffer, piece = 700): BodySource {
  return {
    read: async (feed, done, settled) => {
      const buf = Buffer.alloc(piece * 3);
      for (let off = 0; off < tar.length && !done();) {
        const n = Math.min(buf.length, tar.length - off);
        tar.copy(buf, 0, off, off + n);
        for (let i = 0; i < n && !done(); i += piece) await feed(buf.subarray(i, Math.min(n, i + piece)));
        off += n;
        settled();
        buf.fill(0xee);
      }
    },
  };
}
/** Both kinds of source the extraction takes: a stream's chunks, and pieces of one reused buffer. */
const sources: Array<[string, (tar: Buffer) => AsyncIterable<Uint8Array> | BodySource]> = [['stream', (b) => stream(b)], ['reused buffer', (b) => reused(b)]];
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'cli-cp-'));
const LONG = `${'long-name-'.repeat(12)}end`; // 123 bytes: past ustar's 100
const DEEP = Array.from({ length: 6 }, (_, i) => `level-${i}-${'x'.repeat(40)}`).join('/'); // a path past 255

/** A tree with what a copy must keep: modes, an empty dir, links of both kinds, long names, sizes around 512 and 1 MiB. */
function makeTree(root: string): void {
  fs.mkdirSync(path.join(root, 'empty'));
  fs.mkdirSync(path.join(root, 'sub', DEEP), { recursive: true });
  fs.writeFileSync(path.join(root, 'sub', 'a'), 'A\n');
  fs.writeFileSync(path.join(root, 'sub', DEEP, 'deep'), 'deep\n');
  fs.writeFileSync(path.join(root, LONG), Buffer.alloc(512, 7));
  fs.writeFileSync(path.join(root, 'big'), Buffer.from(Array.from({ length: (1 << 20) + 513 }, (_, i) => (i * 31) & 255)));
  fs.writeFileSync(path.join(root, 'exec'), '#!/bin/sh\n');
  fs.chmodSync(path.join(root, 'exec'), 0o4755);
  fs.writeFileSync(path.join(root, 'private'), 'p');
  fs.chmodSync(path.join(root, 'private'), 0o600);
  fs.chmodSync(path.join(root, 'empty'), 0o1777);
  fs.linkSync(path.join(root, 'sub', 'a'), path.join(root, 'hard'));
  fs.symlinkSync('sub/a', path.join(root, 'rel-link'));
  fs.symlinkSync('/etc/passwd', path.join(root, 'abs-link'));
  fs.symlinkSync(LONG, path.join(root, 'long-link'));
}

async function bodyOf(plan: ReturnType<typeof planTar>): Promise<{ bytes: Buffer; pieces: number[] }> {
  const parts: Buffer[] = [];
  const pieces: number[] = [];
  // each piece copied before the next is asked for: the generator fills one buffer again
  for await (const c of tarBody(plan)) { parts.push(Buffer.from(c)); pieces.push(c.length); }
  return { bytes: Buffer.concat(parts), pieces };
}

function entriesOf(tar: Buffer): Array<{ h: TarHeader; data: Buffer }> {
  const out: Array<{ h: TarHeader; data: Buffer }> = [];
  const p = new TarParser({
    entry: (h) => { out.push({ h, data: Buffer.alloc(0) }); },
    data: (b) => { const e = out[out.length - 1]!; e.data = Buffer.concat([e.data, b]); },
    end: () => {},
  });
  p.push(tar);
  p.close();
  assert.ok(p.finished, 'the tar ends with its two zero blocks');
  return out;
}

/** Every path under `root` with what a copy keeps: type, mode, size, content hash, link text, and which names share an inode. */
function describeTree(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const inodes = new Map<number, string>();
  const walk = (rel: string) => {
    const p = path.join(root, rel);
    const st = fs.lstatSync(p);
    const mode = (st.mode & 0o7777).toString(8);
    if (st.isDirectory()) {
      if (rel) out[rel] = `dir ${mode}`;
      for (const n of fs.readdirSync(p).sort()) walk(rel ? `${rel}/${n}` : n);
    } else if (st.isSymbolicLink()) out[rel] = `symlink -> ${fs.readlinkSync(p)}`;
    else {
      const first = inodes.get(st.ino);
      if (first === undefined) inodes.set(st.ino, rel);
      out[rel] = `file ${mode} ${st.size} ${fs.readFileSync(p).toString('base64').slice(0, 24)}${first ? ` same as ${first}` : ''} mtime ${Math.floor(st.mtimeMs / 1000)}`;
    }
  };
  walk('');
  return out;
}

test('a planned tar is as long as planned, in 1 MiB pieces, with links, long names, modes and owners kept', async () => {
  const root = tmp();
  try {
    const src = path.join(root, 'tree');
    fs.mkdirSync(src);
    makeTree(src);
    fs.chownSync(path.join(src, 'private'), 1234, 5678);
    const plan = planTar(src, 'tree', fs.lstatSync(src));
    const { bytes, pieces } = await bodyOf(plan);
    assert.equal(bytes.length, plan.length);
    assert.ok(pieces.slice(0, -1).every((n) => n === 1 << 20), `full pieces but the last: ${pieces.join(',')}`);
    const es = entriesOf(bytes);
    const by = new Map(es.map((e) => [e.h.name, e]));
    assert.equal(by.get('tree/')?.h.type, 'dir');
    assert.equal(by.get('tree/empty/')?.h.mode, 0o1777);
    assert.equal(by.get('tree/exec')?.h.mode, 0o4755);
    assert.deepEqual([by.get('tree/private')?.h.uid, by.get('tree/private')?.h.gid], [1234, 5678]);
    assert.equal(by.get(`tree/${LONG}`)?.data.length, 512);
    assert.equal(by.get(`tree/sub/${DEEP}/deep`)?.data.toString(), 'deep\n');
    assert.deepEqual(by.get('tree/big')?.data, fs.readFileSync(path.join(src, 'big')));
    // the first name of an inode carries the data, the next is a hard link to it
    const [first, second] = ['tree/hard', 'tree/sub/a'];
    assert.equal(by.get(first)?.h.type, 'file');
    assert.equal(by.get(second)?.h.type, 'link');
    assert.equal(by.get(second)?.h.linkname, first);
    assert.equal(by.get('tree/abs-link')?.h.linkname, '/etc/passwd');
    assert.equal(by.get('tree/long-link')?.h.linkname, LONG);
    // a directory's content (`dir/.`) has no top entry
    const dot = entriesOf((await bodyOf(planTar(src, '.', fs.lstatSync(src)))).bytes);
    assert.ok(dot.every((e) => !e.h.name.startsWith('tree') && e.h.name !== './'), dot.map((e) => e.h.name).join(' '));
  } finally { fs.rmSync(root, { recursive: true, force: true }); }
});

test('a file that shrinks or grows after the plan is padded or cut: the body keeps its planned length', async () => {
  const root = tmp();
  try {
    fs.writeFileSync(path.join(root, 'shrinks'), Buffer.alloc(3000, 1));
    fs.writeFileSync(path.join(root, 'grows'), Buffer.alloc(100, 2));
    const plan = planTar(root, 'd', fs.lstatSync(root));
    fs.truncateSync(path.join(root, 'shrinks'), 10);
    fs.appendFileSync(path.join(root, 'grows'), Buffer.alloc(5000, 3));
    const { bytes } = await bodyOf(plan);
    assert.equal(bytes.length, plan.length);
    const by = new Map(entriesOf(bytes).map((e) => [e.h.name, e.data]));
    assert.deepEqual(by.get('d/shrinks'), Buffer.concat([Buffer.alloc(10, 1), Buffer.alloc(2990)]));
    assert.deepEqual(by.get('d/grows'), Buffer.alloc(100, 2));
  } finally { fs.rmSync(root, { recursive: true, force: true }); }
});

test('a tree round-trips through the planned tar and the local extraction: links, long names, exact modes, mtimes', async () => {
  const root = tmp();
  const old = process.umask(0o077); // modes are set exactly, not through the umask
  try {
    const src = path.join(root, 'tree');
    fs.mkdirSync(src);
    makeTree(src);
    const { bytes } = await bodyOf(planTar(src, 'tree', fs.lstatSync(src)));
    const dst = path.join(root, 'out');
    fs.mkdirSync(dst);
    await untarLocal(stream(bytes.subarray(0, 1000), bytes.subarray(1000)), dst, 'tree', 'copy');
    assert.deepEqual(describeTree(path.join(dst, 'copy')), describeTree(src));
    // as berth cp out reads it (client/http1 rawAnswer): pieces of one buffer, read into again once settled
    for (const piece of [1000, 64 << 10]) {
      await untarLocal(reused(bytes, piece), dst, 'tree', `copy-${piece}`);
      assert.deepEqual(describeTree(path.join(dst, `copy-${piece}`)), describeTree(src), `pieces of ${piece}`);
    }
  } finally { process.umask(old); fs.rmSync(root, { recursive: true, force: true }); }
});

async function tarOf(entries: Array<Partial<TarHeader> & { name: string; body?: string }>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const w = new TarWriter((c) => { chunks.push(Buffer.from(c)); });
  for (const e of entries) await w.entry(header({ mode: 0o644, ...e }), e.body === undefined ? undefined : Buffer.from(e.body));
  await w.finish();
  return Buffer.concat(chunks);
}

test('the body is filled in two buffers taken in turn: a piece stays whole while the next one is made', async () => {
  const root = tmp();
  try {
    const src = path.join(root, 'src');
    fs.mkdirSync(src);
    for (let i = 0; i < 5; i++) fs.writeFileSync(path.join(src, `f${i}`), Buffer.from(Array.from({ length: (700 << 10) + i * 999 }, (_, j) => (j * 7 + i) & 255)));
    const plan = planTar(src, 'src', fs.lstatSync(src));
    const want = (await bodyOf(plan)).bytes;
    // as client/http1 uses it: piece k is in the socket while k+1 is made; k+2 is asked for once k is out
    const parts: Buffer[] = [];
    let inFlight: { piece: Uint8Array; copy: Buffer } | undefined;
    for await (const c of tarBody(plan)) {
      if (inFlight) { assert.ok(Buffer.from(inFlight.piece).equals(inFlight.copy), 'a piece in flight was written over'); parts.push(inFlight.copy); }
      inFlight = { piece: c, copy: Buffer.from(c) };
    }
    parts.push(inFlight!.copy);
    assert.ok(parts.length >= 4);
    assert.ok(Buffer.concat(parts).equals(want));
  } finally { fs.rmSync(root, { recursive: true, force: true }); }
});

test('a hostile tar from a container writes nothing outside the destination', async () => {
  const root = tmp();
  try {
    const outside = path.join(root, 'outside');
    fs.mkdirSync(outside);
    const cases: Array<[string, Array<Partial<TarHeader> & { name: string; body?: string }>, RegExp]> = [
      ['climbs with ..', [{ name: 'x/../../outside/f', body: 'evil' }], /climbs out/],
      ['a link, then a file through it', [{ name: 'x/', type: 'dir' }, { name: 'x/l', type: 'symlink', linkname: outside }, { name: 'x/l/f', body: 'evil' }], /symbolic link/],
      ['a relative link, then a dir through it', [{ name: 'x/l', type: 'symlink', linkname: '../../outside' }, { name: 'x/l/d/', type: 'dir' }], /symbolic link/],
      ['a dir replaced by a link, then a file under its name', [{ name: 'x/d/', type: 'dir' }, { name: 'x/d', type: 'symlink', linkname: outside }, { name: 'x/d/f', body: 'evil' }], /symbolic link/],
      ['a hard link to a file through a link', [{ name: 'x/l', type: 'symlink', linkname: outside }, { name: 'x/h', type: 'link', linkname: 'x/l/secret' }], /symbolic link/],
    ];
    fs.writeFileSync(path.join(outside, 'secret'), 's');
    for (const [kind, source] of sources) {
      for (const [what, entries, err] of cases) {
        const dst = fs.mkdtempSync(path.join(root, 'dst-'));
        await assert.rejects(untarLocal(source(await tarOf(entries)), dst, 'x', 'x'), err, `${what} (${kind})`);
        assert.deepEqual(fs.readdirSync(outside), ['secret'], what);
        assert.equal(fs.readFileSync(path.join(outside, 'secret'), 'utf8'), 's', what);
      }
    }
    // a dir entry, then a link of its name: the dir's mode and time, set at the end, must not reach the link's target
    const victim = path.join(outside, 'victim');
    fs.writeFileSync(victim, 'v', { mode: 0o600 });
    fs.utimesSync(victim, 1000, 1000);
    const dst0 = fs.mkdtempSync(path.join(root, 'dst-'));
    await untarLocal(stream(await tarOf([{ name: 'x/d/', type: 'dir', mode: 0o777, mtime: 5 }, { name: 'x/d', type: 'symlink', linkname: victim }])), dst0, 'x', 'x')
      .catch(() => undefined); // refusing it is fine too: what counts is the victim
    assert.equal(fs.statSync(victim).mode & 0o7777, 0o600, 'the mode of a file outside was changed');
    assert.equal(fs.statSync(victim).mtimeMs, 1000_000, 'the time of a file outside was changed');
    // a link already in the local destination is not gone through either (to make a file, a directory or a hard link)
    const dst1 = fs.mkdtempSync(path.join(root, 'dst-'));
    fs.mkdirSync(path.join(dst1, 'x'));
    fs.symlinkSync(outside, path.join(dst1, 'x', 'l'));
    for (const [kind, source] of sources) {
      for (const entries of [[{ name: 'x/l/f', body: 'evil' }], [{ name: 'x/l/d/', type: 'dir' as const }], [{ name: 'x/h', type: 'link' as const, linkname: 'x/l/secret' }]]) {
        await assert.rejects(untarLocal(source(await tarOf(entries)), dst1, 'x', 'x'), /symbolic link/, kind);
        assert.deepEqual(fs.readdirSync(outside).sort(), ['secret', 'victim']);
      }
    }
    // an absolute name stays under the destination
    const dst = fs.mkdtempSync(path.join(root, 'dst-'));
    await untarLocal(stream(await tarOf([{ name: '/x/abs', body: 'ok' }])), dst, 'x', 'y');
    assert.equal(fs.readFileSync(path.join(dst, 'y', 'abs'), 'utf8'), 'ok');
  } finally { fs.rmSync(root, { recursive: true, force: true }); }
});
