// A pulled image's files equal what an independent client makes of it: the same two-layer image (GNU tar
// layers with owners, modes, xattrs, hard links, symlinks, devices, a whiteout and an opaque dir) pulled by
// berth from a local docker-registry and copied by skopeo + unpacked by umoci; the trees are compared.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { ImageService } from '../../src/images/index.js';
import { chainIds } from '../../src/snapshots/chain.js';
import { mountAll, unmount } from '../../src/snapshots/mount.js';
import { haveTool, ociLayout, REGISTRY_BIN, skopeo, startRegistry, tarDir, type Registry } from '../helpers/registry.js';

const run = promisify(execFile);
const missing = process.getuid?.() !== 0 ? 'needs root' : !haveTool(REGISTRY_BIN) ? 'needs docker-registry' : !haveTool('skopeo') ? 'needs skopeo'
  : !haveTool('umoci') ? 'needs umoci (scripts/install-deps.sh --test)' : undefined;

// One line per path: type, mode, owner, device, symlink target, content hash, xattrs, hard link group
// (the first path sharing its inode). Python, as Node has no listxattr.
const MANIFEST = `
import hashlib, json, os, stat, sys
root = sys.argv[1]; first = {}; out = {}
for d, dirs, files in os.walk(root):
    dirs.sort()
    for name in ([''] if d == root else []) + sorted(dirs + files):
        p = os.path.join(d, name) if name else d
        rel = os.path.relpath(p, root)
        st = os.lstat(p); m = st.st_mode
        e = {'mode': oct(m), 'uid': st.st_uid, 'gid': st.st_gid}
        if stat.S_ISLNK(m): e['target'] = os.readlink(p)
        elif stat.S_ISREG(m):
            e['sha'] = hashlib.sha256(open(p, 'rb').read()).hexdigest()
            if st.st_nlink > 1: e['links'] = first.setdefault((st.st_dev, st.st_ino), rel)
        elif stat.S_ISCHR(m) or stat.S_ISBLK(m): e['rdev'] = [os.major(st.st_rdev), os.minor(st.st_rdev)]
        e['xattrs'] = {k: os.getxattr(p, k, follow_symlinks=False).hex() for k in sorted(os.listxattr(p, follow_symlinks=False))}
        out[rel] = e
print(json.dumps(out, sort_keys=True))
`;
const manifest = (dir: string): Record<string, unknown> => JSON.parse(execFileSync('python3', ['-c', MANIFEST, dir], { maxBuffer: 64 << 20 }).toString()) as Record<string, unknown>;
const setxattr = (p: string, name: string, value: string) => execFileSync('python3', ['-c', 'import os,sys; os.setxattr(sys.argv[1], sys.argv[2], sys.argv[3].encode(), follow_symlinks=False)', p, name, value]);

function write(p: string, data: string | Buffer, mode: number, uid = 0, gid = 0): void {
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, data);
  fs.chownSync(p, uid, gid);
  fs.chmodSync(p, mode); // after chown, which clears setuid
}

