// docker cp / diff / export / commit / container prune / system df through the real docker CLI (and
// docker-py): paths resolve inside the container's root, never on the host; commit round-trips through
// save/load; sizes are real.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BERTH, isRoot, run } from '../helpers/bundle.js';
import { startDaemon, type Daemon } from '../helpers/daemon.js';
import { haveTool } from '../helpers/registry.js';
import { eventually, monitorsUnder, newSockets, socketInodes } from '../helpers/leaks.js';
import { importBusybox } from '../helpers/images.js';
import { Client } from '../../src/client/index.js';
import { header } from '../../src/snapshots/tar-header.js';
import { TarWriter } from '../../src/snapshots/tar-writer.js';

const skip = !isRoot ? 'needs root' : !fs.existsSync('/usr/local/bin/docker') ? 'needs the docker CLI' : false;
const noPy = !haveTool('/usr/bin/python3') ? 'needs python3' : undefined;

/** A raw request on the daemon's socket (for what the CLI never sends: a tar with `..` entries). */
function raw(socket: string, method: string, p: string, body?: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: socket, method, path: p, headers: body ? { 'Content-Type': 'application/x-tar', 'Content-Length': body.length } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A PUT with a chunked body (no Content-Length), written in pieces of `step` bytes. */
function rawChunked(socket: string, p: string, body: Buffer, step: number): Promise<{ status: number; body: string; connection?: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: socket, method: 'PUT', path: p, headers: { 'Content-Type': 'application/x-tar' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), connection: res.headers.connection }));
    });
    req.on('error', reject);
    for (let i = 0; i < body.length; i += step) req.write(body.subarray(i, i + step));
    req.end();
  });
}

/** Bytes straight onto the daemon's socket; resolves with what came back once the daemon closes. */
function rawWire(socket: string, wire: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = net.connect(socket);
    const got: Buffer[] = [];
    c.on('data', (b) => got.push(b));
    c.on('error', reject);
    c.on('close', () => resolve(Buffer.concat(got).toString()));
    c.write(wire);
  });
}

async function tarOf(entries: Array<{ name: string; body?: string; type?: 'file' | 'dir' }>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  const w = new TarWriter((c) => { chunks.push(Buffer.from(c)); });
  for (const e of entries) await w.entry(header({ name: e.name, type: e.type ?? 'file', mode: e.type === 'dir' ? 0o755 : 0o644 }), e.body === undefined ? undefined : Buffer.from(e.body));
  await w.finish();
  return Buffer.concat(chunks);
}

