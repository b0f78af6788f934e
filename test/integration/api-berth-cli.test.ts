// Berth's own docker-grammar commands (src/cli/docker) against berthd: the same pull/images/tag/rmi,
// save/load and push scenario the docker CLI test runs, and the message when no daemon answers.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { busyboxRootfs } from '../helpers/rootfs.js';
import { haveTool, ociLayout, REGISTRY_BIN, skopeo, tarDir, type Registry } from '../helpers/registry.js';
import { berth, startDaemonAndRegistry, type Daemon } from '../helpers/daemon.js';

const missing = process.getuid?.() !== 0 ? 'needs root' : !haveTool(REGISTRY_BIN) ? 'needs docker-registry' : !haveTool('skopeo') ? 'needs skopeo' : undefined;

describe('berth CLI against berthd', { skip: missing }, () => {
  let d: Daemon;
  let reg: Registry;
  let bb: string;
  let id: string;

  const ok = async (...args: string[]): Promise<string> => {
    const r = await berth(args, d.env);
    assert.equal(r.code, 0, `berth ${args.join(' ')} failed (${r.code}): ${r.stderr}\n${d.log().slice(-1500)}`);
    return r.stdout;
  };

  before(async () => {
    [d, reg] = await startDaemonAndRegistry();
    const work = path.join(d.dir, 'work');
    id = (await ociLayout(path.join(work, 'oci'), [await tarDir(await busyboxRootfs())])).configDigest;
    await skopeo('copy', '--dest-tls-verify=false', `oci:${work}/oci:latest`, `docker://${reg.host}/bb:latest`);
    bb = `${reg.host}/bb:latest`;
  });
  after(async () => { await Promise.all([d?.stop(), reg?.stop()]); });

  test('version and info', async () => {
    assert.equal(await ok('version', '--format', '{{.Server.APIVersion}}'), '1.50\n');
    assert.match(await ok('version'), /API version:\s+1\.50 \(minimum version 1\.12\)/);
    const info = await ok('info');
    assert.match(info, /Storage Driver: overlay2/);
    assert.match(info, /Cgroup Version: [12]/);
    assert.equal(await ok('info', '--format', '{{.Images}} {{.Driver}}'), '0 overlay2\n');
  });

  test('pull, images, tag, rmi', async () => {
    const out = await ok('pull', `${reg.host}/bb`);
    assert.match(out, /^Using default tag: latest\nlatest: Pulling from /);
    assert.match(out, /Pull complete/);
    assert.ok(out.endsWith(`${bb}\n`));
    const table = await ok('images');
    assert.match(table, /^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE\n/);
    assert.match(table, new RegExp(`${reg.host}/bb\\s+latest\\s+${id.slice(7, 19)}`));
    assert.equal(await ok('images', '-q'), `${id.slice(7, 19)}\n`);
    await ok('tag', bb, 'mine:v1');
    assert.equal(await ok('images', '--format', '{{.Repository}}:{{.Tag}}', 'mine'), 'mine:v1\n');
    const j = JSON.parse(await ok('images', '--format', '{{json .}}', 'mine')) as { ID: string; Repository: string };
    assert.deepEqual([j.ID, j.Repository], [id.slice(7, 19), 'mine']);
    assert.match(await ok('images', '--format', 'table {{.ID}}\t{{.Tag}}', 'mine'), /^IMAGE ID\s+TAG\n[0-9a-f]{12}\s+v1\n$/);
    assert.equal(await ok('rmi', 'mine:v1'), 'Untagged: mine:v1\n');
    const insp = JSON.parse(await ok('image', 'inspect', bb)) as Array<{ Id: string }>;
    assert.equal(insp[0]!.Id, id);
    assert.match(await ok('image', 'history', bb), /layer 0/);
    const gone = await berth(['image', 'inspect', 'nope:nope'], d.env);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /No such image: nope:nope/);
  });

  test('save, rmi, load, push', async () => {
    const tar = path.join(d.dir, 'bb.tar');
    await ok('save', '-o', tar, bb);
    const rm = await ok('rmi', bb);
    assert.match(rm, new RegExp(`Deleted: ${id}`));
    assert.equal(await ok('images', '-q'), '');
    assert.match(await ok('load', '-i', tar), new RegExp(`Loaded image: ${bb.replace(/\./g, '\\.')}`));
    await ok('tag', bb, `${reg.host}/again/bb:2`);
    assert.match(await ok('push', `${reg.host}/again/bb:2`), /2: digest: sha256:/);
    const raw = JSON.parse(await skopeo('inspect', '--tls-verify=false', '--raw', `docker://${reg.host}/again/bb:2`)) as { config: { digest: string } };
    assert.equal(raw.config.digest, id);
  });

  test('missing image and unreachable daemon are clear errors', async () => {
    const r = await berth(['pull', `${reg.host}/missing/img:1`], d.env);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Error response from daemon: manifest for .*missing\/img:1 not found/);
    const nowhere = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'berth-nod-')), 'no.sock');
    const u = await berth(['-H', `unix://${nowhere}`, 'images'], { ...process.env, DOCKER_HOST: '', BERTH_HOST: '' });
    assert.equal(u.code, 1);
    assert.match(u.stderr, /Cannot connect to the Berth daemon at unix:\/\/.*no\.sock/);
    assert.match(u.stderr, /berthd &/);
    fs.rmSync(path.dirname(nowhere), { recursive: true, force: true });
    const env = await berth(['version'], { ...process.env, BERTH_HOST: '', DOCKER_HOST: `unix://${nowhere}` });
    assert.match(env.stderr, /Cannot connect/);
  });
});
