// cp / diff / commit pieces without root: the stat header's Go file mode, archive naming, the confined
// lookup through a container's bind mounts, the change walk over an upper dir, --change merging.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { archiveBase, goFileMode, readExactly } from '../../src/containers/archive.js';
import { containerChanges } from '../../src/containers/changes-diff.js';
import { mergeChanges } from '../../src/containers/commit.js';
import type { ContainerRoot } from '../../src/containers/root.js';
import type { MountPoint } from '../../src/volumes/mounts.js';
import { bindSources } from '../../src/containers/root.js';
import { lookupInRoot, resolveInRoot } from '../../src/util/in-root.js';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'cp-unit-'));

test('the stat header carries Go os.FileMode bits, as the docker CLI reads them', () => {
  assert.equal(goFileMode(0o40755), 2 ** 31 + 0o755);
  assert.equal(goFileMode(0o120777), (1 << 27) + 0o777);
  assert.equal(goFileMode(0o100644), 0o644);
  assert.equal(goFileMode(0o104755), (1 << 23) + 0o755);
  assert.equal(goFileMode(0o20666), (1 << 26) + (1 << 21) + 0o666);
});

test('an archive is rooted at the path\'s last element, or `.` for a directory\'s content', () => {
  assert.equal(archiveBase('/'), '/');
  assert.equal(archiveBase('/.'), '.');
  assert.equal(archiveBase('.'), '.');
  assert.equal(archiveBase('/a/b'), 'b');
  assert.equal(archiveBase('/a/b/'), 'b');
  assert.equal(archiveBase('/a/b/.'), '.');
  assert.equal(archiveBase('a/../../b'), 'b');
});

test('a file is sent at the size its header says: one that shrank is padded with zeros, one that grew is cut', async () => {
  // cp out takes an entry's size from the walk's stat: the data that follows must match it, whatever the
  // file did since (a tar whose data disagrees with its header is unreadable from that entry on)
  const dir = tmp();
  try {
    const f = path.join(dir, 'f');
    fs.writeFileSync(f, 'abcdef');
    const read = async (size: number, scratch?: Buffer) => {
      const fd = fs.openSync(f, 'r');
      try {
        const out: Buffer[] = [];
        for await (const c of readExactly(fd, size, scratch)) out.push(Buffer.from(c));
        return Buffer.concat(out);
      } finally { fs.closeSync(fd); }
    };
    assert.deepEqual(await read(9), Buffer.concat([Buffer.from('abcdef'), Buffer.alloc(3)]));
    assert.deepEqual(await read(4), Buffer.from('abcd'));
    assert.deepEqual(await read(9, Buffer.alloc(2)), Buffer.concat([Buffer.from('abcdef'), Buffer.alloc(3)]));
  } finally { fs.rmSync(dir, { recursive: true, force: true }); }
});

test('lookup follows links inside the root and into bind mounts, never out to the host', async () => {
  const root = tmp();
  const vol = tmp();
  try {
    fs.mkdirSync(path.join(root, 'etc'));
    fs.writeFileSync(path.join(root, 'etc', 'shadow'), 'container\n');
    fs.symlinkSync('/etc/shadow', path.join(root, 'lnk'));
    fs.symlinkSync('../../../../../../etc/shadow', path.join(root, 'rel'));
    fs.symlinkSync('/', path.join(root, 'up'));
    fs.mkdirSync(path.join(root, 'data'));
    fs.writeFileSync(path.join(vol, 'f'), 'in the volume\n');
    const mounts = new Map([['/data', vol]]);
    // the last element is not followed (lstat), its text is reported
    const l = await lookupInRoot(root, '/lnk', { mounts });
    assert.ok(l && (await l.handle.stat()).isSymbolicLink());
    assert.equal(l.link, '/etc/shadow');
    await l.handle.close();
    assert.equal(await resolveInRoot(root, '/rel', { mounts }), '/etc/shadow');
    for (const p of ['/up/etc/shadow', '/../../etc/shadow', '/lnk/', '/rel/']) {
      const h = await lookupInRoot(root, p, { mounts });
      assert.ok(h, p);
      const fd = fs.openSync(`/proc/self/fd/${h.handle.fd}`, 'r');
      assert.equal(fs.readFileSync(fd, 'utf8'), 'container\n', p);
      fs.closeSync(fd);
      await h.handle.close();
    }
    // the mount point leads to the volume, also through a link to its parent
    const v = await lookupInRoot(root, '/up/data/f', { mounts });
    assert.ok(v);
    assert.equal(v.resolved, '/data/f');
    const fd = fs.openSync(`/proc/self/fd/${v.handle.fd}`, 'r');
    assert.equal(fs.readFileSync(fd, 'utf8'), 'in the volume\n');
    fs.closeSync(fd);
    await v.handle.close();
    assert.equal(await lookupInRoot(root, '/nope/x', { mounts }), undefined);
    assert.equal(await lookupInRoot(root, '/etc/shadow/x', { mounts }), undefined);
    // a created container's volume at a path its image lacks: the mount point is not made yet, the volume is there
    const later = new Map([['/vol', vol]]);
    const n = await lookupInRoot(root, '/vol/f', { mounts: later });
    assert.ok(n, 'the volume is found where it will be mounted');
    assert.equal(n.resolved, '/vol/f');
    const fd2 = fs.openSync(`/proc/self/fd/${n.handle.fd}`, 'r');
    assert.equal(fs.readFileSync(fd2, 'utf8'), 'in the volume\n');
    fs.closeSync(fd2);
    await n.handle.close();
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(vol, { recursive: true, force: true });
  }
});

