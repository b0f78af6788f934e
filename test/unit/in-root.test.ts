import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { isBerthError } from '../../src/errors.js';
import { DirCache, homeOf, openInRoot, readBytesInRoot, readInRoot, resolveInRoot, SMALL_FILE_CAP } from '../../src/util/in-root.js';

function tempRoot(): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'inroot-'));
  fs.mkdirSync(path.join(root, 'etc'));
  return root;
}

/** A refusal names the file and says why; it is never a hang and never a read of the content. */
async function refused(p: Promise<unknown>, file: string, why: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isBerthError(e, 'FailedPrecondition'), String(e));
    assert.match(e.message, new RegExp(`${file}.*${why.source}`));
    return true;
  });
}

// a hang would be the bug: the timeout only keeps a broken reader from stalling the suite
const opts = { timeout: 60_000 };

test('symlinks resolve inside the root, never outside it', opts, async () => {
  const root = tempRoot();
  try {
    fs.mkdirSync(path.join(root, 'real'));
    fs.writeFileSync(path.join(root, 'real/passwd'), 'root:x:0:0:root:/root:/bin/sh\nu:x:1000:1000::/home/u:/bin/sh\n');
    fs.symlinkSync('/real/passwd', path.join(root, 'etc/passwd'));   // absolute: means <root>/real/passwd
    fs.symlinkSync('../../../../etc/hostname', path.join(root, 'etc/escape')); // .. stops at the root
    fs.symlinkSync('/../../../../etc/shadow', path.join(root, 'etc/pw'));
    assert.match((await readInRoot(root, '/etc/passwd'))!, /^root:x:0:0/);
    assert.equal(await readInRoot(root, '/etc/escape'), undefined, 'resolves to <root>/etc/hostname, which is missing');
    assert.equal(await readInRoot(root, '/etc/pw'), undefined, 'means <root>/etc/shadow, missing: the host /etc/shadow is never read');
    fs.writeFileSync(path.join(root, 'etc/shadow-in-root'), 'mine\n');
    fs.symlinkSync('/../../etc/shadow-in-root', path.join(root, 'etc/up'));
    assert.equal(await readInRoot(root, '/etc/up'), 'mine\n');
    assert.equal(await readInRoot(root, '/etc/passwd/x'), undefined, 'a file as a directory is missing (ENOTDIR)');
    assert.equal(await homeOf(root, 1000), '/home/u');
    assert.equal(await homeOf(root, 5), undefined);
  } finally { fs.rmSync(root, { recursive: true }); }
});

test('walks sharing a DirCache resolve every path as a walk of its own does, and leave no fd open', opts, async () => {
  const root = tempRoot();
  const dirs = new DirCache();
  const fdCount = () => fs.readdirSync('/proc/self/fd').length;
  try {
    fs.mkdirSync(path.join(root, 'dev/pts'), { recursive: true });
    fs.mkdirSync(path.join(root, 'proc/sys'), { recursive: true });
    fs.mkdirSync(path.join(root, 'real/deep'), { recursive: true });
    fs.symlinkSync('/proc/sys', path.join(root, 'data'));               // absolute: /data/x is /proc/sys/x
    fs.symlinkSync('../real', path.join(root, 'etc/rel'));              // relative, through ..
    fs.symlinkSync('../../../..', path.join(root, 'dev/up'));           // .. stops at the root
    fs.writeFileSync(path.join(root, 'etc/hosts'), '');
    const paths = ['/dev', '/dev/pts', '/dev/shm', '/dev/mqueue', '/etc/hosts', '/etc/hosts/x', '/etc/rel/deep', '/etc/rel/deep/new/more',
      '/data', '/data/kernel', '/proc/sys/kernel', '/dev/up/etc/hosts', '/dev/pts/../../real', '/', '/etc/../dev/./pts'];
    const before = fdCount();
    const alone = await Promise.all(paths.map((p) => resolveInRoot(root, p)));
    const shared = await Promise.all(paths.map((p) => resolveInRoot(root, p, { dirs })));
    assert.deepEqual(shared, alone);
    assert.deepEqual(alone.slice(0, 8), ['/dev', '/dev/pts', '/dev/shm', '/dev/mqueue', '/etc/hosts', '/etc/hosts/x', '/real/deep', '/real/deep/new/more']);
    assert.deepEqual(alone.slice(8), ['/proc/sys', '/proc/sys/kernel', '/proc/sys/kernel', '/etc/hosts', '/real', '/', '/dev/pts']);
    assert.ok(dirs.fds.has('/dev') && dirs.fds.has('/real/deep'), 'directories walked through are kept for the next walk');
    assert.ok(!dirs.fds.has('/etc/hosts') && !dirs.fds.has('/data'), 'files and symlinks are not');
    dirs.close();
    assert.equal(fdCount(), before);
  } finally { dirs.close(); fs.rmSync(root, { recursive: true }); }
});

test('a symlink loop is refused', opts, async () => {
  const root = tempRoot();
  try {
    fs.symlinkSync('group', path.join(root, 'etc/passwd'));
    fs.symlinkSync('/etc/passwd', path.join(root, 'etc/group'));
    await refused(readInRoot(root, '/etc/passwd'), '/etc/passwd', /too many levels of symbolic links/);
  } finally { fs.rmSync(root, { recursive: true }); }
});

