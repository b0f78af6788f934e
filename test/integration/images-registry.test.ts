// Pull and push against a real docker-registry, with skopeo as the second client.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import { sha256 } from '../../src/content/digest.js';
import { ImageService } from '../../src/images/index.js';
import { busyboxRootfs } from '../helpers/rootfs.js';
import { BERTH } from '../helpers/bundle.js';
import { diskUse, haveTool, ociLayout, REGISTRY_BIN, skopeo, startRegistry, tarDir, type Registry } from '../helpers/registry.js';

const run = promisify(execFile);
const missing = process.getuid?.() !== 0 ? 'needs root' : !haveTool(REGISTRY_BIN) ? 'needs docker-registry' : !haveTool('skopeo') ? 'needs skopeo' : undefined;

const tmpRoot = () => fs.mkdtempSync(path.join(os.tmpdir(), 'berth-images-'));
const snapshotState = (svc: ImageService) => JSON.stringify({ blobs: svc.content.list().sort(), snaps: fs.readdirSync(svc.snapshots.dir).sort(), tmp: fs.readdirSync(path.join(svc.snapshots.dir, '.tmp')).flatMap((o) => fs.readdirSync(path.join(svc.snapshots.dir, '.tmp', o)).map((n) => `${o}/${n}`)), ingest: fs.readdirSync(svc.content.ingestDir), refs: svc.store.refs() });

/** A proxy in front of the registry that can corrupt one blob or demand a bearer token. */
function proxy(target: string, mode: { corrupt?: string; how?: 'wrong' | 'truncate'; auth?: { user: string; pass: string } }): Promise<{ host: string; close(): Promise<void>; tokens: number }> {
  const state = { tokens: 0 };
  const server = http.createServer(async (req, res) => {
    const url = req.url ?? '/';
    const host = `127.0.0.1:${(server.address() as { port: number }).port}`;
    if (mode.auth) {
      if (url.startsWith('/token')) {
        const want = 'Basic ' + Buffer.from(`${mode.auth.user}:${mode.auth.pass}`).toString('base64');
        if (req.headers.authorization !== want) { res.writeHead(401); res.end(); return; }
        state.tokens++;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ token: 'tok-123' }));
        return;
      }
      if (req.headers.authorization !== 'Bearer tok-123') {
        res.writeHead(401, { 'www-authenticate': `Bearer realm="http://${host}/token",service="test"`, 'content-type': 'application/json' });
        res.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
        return;
      }
    }
    const body: Buffer[] = [];
    for await (const c of req) body.push(c as Buffer);
    const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => !['host', 'authorization', 'connection'].includes(k))) as Record<string, string>;
    const up = await fetch(`http://${target}${url}`, { method: req.method, headers, body: body.length ? Buffer.concat(body) : undefined, redirect: 'manual' });
    let data = Buffer.from(await up.arrayBuffer());
    const out: Record<string, string> = {};
    up.headers.forEach((v, k) => { if (k !== 'content-length' && k !== 'transfer-encoding' && k !== 'connection') out[k] = v; });
    if (out.location) out.location = out.location.replace(target, host);
    if (mode.corrupt && req.method === 'GET' && url.endsWith(`/blobs/${mode.corrupt}`)) {
      if (mode.how === 'truncate') data = data.subarray(0, Math.floor(data.length / 2));
      else { data = Buffer.from(data); for (let i = 100; i < data.length; i += 997) data[i] = data[i]! ^ 0xff; }
    }
    out['content-length'] = String(req.method === 'HEAD' ? up.headers.get('content-length') ?? 0 : data.length);
    res.writeHead(up.status, out);
    res.end(req.method === 'HEAD' ? undefined : data);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    host: `127.0.0.1:${(server.address() as { port: number }).port}`,
    get tokens() { return state.tokens; },
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  })));
}

