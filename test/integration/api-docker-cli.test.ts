// The real docker CLI (28.2.2) and docker-py against berthd: system and image endpoints, with a local
// docker-registry and skopeo to seed it (independent of Berth's own push).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { busyboxRootfs } from '../helpers/rootfs.js';
import { haveTool, ociLayout, REGISTRY_BIN, skopeo, tarDir, type Registry } from '../helpers/registry.js';
import { eventListeners, startDaemonAndRegistry, type Daemon } from '../helpers/daemon.js';
import { eventually } from '../helpers/leaks.js';
import { DOCKER, dockerCli } from '../helpers/docker-cli.js';

const run = promisify(execFile);
const missing = process.getuid?.() !== 0 ? 'needs root' : !haveTool(REGISTRY_BIN) ? 'needs docker-registry' : !haveTool('skopeo') ? 'needs skopeo' : !fs.existsSync(DOCKER) ? 'needs the docker CLI at /usr/local/bin/docker' : undefined;

/** A proxy in front of the registry that wants HTTP Basic credentials (what X-Registry-Auth must carry). */
function basicAuthProxy(target: string, user: string, pass: string): Promise<{ host: string; close(): Promise<void> }> {
  const want = 'Basic ' + Buffer.from(`${user}:${pass}`).toString('base64');
  const server = http.createServer(async (req, res) => {
    const host = `127.0.0.1:${(server.address() as { port: number }).port}`;
    if (req.headers.authorization !== want) {
      req.resume();
      res.writeHead(401, { 'www-authenticate': 'Basic realm="test"', 'content-type': 'application/json' });
      res.end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
      return;
    }
    const body: Buffer[] = [];
    for await (const c of req) body.push(c as Buffer);
    const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => !['host', 'authorization', 'connection', 'content-length', 'transfer-encoding'].includes(k))) as Record<string, string>;
    const up = await fetch(`http://${target}${req.url}`, { method: req.method, headers, body: body.length ? Buffer.concat(body) : undefined, redirect: 'manual' });
    const data = Buffer.from(await up.arrayBuffer());
    const out: Record<string, string> = {};
    up.headers.forEach((v, k) => { if (!['content-length', 'transfer-encoding', 'connection'].includes(k)) out[k] = v; });
    if (out.location) out.location = out.location.replace(target, host);
    out['content-length'] = String(req.method === 'HEAD' ? up.headers.get('content-length') ?? 0 : data.length);
    res.writeHead(up.status, out);
    res.end(req.method === 'HEAD' ? undefined : data);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({
    host: `127.0.0.1:${(server.address() as { port: number }).port}`,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  })));
}