describe('cp, diff, export, commit, prune, df (docker CLI)', { skip }, () => {
  let d: Daemon;
  let work: string;
  const docker = (...args: string[]) => run('/usr/local/bin/docker', args, { env: d.env });
  const ok = async (...args: string[]) => {
    const r = await docker(...args);
    assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const runDetached = async (...args: string[]) => (await ok('run', '-d', ...args)).trim();
  const berth = async (...args: string[]) => {
    const r = await run(process.execPath, [BERTH, ...args], { env: d.env });
    assert.equal(r.code, 0, `berth ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };

  before(async () => {
    d = await startDaemon();
    work = fs.mkdtempSync(path.join(d.dir, 'work-'));
    await importBusybox(d, 'bb:cp');
  });
  after(async () => { await d?.stop(); });

  test('cp -L of a symlink to /etc/shadow copies the container\'s file, not the host\'s; so do links through parents', async () => {
    const id = await runDetached('bb:cp', 'sh', '-c', 'echo container-shadow > /etc/shadow; ln -s /etc/shadow /lnk; ln -s ../../../../../etc/shadow /rel; ln -s / /up; touch /ready; sleep 1000');
    await waitFor(() => docker('exec', id, 'test', '-e', '/ready').then((r) => r.code === 0));
    for (const [src, name] of [['/lnk', 'a'], ['/rel', 'b'], ['/up/etc/shadow', 'c'], ['/up/../../etc/shadow', 'e']] as const) {
      await ok('cp', '-L', `${id}:${src}`, path.join(work, name));
      assert.equal(fs.readFileSync(path.join(work, name), 'utf8'), 'container-shadow\n', `cp ${src}`);
    }
    const actions = (await ok('events', '--since', '0', '--until', String(Math.ceil(Date.now() / 1000) + 1), '--filter', `container=${id}`, '--format', '{{.Action}}')).split('\n');
    assert.ok(actions.includes('archive-path'), `copy events: ${JSON.stringify(actions)}`);
    // without -L the link itself is copied (docker's behaviour), never what it names on the host
    await ok('cp', `${id}:/lnk`, path.join(work, 'd'));
    assert.equal(fs.readlinkSync(path.join(work, 'd')), '/etc/shadow');
    await ok('rm', '-f', id);
  });

  test('cp into a path that escapes through `..` (or a link to /) stays inside the container', async () => {
    const id = await runDetached('bb:cp', 'sh', '-c', 'ln -s / /hostroot; touch /ready; sleep 1000');
    await waitFor(() => docker('exec', id, 'test', '-e', '/ready').then((r) => r.code === 0));
    const name = `berth-cp-${randomBytes(6).toString('hex')}`;
    const local = path.join(work, 'payload.txt');
    fs.writeFileSync(local, 'payload\n');
    await ok('cp', local, `${id}:/../../../../tmp/${name}`);
    await ok('cp', local, `${id}:/hostroot/tmp/${name}.2`);
    assert.equal(fs.existsSync(`/tmp/${name}`), false, 'landed on the host');
    assert.equal(fs.existsSync(`/tmp/${name}.2`), false, 'landed on the host');
    assert.equal(await ok('exec', id, 'cat', `/tmp/${name}`, `/tmp/${name}.2`), 'payload\npayload\n');
    // a tar entry climbing out with `..` is refused, nothing is written
    const evil = await tarOf([{ name: `../../../../../../tmp/${name}.3`, body: 'evil\n' }]);
    const actions = (await ok('events', '--since', '0', '--until', String(Math.ceil(Date.now() / 1000) + 1), '--filter', `container=${id}`, '--format', '{{.Action}}')).split('\n');
    assert.ok(actions.includes('extract-to-dir'), `copy events: ${JSON.stringify(actions)}`);
    const r = await raw(d.socket, 'PUT', `/containers/${id}/archive?path=/tmp`, evil);
    assert.equal(r.status, 400, r.body);
    assert.match(r.body, /climbs out/);
    assert.equal(fs.existsSync(`/tmp/${name}.3`), false);
    assert.equal((await docker('exec', id, 'test', '-e', `/tmp/${name}.3`)).code, 1);
    await ok('rm', '-f', id);
  });

  test('cp from a missing path and to a non-directory are errors in docker\'s words', async () => {
    const id = await runDetached('bb:cp', 'sleep', '1000');
    const miss = await docker('cp', `${id}:/nope`, path.join(work, 'x'));
    assert.notEqual(miss.code, 0);
    assert.match(miss.stderr, /Could not find the file \/nope in container/);
    const local = path.join(work, 'f.txt');
    fs.writeFileSync(local, 'x');
    const nodir = await raw(d.socket, 'PUT', `/containers/${id}/archive?path=/etc/passwd`, await tarOf([{ name: 'f.txt', body: 'x' }]));
    assert.equal(nodir.status, 400);
    assert.match(nodir.body, /extraction point is not a directory/);
    const cli = await docker('cp', local, `${id}:/etc/passwd/f.txt`);
    assert.notEqual(cli.code, 0);
    const missDir = await docker('cp', local, `${id}:/no/such/dir/`);
    assert.notEqual(missDir.code, 0);
    const head = await raw(d.socket, 'HEAD', `/containers/${id}/archive?path=/nope`);
    assert.equal(head.status, 404);
    const noCtr = await docker('cp', 'nosuchctr:/etc/passwd', path.join(work, 'y'));
    assert.notEqual(noCtr.code, 0);
    assert.match(noCtr.stderr, /No such container: nosuchctr/);
    await ok('rm', '-f', id);
  });

  test('cp both ways on a stopped container, directories included, and into a volume', async () => {
    const id = (await ok('create', '-v', 'cpvol:/data', 'bb:cp', 'sh', '-c', 'cat /in/dir/a /data/v')).trim();
    const dir = path.join(work, 'dir');
    fs.mkdirSync(path.join(dir, 'sub'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'a'), 'A\n');
    fs.writeFileSync(path.join(dir, 'sub', 'b'), 'B\n');
    await ok('cp', dir, `${id}:/in`);   // /in does not exist: dir becomes /in
    await ok('cp', dir, `${id}:/in/`);  // /in exists: dir goes into it
    fs.writeFileSync(path.join(work, 'v'), 'V\n');
    await ok('cp', path.join(work, 'v'), `${id}:/data/v`);
    const mp = JSON.parse(await ok('volume', 'inspect', 'cpvol'))[0].Mountpoint as string;
    assert.equal(fs.readFileSync(path.join(mp, 'v'), 'utf8'), 'V\n', 'the file went into the volume');
    await ok('cp', `${id}:/in`, path.join(work, 'back'));
    assert.equal(fs.readFileSync(path.join(work, 'back', 'sub', 'b'), 'utf8'), 'B\n');
    assert.equal(fs.readFileSync(path.join(work, 'back', 'dir', 'a'), 'utf8'), 'A\n');
    await ok('start', id);
    assert.equal((await ok('wait', id)).trim(), '0');
    assert.equal(await ok('logs', id), 'A\nV\n');
    await ok('cp', `${id}:/data/v`, path.join(work, 'v2'));
    assert.equal(fs.readFileSync(path.join(work, 'v2'), 'utf8'), 'V\n');
    await ok('rm', id);
    await ok('volume', 'rm', 'cpvol');
  });

  test('docker diff shows A, C and D; export is a tar of the root filesystem', async () => {
    const id = await runDetached('bb:cp', 'sh', '-c', 'mkdir /newdir; echo hi > /newdir/f; echo x >> /etc/passwd; rm /etc/group; rm -rf /mnt/* 2>/dev/null; touch /ready; sleep 1000');
    await waitFor(() => docker('exec', id, 'test', '-e', '/ready').then((r) => r.code === 0));
    const lines = (await ok('diff', id)).trim().split('\n');
    for (const l of ['A /newdir', 'A /newdir/f', 'C /etc', 'C /etc/passwd', 'D /etc/group']) assert.ok(lines.includes(l), `${l} in ${JSON.stringify(lines)}`);
    assert.ok(!lines.some((l) => l.endsWith('/bin/busybox')), 'unchanged files are not listed');
    assert.ok(!lines.includes('A /etc/hosts') && !lines.includes('A /proc'), `the runtime's mount points are not changes: ${JSON.stringify(lines)}`);
    const quiet = await runDetached('bb:cp', 'sleep', '1000');
    assert.equal(await ok('diff', quiet), '', 'a container that changed nothing has no changes');
    await ok('rm', '-f', quiet);
    await ok('stop', '-t', '0', id);
    assert.ok((await ok('diff', id)).includes('D /etc/group'), 'diff of a stopped container');
    const out = path.join(work, 'export.tar');
    await ok('export', '-o', out, id);
    const names = (await run('tar', ['-tf', out])).stdout.split('\n');
    for (const n of ['bin/busybox', 'newdir/f', 'etc/passwd']) assert.ok(names.includes(n), `${n} in the export`);
    assert.ok(!names.includes('etc/group'), 'a deleted file is not exported');
    const x = path.join(work, 'x');
    fs.mkdirSync(x);
    await run('tar', ['-xf', out, '-C', x, 'newdir/f']);
    assert.equal(fs.readFileSync(path.join(x, 'newdir', 'f'), 'utf8'), 'hi\n');
    const actions = (await ok('events', '--since', '0', '--until', String(Math.ceil(Date.now() / 1000) + 1), '--filter', `container=${id}`, '--format', '{{.Action}}')).split('\n');
    assert.ok(actions.includes('export'), `export event: ${JSON.stringify(actions)}`);
    await ok('rm', id);
  });

  test('commit -> save -> rmi -> load -> run reproduces the change; --change CMD applies; deletions and opaque dirs hold', async () => {
    const id = await runDetached('bb:cp', 'sh', '-c', 'echo committed > /hello.txt; rm /etc/group; rm -rf /etc/sub; mkdir -p /opq/old; touch /ready; sleep 1000');
    await waitFor(() => docker('exec', id, 'test', '-e', '/ready').then((r) => r.code === 0));
    // the running container is paused while committed, and runs on after
    const imgId = (await ok('commit', '--change', 'CMD ["cat", "/hello.txt"]', '--change', 'ENV FOO=bar', '-m', 'a message', '-a', 'me', id, 'committed:v1')).trim();
    assert.match(imgId, /^sha256:[0-9a-f]{64}$/);
    assert.equal((await ok('inspect', '-f', '{{.State.Status}}', id)).trim(), 'running');
    const ev = (await ok('events', '--since', '0', '--until', String(Math.ceil(Date.now() / 1000) + 1), '--filter', `container=${id}`, '--filter', 'event=commit', '--format', '{{.Actor.Attributes.imageID}}')).trim();
    assert.equal(ev, imgId, 'a commit event naming the image');
    const [img] = JSON.parse(await ok('image', 'inspect', 'committed:v1'));
    assert.deepEqual(img.Config.Cmd, ['cat', '/hello.txt']);
    assert.ok(img.Config.Env.includes('FOO=bar'));
    assert.equal(img.Comment, 'a message');
    assert.equal(img.Author, 'me');
    const hist = await ok('history', '--no-trunc', 'committed:v1');
    assert.match(hist, /a message/);
    // a second commit over an opaque directory (rm -rf of image content, then mkdir)
    await ok('rm', '-f', id);
    const id2 = await runDetached('committed:v1', 'sh', '-c', 'rm -rf /opq; mkdir /opq; touch /opq/new /ready; sleep 1000');
    await waitFor(() => docker('exec', id2, 'test', '-e', '/ready').then((r) => r.code === 0));
    await ok('commit', id2, 'committed:v2');
    await ok('rm', '-f', id2);
    const saved = path.join(work, 'saved.tar');
    await ok('save', '-o', saved, 'committed:v1', 'committed:v2');
    await ok('rmi', 'committed:v1', 'committed:v2');
    assert.notEqual((await docker('image', 'inspect', 'committed:v1')).code, 0);
    await ok('load', '-i', saved);
    assert.equal(await ok('run', '--rm', 'committed:v1'), 'committed\n');
    assert.equal(await ok('run', '--rm', 'committed:v1', 'sh', '-c', 'test -e /etc/group && echo present || echo gone; echo $FOO'), 'gone\nbar\n');
    assert.equal(await ok('run', '--rm', 'committed:v2', 'ls', '/opq'), 'new\n');
  });

  test('commit of a missing container is a 404; a bad --change a 400', async () => {
    const r = await docker('commit', 'nosuchctr', 'x:y');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /No such container: nosuchctr/);
    const raw404 = await raw(d.socket, 'POST', '/commit?container=nosuchctr&repo=x');
    assert.equal(raw404.status, 404);
    const id = (await ok('create', 'bb:cp', 'true')).trim();
    const bad = await docker('commit', '--change', 'RUN echo', id, 'x:y');
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /RUN is not a valid change command/);
    await ok('rm', id);
  });

  test('container prune removes exited containers only; system df and ps -s show real sizes', async () => {
    const running = await runDetached('bb:cp', 'sh', '-c', 'dd if=/dev/zero of=/big bs=1024 count=2048 2>/dev/null; touch /ready; sleep 1000');
    await waitFor(() => docker('exec', running, 'test', '-e', '/ready').then((r) => r.code === 0));
    const exited = (await ok('run', '-d', 'bb:cp', 'true')).trim();
    assert.equal((await ok('wait', exited)).trim(), '0');
    const client = new Client(d.host);
    const df = await client.json<{ Containers: Array<{ Id: string; SizeRw: number; SizeRootFs: number }>; Images: Array<{ Size: number; Containers: number }> }>('GET', '/system/df');
    const mine = df.Containers.find((c) => c.Id === running)!;
    assert.ok(mine.SizeRw >= 2 << 20, `SizeRw ${mine.SizeRw}`);
    assert.ok(mine.SizeRootFs > mine.SizeRw, `SizeRootFs ${mine.SizeRootFs}`);
    assert.ok(df.Images.some((i) => i.Size > 0 && i.Containers >= 2));
    const [insp] = JSON.parse(await ok('inspect', '-s', running));
    assert.ok(insp.SizeRw >= 2 << 20);
    assert.match(await ok('ps', '-s', '--filter', `id=${running}`, '--format', '{{.Size}}'), /^2\.\d+MB \(virtual /);
    assert.match(await ok('system', 'df'), /Containers\s+\d+\s+\d+\s+\S+/);
    await ok('volume', 'create', 'dfvol');
    const verbose = await ok('system', 'df', '-v');
    assert.match(verbose, /Local Volumes space usage:[\s\S]*dfvol\s+0\s+0B/);
    assert.match(verbose, new RegExp(`${running.slice(0, 12)}\\s+bb:cp[\\s\\S]*?2\\.\\d+MB`));
    await ok('volume', 'rm', 'dfvol');
    const out = await ok('container', 'prune', '-f');
    assert.match(out, new RegExp(exited));
    assert.doesNotMatch(out, new RegExp(running));
    const left = (await ok('ps', '-aq', '--no-trunc')).trim().split('\n');
    assert.ok(left.includes(running) && !left.includes(exited));
    // docker system prune calls every prune route and stops at the first error
    assert.match(await ok('system', 'prune', '-f'), /Total reclaimed space/);
    await ok('rm', '-f', running);
  });

  test('berth cp / diff / export / commit / container prune / system df / system prune', async () => {
    const id = await runDetached('bb:cp', 'sh', '-c', 'echo inside > /etc/shadow; ln -s /etc/shadow /lnk; rm /etc/group; touch /ready; sleep 1000');
    await waitFor(() => docker('exec', id, 'test', '-e', '/ready').then((r) => r.code === 0));
    await berth('cp', '-L', `${id}:/lnk`, path.join(work, 'bl'));
    assert.equal(fs.readFileSync(path.join(work, 'bl'), 'utf8'), 'inside\n');
    const dir = path.join(work, 'bdir');
    fs.mkdirSync(path.join(dir, 'sub'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'sub', 'f'), 'F\n');
    fs.symlinkSync('sub/f', path.join(dir, 'link'));
    await berth('cp', dir, `${id}:/bdir`);
    assert.equal(await ok('exec', id, 'cat', '/bdir/sub/f', '/bdir/link'), 'F\nF\n');
    await berth('cp', `${id}:/bdir`, path.join(work, 'bback'));
    assert.equal(fs.readFileSync(path.join(work, 'bback', 'sub', 'f'), 'utf8'), 'F\n');
    assert.equal(fs.readlinkSync(path.join(work, 'bback', 'link')), 'sub/f');
    const miss = await run(process.execPath, [BERTH, 'cp', `${id}:/nope`, path.join(work, 'n')], { env: d.env });
    assert.notEqual(miss.code, 0);
    assert.match(miss.stderr, /Could not find the file \/nope in container/);
    const lines = (await berth('diff', id)).split('\n');
    for (const l of ['A /bdir', 'A /bdir/sub/f', 'C /etc', 'A /etc/shadow', 'D /etc/group']) assert.ok(lines.includes(l), `${l} in ${JSON.stringify(lines)}`);
    await berth('export', '-o', path.join(work, 'b.tar'), id);
    assert.ok((await run('tar', ['-tf', path.join(work, 'b.tar')])).stdout.split('\n').includes('bdir/sub/f'));
    const img = (await berth('commit', '-c', 'CMD ["cat", "/bdir/sub/f"]', '-m', 'via berth', id, 'berthcommit:1')).trim();
    assert.match(img, /^sha256:/);
    assert.equal(await ok('run', '--rm', 'berthcommit:1'), 'F\n');
    await ok('stop', '-t', '0', id);
    assert.match(await berth('system', 'df'), /Containers\s+1\s+0\s+\S+\s+\S+/);
    assert.match(await berth('system', 'df', '-v'), new RegExp(`Containers space usage:[\\s\\S]*${id.slice(0, 12)}\\s+bb:cp`));
    assert.match(await berth('container', 'prune', '-f'), new RegExp(`Deleted Containers:\n${id}`));
    assert.match(await berth('system', 'prune', '-f'), /Total reclaimed space/);
  });

  test('berth cp in and out makes what docker cp makes: symlinks, hard links, long names, modes, empty dirs, owners with -a', async () => {
    const id = await runDetached('bb:cp', 'sh', '-c', 'mkdir /viadocker /viaberth /plaindocker /plainberth; touch /ready; sleep 1000');
    await waitFor(() => docker('exec', id, 'test', '-e', '/ready').then((r) => r.code === 0));
    const long = `${'long-name-'.repeat(12)}end`;
    const deep = Array.from({ length: 6 }, (_, i) => `level-${i}-${'x'.repeat(40)}`).join('/');
    const src = path.join(work, 'fidelity');
    fs.mkdirSync(path.join(src, 'sub', deep), { recursive: true });
    fs.mkdirSync(path.join(src, 'empty'));
    fs.chmodSync(path.join(src, 'empty'), 0o1777);
    fs.writeFileSync(path.join(src, 'sub', 'a'), 'A\n');
    fs.writeFileSync(path.join(src, 'sub', deep, 'deep'), 'deep\n');
    fs.writeFileSync(path.join(src, long), Buffer.alloc(1536, 7));
    fs.writeFileSync(path.join(src, 'exec'), '#!/bin/sh\n');
    fs.chmodSync(path.join(src, 'exec'), 0o4755);
    fs.writeFileSync(path.join(src, 'private'), 'p');
    fs.chmodSync(path.join(src, 'private'), 0o640);
    fs.chownSync(path.join(src, 'private'), 1234, 5678);
    fs.chownSync(path.join(src, 'sub'), 4321, 8765);
    fs.linkSync(path.join(src, 'sub', 'a'), path.join(src, 'hard'));
    fs.symlinkSync('sub/a', path.join(src, 'rel-link'));
    fs.symlinkSync('/etc/passwd', path.join(src, 'abs-link'));
    fs.symlinkSync(long, path.join(src, 'long-link'));
    await ok('cp', '-a', src, `${id}:/viadocker/`);
    await berth('cp', '-a', src, `${id}:/viaberth/`);
    await ok('cp', src, `${id}:/plaindocker/`);
    await berth('cp', src, `${id}:/plainberth/`);
    // every name below the copy with type, mode, owner, size, link count, link text, mtime and content
    const list = async (dir: string) => ok('exec', id, 'sh', '-c',
      `cd ${dir} && find . -mindepth 1 | sort | while read f; do stat -c '%n %F %a %u %g %s %h %N %Y' "$f"; test -f "$f" && ! test -L "$f" && md5sum "$f"; done`);
    const viaDocker = await list('/viadocker');
    assert.equal(await list('/viaberth'), viaDocker);
    assert.equal(await list('/plainberth'), await list('/plaindocker'));
    for (const want of [/\.\/fidelity\/private regular file 640 1234 5678 1 1 /, /\.\/fidelity\/sub directory 755 4321 8765 /, /\.\/fidelity\/hard regular file 644 0 0 2 2 /,
      /\.\/fidelity\/exec regular file 4755 /, /\.\/fidelity\/empty directory 1777 /, /'\.\/fidelity\/rel-link' -> 'sub\/a'/, /'\.\/fidelity\/long-link' -> 'long-name-/,
      new RegExp(`\\./fidelity/${long} regular file 644 0 0 1536 1 `), /\/level-5-x+\/deep regular file/]) assert.match(viaDocker, want);
    assert.match(await list('/plainberth'), /\.\/fidelity\/private regular file 640 0 0 /);
    // and back out: the docker CLI and the berth CLI make the same local tree
    await ok('cp', `${id}:/viadocker/fidelity`, path.join(work, 'outdocker'));
    await berth('cp', `${id}:/viaberth/fidelity`, path.join(work, 'outberth'));
    const outDocker = describeLocal(path.join(work, 'outdocker'));
    assert.deepEqual(describeLocal(path.join(work, 'outberth')), outDocker);
    assert.deepEqual(Object.keys(outDocker), Object.keys(describeLocal(src)));
    await ok('rm', '-f', id);
  });

  test('several MiB both ways through both CLIs arrive whole (buffers reused while a piece is in flight), over files already there', async () => {
    const id = await runDetached('bb:cp', 'sh', '-c', 'mkdir -p /big/viadocker; touch /ready; sleep 1000');
    await waitFor(() => docker('exec', id, 'test', '-e', '/ready').then((r) => r.code === 0));
    const src = path.join(work, 'bigsrc');
    fs.mkdirSync(path.join(src, 'd'), { recursive: true });
    // odd sizes around the 1 MiB pieces, random content: a piece written over in flight shows in a hash
    const sizes = [(3 << 20) + 17, 1 << 20, (1 << 20) - 1, 5, (2 << 20) + 4096 + 1];
    sizes.forEach((n, i) => fs.writeFileSync(path.join(src, i % 2 ? 'd' : '.', `f${i}`), randomBytes(n)));
    const sums = (dir: string) => ok('exec', id, 'sh', '-c', `cd ${dir} && find . -type f | sort | xargs md5sum`);
    const local = (dir: string) => Object.fromEntries(Object.entries(describeLocal(dir)).filter(([, v]) => /^file/.test(v))
      .map(([k]) => [k, createHash('md5').update(fs.readFileSync(path.join(dir, k))).digest('hex')]));
    for (let round = 0; round < 2; round++) {
      // the second round replaces every file (the daemon unlinks and makes each anew)
      await berth('cp', src, `${id}:/big/`);
      await ok('cp', src, `${id}:/big/viadocker/`);
      const want = (await run('sh', ['-c', `cd ${src} && find . -type f | sort | xargs md5sum`])).stdout;
      assert.equal(await sums('/big/bigsrc'), want);
      assert.equal(await sums('/big/viadocker/bigsrc'), want);
      fs.rmSync(path.join(work, 'bigout-berth'), { recursive: true, force: true });
      fs.rmSync(path.join(work, 'bigout-docker'), { recursive: true, force: true });
      await berth('cp', `${id}:/big/bigsrc`, path.join(work, 'bigout-berth'));
      await ok('cp', `${id}:/big/bigsrc`, path.join(work, 'bigout-docker'));
      assert.deepEqual(local(path.join(work, 'bigout-berth')), local(src));
      assert.deepEqual(local(path.join(work, 'bigout-docker')), local(src));
    }
    await ok('rm', '-f', id);
  });

  test('cp in off the raw socket: chunked and Content-Length bodies, bad framing, an error before the body, a client gone mid-body', async () => {
    const id = await runDetached('bb:cp', 'sleep', '1000');
    const put = `/v1.41/containers/${id}/archive?path=/tmp`;
    const cat = async (f: string) => (await ok('exec', id, 'cat', f));
    // chunked (node's client sends chunked when it is given no length), cut in pieces that fit nothing
    const big = randomBytes(300_000).toString('base64');
    const r1 = await rawChunked(d.socket, put, await tarOf([{ name: 'dir', type: 'dir' }, { name: 'dir/a.txt', body: big }, { name: 'b.txt', body: 'bee' }]), 777);
    assert.equal(r1.status, 200, r1.body);
    assert.equal(r1.connection, 'close');
    assert.equal(await cat('/tmp/dir/a.txt'), big);
    assert.equal(await cat('/tmp/b.txt'), 'bee');
    // Content-Length
    const r2 = await raw(d.socket, 'PUT', put, await tarOf([{ name: 'c.txt', body: 'sea' }]));
    assert.equal(r2.status, 200, r2.body);
    assert.equal(await cat('/tmp/c.txt'), 'sea');
    // bad chunked framing: a 400 in docker's JSON, then the connection closes
    const bad = await rawWire(d.socket, Buffer.from(`PUT ${put} HTTP/1.1\r\nHost: berth\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n`));
    assert.match(bad, /^HTTP\/1\.1 400 /);
    assert.match(bad, /\{"message":"invalid chunked request body: no chunk size"\}/);
    // an error before the body is read: the client gets the 404 (the body is read and dropped), not a broken pipe
    const r3 = await rawChunked(d.socket, '/v1.41/containers/nosuchctr/archive?path=/tmp', Buffer.alloc(4 << 20), 65536);
    assert.equal(r3.status, 404);
    assert.match(r3.body, /No such container: nosuchctr/);
    // the client goes away in the middle of a file: the daemon lets go of everything, and copies go on
    const fds = () => fs.readdirSync(`/proc/${d.pid}/fd`).length;
    // the baseline once the warm monitor the last exec (cat) asked for is up, with its waiting child: counted while it
    // was still starting, its fds came after the baseline and never left (each exec below trades it for a new one)
    await waitFor(async () => monitorsUnder(path.join(d.root, 'run', 'exec')).length >= 2);
    const before = fds();
    const c = net.connect(d.socket);
    await new Promise<void>((r) => c.once('connect', () => r()));
    const tarHead = (await tarOf([{ name: 'half.bin', body: 'x'.repeat(10 << 20) }])).subarray(0, 512 + (1 << 20));
    c.write(`PUT ${put} HTTP/1.1\r\nHost: berth\r\nTransfer-Encoding: chunked\r\n\r\n${tarHead.length.toString(16)}\r\n`);
    c.write(tarHead);
    await waitFor(async () => (await docker('exec', id, 'test', '-s', '/tmp/half.bin')).code === 0);
    c.destroy();
    await waitFor(async () => fds() <= before);
    const r4 = await raw(d.socket, 'PUT', put, await tarOf([{ name: 'after.txt', body: 'after' }]));
    assert.equal(r4.status, 200, r4.body);
    assert.equal(await cat('/tmp/after.txt'), 'after');
    await ok('rm', '-f', id);
  });

  test('docker cp into leaves no socket behind in the daemon: each PUT archive\'s connection closes after the answer', async () => {
    const id = (await ok('create', 'bb:cp', 'true')).trim();
    const src = path.join(work, 'fd-src');
    fs.mkdirSync(path.join(src, 'sub'), { recursive: true });
    fs.writeFileSync(path.join(src, 'sub', 'f'), 'f');
    // by inode: a socket in the baseline that closes meanwhile (the CLI's last connection) would hide a new one
    await ok('ps'); // the CLI's first connection is made and gone
    const before = socketInodes(d.pid);
    const sockets = () => newSockets(d.pid, before);
    for (let i = 0; i < 5; i++) await ok('cp', src, `${id}:/`);
    // answered before the body was read (the body is dropped): those connections close too
    for (let i = 0; i < 3; i++) assert.equal((await raw(d.socket, 'PUT', `/v1.41/containers/${id}/archive?path=/nonexist`, await tarOf([{ name: 'x', body: 'x' }]))).status, 404);
    // f9f01d0: 7 more after the 8 (a PUT's socket stayed paused after the answer and never saw the client's end)
    await waitFor(async () => sockets() === 0).catch(() => assert.fail(`${sockets()} new sockets in berthd after 8 PUT archives`));
    assert.equal((await ok('cp', `${id}:/fd-src/sub/f`, '-')).length > 0, true);
    await ok('rm', id);
  });

  test('an export or cp out whose client leaves mid-stream lets go of the stopped container\'s root: start and rm go on', async () => {
    // 40 MB in the root: far more than the socket queues, so the daemon is mid-stream when the client leaves
    const id = (await ok('create', 'bb:cp', 'sh', '-c', 'test -s /big && echo again')).trim();
    const big = path.join(work, 'big.bin');
    fs.writeFileSync(big, Buffer.alloc(40 << 20, 7));
    await ok('cp', big, `${id}:/big`);
    /** Reads `n` bytes of a GET's answer, then leaves without a word. */
    const leaveAfter = (p: string, n: number) => new Promise<void>((resolve, reject) => {
      const c = net.connect(d.socket);
      let got = 0;
      // a reader left holding the root makes the next one wait for ever: fail, not hang
      const t = setTimeout(() => { c.destroy(); reject(new Error(`${p}: ${got} bytes in 30 s`)); }, 30_000);
      c.on('error', reject);
      c.on('data', (b: Buffer) => { got += b.length; if (got >= n) { clearTimeout(t); c.destroy(); resolve(); } });
      c.on('end', () => reject(new Error(`the daemon ended ${p} after ${got} bytes`)));
      c.write(`GET ${p} HTTP/1.1\r\nHost: berth\r\n\r\n`);
    });
    await leaveAfter(`/v1.41/containers/${id}/export`, 256 << 10);
    await leaveAfter(`/v1.41/containers/${id}/archive?path=/big`, 256 << 10);
    // the stopped container's root is mounted for a reader; start waits for every reader to be done
    const started = await run('/usr/local/bin/docker', ['start', '-a', id], { env: d.env, timeout: 60_000 });
    assert.equal(started.code, 0, `start after the readers left: ${started.stderr}`);
    assert.equal(started.stdout.trim(), 'again');
    await leaveAfter(`/v1.41/containers/${id}/export`, 256 << 10);
    await ok('rm', id);
  });

  test('docker-py: commit, put_archive, get_archive', { skip: noPy }, async () => {
    const py = `
import docker, io, sys, tarfile
c = docker.DockerClient(base_url=sys.argv[1])
ct = c.containers.run(sys.argv[2], ["sleep", "1000"], detach=True)
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w") as t:
    data = b"from python\\n"
    ti = tarfile.TarInfo("py.txt"); ti.size = len(data)
    t.addfile(ti, io.BytesIO(data))
print(ct.put_archive("/tmp", buf.getvalue()))
bits, stat = ct.get_archive("/tmp/py.txt")
raw = b"".join(bits)
with tarfile.open(fileobj=io.BytesIO(raw)) as t:
    print(stat["name"], stat["size"], t.extractfile("py.txt").read().decode().strip())
img = ct.commit(repository="pycommit", tag="t1", changes=["CMD cat /tmp/py.txt"])
print(c.containers.run("pycommit:t1", remove=True).decode().strip())
ct.remove(force=True)
try:
    c.api.commit("nosuchctr")
except docker.errors.NotFound as e:
    print("notfound")
`;
    const r = await run('/usr/bin/python3', ['-c', py, d.host, 'bb:cp'], { env: d.env });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, 'True\npy.txt 12 from python\nfrom python\nnotfound\n');
  });
});

