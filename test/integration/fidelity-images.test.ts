// Image fidelity against the real docker CLI: the legacy `docker save` layout (repositories + <id>/json +
// <id>/layer.tar) loads; `save <id>` writes RepoTags null so a load gives one untagged image; a load
// body that is not a tar answers 200 with the error in the JSON stream.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { startDaemon, type Daemon } from '../helpers/daemon.js';
import { tarDir } from '../helpers/registry.js';
import { busyboxRootfs } from '../helpers/rootfs.js';

const run = promisify(execFile);
const DOCKER = '/usr/local/bin/docker';
const missing = process.getuid?.() !== 0 ? 'needs root' : !fs.existsSync(DOCKER) ? 'needs the docker CLI at /usr/local/bin/docker' : undefined;
const hex = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

describe('image fidelity (docker CLI)', { skip: missing }, () => {
  let d: Daemon;
  const docker = async (...args: string[]) => (await run(DOCKER, args, { env: d.env, maxBuffer: 256 << 20 })).stdout.trim();

  before(async () => { d = await startDaemon(); });
  after(async () => { await d?.stop(); });

  test('docker load reads the legacy layout with no manifest.json', async () => {
    const w = path.join(d.dir, 'legacy');
    const base = path.join(w, hex('base'));
    const top = path.join(w, hex('top'));
    fs.mkdirSync(base, { recursive: true });
    fs.mkdirSync(top);
    fs.writeFileSync(path.join(base, 'layer.tar'), await tarDir(await busyboxRootfs(), false));
    const extra = path.join(d.dir, 'extra');
    fs.mkdirSync(extra);
    fs.writeFileSync(path.join(extra, 'hello'), 'from the legacy layer\n');
    fs.writeFileSync(path.join(top, 'layer.tar'), await tarDir(extra, false));
    fs.writeFileSync(path.join(base, 'json'), JSON.stringify({ id: hex('base'), created: '2016-01-01T00:00:00Z', os: 'linux', architecture: 'amd64' }));
    fs.writeFileSync(path.join(top, 'json'), JSON.stringify({ id: hex('top'), parent: hex('base'), created: '2016-01-02T00:00:00Z', os: 'linux', architecture: 'amd64', config: { Cmd: ['cat', '/hello'], Env: ['PATH=/bin'] } }));
    for (const l of [base, top]) fs.writeFileSync(path.join(l, 'VERSION'), '1.0');
    fs.writeFileSync(path.join(w, 'repositories'), JSON.stringify({ 'legacy/img': { v1: hex('top') } }));
    const tar = path.join(d.dir, 'legacy.tar');
    await run('tar', ['-C', w, '-cf', tar, '.']);
    assert.match(await docker('load', '-i', tar), /Loaded image: legacy\/img:v1/);
    assert.equal(await docker('image', 'inspect', '-f', '{{len .RootFS.Layers}} {{json .Config.Cmd}}', 'legacy/img:v1'), '2 ["cat","/hello"]');
    // both layers are there: the base's shell and the top's file
    assert.equal(await docker('run', '--rm', 'legacy/img:v1'), 'from the legacy layer');
    assert.equal(await docker('run', '--rm', 'legacy/img:v1', 'sh', '-c', 'echo ok'), 'ok');
  });

  test('save by image ID writes RepoTags null; load gives one untagged image', async () => {
    const tar = path.join(d.dir, 'bb.tar');
    fs.writeFileSync(tar, await tarDir(await busyboxRootfs(), false));
    await docker('import', tar, 'fid/bb:one');
    await docker('tag', 'fid/bb:one', 'fid/bb:two');
    const id = await docker('image', 'inspect', '-f', '{{.Id}}', 'fid/bb:one');
    const saved = path.join(d.dir, 'byid.tar');
    await docker('save', '-o', saved, id.slice(7, 19));
    const { stdout } = await run('tar', ['-xOf', saved, 'manifest.json']);
    assert.equal(JSON.parse(stdout)[0].RepoTags, null);
    await docker('rmi', 'fid/bb:one', 'fid/bb:two');
    assert.match(await docker('load', '-i', saved), new RegExp(`Loaded image ID: ${id}`));
    assert.equal(await docker('images', '-a', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}', '--filter', `reference=fid/*`), '');
    assert.equal(await docker('image', 'inspect', '-f', '{{json .RepoTags}}', id), '[]');
    await docker('rmi', id);
  });

  test('a load body that is not a tar answers 200 with errorDetail in the stream', async () => {
    const { status, body } = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = http.request({ socketPath: d.socket, method: 'POST', path: '/images/load', headers: { 'Content-Type': 'application/x-tar' } }, (res) => {
        let b = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => { b += c; });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: b }));
      });
      req.on('error', reject);
      req.end('this is not a tar archive, just some text that goes on for a while'.repeat(20));
    });
    assert.equal(status, 200);
    const msgs = body.trim().split(/\r?\n/).map((l) => JSON.parse(l) as { errorDetail?: { message: string }; error?: string });
    const err = msgs.find((m) => m.errorDetail);
    assert.ok(err, `no errorDetail in ${body}`);
    assert.ok(err.errorDetail!.message.length > 0);
  });
});