describe('docker CLI against berthd', { skip: missing }, () => {
  let d: Daemon;
  let reg: Registry;
  let bb: string; // 127.0.0.1:PORT/busybox:latest
  let configDigest: string;

  const { docker, ok } = dockerCli(() => d.env, { timeout: 30_000, log: () => d.log() });
  const curl = async (...args: string[]): Promise<{ status: number; body: string; type: string }> => {
    const r = await run('curl', ['-s', '-o', '-', '-w', '\n%{http_code} %{content_type}', '--unix-socket', d.socket, ...args]);
    const i = r.stdout.lastIndexOf('\n');
    const [status, type] = r.stdout.slice(i + 1).split(' ');
    return { status: Number(status), type: type ?? '', body: r.stdout.slice(0, i) };
  };

  before(async () => {
    [d, reg] = await startDaemonAndRegistry();
    const work = path.join(d.dir, 'work');
    const layout = await ociLayout(path.join(work, 'oci-bb'), [await tarDir(await busyboxRootfs())]);
    configDigest = layout.configDigest;
    await skopeo('copy', '--dest-tls-verify=false', `oci:${work}/oci-bb:latest`, `docker://${reg.host}/busybox:latest`);
    bb = `${reg.host}/busybox:latest`;
  });
  after(async () => {
    await Promise.all([d?.stop(), reg?.stop()]);
  });

  test('version and info show the server', async () => {
    const v = await ok('version', '--format', '{{.Server.APIVersion}} {{.Server.Os}} {{.Server.Version}}');
    assert.equal(v.trim(), '1.50 linux 28.2.2');
    const info = JSON.parse(await ok('info', '--format', '{{json .}}')) as Record<string, unknown>;
    assert.equal(info.Driver, 'overlay2');
    assert.equal(info.DockerRootDir, d.root);
    assert.ok(['1', '2'].includes(info.CgroupVersion as string));
    assert.ok((info.NCPU as number) >= 1 && (info.MemTotal as number) > 0);
    assert.equal(info.ContainersRunning, 0);
    assert.deepEqual(info.ServerErrors ?? [], []);
  });

  test('pull shows progress, images lists it, inspect has the fields', async () => {
    const out = await ok('pull', bb);
    assert.match(out, new RegExp(`latest: Pulling from ${reg.host}/busybox`));
    assert.match(out, /Pull complete/);
    assert.match(out, /Status: Downloaded newer image for/);
    assert.match(out, new RegExp(`${bb.replace(/[.]/g, '\\.')}`));
    const ls = await ok('images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}');
    assert.match(ls, new RegExp(`${reg.host}/busybox:latest ${configDigest.slice(7, 19)}`));
    const q = await ok('images', '-q');
    assert.equal(q.trim(), configDigest.slice(7, 19));
    const insp = JSON.parse(await ok('image', 'inspect', bb)) as Array<Record<string, unknown>>;
    assert.equal(insp[0]!.Id, configDigest);
    assert.deepEqual(insp[0]!.RepoTags, [bb]);
    assert.equal((insp[0]!.RootFS as { Type: string }).Type, 'layers');
    assert.equal(await ok('image', 'inspect', '--format', '{{.Os}}/{{.Architecture}}', bb), 'linux/amd64\n');
    const hist = await ok('image', 'history', '--format', '{{.CreatedBy}}', bb);
    assert.match(hist, /layer 0/);
    // pulling again is a no-op
    assert.match(await ok('pull', bb), /Image is up to date/);
  });

  test('tag, rmi untags then deletes', async () => {
    await ok('tag', bb, 'mytest/bb:v1');
    assert.match(await ok('images', 'mytest/bb'), /mytest\/bb\s+v1/);
    const un = await ok('rmi', 'mytest/bb:v1');
    assert.equal(un.trim(), 'Untagged: mytest/bb:v1');
    await ok('tag', bb, 'mytest/bb:v2');
    const conflict = await docker('rmi', configDigest.slice(7, 19));
    assert.notEqual(conflict.code, 0);
    assert.match(conflict.stderr, /must be forced/);
    await ok('rmi', 'mytest/bb:v2');
  });

  test('save, rmi, load round trip', async () => {
    const tar = path.join(d.dir, 'bb.tar');
    await ok('save', '-o', tar, bb);
    assert.ok(fs.statSync(tar).size > 100_000);
    const rm = await ok('rmi', bb);
    assert.match(rm, /Untagged: /);
    assert.match(rm, new RegExp(`Deleted: ${configDigest}`));
    assert.equal((await ok('images', '-q')).trim(), '');
    const missing = await docker('image', 'inspect', bb);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /No such image/);
    const load = await ok('load', '-i', tar);
    assert.match(load, new RegExp(`Loaded image: ${bb.replace(/[.]/g, '\\.')}`));
    assert.equal((await ok('images', '-q')).trim(), configDigest.slice(7, 19));
  });

  test('push to the registry, skopeo sees it', async () => {
    const target = `${reg.host}/pushed/bb:v3`;
    await ok('tag', bb, target);
    const out = await ok('push', target);
    assert.match(out, /The push refers to repository/);
    assert.match(out, /v3: digest: sha256:[a-f0-9]{64} size: \d+/);
    const raw = JSON.parse(await skopeo('inspect', '--tls-verify=false', '--raw', `docker://${target}`)) as { config: { digest: string } };
    assert.equal(raw.config.digest, configDigest);
  });

  test('login checks the registry through POST /auth', async () => {
    const r = await run('sh', ['-c', `echo pw | ${DOCKER} login -u someone --password-stdin ${reg.host}`], { env: d.env });
    assert.match(r.stdout, /Login Succeeded/);
    assert.ok(fs.readFileSync(path.join(d.env.DOCKER_CONFIG!, 'config.json'), 'utf8').includes(reg.host));
  });

  test('push and pull with credentials: X-Registry-Auth reaches the registry', async () => {
    const proxy = await basicAuthProxy(reg.host, 'alice', 's3cret');
    try {
      const target = `${proxy.host}/auth/bb:1`;
      await ok('tag', bb, target);
      const denied = await docker('push', target);
      assert.notEqual(denied.code, 0);
      assert.match(denied.stderr + denied.stdout, /unauthorized|authentication required/);
      const bad = await run('sh', ['-c', `echo wrong | ${DOCKER} login -u alice --password-stdin ${proxy.host}`], { env: d.env }).catch((e: { stderr: string }) => e);
      assert.match((bad as { stderr: string }).stderr, /unauthorized|incorrect username or password/);
      await run('sh', ['-c', `echo s3cret | ${DOCKER} login -u alice --password-stdin ${proxy.host}`], { env: d.env });
      assert.match(await ok('push', target), /1: digest: sha256:/);
      await ok('rmi', target);
      assert.match(await ok('pull', target), /Status: (Downloaded newer image|Image is up to date)/);
      await ok('rmi', target);
      await ok('logout', proxy.host);
    } finally { await proxy.close(); }
  });

  test('pull of a missing image fails clearly', async () => {
    const r = await docker('pull', `${reg.host}/nothing/here:latest`);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Error response from daemon: manifest for .*nothing\/here:latest not found/);
  });

  test('image prune -a removes unused images', async () => {
    await ok('tag', bb, 'prune/me:1');
    const out = await ok('image', 'prune', '-a', '-f');
    assert.match(out, /untagged: prune\/me:1/);
    assert.match(out, new RegExp(`deleted: ${configDigest}`));
    assert.match(out, /Total reclaimed space/);
    assert.equal((await ok('images', '-q')).trim(), '');
  });

  test('docker-py: version, pull, list, ImageNotFound', async () => {
    const py = `
import docker, json, sys
c = docker.DockerClient(base_url=sys.argv[1])
v = c.version()
img = c.images.pull(sys.argv[2], tag='latest')
tags = [t for i in c.images.list() for t in i.tags]
try:
    c.images.get('no/such:image'); nf = 'no error'
except docker.errors.ImageNotFound as e:
    nf = 'ImageNotFound'
print(json.dumps({'api': v['ApiVersion'], 'id': img.id, 'tags': tags, 'nf': nf, 'ping': c.ping()}))
`;
    const r = await run('/usr/bin/python3', ['-c', py, d.host, bb.replace(/:latest$/, '')], { timeout: 30_000 });
    const j = JSON.parse(r.stdout) as { api: string; id: string; tags: string[]; nf: string; ping: boolean };
    assert.equal(j.api, '1.50');
    assert.equal(j.id, configDigest);
    assert.deepEqual(j.tags, [bb]);
    assert.equal(j.nf, 'ImageNotFound');
    assert.equal(j.ping, true);
  });

  test('events stream (live and replayed), import, system df', async () => {
    const { spawn } = await import('node:child_process');
    const since = Math.floor(Date.now() / 1000) - 1;
    const listeners = await eventListeners(d);
    const ev = spawn(DOCKER, ['events', '--format', '{{json .}}', '--filter', 'type=image'], { env: d.env });
    let live = '';
    ev.stdout.on('data', (b: Buffer) => { live += b.toString(); });
    // the CLI is subscribed once the daemon counts one more listener (a 300 ms sleep let a slow CLI start miss 'import')
    assert.ok(await eventually(async () => (await eventListeners(d)) > listeners, 30_000), 'docker events subscribed');
    const rootfs = path.join(d.dir, 'rootfs.tar');
    await run('tar', ['-C', await busyboxRootfs(), '-cf', rootfs, '.']);
    const id = (await ok('import', '-c', 'CMD ["/bin/sh"]', '-m', 'imported', rootfs, 'imp/bb:1')).trim();
    assert.match(id, /^sha256:[a-f0-9]{64}$/);
    assert.equal(await ok('image', 'inspect', '--format', '{{json .Config.Cmd}} {{.Comment}}', 'imp/bb:1'), '["/bin/sh"] imported\n');
    await ok('tag', 'imp/bb:1', 'imp/bb:2');
    await ok('rmi', 'imp/bb:2');
    for (const end = Date.now() + 30_000; Date.now() < end && !live.includes('"untag"');) await new Promise((r) => setTimeout(r, 50));
    ev.kill();
    const actions = live.trim().split('\n').map((l) => JSON.parse(l) as { Type: string; Action: string; Actor: { ID: string; Attributes: Record<string, string> }; status: string; id: string; time: number; timeNano: number });
    assert.deepEqual(actions.map((a) => a.Action), ['import', 'tag', 'tag', 'untag']);
    assert.ok(actions.every((a) => a.Type === 'image' && a.Actor.ID === id && a.status === a.Action && a.time > 0 && a.timeNano > a.time));
    assert.equal(actions[2]!.Actor.Attributes.name, 'imp/bb:2');
    // replay: --since/--until ends by itself
    const replay = await ok('events', '--since', String(since), '--until', String(Math.floor(Date.now() / 1000) + 1), '--filter', 'event=tag', '--format', '{{.Action}} {{.Actor.Attributes.name}}');
    assert.match(replay, /tag imp\/bb:1\ntag imp\/bb:2\n/);
    const df = await ok('system', 'df', '--format', '{{.Type}} {{.TotalCount}}');
    assert.match(df, /^Images [1-9]/m);
    await ok('rmi', 'imp/bb:1');
  });

  test('bad input: malformed JSON, unknown path, unknown image, bad version', async () => {
    const bad = await curl('-X', 'POST', '-H', 'Content-Type: application/json', '-d', '{"username":', 'http://x/v1.50/auth');
    assert.equal(bad.status, 400);
    assert.equal(bad.type, 'application/json');
    assert.match((JSON.parse(bad.body) as { message: string }).message, /^invalid JSON: /);
    const nf = await curl('http://x/v1.50/nothing/here');
    assert.deepEqual([nf.status, JSON.parse(nf.body)], [404, { message: 'page not found' }]);
    const ni = await curl('http://x/images/no/such:img/json');
    assert.deepEqual([ni.status, JSON.parse(ni.body)], [404, { message: 'No such image: no/such:img' }]);
    const tagBad = await curl('-X', 'POST', `http://x/v1.50/images/${bb}/tag?repo=ok&tag=-bad`);
    assert.equal(tagBad.status, 400);
    const old = await curl('http://x/v1.11/version');
    assert.equal(old.status, 400);
    assert.match(old.body, /too old/);
  });
});
