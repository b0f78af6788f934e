// The PUT-archive extractor (containers/archive extractToDir) on a plain directory as a container's root:
// a stream fed through 'data' events in odd splits, what replaces what (docker replaces a file, never
// writes into it: an open reader and a hard link keep the old content), links that lead out of the root
// stay unwritten-through, and a stream that breaks off leaves no fd behind.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { test } from 'node:test';
import { extractToDir } from '../../src/containers/archive.js';
import { O_PATH } from '../../src/util/open-flags.js';
import { removeTree } from '../../src/util/untar.js';
import type { ContainerRoot } from '../../src/containers/root.js';
import { header, type TarHeader } from '../../src/snapshots/tar-header.js';
import { TarWriter } from '../../src/snapshots/tar-writer.js';

const skip = process.getuid?.() !== 0 ? 'needs root (extraction chowns to the container root user)' : false;

type Entry = Partial<TarHeader> & { name: string; body?: Buffer };

async function tarOf(entries: Entry[]): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const w = new TarWriter((c) => { chunks.push(Buffer.from(c)); });
  for (const { body, ...h } of entries) {
    const mode = h.mode ?? (h.type === 'dir' ? 0o755 : h.type === 'symlink' ? 0o777 : 0o644);
    await w.entry(header({ mtime: 1_600_000_000, ...h, mode }), body);
  }
  await w.finish();
  return Buffer.concat(chunks);
}

/** A Readable handing out `buf` in pieces of the given sizes (cycled), as a socket would. */
function pieces(buf: Buffer, sizes: number[]): Readable {
  const out = new PassThrough();
  let off = 0;
  for (let i = 0; off < buf.length; i++) {
    const n = sizes[i % sizes.length]!;
    out.write(buf.subarray(off, off + n));
    off += n;
  }
  out.end();
  return out;
}

function rootAt(dir: string): ContainerRoot {
  return { rootfs: dir, mounts: new Map(), container: { name: 'ctr' } } as unknown as ContainerRoot;
}

const openFds = () => fs.readdirSync('/proc/self/fd').length;

function scratch(): { root: string; host: string; done: () => void } {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'cp-extract-'));
  const root = path.join(base, 'root'), host = path.join(base, 'host');
  fs.mkdirSync(path.join(root, 'dst'), { recursive: true });
  fs.mkdirSync(host);
  return { root, host, done: () => fs.rmSync(base, { recursive: true, force: true }) };
}

test('big files arrive whole in odd splits, over files replaced (not written into), with their times', { skip }, async () => {
  const s = scratch();
  try {
    const dst = path.join(s.root, 'dst');
    const big = randomBytes(3 << 20);
    const other = randomBytes(700 << 10);
    // what is there before: a big file a reader holds open, a big file with a second name, a small one
    fs.mkdirSync(path.join(dst, 'd'));
    fs.writeFileSync(path.join(dst, 'd', 'held'), Buffer.alloc(1 << 20, 1));
    fs.writeFileSync(path.join(dst, 'd', 'linked'), Buffer.alloc(1 << 20, 2));
    fs.linkSync(path.join(dst, 'd', 'linked'), path.join(dst, 'second-name'));
    fs.writeFileSync(path.join(dst, 'd', 'small'), 'old');
    const reader = fs.openSync(path.join(dst, 'd', 'held'), 'r');
    const before = openFds();
    const tar = await tarOf([
      { name: 'd/', type: 'dir' },
      { name: 'd/held', size: big.length, body: big, mode: 0o640 },
      { name: 'd/linked', size: other.length, body: other },
      { name: 'd/small', size: 3, body: Buffer.from('new') },
      { name: 'd/hard', type: 'link', linkname: 'd/held' },
    ]);
    await extractToDir(rootAt(s.root), '/dst', 'ctr', pieces(tar, [7, 65536, 511, 32768, 1]));
    assert.ok(fs.readFileSync(path.join(dst, 'd', 'held')).equals(big));
    assert.ok(fs.readFileSync(path.join(dst, 'd', 'linked')).equals(other));
    assert.equal(fs.readFileSync(path.join(dst, 'd', 'small'), 'utf8'), 'new');
    assert.equal(fs.statSync(path.join(dst, 'd', 'hard')).ino, fs.statSync(path.join(dst, 'd', 'held')).ino);
    const st = fs.statSync(path.join(dst, 'd', 'held'));
    assert.equal(st.mode & 0o7777, 0o640);
    assert.equal(st.mtimeMs, 1_600_000_000_000);
    assert.equal(fs.statSync(path.join(dst, 'd')).mtimeMs, 1_600_000_000_000, 'the directory\'s time is set after its content');
    // the old inodes: still what an open reader and another name see
    const old = Buffer.alloc(16);
    fs.readSync(reader, old, 0, 16, 0);
    assert.ok(old.equals(Buffer.alloc(16, 1)), 'a reader of the replaced file keeps its content');
    fs.closeSync(reader);
    assert.ok(fs.readFileSync(path.join(dst, 'second-name')).equals(Buffer.alloc(1 << 20, 2)), 'a hard link keeps the old content');
    assert.equal(openFds(), before - 1, 'no fd left open (the reader closed)');
  } finally { s.done(); }
});