/** Every name under `root` with what a copy out keeps: type, mode, owner, size, link text, content, which names share an inode, mtime. */
function describeLocal(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const inodes = new Map<number, string>();
  const walk = (rel: string) => {
    const p = path.join(root, rel);
    const st = fs.lstatSync(p);
    const meta = `${(st.mode & 0o7777).toString(8)} ${st.uid}:${st.gid}`;
    if (st.isDirectory()) {
      if (rel) out[rel] = `dir ${meta} ${Math.floor(st.mtimeMs / 1000)}`;
      for (const n of fs.readdirSync(p).sort()) walk(rel ? `${rel}/${n}` : n);
    } else if (st.isSymbolicLink()) out[rel] = `symlink -> ${fs.readlinkSync(p)}`;
    else {
      const first = inodes.get(st.ino);
      if (first === undefined) inodes.set(st.ino, rel);
      out[rel] = `file ${meta} ${st.size} ${fs.readFileSync(p).toString('base64').slice(0, 24)}${first ? ` same as ${first}` : ''} ${Math.floor(st.mtimeMs / 1000)}`;
    }
  };
  walk('');
  return out;
}

/** Polls a state that stays once reached; the deadline is a hang guard (400 tries 25 ms apart were ~10 s, within
 *  reach of a loaded machine). */
async function waitFor(cond: () => Promise<boolean>): Promise<void> {
  if (!await eventually(cond, 60_000, 25)) throw new Error('condition never held');
}
