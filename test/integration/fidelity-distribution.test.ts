// GET /distribution/{name}/json asked of a local registry (seeded by skopeo, independent of Berth's push):
// the top manifest's descriptor and its platforms, for an image manifest and for an index; and
// GET /images/search answered as dockerd answers without Docker Hub (a v2-only registry: an error).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startDaemonAndRegistry, type Daemon } from '../helpers/daemon.js';
import { haveTool, ociLayout, REGISTRY_BIN, skopeo, tarDir, type Registry } from '../helpers/registry.js';
import { busyboxRootfs } from '../helpers/rootfs.js';

const missing = process.getuid?.() !== 0 ? 'needs root' : !haveTool(REGISTRY_BIN) ? 'needs docker-registry' : !haveTool('skopeo') ? 'needs skopeo' : undefined;

function get(socket: string, p: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http.get({ socketPath: socket, path: p }, (res) => {
      let b = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { b += c; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: b }));
    }).on('error', reject);
  });
}

describe('distribution inspect and search', { skip: missing }, () => {
  let d: Daemon;
  let reg: Registry;
  let work: string;
  before(async () => {
    [d, reg] = await startDaemonAndRegistry();
    work = path.join(d.dir, 'work');
    const layer = await tarDir(await busyboxRootfs());
    await ociLayout(path.join(work, 'one'), [layer]);
    await skopeo('copy', '--dest-tls-verify=false', `oci:${work}/one:latest`, `docker://${reg.host}/dist/one:latest`);
  });
  after(async () => { await d?.stop(); await reg?.stop(); });

  test('an image manifest: its descriptor, and the platform from its config', async () => {
    const raw = Buffer.from(await skopeo('inspect', '--tls-verify=false', '--raw', `docker://${reg.host}/dist/one:latest`));
    const r = await get(d.socket, `/distribution/${reg.host}/dist/one:latest/json`);
    assert.equal(r.status, 200, r.body);
    const j = JSON.parse(r.body) as { Descriptor: { mediaType: string; digest: string; size: number }; Platforms: unknown[] };
    assert.equal(j.Descriptor.digest, `sha256:${createHash('sha256').update(raw).digest('hex')}`);
    assert.equal(j.Descriptor.size, raw.length);
    assert.equal(j.Descriptor.mediaType, 'application/vnd.oci.image.manifest.v1+json');
    assert.deepEqual(j.Platforms, [{ architecture: 'amd64', os: 'linux' }]);
  });

  test('an index: its descriptor and every platform it lists', async () => {
    const lay = path.join(work, 'one');
    const idx0 = JSON.parse(fs.readFileSync(path.join(lay, 'index.json'), 'utf8')) as { manifests: Array<{ digest: string; size: number; mediaType: string }> };
    const m = idx0.manifests[0]!;
    const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [
      { mediaType: m.mediaType, digest: m.digest, size: m.size, platform: { architecture: 'amd64', os: 'linux' } },
      { mediaType: m.mediaType, digest: m.digest, size: m.size, platform: { architecture: 'arm64', os: 'linux', variant: 'v8' } },
    ] }));
    const digest = `sha256:${createHash('sha256').update(index).digest('hex')}`;
    fs.writeFileSync(path.join(lay, 'blobs', 'sha256', digest.slice(7)), index);
    fs.writeFileSync(path.join(lay, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.index.v1+json', digest, size: index.length, annotations: { 'org.opencontainers.image.ref.name': 'multi' } }] }));
    await skopeo('copy', '--all', '--dest-tls-verify=false', `oci:${lay}:multi`, `docker://${reg.host}/dist/multi:latest`);
    const r = await get(d.socket, `/distribution/${reg.host}/dist/multi/json`);
    assert.equal(r.status, 200, r.body);
    const j = JSON.parse(r.body) as { Descriptor: { mediaType: string; digest: string }; Platforms: unknown[] };
    assert.equal(j.Descriptor.digest, digest);
    assert.equal(j.Descriptor.mediaType, 'application/vnd.oci.image.index.v1+json');
    assert.deepEqual(j.Platforms, [{ architecture: 'amd64', os: 'linux' }, { architecture: 'arm64', os: 'linux', variant: 'v8' }]);
  });

  test('an unknown name is a 404', async () => {
    const r = await get(d.socket, `/distribution/${reg.host}/dist/nothing:latest/json`);
    assert.equal(r.status, 404, r.body);
  });

  test('search of a registry with no v1 search endpoint fails as dockerd does', async () => {
    const r = await get(d.socket, `/images/search?term=${encodeURIComponent(`${reg.host}/dist`)}`);
    assert.equal(r.status, 500, r.body);
    assert.match((JSON.parse(r.body) as { message: string }).message, /Unexpected status code 404/);
    const bad = await get(d.socket, '/images/search?term=x&limit=500');
    assert.equal(bad.status, 400, bad.body);
  });
});