test('a FIFO is refused without being opened for reading (no writer needed, no hang)', opts, async () => {
  const root = tempRoot();
  try {
    const r = spawnSync('mkfifo', [path.join(root, 'etc/passwd')]);
    assert.equal(r.status, 0, String(r.stderr));
    await refused(readInRoot(root, '/etc/passwd'), '/etc/passwd', /a FIFO, not a regular file/);
    fs.mkdirSync(path.join(root, 'etc/group'));
    await refused(readInRoot(root, '/etc/group'), '/etc/group', /a directory, not a regular file/);
  } finally { fs.rmSync(root, { recursive: true }); }
});

test('a character device is refused (/dev/zero would never end)', { ...opts, skip: process.getuid?.() !== 0 ? 'needs root (mknod)' : false }, async () => {
  const root = tempRoot();
  try {
    const r = spawnSync('mknod', [path.join(root, 'etc/group'), 'c', '1', '5']);
    assert.equal(r.status, 0, String(r.stderr));
    await refused(readInRoot(root, '/etc/group'), '/etc/group', /a character device, not a regular file/);
  } finally { fs.rmSync(root, { recursive: true }); }
});

test('a file over the cap is refused before a byte is read', opts, async () => {
  const root = tempRoot();
  try {
    fs.writeFileSync(path.join(root, 'etc/passwd'), '');
    fs.truncateSync(path.join(root, 'etc/passwd'), 1 << 30); // sparse: 1 GB that costs no disk
    await refused(readInRoot(root, '/etc/passwd'), '/etc/passwd', new RegExp(`1073741824 bytes, over the limit of ${SMALL_FILE_CAP}`));
    fs.writeFileSync(path.join(root, 'etc/small'), 'x'.repeat(11));
    await refused(readBytesInRoot(root, '/etc/small', 10), '/etc/small', /11 bytes, over the limit of 10/);
    assert.equal((await readBytesInRoot(root, '/etc/small', 11))!.length, 11);
  } finally { fs.rmSync(root, { recursive: true }); }
});

test('a directory swapped for a symlink in the middle of the walk does not lead out of the root', opts, async () => {
  const root = tempRoot();
  const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'inroot-outside-'));
  try {
    fs.mkdirSync(path.join(root, 'a/b'), { recursive: true });
    fs.writeFileSync(path.join(root, 'a/b/file'), 'inside\n');
    fs.mkdirSync(path.join(outside, 'b'));
    fs.writeFileSync(path.join(outside, 'b/file'), 'outside\n');
    let swapped = false;
    const text = await readBytesInRoot(root, '/a/b/file', SMALL_FILE_CAP, {
      // right after `a` is opened, the container renames it away and puts a symlink to the host there
      afterStep: async (done) => {
        if (done.join('/') !== 'a' || swapped) return;
        fs.renameSync(path.join(root, 'a'), path.join(root, 'a.old'));
        fs.symlinkSync(outside, path.join(root, 'a'));
        swapped = true;
      },
    });
    assert.ok(swapped);
    assert.equal(text?.toString(), 'inside\n', 'the walk goes on from the directory it opened');
    // and a fresh read follows the symlink as the container sees it: <root>/<outside>, which is missing
    assert.equal(await readInRoot(root, '/a/b/file'), undefined);
  } finally {
    fs.rmSync(root, { recursive: true });
    fs.rmSync(outside, { recursive: true });
  }
});

test('openInRoot hands back a non-blocking handle to stream (for cp)', opts, async () => {
  const root = tempRoot();
  try {
    fs.writeFileSync(path.join(root, 'etc/hosts'), '127.0.0.1 localhost\n');
    const f = await openInRoot(root, 'etc/hosts', Infinity);
    assert.ok(f);
    try {
      assert.equal(f.size, 20);
      assert.equal(await f.handle.readFile('utf8'), '127.0.0.1 localhost\n');
    } finally { await f.handle.close(); }
    assert.equal(await openInRoot(root, '/etc/missing', Infinity), undefined);
  } finally { fs.rmSync(root, { recursive: true }); }
});

test('resolveInRoot: the container path a destination lands on, the missing rest kept as written', opts, async () => {
  const root = tempRoot();
  try {
    fs.mkdirSync(path.join(root, 'proc'));
    fs.symlinkSync('/proc/sys', path.join(root, 'data'));
    fs.symlinkSync('../../../proc', path.join(root, 'etc/p'));
    assert.equal(await resolveInRoot(root, '/data'), '/proc/sys');
    assert.equal(await resolveInRoot(root, '/data/net/x/../y'), '/proc/sys/net/y');
    assert.equal(await resolveInRoot(root, '/etc/p/sys'), '/proc/sys');
    assert.equal(await resolveInRoot(root, '/new/dir'), '/new/dir');
    assert.equal(await resolveInRoot(root, '/'), '/');
    fs.symlinkSync('l2', path.join(root, 'l1'));
    fs.symlinkSync('l1', path.join(root, 'l2'));
    await assert.rejects(resolveInRoot(root, '/l1/x'), /cannot resolve \/l1\/x in the container: too many levels of symbolic links/);
    // the last component is looked at with one lstat (no fd kept): a loop, a chain and a dangling link end there too
    await assert.rejects(resolveInRoot(root, '/l1'), /cannot resolve \/l1 in the container: too many levels of symbolic links/);
    fs.symlinkSync('etc/p', path.join(root, 'chain'));
    assert.equal(await resolveInRoot(root, '/chain'), '/proc');
    fs.symlinkSync('/../gone/x', path.join(root, 'etc/dangling'));
    assert.equal(await resolveInRoot(root, '/etc/dangling'), '/gone/x');
    assert.equal(await resolveInRoot(root, '/etc/p/'), '/proc');
  } finally { fs.rmSync(root, { recursive: true }); }
});