describe('a pulled image equals skopeo + umoci unpack', { skip: missing }, () => {
  let reg: Registry;
  let work: string;

  before(async () => {
    reg = await startRegistry();
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-pull-tree-'));
    const l1 = path.join(work, 'l1');
    const l2 = path.join(work, 'l2');
    fs.mkdirSync(l1, { mode: 0o755 });
    fs.mkdirSync(l2, { mode: 0o755 });
    // layer 1: owners, special modes, xattrs, a hard link group, symlinks, devices, files later removed
    write(path.join(l1, 'etc/conf'), 'a=1\n', 0o640, 0, 42);
    write(path.join(l1, 'usr/bin/tool'), Buffer.alloc(300_000, 7), 0o4755, 0, 0);
    write(path.join(l1, 'usr/bin/owned'), 'mine', 0o2750, 1000, 1001);
    for (const n of ['a', 'b', 'c']) if (n === 'a') write(path.join(l1, 'usr/lib/hl-a'), 'same inode', 0o644, 7, 8); else fs.linkSync(path.join(l1, 'usr/lib/hl-a'), path.join(l1, `usr/lib/hl-${n}`));
    write(path.join(l1, 'empty'), '', 0o600, 65534, 65534);
    fs.mkdirSync(path.join(l1, 'tmp'));
    fs.chmodSync(path.join(l1, 'tmp'), 0o1777);
    fs.mkdirSync(path.join(l1, 'srv/shared'), { recursive: true });
    fs.chownSync(path.join(l1, 'srv/shared'), 1000, 50);
    fs.chmodSync(path.join(l1, 'srv/shared'), 0o2775);
    // 0:0 entries below a setgid directory, which would inherit its group (and a dir its setgid bit);
    // symlinks and directories owned by others; directory modes the umask would and would not change
    fs.mkdirSync(path.join(l1, 'srv/shared/sub'), { mode: 0o755 });
    fs.chownSync(path.join(l1, 'srv/shared/sub'), 0, 0);
    fs.chmodSync(path.join(l1, 'srv/shared/sub'), 0o755);
    fs.symlinkSync('sub', path.join(l1, 'srv/shared/to-sub'));
    fs.lchownSync(path.join(l1, 'srv/shared/to-sub'), 0, 0);
    write(path.join(l1, 'srv/shared/note'), 'n', 0o644);
    fs.symlinkSync('tool', path.join(l1, 'usr/bin/user-link'));
    fs.lchownSync(path.join(l1, 'usr/bin/user-link'), 1000, 1001);
    for (const [d, mode, uid] of [['home/priv', 0o700, 1000], ['home/group', 0o775, 0], ['home/sticky', 0o1755, 0]] as const) {
      fs.mkdirSync(path.join(l1, d), { recursive: true });
      fs.chownSync(path.join(l1, d), uid, uid);
      fs.chmodSync(path.join(l1, d), mode);
    }
    setxattr(path.join(l1, 'etc/conf'), 'user.origin', 'layer-one');
    setxattr(path.join(l1, 'srv/shared'), 'user.dir', 'x');
    fs.symlinkSync('../lib/hl-a', path.join(l1, 'usr/bin/rel-link'));
    fs.symlinkSync('/etc/conf', path.join(l1, 'abs-link'));
    fs.symlinkSync('nowhere', path.join(l1, 'dangling'));
    fs.mkdirSync(path.join(l1, 'dev'));
    execFileSync('mknod', ['-m', '666', path.join(l1, 'dev/null'), 'c', '1', '3']);
    execFileSync('mknod', ['-m', '660', path.join(l1, 'dev/loop9'), 'b', '7', '9']);
    execFileSync('mknod', ['-m', '600', path.join(l1, 'dev/fifo'), 'p']);
    write(path.join(l1, 'var/cache/old1'), 'old', 0o644);
    write(path.join(l1, 'var/cache/sub/old2'), 'old', 0o644);
    write(path.join(l1, 'gone'), 'to be whited out', 0o644);
    // layer 2: a whiteout, an opaque directory, a changed file, a new link into the lower layer's file
    write(path.join(l2, '.wh.gone'), '', 0o644);
    write(path.join(l2, 'var/cache/.wh..wh..opq'), '', 0o644);
    write(path.join(l2, 'var/cache/new'), 'new', 0o600, 3, 3);
    write(path.join(l2, 'etc/conf'), 'a=2\n', 0o600, 5, 6);
    setxattr(path.join(l2, 'etc/conf'), 'user.origin', 'layer-two');
    write(path.join(l2, 'usr/lib/l2-a'), 'pair', 0o644);
    fs.linkSync(path.join(l2, 'usr/lib/l2-a'), path.join(l2, 'usr/lib/l2-b'));
    fs.mkdirSync(path.join(l2, 'usr/bin'), { recursive: true });
    await ociLayout(path.join(work, 'oci'), [await tarDir(l1), await tarDir(l2)]);
    await skopeo('copy', '--dest-tls-verify=false', `oci:${work}/oci:latest`, `docker://${reg.host}/test/tree:1`);
  });
  after(async () => {
    await reg?.stop();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  test('paths, types, owners, modes, xattrs, hard links, symlinks, devices and contents are identical', async (t) => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-pull-tree-root-'));
    const merged = path.join(root, 'merged');
    fs.mkdirSync(merged);
    let mounted = false;
    t.after(async () => {
      if (mounted) await unmount(merged, true);
      fs.rmSync(root, { recursive: true, force: true });
    });

    // the peer: skopeo pulls into an OCI layout, umoci applies the layers
    await skopeo('copy', '--src-tls-verify=false', `docker://${reg.host}/test/tree:1`, `oci:${work}/peer:tree`);
    await run('umoci', ['unpack', '--image', `${work}/peer:tree`, path.join(work, 'bundle')]);
    const want = manifest(path.join(work, 'bundle', 'rootfs'));

    // berth: pull, then look at the layers through a read-only overlay, as a container would
    const svc = new ImageService({ root: path.join(root, 'berth') });
    await svc.pull(`${reg.host}/test/tree:1`);
    const chains = chainIds(svc.inspect(`${reg.host}/test/tree:1`).RootFS.Layers);
    await mountAll(await svc.snapshots.view('tree-view', chains[chains.length - 1]!), merged);
    mounted = true;
    const got = manifest(merged);

    // the test tests something: what the layers set up is in the peer's tree
    assert.equal(want['gone'], undefined);
    assert.deepEqual(Object.keys(want).filter((k) => k.startsWith('var/cache')).sort(), ['var/cache', 'var/cache/new']);
    assert.equal((want['usr/lib/hl-c'] as { links: string }).links, 'usr/lib/hl-a');
    assert.deepEqual((want['etc/conf'] as { xattrs: unknown }).xattrs, { 'user.origin': Buffer.from('layer-two').toString('hex') });
    assert.deepEqual((want['dev/loop9'] as { rdev: unknown }).rdev, [7, 9]);
    // the root directory's mode and owner come from the upper layer dir in berth and the bundle in umoci
    delete want['.'];
    delete got['.'];
    assert.deepEqual(got, want);
  });
});