test('files get their exact modes and the container root as owner, in a setgid directory too (not its group)', { skip }, async () => {
  // the common file's mode is given to open(2) and its owner left to the kernel when both already come
  // out right: a umask bit, a special bit, or a setgid directory (whose group a new file takes) still
  // gets its fchmod / fchown
  const s = scratch();
  try {
    const dst = path.join(s.root, 'dst');
    fs.mkdirSync(path.join(dst, 'sg'));
    fs.chownSync(path.join(dst, 'sg'), 0, 1234);
    fs.chmodSync(path.join(dst, 'sg'), 0o2775);
    const modes = [0o644, 0o600, 0o755, 0o666, 0o777, 0o4755, 0o2755, 0o1644, 0o000];
    const entries: Entry[] = [];
    for (const m of modes) {
      entries.push({ name: `f${m.toString(8)}`, size: 1, body: Buffer.from('x'), mode: m, uid: 1000, gid: 1000 });
      entries.push({ name: `sg/f${m.toString(8)}`, size: 1, body: Buffer.from('x'), mode: m, uid: 1000, gid: 1000 });
    }
    await extractToDir(rootAt(s.root), '/dst', 'ctr', pieces(await tarOf(entries), [65536]));
    for (const m of modes) {
      for (const name of [`f${m.toString(8)}`, `sg/f${m.toString(8)}`]) {
        const st = fs.statSync(path.join(dst, name));
        assert.equal((st.mode & 0o7777).toString(8), m.toString(8), `${name}: mode`);
        assert.deepEqual([st.uid, st.gid], [0, 0], `${name}: owner`);
      }
    }
    // with copyUIDGID the tar's owners are kept
    await extractToDir(rootAt(s.root), '/dst', 'ctr', pieces(await tarOf(entries.slice(0, 2)), [65536]), { copyUIDGID: true });
    const st = fs.statSync(path.join(dst, 'f644'));
    assert.deepEqual([st.uid, st.gid, st.mode & 0o7777], [1000, 1000, 0o644]);
  } finally { s.done(); }
});

test('an iterable that reuses one buffer for every chunk lands whole (its chunks are not held past their turn)', { skip }, async () => {
  const s = scratch();
  try {
    const dst = path.join(s.root, 'dst');
    const a = randomBytes((2 << 20) + 333);
    const b = randomBytes(5000);
    const tar = await tarOf([{ name: 'a', size: a.length, body: a }, { name: 'b', size: b.length, body: b }]);
    // as a tar writer with one scratch buffer: each chunk is overwritten by the next
    async function* reused(): AsyncGenerator<Uint8Array> {
      const buf = Buffer.alloc(40000);
      for (let off = 0; off < tar.length; off += buf.length) {
        const n = tar.copy(buf, 0, off, Math.min(off + buf.length, tar.length));
        yield buf.subarray(0, n);
        buf.fill(0xee);
      }
    }
    await extractToDir(rootAt(s.root), '/dst', 'ctr', reused());
    assert.ok(fs.readFileSync(path.join(dst, 'a')).equals(a));
    assert.ok(fs.readFileSync(path.join(dst, 'b')).equals(b));
  } finally { s.done(); }
});

