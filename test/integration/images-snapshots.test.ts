// Layers in overlay form (whiteouts, opaque dirs, devices, xattrs, owners) and the one mount executor.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { sha256 } from '../../src/content/digest.js';
import { chainIds } from '../../src/snapshots/chain.js';
import { mountAll, unmount } from '../../src/snapshots/mount.js';
import { Snapshotter } from '../../src/snapshots/overlay.js';
import { tarOf } from '../helpers/tar.js';

const root = process.getuid?.() === 0;

async function* one(b: Buffer) { yield b; }
const xattr = (p: string, name: string) => execFileSync('python3', ['-c', 'import os,sys; sys.stdout.buffer.write(os.getxattr(sys.argv[1], sys.argv[2], follow_symlinks=False))', p, name]).toString();

test('whiteouts, opaque dirs, devices and xattrs unpack in overlay form and mount', { skip: root ? undefined : 'needs root' }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-snap-'));
  const target = path.join(dir, 'merged');
  fs.mkdirSync(target);
  let mounted = false;
  t.after(async () => {
    if (mounted) await unmount(target, true);
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const snaps = new Snapshotter(path.join(dir, 'root'));
  const l1 = await tarOf([
    [{ name: 'a/', type: 'dir', mode: 0o755 }],
    [{ name: 'a/keep' }, Buffer.from('keep')],
    [{ name: 'a/gone' }, Buffer.from('gone')],
    [{ name: 'o/', type: 'dir', mode: 0o755 }],
    [{ name: 'o/old' }, Buffer.from('old')],
    [{ name: 'owned', uid: 1234, gid: 5678, mode: 0o4755 }, Buffer.from('suid')],
  ]);
  const l2 = await tarOf([
    [{ name: 'a/', type: 'dir', mode: 0o755 }],
    [{ name: 'a/.wh.gone', mtime: 1 }],
    [{ name: 'o/', type: 'dir', mode: 0o755, mtime: 1234567 }],
    [{ name: 'o/.wh..wh..opq' }],
    [{ name: 'o/new' }, Buffer.from('new')],
    [{ name: 'dev/', type: 'dir', mode: 0o755 }],
    [{ name: 'dev/null', type: 'char', devmajor: 1, devminor: 3, mode: 0o666 }],
    [{ name: 'dev/fifo', type: 'fifo', mode: 0o600 }],
    [{ name: 'x', xattrs: { 'user.berth': Buffer.from('hello'), 'trusted.berth': Buffer.from('t') } }, Buffer.from('x')],
  ]);
  const [c1, c2] = chainIds([sha256(l1), sha256(l2)]);
  await snaps.unpack(c1!, undefined, one(l1), sha256(l1));
  await snaps.unpack(c2!, c1, one(l2), sha256(l2));
  const up = snaps.fsPath(c2!);
  const wh = fs.lstatSync(path.join(up, 'a/gone'));
  assert.ok(wh.isCharacterDevice() && wh.rdev === 0, 'whiteout is a 0:0 char device');
  assert.equal(xattr(path.join(up, 'o'), 'trusted.overlay.opaque'), 'y');
  assert.equal(fs.statSync(path.join(up, 'o')).mtimeMs, 1234567000, 'dir mtime restored after helper ops');
  assert.equal(fs.lstatSync(path.join(up, 'dev/null')).rdev, 259);
  assert.equal(fs.lstatSync(path.join(up, 'dev/null')).mode & 0o777, 0o666);
  assert.ok(fs.lstatSync(path.join(up, 'dev/fifo')).isFIFO());
  assert.equal(xattr(path.join(up, 'x'), 'user.berth'), 'hello');
  assert.equal(xattr(path.join(up, 'x'), 'trusted.berth'), 't');
  const owned = fs.statSync(path.join(snaps.fsPath(c1!), 'owned'));
  assert.deepEqual([owned.uid, owned.gid, owned.mode & 0o7777], [1234, 5678, 0o4755]);

  const mounts = await snaps.prepare('ctr1', c2);
  assert.equal(mounts[0]!.type, 'overlay');
  assert.ok(mounts[0]!.options[0]!.startsWith(`lowerdir=${snaps.fsPath(c2!)}:${snaps.fsPath(c1!)}`));
  await mountAll(mounts, target);
  mounted = true;
  assert.deepEqual(fs.readdirSync(path.join(target, 'a')), ['keep']);
  assert.deepEqual(fs.readdirSync(path.join(target, 'o')), ['new']);
  fs.writeFileSync(path.join(target, 'written'), 'w');
  await unmount(target);
  mounted = false;
  assert.equal(fs.readFileSync(path.join(snaps.fsPath('ctr1'), 'written'), 'utf8'), 'w');
  await assert.rejects(snaps.remove(c2!), /ctr1 is built on it/);
  const view = await snaps.view('ro1', c2!);
  await mountAll(view, target);
  mounted = true;
  assert.throws(() => fs.writeFileSync(path.join(target, 'nope'), 'x'), /EROFS/);
  await unmount(target);
  mounted = false;
  await snaps.remove('ctr1');
  await snaps.remove('ro1');
  await snaps.gc(new Set());
  assert.deepEqual(snaps.list(), []);
});

test('a layer is written out (syncfs) before it is published, and SYNCFS refuses a missing dir', { skip: root ? undefined : 'needs root' }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-sync-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const layer = await tarOf([[{ name: 'f' }, Buffer.from('data')]]);
  fs.writeFileSync(path.join(dir, 'layer.tar'), layer);
  const overlay = new URL('../../src/snapshots/overlay.js', import.meta.url).pathname;
  const script = `import { Snapshotter } from ${JSON.stringify(overlay)}; import * as fs from 'node:fs';
    const l = fs.readFileSync(${JSON.stringify(path.join(dir, 'layer.tar'))});
    async function* one() { yield l; }
    await new Snapshotter(${JSON.stringify(path.join(dir, 'root'))}).unpack('sha256:' + 'a'.repeat(64), undefined, one(), ${JSON.stringify(sha256(layer))});`;
  const log = path.join(dir, 'strace');
  fs.writeFileSync(path.join(dir, 'unpack.mjs'), script);
  execFileSync('strace', ['-f', '-qq', '-o', log, '-e', 'trace=syncfs,rename,renameat,renameat2', process.execPath, path.join(dir, 'unpack.mjs')]);
  const lines = fs.readFileSync(log, 'utf8').split('\n');
  const synced = lines.findIndex((l) => /syncfs\(\d+(\)\s+= 0| <unfinished)/.test(l));
  const published = lines.findIndex((l) => /rename.*layer-[0-9a-f]+", .*"[^"]*\/a{64}"/.test(l));
  assert.ok(synced >= 0, `a syncfs ran:\n${lines.join('\n')}`);
  assert.ok(published > synced, `the layer was renamed into place after the syncfs:\n${lines.join('\n')}`);
  assert.equal(fs.readFileSync(path.join(dir, 'root', 'snapshots', 'a'.repeat(64), 'fs', 'f'), 'utf8'), 'data');

  const { runHostOps } = await import('../../src/runtime/sync.js');
  await assert.rejects(runHostOps([{ op: 'SYNCFS', args: { path: path.join(dir, 'missing') } }]), /open .*missing/);
  // WRITEBACK: a regular file inside ROOT, never a symlink (out of it or not), a directory or a missing file
  const tree = path.join(dir, 'tree');
  fs.mkdirSync(path.join(tree, 'd'), { recursive: true });
  fs.writeFileSync(path.join(tree, 'd', 'f'), 'x'.repeat(100000));
  fs.symlinkSync('/etc/passwd', path.join(tree, 'out'));
  fs.symlinkSync('d/f', path.join(tree, 'in'));
  const wb = (p: string) => runHostOps([{ op: 'ROOT', args: { path: tree } }, { op: 'WRITEBACK', args: { inroot: 1, path: p } }]);
  await wb('d/f');
  await assert.rejects(wb('out'), /open out/);
  await assert.rejects(wb('in'), /open in/);
  await assert.rejects(wb('d'), /d is not a regular file/);
  await assert.rejects(wb('nothing'), /open nothing/);
});

test('a layer berth writes itself (commit, build) is synced before it is published (each inode fsynced; a syncfs when it holds a symlink); the same layer again is thrown away unsynced', { skip: root ? undefined : 'needs root' }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-sync-own-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const big = Buffer.alloc(1 << 20, 'b');
  const layer = await tarOf([[{ name: 'd/', type: 'dir', mode: 0o755 }], [{ name: 'd/big' }, big], [{ name: 'd/small' }, Buffer.from('small')]]);
  fs.writeFileSync(path.join(dir, 'layer.tar'), layer);
  // a third layer with a symlink: no fd reaches its inode to fsync it
  fs.writeFileSync(path.join(dir, 'layer-link.tar'), await tarOf([[{ name: 'e/', type: 'dir', mode: 0o755 }], [{ name: 'e/f' }, Buffer.from('f')], [{ name: 'e/l', type: 'symlink', linkname: 'f' }]]));
  const mod = (p: string) => JSON.stringify(new URL(`../../src/${p}`, import.meta.url).pathname);
  // two commits of the same layer, as `docker commit` twice of an unchanged container, then the other one
  const script = `import { ImageService } from ${mod('images/service.js')}; import { ingestOwnLayer } from ${mod('images/layers.js')}; import * as fs from 'node:fs';
    const svc = new ImageService({ root: ${JSON.stringify(path.join(dir, 'root'))} });
    const out = [];
    for (let i = 0; i < 3; i++) {
      const l = fs.readFileSync(${JSON.stringify(dir)} + (i < 2 ? '/layer.tar' : '/layer-link.tar'));
      const r = await ingestOwnLayer(svc, async (sink) => { for (let o = 0; o < l.length; o += 100000) await sink(l.subarray(o, o + 100000)); }, { chain: (d) => d });
      out.push(r.newSnapshot);
      fs.writeSync(2, 'berth-test: ingest ' + i + ' done\\n');
    }
    fs.writeFileSync(${JSON.stringify(path.join(dir, 'result.json'))}, JSON.stringify(out));`;
  const log = path.join(dir, 'strace');
  fs.writeFileSync(path.join(dir, 'own.mjs'), script);
  // -y: fds with their paths, so each fsync names its file
  execFileSync('strace', ['-f', '-qq', '-y', '-o', log, '-e', 'trace=syncfs,fsync,rename,renameat,renameat2,write,sync_file_range', '-e', 'signal=none', process.execPath, path.join(dir, 'own.mjs')]);
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, 'result.json'), 'utf8')), [true, false, true], 'the second ingest found the layer there');
  const lines = fs.readFileSync(log, 'utf8').split('\n');
  const at = (re: RegExp, from = 0) => { const i = lines.slice(from).findIndex((l) => re.test(l)); return i < 0 ? -1 : i + from; };
  const firstDone = at(/berth-test: ingest 0 done/);
  const secondDone = at(/berth-test: ingest 1 done/);
  assert.ok(firstDone > 0 && secondDone > firstDone, lines.join('\n'));
  const published = at(/rename.*layer-[0-9a-f]+", .*"[^"]*\/snapshots\/[0-9a-f]{64}"/);
  assert.ok(published > 0 && published < firstDone, `the layer renamed into place:\n${lines.join('\n')}`);
  // each of its inodes fsynced before, and no syncfs
  const tree = /\/snapshots\/\.tmp\/[^/]+\/layer-[0-9a-f]+\/fs/.source;
  for (const p of ['/d/big', '/d/small', '/d', '']) {
    // (a failed fsync fails the ingest: the line may end in "<unfinished ...>", its result on another)
    const i = at(new RegExp(`fsync\\(\\d+<[^>]*${tree}${p}>(\\)\\s+= 0| <unfinished)`));
    assert.ok(i >= 0 && i < published, `fs${p} fsynced before the layer was published:\n${lines.join('\n')}`);
  }
  assert.equal(at(/syncfs\(/), at(/syncfs\(/, secondDone), `no syncfs for the first two:\n${lines.join('\n')}`);
  // the big file's write-out was started early (WRITEBACK: the helper's sync_file_range), the small one's not
  // (under load strace splits the call: "<unfinished ...>" here, the result on a later line)
  const early = lines.slice(0, published).filter((l) => /sync_file_range\(\d+<[^>]*\/d\/big>, 0, 0, SYNC_FILE_RANGE_WRITE(\)\s+= 0| <unfinished)/.test(l));
  assert.equal(early.length, 1, `one early write-out, of d/big, before the layer was published:\n${lines.join('\n')}`);
  assert.equal(lines.slice(0, published).filter((l) => /sync_file_range\(/.test(l)).length, 1, `none of d/small:\n${lines.join('\n')}`);
  assert.equal(at(new RegExp(`fsync\\(\\d+<[^>]*${tree}`), firstDone), -1, `the second, thrown-away tree was not synced:\n${lines.join('\n')}`);
  // the third holds a symlink: a syncfs, before it is renamed into place
  const synced = at(/syncfs\(\d+<[^>]*>(\)\s+= 0| <unfinished)/, secondDone);
  const published3 = at(/rename.*layer-[0-9a-f]+", .*"[^"]*\/snapshots\/[0-9a-f]{64}"/, secondDone);
  assert.ok(synced > secondDone && published3 > synced, `the layer with a symlink synced with syncfs, then published:\n${lines.join('\n')}`);
  const snaps = path.join(dir, 'root', 'snapshots');
  const chain = fs.readdirSync(snaps).filter((n) => n !== '.tmp' && fs.existsSync(path.join(snaps, n, 'fs', 'd')));
  assert.equal(chain.length, 1);
  assert.ok(fs.readFileSync(path.join(snaps, chain[0]!, 'fs', 'd', 'big')).equals(big));
  assert.equal(fs.readFileSync(path.join(snaps, chain[0]!, 'fs', 'd', 'small'), 'utf8'), 'small');
  assert.deepEqual(fs.readdirSync(path.join(snaps, '.tmp')), [], 'no tree left behind');
});