test('bind sources: volumes and binds by destination, and the container\'s own hosts files', () => {
  const points = [
    { type: 'bind', destination: '/a', source: '/srv/a', rw: false, mode: 'ro', propagation: 'rprivate', copyData: false },
    { type: 'volume', destination: '/data', source: '/v/vol1/_data', name: 'vol1', driver: 'local', rw: true, mode: 'z', propagation: '', copyData: true },
  ] as MountPoint[];
  const m = bindSources({ image: 'x', host: { binds: ['/srv/a:/a:ro', 'vol1:/data/'] } }, '/ctr', points);
  assert.equal(m.get('/a'), '/srv/a');
  assert.equal(m.get('/data'), '/v/vol1/_data');
  assert.equal(m.get('/etc/hosts'), '/ctr/hosts');
});

test('changes: added and modified files; a directory only copied up for a mount point is no change', async () => {
  const base = tmp();
  try {
    const lower = path.join(base, 'lower'), upper = path.join(base, 'upper'), merged = path.join(base, 'merged');
    for (const d of [lower, upper, merged]) fs.mkdirSync(d);
    fs.mkdirSync(path.join(lower, 'etc'));
    fs.writeFileSync(path.join(lower, 'etc', 'passwd'), 'root\n');
    fs.mkdirSync(path.join(lower, 'usr'));
    fs.writeFileSync(path.join(lower, 'usr', 'x'), 'x');
    // upper: /etc copied up for the runtime's /etc/hosts mount point (empty), /usr/x changed, /new added
    fs.mkdirSync(path.join(upper, 'etc'));
    fs.writeFileSync(path.join(upper, 'etc', 'hosts'), '');
    fs.mkdirSync(path.join(upper, 'usr'));
    fs.writeFileSync(path.join(upper, 'usr', 'x'), 'changed');
    fs.mkdirSync(path.join(upper, 'new'));
    fs.writeFileSync(path.join(upper, 'new', 'f'), 'f');
    fs.mkdirSync(path.join(upper, 'proc'));
    // the merged view shows everything below that is not hidden
    fs.mkdirSync(path.join(merged, 'etc'));
    fs.writeFileSync(path.join(merged, 'etc', 'passwd'), '');
    fs.mkdirSync(path.join(merged, 'usr'));
    fs.writeFileSync(path.join(merged, 'usr', 'x'), '');
    const r = { rootfs: merged, upper, lowers: [lower], mounts: new Map() } as unknown as ContainerRoot;
    assert.deepEqual((await containerChanges(r)).map((c) => `${'CAD'[c.kind]} ${c.path}`), ['A /new', 'A /new/f', 'C /usr', 'C /usr/x']);
    // a name below that the merged view no longer shows, with no whiteout: the directory is opaque, and
    // what it holds is new against the (hidden) layers below
    fs.writeFileSync(path.join(lower, 'usr', 'gone'), 'g');
    assert.deepEqual((await containerChanges(r)).map((c) => `${'CAD'[c.kind]} ${c.path}`), ['A /new', 'A /new/f', 'C /usr', 'D /usr/gone', 'A /usr/x']);
  } finally {
    fs.rmSync(base, { recursive: true, force: true });
  }
});

test('--change merges as moby does: ENV by key, labels and ports added, CMD replaced', () => {
  const out = mergeChanges({ Env: ['A=1', 'B=2'], Cmd: ['sh'], Labels: { a: '1' } }, { Env: ['B=3', 'C=4'], Cmd: ['cat'], Labels: { b: '2' }, ExposedPorts: { '80/tcp': {} } });
  assert.deepEqual(out, { Env: ['A=1', 'B=3', 'C=4'], Cmd: ['cat'], Labels: { a: '1', b: '2' }, ExposedPorts: { '80/tcp': {} } });
});