test('a file replaces a directory or a link; a link and a directory replace files; nothing lands outside the root', { skip }, async () => {
  const s = scratch();
  try {
    const dst = path.join(s.root, 'dst');
    const hostFile = path.join(s.host, 'secret');
    fs.writeFileSync(hostFile, 'host\n');
    fs.mkdirSync(path.join(dst, 'was-dir', 'sub'), { recursive: true });
    fs.writeFileSync(path.join(dst, 'was-dir', 'sub', 'f'), 'x');
    fs.symlinkSync(hostFile, path.join(dst, 'was-link'));
    fs.writeFileSync(path.join(dst, 'was-file'), Buffer.alloc(256 << 10, 3));
    fs.writeFileSync(path.join(dst, 'was-file2'), Buffer.alloc(256 << 10, 4));
    const body = randomBytes(300 << 10);
    const tar = await tarOf([
      { name: 'was-dir', size: 5, body: Buffer.from('file\n') },
      { name: 'was-link', size: body.length, body },
      { name: 'was-file', type: 'symlink', linkname: '/etc/passwd' },
      { name: 'was-file2/', type: 'dir' },
      { name: 'was-file2/in', size: 2, body: Buffer.from('in') },
      // a directory link in the tar, then a file through it: resolved inside the root
      { name: 'up', type: 'symlink', linkname: '../../../../..' },
      { name: 'up/escaped', size: 2, body: Buffer.from('no') },
    ]);
    await extractToDir(rootAt(s.root), '/dst', 'ctr', pieces(tar, [4096]));
    assert.equal(fs.readFileSync(path.join(dst, 'was-dir'), 'utf8'), 'file\n');
    assert.ok(fs.lstatSync(path.join(dst, 'was-link')).isFile());
    assert.ok(fs.readFileSync(path.join(dst, 'was-link')).equals(body));
    assert.equal(fs.readFileSync(hostFile, 'utf8'), 'host\n', 'not written through the link');
    assert.equal(fs.readlinkSync(path.join(dst, 'was-file')), '/etc/passwd');
    assert.equal(fs.readFileSync(path.join(dst, 'was-file2', 'in'), 'utf8'), 'in');
    assert.equal(fs.readFileSync(path.join(s.root, 'escaped'), 'utf8'), 'no', 'the link to above the root stops at the root');
    assert.equal(fs.existsSync(path.join(path.dirname(s.root), 'escaped')), false);
    // with noOverwriteDirNonDir a file over a directory is refused
    const refused = await tarOf([{ name: 'was-file2', size: 1, body: Buffer.from('x') }]);
    await assert.rejects(extractToDir(rootAt(s.root), '/dst', 'ctr', pieces(refused, [100]), { noOverwriteDirNonDir: true }), /cannot overwrite directory/);
  } finally { s.done(); }
});

test('parents missing from the tar are made on the way (the stream waits), from a Readable and from an iterable', { skip }, async () => {
  const s = scratch();
  try {
    const body = randomBytes(200 << 10);
    const tar = await tarOf([
      { name: 'a/b/c/deep', size: body.length, body },
      { name: 'a/b/x/y/z', size: 1, body: Buffer.from('z') },
      { name: 'a/b/c/deep2', size: 1, body: Buffer.from('2') },
    ]);
    await extractToDir(rootAt(s.root), '/dst', 'ctr', pieces(tar, [1000, 3]));
    assert.ok(fs.readFileSync(path.join(s.root, 'dst/a/b/c/deep')).equals(body));
    assert.equal(fs.readFileSync(path.join(s.root, 'dst/a/b/x/y/z'), 'utf8'), 'z');
    assert.equal(fs.statSync(path.join(s.root, 'dst/a/b')).mode & 0o777, 0o755);
    // an async iterable that reuses one buffer for every chunk (each is applied before the next is asked for)
    async function* reused(): AsyncGenerator<Uint8Array> {
      const buf = Buffer.alloc(4096);
      for (let off = 0; off < tar.length; off += buf.length) {
        const n = tar.copy(buf, 0, off, off + buf.length);
        yield buf.subarray(0, n);
        buf.fill(0xee);
      }
    }
    fs.rmSync(path.join(s.root, 'dst/a'), { recursive: true });
    await extractToDir(rootAt(s.root), '/dst', 'ctr', reused());
    assert.ok(fs.readFileSync(path.join(s.root, 'dst/a/b/c/deep')).equals(body));
    assert.equal(fs.readFileSync(path.join(s.root, 'dst/a/b/c/deep2'), 'utf8'), '2');
  } finally { s.done(); }
});

test('a stream that breaks off, or a bad entry, fails the copy and leaves no fd open', { skip }, async () => {
  const s = scratch();
  try {
    const dst = path.join(s.root, 'dst');
    fs.writeFileSync(path.join(dst, 'big'), Buffer.alloc(1 << 20, 5));
    const body = randomBytes(2 << 20);
    const tar = await tarOf([{ name: 'big', size: body.length, body }, { name: 'after', size: 1, body: Buffer.from('a') }]);
    const before = openFds();
    // cut mid-file: the parser's end-of-stream check
    await assert.rejects(extractToDir(rootAt(s.root), '/dst', 'ctr', pieces(tar.subarray(0, 1 << 20), [65536])), /unexpected end of tar stream/);
    assert.equal(openFds(), before);
    // the client goes away mid-file: the stream is destroyed
    const gone = new PassThrough();
    gone.write(tar.subarray(0, 700 << 10));
    setTimeout(() => gone.destroy(), 20);
    await assert.rejects(extractToDir(rootAt(s.root), '/dst', 'ctr', gone), /client went away|aborted|premature/i);
    assert.equal(openFds(), before);
    assert.equal(fs.existsSync(path.join(dst, 'after')), false);
    // ... or before the copy began to read
    const gone2 = new PassThrough();
    gone2.destroy();
    await assert.rejects(extractToDir(rootAt(s.root), '/dst', 'ctr', gone2), /client went away/);
    assert.equal(openFds(), before);
    // an entry climbing out is refused before anything of it is made
    const evil = await tarOf([{ name: '../../x', size: 1, body: Buffer.from('x') }]);
    await assert.rejects(extractToDir(rootAt(s.root), '/dst', 'ctr', pieces(evil, [512])), /climbs out/);
    assert.equal(fs.existsSync(path.join(path.dirname(s.root), 'x')), false);
    assert.equal(openFds(), before);
  } finally { s.done(); }
});