describe('registry pull and push', { skip: missing }, () => {
  let reg: Registry;
  let work: string;
  let base: Buffer;
  let top: Buffer;
  const layouts: Record<string, Awaited<ReturnType<typeof ociLayout>>> = {};

  before(async () => {
    reg = await startRegistry();
    work = tmpRoot();
    base = await tarDir(await busyboxRootfs());
    const extra = path.join(work, 'extra');
    fs.mkdirSync(path.join(extra, 'etc'), { recursive: true });
    fs.writeFileSync(path.join(extra, 'etc', 'app.conf'), 'app=1\n');
    top = await tarDir(extra);
    layouts.busybox = await ociLayout(path.join(work, 'oci-bb'), [base]);
    layouts.app = await ociLayout(path.join(work, 'oci-app'), [base, top], { cmd: ['/bin/echo', 'app'] });
    await skopeo('copy', '--dest-tls-verify=false', `oci:${work}/oci-bb:latest`, `docker://${reg.host}/test/busybox:latest`);
    await skopeo('copy', '--dest-tls-verify=false', `oci:${work}/oci-app:latest`, `docker://${reg.host}/test/app:1`);
  });
  after(async () => {
    await reg?.stop();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });

  test('pulls what skopeo pushed; layer files are there; shared base stored once', async (t) => {
    const root = tmpRoot();
    t.after(() => fs.rmSync(root, { recursive: true, force: true }));
    const svc = new ImageService({ root });
    const msgs: string[] = [];
    const r = await svc.pull(`${reg.host}/test/busybox`, { onProgress: (m) => msgs.push(`${m.id ?? ''} ${m.status}`) });
    assert.equal(r.id, layouts.busybox!.configDigest);
    assert.equal(r.digest, layouts.busybox!.manifestDigest);
    assert.ok(msgs.some((m) => m.endsWith('Pull complete')), msgs.join('\n'));
    assert.ok(msgs.some((m) => m.includes('Downloaded newer image')));
    const img = svc.inspect(`${reg.host}/test/busybox:latest`);
    assert.deepEqual(img.RepoTags, [`${reg.host}/test/busybox:latest`]);
    assert.deepEqual(img.RepoDigests, [`${reg.host}/test/busybox@${layouts.busybox!.manifestDigest}`]);
    assert.deepEqual(img.RootFS.Layers, layouts.busybox!.diffIds);
    const fsd = img.GraphDriver.Data.LowerDir!;
    assert.deepEqual(fs.readFileSync(path.join(fsd, 'bin/busybox')), fs.readFileSync('/bin/busybox'));
    assert.equal(fs.readlinkSync(path.join(fsd, 'bin/sh')), 'busybox');
    assert.equal(fs.statSync(path.join(fsd, 'tmp')).mode & 0o7777, 0o1777);
    assert.equal(fs.statSync(path.join(fsd, 'home/berth')).uid, 1000);
    const { stdout } = await run(path.join(fsd, 'bin/busybox'), ['echo', 'layer runs']);
    assert.equal(stdout, 'layer runs\n');

    const one = await diskUse(svc.snapshots.dir);
    const again: string[] = [];
    await svc.pull(`${reg.host}/test/app:1`, { onProgress: (m) => again.push(`${m.id ?? ''} ${m.status}`) });
    assert.ok(again.some((m) => m.endsWith('Already exists')), again.join('\n'));
    const two = await diskUse(svc.snapshots.dir);
    const layerBytes = await diskUse(fsd);
    // the second image adds one small layer, not another copy of busybox
    assert.ok(two - one < layerBytes / 4, `shared base stored twice? ${one} -> ${two} (base ${layerBytes})`);
    assert.equal(svc.snapshots.list().filter((s) => s.kind === 'layer').length, 2);
    const up = await svc.pull(`${reg.host}/test/busybox`);
    assert.equal(up.newer, false);
  });

  test('pushes byte-identical: skopeo sees the same digests and reads the blobs back', async (t) => {
    const root = tmpRoot();
    t.after(() => fs.rmSync(root, { recursive: true, force: true }));
    const svc = new ImageService({ root });
    await svc.pull(`${reg.host}/test/app:1`);
    await svc.tag(`${reg.host}/test/app:1`, `${reg.host}/copy/app:2`);
    const msgs: string[] = [];
    const r = await svc.push(`${reg.host}/copy/app:2`, { onProgress: (m) => msgs.push(m.status) });
    assert.equal(r.digest, layouts.app!.manifestDigest);
    assert.ok(msgs.some((m) => m.startsWith('Mounted from')), msgs.join('\n'));
    const inspect = JSON.parse(await skopeo('inspect', '--tls-verify=false', `docker://${reg.host}/copy/app:2`)) as { Digest: string };
    assert.equal(inspect.Digest, layouts.app!.manifestDigest);
    const out = path.join(root, 'back');
    await skopeo('copy', '--src-tls-verify=false', `docker://${reg.host}/copy/app:2`, `oci:${out}:x`);
    for (const b of fs.readdirSync(path.join(out, 'blobs', 'sha256'))) {
      assert.deepEqual(fs.readFileSync(path.join(out, 'blobs', 'sha256', b)), svc.content.read(`sha256:${b}`), b);
    }

    // a fresh repository with no mount source: monolithic and chunked uploads
    const root2 = tmpRoot();
    t.after(() => fs.rmSync(root2, { recursive: true, force: true }));
    const svc2 = new ImageService({ root: root2 });
    const id = await svc2.import((async function* () { yield top; })(), { ref: `${reg.host}/fresh/imported:v1` });
    const p = await svc2.push(`${reg.host}/fresh/imported:v1`, { chunkSize: 1000 });
    const raw = JSON.parse(await skopeo('inspect', '--tls-verify=false', '--raw', `docker://${reg.host}/fresh/imported:v1`)) as { config: { digest: string } };
    assert.equal(raw.config.digest, id);
    const again = JSON.parse(await skopeo('inspect', '--tls-verify=false', `docker://${reg.host}/fresh/imported:v1`)) as { Digest: string };
    assert.equal(again.Digest, p.digest);
    const msgs2: string[] = [];
    await svc2.push(`${reg.host}/fresh/imported:v1`, { onProgress: (m) => msgs2.push(m.status) });
    assert.ok(msgs2.includes('Layer already exists'));
  });

  for (const how of ['wrong', 'truncate'] as const) {
    test(`a lying registry (${how} blob) fails the pull and leaves the store as it was`, async (t) => {
      const root = tmpRoot();
      t.after(() => fs.rmSync(root, { recursive: true, force: true }));
      const svc = new ImageService({ root });
      await svc.pull(`${reg.host}/test/busybox`);
      const manifest = JSON.parse(await skopeo('inspect', '--tls-verify=false', '--raw', `docker://${reg.host}/test/app:1`)) as { layers: Array<{ digest: string }> };
      const p = await proxy(reg.host, { corrupt: manifest.layers[1]!.digest, how });
      t.after(() => p.close());
      const stateBefore = snapshotState(svc);
      await assert.rejects(svc.pull(`${p.host}/test/app:1`), how === 'wrong' ? /digest mismatch|diff ID|invalid tar|bad checksum|incorrect header|unexpected end/ : /size|unexpected end|end of file/);
      assert.equal(snapshotState(svc), stateBefore);
      // a base layer first pulled by the failing pull is rolled back as well
      const fresh = tmpRoot();
      t.after(() => fs.rmSync(fresh, { recursive: true, force: true }));
      const svc3 = new ImageService({ root: fresh });
      const empty = snapshotState(svc3);
      await assert.rejects(svc3.pull(`${p.host}/test/app:1`));
      assert.equal(snapshotState(svc3), empty);
    });
  }

  // the blob is what the manifest says (its digest verifies) and the tar inside is whole: only the gzip stream is
  // bad, which igzip tells by its exit status and Node's zlib by an error
  for (const how of ['bad CRC', 'no trailer'] as const) {
    for (const gunzip of ['igzip', 'zlib'] as const) {
      test(`a layer blob with a valid digest but a gzip stream with ${how} fails the pull (${gunzip}) and leaves the store as it was`, { skip: gunzip === 'igzip' && !haveTool('igzip') ? 'needs igzip (apt-get install isal)' : undefined }, async (t) => {
        const old = process.env.BERTH_DISABLE_IGZIP;
        if (gunzip === 'zlib') process.env.BERTH_DISABLE_IGZIP = '1'; else delete process.env.BERTH_DISABLE_IGZIP;
        t.after(() => { if (old === undefined) delete process.env.BERTH_DISABLE_IGZIP; else process.env.BERTH_DISABLE_IGZIP = old; });
        let bad = Buffer.from(top);
        if (how === 'bad CRC') bad[bad.length - 8]! ^= 0xff; else bad = bad.subarray(0, bad.length - 8);
        const name = `bad-${how.replace(' ', '-').toLowerCase()}-${gunzip}`;
        await ociLayout(path.join(work, `oci-${name}`), [base, bad], { diffIds: [layouts.app!.diffIds[0]!, sha256(gunzipSync(top))] });
        await skopeo('copy', '--dest-tls-verify=false', `oci:${work}/oci-${name}:latest`, `docker://${reg.host}/test/${name}:1`);
        const root = tmpRoot();
        t.after(() => fs.rmSync(root, { recursive: true, force: true }));
        const svc = new ImageService({ root });
        await svc.pull(`${reg.host}/test/busybox`);
        const stateBefore = snapshotState(svc);
        await assert.rejects(svc.pull(`${reg.host}/test/${name}:1`), (e: Error & { kind?: string }) => e.kind === 'InvalidArgument' && (gunzip === 'igzip' ? /igzip|unexpected end/ : /gzip|unexpected end/).test(e.message));
        assert.equal(snapshotState(svc), stateBefore);
        // the good base layer this pull brought is rolled back with it
        const fresh = tmpRoot();
        t.after(() => fs.rmSync(fresh, { recursive: true, force: true }));
        const svc2 = new ImageService({ root: fresh });
        const empty = snapshotState(svc2);
        await assert.rejects(svc2.pull(`${reg.host}/test/${name}:1`), /gzip|unexpected end/);
        assert.equal(snapshotState(svc2), empty);
      });
    }
  }

  test('bearer token auth with credentials from config.json; clear errors', async (t) => {
    const root = tmpRoot();
    t.after(() => fs.rmSync(root, { recursive: true, force: true }));
    const p = await proxy(reg.host, { auth: { user: 'alice', pass: 's3cret' } });
    t.after(() => p.close());
    const cfgDir = path.join(root, 'docker');
    const old = process.env.DOCKER_CONFIG;
    process.env.DOCKER_CONFIG = cfgDir;
    t.after(() => { if (old === undefined) delete process.env.DOCKER_CONFIG; else process.env.DOCKER_CONFIG = old; });

    const svc = new ImageService({ root });
    await assert.rejects(svc.pull(`${p.host}/test/busybox`), /pull access denied|authentication required/);
    // berth store login writes config.json the way docker does
    const cli = BERTH;
    await run(process.execPath, [cli, 'store', 'login', '-u', 'alice', '-p', 's3cret', p.host], { env: { ...process.env, DOCKER_CONFIG: cfgDir } });
    const cfg = JSON.parse(fs.readFileSync(path.join(cfgDir, 'config.json'), 'utf8')) as { auths: Record<string, { auth: string }> };
    assert.equal(Buffer.from(cfg.auths[p.host]!.auth, 'base64').toString(), 'alice:s3cret');
    const svc2 = new ImageService({ root });
    const r = await svc2.pull(`${p.host}/test/busybox`);
    assert.equal(r.id, layouts.busybox!.configDigest);
    assert.ok(p.tokens >= 1);
    await assert.rejects(svc2.pull(`${reg.host}/test/nothere:latest`), (e: Error & { kind?: string }) => e.kind === 'NotFound' && /manifest for .*nothere:latest not found/.test(e.message));
    await assert.rejects(svc2.pull('127.0.0.1:1/x/y'), (e: Error & { kind?: string }) => e.kind === 'Unavailable');
  });

  test('berth store CLI: pull, ls, history, tag, rm, prune', async (t) => {
    const root = tmpRoot();
    t.after(() => fs.rmSync(root, { recursive: true, force: true }));
    const cli = (...a: string[]) => run(process.execPath, [BERTH, 'store', ...a], { env: { ...process.env, BERTH_ROOT: root } });
    const pull = await cli('pull', `${reg.host}/test/app:1`);
    assert.match(pull.stdout, /Pull complete/);
    assert.match((await cli('ls')).stdout, new RegExp(`${reg.host}/test/app\\s+1\\s+${layouts.app!.configDigest.slice(7, 19)}`));
    assert.match((await cli('history', `${reg.host}/test/app:1`)).stdout, /layer 1/);
    await cli('tag', `${reg.host}/test/app:1`, 'mine:v2');
    const rm1 = await cli('rm', 'mine:v2');
    assert.equal(rm1.stdout, 'Untagged: mine:v2\n');
    const inspect = JSON.parse((await cli('inspect', `${reg.host}/test/app:1`)).stdout) as Array<{ Id: string; Config: { Cmd: string[] } }>;
    assert.deepEqual(inspect[0]!.Config.Cmd, ['/bin/echo', 'app']);
    const rm2 = await cli('rm', `${reg.host}/test/app:1`);
    assert.match(rm2.stdout, /Untagged: .*test\/app:1\n.*Untagged: .*@sha256.*\nDeleted: sha256:/s);
    assert.deepEqual(fs.readdirSync(path.join(root, 'content', 'blobs', 'sha256')), []);
    assert.deepEqual(fs.readdirSync(path.join(root, 'snapshots')).filter((n) => n !== '.tmp'), []);
  });
});
