// docker-archive and OCI archives both ways with skopeo; import; untag/delete semantics.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ImageService } from '../../src/images/index.js';
import { busyboxRootfs } from '../helpers/rootfs.js';
import { haveTool, ociLayout, skopeo, tarDir } from '../helpers/registry.js';
import { OWNER } from '../../src/util/owner.js';

const missing = process.getuid?.() !== 0 ? 'needs root' : !haveTool('skopeo') ? 'needs skopeo' : undefined;
const tmpRoot = () => fs.mkdtempSync(path.join(os.tmpdir(), 'berth-archive-'));

async function saveTo(svc: ImageService, file: string, names: string[], format: 'docker' | 'oci' = 'docker') {
  const fd = fs.openSync(file, 'w');
  try { await svc.save(names, (c) => { fs.writeSync(fd, c); }, { format }); } finally { fs.closeSync(fd); }
}

describe('archives', { skip: missing }, () => {
  let work: string;
  let layout: Awaited<ReturnType<typeof ociLayout>>;
  let layout2: Awaited<ReturnType<typeof ociLayout>>;
  before(async () => {
    work = tmpRoot();
    const base = await tarDir(await busyboxRootfs());
    fs.mkdirSync(path.join(work, 'extra'));
    fs.writeFileSync(path.join(work, 'extra', 'hello'), 'hello\n');
    layout = await ociLayout(path.join(work, 'oci'), [base]);
    layout2 = await ociLayout(path.join(work, 'oci2'), [base, await tarDir(path.join(work, 'extra'))], { tag: 'two' });
  });
  after(() => { if (work) fs.rmSync(work, { recursive: true, force: true }); });

  test('loads a docker-archive written by skopeo', async (t) => {
    const root = tmpRoot();
    t.after(() => fs.rmSync(root, { recursive: true, force: true }));
    const arc = path.join(root, 'skopeo.tar');
    await skopeo('copy', '--additional-tag', 'example.com/one:latest', `oci:${work}/oci:latest`, `docker-archive:${arc}`);
    const svc = new ImageService({ root });
    const r = await svc.load(fs.createReadStream(arc));
    assert.deepEqual(r.loaded, ['example.com/one:latest']);
    assert.equal(r.ids[0], layout.configDigest);
    const img = svc.inspect('example.com/one');
    assert.deepEqual(img.RootFS.Layers, layout.diffIds);
    assert.deepEqual(fs.readFileSync(path.join(img.GraphDriver.Data.LowerDir!, 'bin/busybox')), fs.readFileSync('/bin/busybox'));
    // unpacked while the archive streamed in: the layer records its diffID, and the blob (the layer tar) is stored
    assert.deepEqual(svc.snapshots.list().map((s) => s.diffId), layout.diffIds);
    for (const d of layout.diffIds) assert.ok((svc.content.size(d) ?? 0) > 0, d);
    // this process's staging directory (util/owner), where the layer was unpacked
    const tmp = path.join(root, 'snapshots', '.tmp', OWNER);
    assert.deepEqual(fs.readdirSync(tmp), [], 'no staged layer left');
    // ext2/3/4: staged trees go to block groups of their own (chattr +T), not next to a tree just removed
    if (execFileSync('stat', ['-f', '-c', '%T', tmp], { encoding: 'utf8' }).trim() === 'ext2/ext3') {
      assert.match(execFileSync('lsattr', ['-d', tmp], { encoding: 'utf8' }).split(' ')[0]!, /T/);
    }
  });

  test('a docker-archive whose layer is not the config\'s diff ID is refused and leaves nothing', async (t) => {
    const root = tmpRoot();
    t.after(() => fs.rmSync(root, { recursive: true, force: true }));
    const arc = path.join(root, 'skopeo.tar');
    await skopeo('copy', '--additional-tag', 'example.com/one:latest', `oci:${work}/oci:latest`, `docker-archive:${arc}`);
    const x = path.join(root, 'x');
    fs.mkdirSync(x);
    execFileSync('tar', ['-xf', arc, '-C', x]);
    const [entry] = JSON.parse(fs.readFileSync(path.join(x, 'manifest.json'), 'utf8')) as Array<{ Config: string }>;
    const cfgPath = path.join(x, entry!.Config);
    const cfg = JSON.parse(fs.readFileSync(cfgPath, 'utf8')) as { rootfs: { diff_ids: string[] } };
    cfg.rootfs.diff_ids[0] = `sha256:${'1'.repeat(64)}`;
    fs.writeFileSync(cfgPath, JSON.stringify(cfg));
    const bad = path.join(root, 'bad.tar');
    execFileSync('tar', ['-cf', bad, '-C', x, '.']);
    const svc = new ImageService({ root: path.join(root, 'store') });
    await assert.rejects(svc.load(fs.createReadStream(bad)), /does not match the diff ID/);
    assert.deepEqual(svc.snapshots.list(), []);
    assert.deepEqual(svc.content.list(), []);
    assert.deepEqual(fs.readdirSync(path.join(root, 'store', 'snapshots', '.tmp', OWNER)), [], 'no staged layer left');
  });

  test('saves a docker-archive with several images that skopeo reads, and loads it back', async (t) => {
    const root = tmpRoot();
    t.after(() => fs.rmSync(root, { recursive: true, force: true }));
    const svc = new ImageService({ root });
    await svc.load(fs.createReadStream(await ociArchive(work, 'oci', 'example.com/one:latest', root)));
    await svc.load(fs.createReadStream(await ociArchive(work, 'oci2', 'example.com/two:2', root)));
    assert.equal(svc.snapshots.list().length, 2, 'base layer shared between the two images');
    const arc = path.join(root, 'berth.tar');
    await saveTo(svc, arc, ['example.com/one:latest', 'example.com/two:2']);
    for (const [ref, lay] of [['example.com/one:latest', layout], ['example.com/two:2', layout2]] as const) {
      const raw = JSON.parse(await skopeo('inspect', '--raw', `docker-archive:${arc}:${ref}`)) as { config: { digest: string } };
      assert.equal(raw.config.digest, lay.configDigest, ref);
      // skopeo reads every layer (it rewrites the config when converting to OCI, so compare diff IDs)
      const out = path.join(root, `from-skopeo-${lay.configDigest.slice(7, 15)}`);
      await skopeo('copy', `docker-archive:${arc}:${ref}`, `oci:${out}:x`);
      const cfg = JSON.parse(await skopeo('inspect', '--config', `oci:${out}:x`)) as { rootfs: { diff_ids: string[] } };
      assert.deepEqual(cfg.rootfs.diff_ids, lay.diffIds, ref);
    }
    const root2 = tmpRoot();
    t.after(() => fs.rmSync(root2, { recursive: true, force: true }));
    const svc2 = new ImageService({ root: root2 });
    const r = await svc2.load(fs.createReadStream(arc));
    assert.deepEqual(r.loaded.sort(), ['example.com/one:latest', 'example.com/two:2']);
    assert.equal(fs.readFileSync(path.join(svc2.inspect('example.com/two:2').GraphDriver.Data.LowerDir!.split(':')[0]!, 'hello'), 'utf8'), 'hello\n');
  });

  test('OCI archive save is byte-identical and skopeo reads it', async (t) => {
    const root = tmpRoot();
    t.after(() => fs.rmSync(root, { recursive: true, force: true }));
    const svc = new ImageService({ root });
    await svc.load(fs.createReadStream(await ociArchive(work, 'oci2', 'example.com/two:2', root)));
    const arc = path.join(root, 'oci.tar');
    await saveTo(svc, arc, ['example.com/two:2'], 'oci');
    const raw = JSON.parse(await skopeo('inspect', '--raw', `oci-archive:${arc}`)) as { config: { digest: string } };
    assert.equal(raw.config.digest, layout2.configDigest);
    const out = path.join(root, 'copied');
    await skopeo('copy', `oci-archive:${arc}`, `oci:${out}:x`);
    assert.ok(fs.existsSync(path.join(out, 'blobs/sha256', layout2.manifestDigest.slice(7))), 'same manifest digest');
  });

  test('import, tag, untag, delete, prune', async (t) => {
    const root = tmpRoot();
    t.after(() => fs.rmSync(root, { recursive: true, force: true }));
    let using: string | undefined;
    const svc = new ImageService({ root, inUse: () => using });
    const tarball = await tarDir(await busyboxRootfs());
    const id = await svc.import((async function* () { yield tarball; })(), { ref: 'imported:1', message: 'from a tarball', config: { Cmd: ['/bin/sh'] } });
    const img = svc.inspect('imported:1');
    assert.equal(img.Id, id);
    assert.deepEqual(img.Config, { Cmd: ['/bin/sh'] });
    assert.equal(svc.history('imported:1')[0]!.Comment, 'from a tarball');
    await svc.tag('imported:1', 'other/name:x');
    await assert.rejects(svc.remove(id.slice(7, 19)), /referenced in multiple repositories/);
    using = 'c0ffee'.repeat(10);
    // in use, but another tag keeps a name on it: untagged without force, as docker does (isSingleReference)
    assert.deepEqual(await svc.remove('imported:1'), [{ Untagged: 'imported:1' }]);
    await assert.rejects(svc.remove('other/name:x'), /must force.*container c0ffeec0ffee/);
    await svc.tag(id, 'imported:1');
    assert.deepEqual(await svc.remove('imported:1', { force: true }), [{ Untagged: 'imported:1' }]);
    using = undefined;
    const r = await svc.remove('other/name:x');
    assert.deepEqual(r.slice(0, 2), [{ Untagged: 'other/name:x' }, { Deleted: id }]);
    assert.deepEqual(svc.list(), []);
    const id2 = await svc.import((async function* () { yield tarball; })());
    assert.equal(svc.list({ dangling: true }).length, 1);
    const p = await svc.prune();
    assert.ok(p.ImagesDeleted.some((d) => d.Deleted === id2));
    assert.ok(p.SpaceReclaimed > 1_000_000);
    assert.deepEqual(svc.content.list(), []);
    assert.deepEqual(svc.snapshots.list(), []);
  });
});

/** An oci-archive (tar of an OCI layout) made by skopeo, tagged with a full name. */
async function ociArchive(work: string, layoutDir: string, name: string, root: string): Promise<string> {
  const out = path.join(root, `${layoutDir}-${Date.now()}.tar`);
  const idx = JSON.parse(fs.readFileSync(path.join(work, layoutDir, 'index.json'), 'utf8')) as { manifests: Array<{ annotations: Record<string, string> }> };
  await skopeo('copy', `oci:${work}/${layoutDir}:${idx.manifests[0]!.annotations['org.opencontainers.image.ref.name']}`, `oci-archive:${out}:${name}`);
  return out;
}