test('a directory replaced by a link is looked up again: what follows lands where the link leads in the container, never on the host; depth is bounded', { skip }, async () => {
  const s = scratch();
  try {
    fs.mkdirSync(path.join(s.root, 'etc'));
    // "d/" is made (and opened), then "d" becomes a link to /etc: "d/f" goes through the link as the
    // container resolves it (its /etc), not into the removed directory nor the host's /etc
    const tar = await tarOf([
      { name: 'd/', type: 'dir', mode: 0o555 },
      { name: 'd/x', size: 1, body: Buffer.from('x') },
      { name: 'd', type: 'symlink', linkname: '/etc' },
      { name: 'd/f', size: 2, body: Buffer.from('in') },
      { name: 'ro/', type: 'dir', mode: 0o555, mtime: 1_500_000_000 },
      { name: 'ro/inside', size: 1, body: Buffer.from('i') },
    ]);
    await extractToDir(rootAt(s.root), '/dst', 'ctr', pieces(tar, [700]));
    assert.equal(fs.readFileSync(path.join(s.root, 'etc/f'), 'utf8'), 'in');
    assert.equal(fs.existsSync('/etc/f') && fs.readFileSync('/etc/f', 'utf8') === 'in', false);
    assert.equal(fs.readlinkSync(path.join(s.root, 'dst/d')), '/etc');
    // a directory's mode and time are its entry's, set at the end (after what was made in it)
    const ro = fs.statSync(path.join(s.root, 'dst/ro'));
    assert.equal(ro.mode & 0o7777, 0o555);
    assert.equal(ro.mtimeMs, 1_500_000_000_000);
    assert.equal(fs.readFileSync(path.join(s.root, 'dst/ro/inside'), 'utf8'), 'i');
    // a name deeper than the extractor's bound is refused before anything of it is made
    const deep = await tarOf([{ name: `${'a/'.repeat(1100)}f`, size: 1, body: Buffer.from('f') }]);
    await assert.rejects(extractToDir(rootAt(s.root), '/dst', 'ctr', pieces(deep, [4096])), /deeper than 1024 directories/);
    assert.equal(fs.existsSync(path.join(s.root, 'dst/a')), false);
  } finally { s.done(); }
});

test('removeTree takes a directory tree away through fds: links inside are removed as links, what they lead to stays', { skip }, async () => {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'rmtree-'));
  try {
    const outside = path.join(base, 'outside');
    fs.mkdirSync(path.join(outside, 'sub'), { recursive: true });
    fs.writeFileSync(path.join(outside, 'keep'), 'k');
    fs.writeFileSync(path.join(outside, 'sub', 'keep2'), 'k');
    const tree = path.join(base, 'root', 'tree');
    fs.mkdirSync(path.join(tree, 'a', 'b', 'c'), { recursive: true });
    fs.writeFileSync(path.join(tree, 'a', 'b', 'c', 'f'), 'x');
    fs.symlinkSync(outside, path.join(tree, 'a', 'toDir'));
    fs.symlinkSync(path.join(outside, 'keep'), path.join(tree, 'a', 'b', 'toFile'));
    fs.symlinkSync('/nonexistent', path.join(tree, 'dangling'));
    fs.mkdirSync(path.join(tree, 'ro'), { mode: 0o500 });
    fs.writeFileSync(path.join(tree, 'ro-file'), 'r', { mode: 0o400 });
    const parent = fs.openSync(path.join(base, 'root'), O_PATH | fs.constants.O_DIRECTORY);
    try {
      removeTree(parent, 'tree');
      removeTree(parent, 'missing'); // nothing there: nothing to do
      fs.symlinkSync(outside, path.join(base, 'root', 'link'));
      removeTree(parent, 'link'); // a link in the directory's place goes as a link
    } finally { fs.closeSync(parent); }
    assert.deepEqual(fs.readdirSync(path.join(base, 'root')), []);
    assert.equal(fs.readFileSync(path.join(outside, 'keep'), 'utf8'), 'k');
    assert.equal(fs.readFileSync(path.join(outside, 'sub', 'keep2'), 'utf8'), 'k');
  } finally { fs.rmSync(base, { recursive: true, force: true }); }
});
