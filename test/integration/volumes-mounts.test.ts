// Mounts through the real docker CLI: --mount (volume, bind readonly, tmpfs size/mode, bind propagation),
// -v /path and HostConfig.Binds shown as given, --volumes-from, a tmpfs volume of the local driver
// mounted only while used (with mount/unmount events), bad specs refused with nothing made.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { isRoot } from '../helpers/bundle.js';
import { startDaemon, type Daemon } from '../helpers/daemon.js';
import { dockerCli } from '../helpers/docker-cli.js';
import { tarDir } from '../helpers/registry.js';
import { importBusybox } from '../helpers/images.js';
import { busyboxRootfs } from '../helpers/rootfs.js';
import { mountInfo } from '../../src/util/mountinfo.js';

const skip = !isRoot ? 'needs root' : !fs.existsSync('/usr/local/bin/docker') ? 'needs the docker CLI' : false;

/** One raw API request on the daemon's socket: status and parsed body. */
function api(socket: string, method: string, p: string, body?: unknown): Promise<{ status: number; body: { message?: string } & Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = http.request({ socketPath: socket, method, path: p, headers: data ? { 'Content-Type': 'application/json', 'Content-Length': data.length } : {} }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString();
        resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : {} });
      });
    });
    req.on('error', reject);
    req.end(data);
  });
}

const mounted = (p: string) => mountInfo().some((m) => m.point === p);

describe('mounts (docker CLI)', { skip }, () => {
  let d: Daemon;
  const { docker, ok } = dockerCli(() => d.env);
  const inspect = async (name: string) => JSON.parse(await ok('inspect', name))[0];

  before(async () => {
    d = await startDaemon();
    await importBusybox(d, 'bb:mnt');
  });
  after(async () => { await d?.stop(); });

  test('--mount volume and bind readonly; -v /path; inspect Mounts and HostConfig as given', async () => {
    const host = fs.mkdtempSync(path.join(d.dir, 'bind-'));
    fs.writeFileSync(path.join(host, 'f'), 'host file\n');
    const out = await ok('run', '--name', 'm1', '--mount', 'type=volume,source=mv1,target=/vol,volume-label=team=a',
      '--mount', `type=bind,source=${host},target=/ro,readonly`, '-v', '/anon', '-v', `${host}:/rw:rw,z`, 'bb:mnt',
      'sh', '-c', 'echo v > /vol/x && cat /ro/f && if touch /ro/new 2>/dev/null; then echo WROTE; else echo refused; fi; touch /rw/ok && echo rw-ok');
    assert.equal(out, 'host file\nrefused\nrw-ok\n');
    assert.ok(!fs.existsSync(path.join(host, 'new')), 'a readonly bind is read-only');
    assert.ok(fs.existsSync(path.join(host, 'ok')));
    const i = await inspect('m1');
    assert.deepEqual(i.HostConfig.Binds, [`${host}:/rw:rw,z`], 'Binds as the user gave them');
    assert.deepEqual(i.Config.Volumes, { '/anon': {} });
    assert.deepEqual(i.HostConfig.Mounts.map((m: { Type: string; Target: string }) => `${m.Type} ${m.Target}`), ['volume /vol', 'bind /ro']);
    const mounts = Object.fromEntries(i.Mounts.map((m: { Destination: string }) => [m.Destination, m]));
    assert.deepEqual(Object.keys(mounts).sort(), ['/anon', '/ro', '/rw', '/vol']);
    assert.deepEqual({ ...mounts['/vol'], Source: '' }, { Type: 'volume', Name: 'mv1', Source: '', Destination: '/vol', Driver: 'local', Mode: 'z', RW: true, Propagation: '' });
    assert.deepEqual(mounts['/ro'], { Type: 'bind', Source: host, Destination: '/ro', Mode: '', RW: false, Propagation: 'rprivate' });
    assert.deepEqual(mounts['/rw'], { Type: 'bind', Source: host, Destination: '/rw', Mode: 'rw,z', RW: true, Propagation: 'rprivate' });
    assert.equal(mounts['/anon'].Type, 'volume');
    assert.match(mounts['/anon'].Name, /^[0-9a-f]{64}$/);
    const [vol] = JSON.parse(await ok('volume', 'inspect', 'mv1'));
    assert.deepEqual(vol.Labels, { team: 'a' }, '--mount volume-label made the volume with it');
    assert.equal(fs.readFileSync(path.join(vol.Mountpoint, 'x'), 'utf8'), 'v\n');
    assert.equal(await ok('ps', '-a', '--filter', 'volume=mv1', '--format', '{{.Names}}'), 'm1\n');
    assert.equal(await ok('ps', '-a', '--filter', 'volume=/anon', '--format', '{{.Names}}'), 'm1\n');
    assert.equal(await ok('ps', '-a', '--filter', 'volume=other', '--format', '{{.Names}}'), '');
    const busy = await docker('volume', 'rm', 'mv1');
    assert.notEqual(busy.code, 0);
    assert.match(busy.stderr, /volume is in use/);
    await ok('rm', '-v', 'm1');
    await ok('run', '--rm', '-v', '/gone', '-v', 'stays:/s', 'bb:mnt', 'true'); // --rm takes its anonymous volumes, as docker's
    assert.deepEqual((await ok('volume', 'ls', '-q')).trim().split('\n'), ['mv1', 'stays'], 'rm -v and --rm took the anonymous volumes, not the named ones');
    await ok('volume', 'rm', 'mv1', 'stays');
  });

  test('--mount tmpfs: size is a limit, mode is kept; readonly tmpfs', async () => {
    const out = await ok('run', '--rm', '--mount', 'type=tmpfs,target=/t,tmpfs-size=1m,tmpfs-mode=1770', 'bb:mnt', 'sh', '-c',
      'stat -c %a /t; if dd if=/dev/zero of=/t/big bs=1024 count=2048 2>/dev/null; then echo FIT; else echo full; fi; du -k /t/big | cut -f1');
    const [mode, full, kb] = out.trim().split('\n');
    assert.equal(mode, '1770');
    assert.equal(full, 'full');
    assert.ok(Number(kb) <= 1024, `a 1m tmpfs held ${kb}k`);
    const ro = await ok('run', '--rm', '--mount', 'type=tmpfs,target=/t,readonly', 'bb:mnt', 'sh', '-c', 'touch /t/x 2>/dev/null && echo WROTE || echo refused');
    assert.equal(ro, 'refused\n');
  });

  test('bind propagation: rshared shows a later host mount inside; rshared on a private source is refused', async () => {
    const src = fs.mkdtempSync(path.join(d.dir, 'prop-'));
    const priv = fs.mkdtempSync(path.join(d.dir, 'priv-'));
    execFileSync('mount', ['--bind', src, src]);
    execFileSync('mount', ['--make-shared', src]);
    try {
      await ok('run', '-d', '--name', 'prop', '--mount', `type=bind,source=${src},target=/p,bind-propagation=rshared`, 'bb:mnt', 'sleep', '300');
      assert.equal((await inspect('prop')).Mounts[0].Propagation, 'rshared');
      fs.mkdirSync(path.join(src, 'sub'));
      execFileSync('mount', ['-t', 'tmpfs', 'late', path.join(src, 'sub')]);
      fs.writeFileSync(path.join(src, 'sub', 'seen'), 'propagated\n');
      assert.equal(await ok('exec', 'prop', 'cat', '/p/sub/seen'), 'propagated\n', 'a mount made on the host after start reached the container');
      execFileSync('umount', [path.join(src, 'sub')]);
      await ok('rm', '-f', 'prop');
      const r = await docker('run', '--rm', '--mount', `type=bind,source=${priv},target=/p,bind-propagation=rshared`, 'bb:mnt', 'true');
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, new RegExp(`path ${priv} is mounted on / but it is not a shared mount|is not a shared mount`));
    } finally {
      execFileSync('umount', ['-R', src]);
    }
  });

  test('--volumes-from sees the same data; :ro makes it read-only', async () => {
    await ok('create', '--name', 'data', '-v', 'shared:/shared', '-v', '/anon2', 'bb:mnt', 'true');
    await ok('run', '--rm', '--volumes-from', 'data', 'bb:mnt', 'sh', '-c', 'echo one > /shared/f; echo two > /anon2/g');
    assert.equal(await ok('run', '--rm', '--volumes-from', 'data:ro', 'bb:mnt', 'sh', '-c', 'cat /shared/f /anon2/g; touch /shared/h 2>/dev/null && echo WROTE || echo refused'), 'one\ntwo\nrefused\n');
    await ok('create', '--name', 'reader', '--volumes-from', 'data', 'bb:mnt', 'true');
    const r = await docker('volume', 'rm', 'shared');
    assert.match(r.stderr, /volume is in use/);
    await ok('rm', 'data');
    assert.ok((await docker('volume', 'rm', 'shared')).code !== 0, 'still used by the reader');
    // as docker's: rm -v takes an anonymous volume it mounts (here through --volumes-from) once nothing else uses it
    await ok('rm', '-v', 'reader');
    assert.deepEqual((await ok('volume', 'ls', '-q')).trim().split('\n'), ['shared']);
    await ok('volume', 'rm', 'shared');
    const bad = await docker('run', '--rm', '--volumes-from', 'nosuch', 'bb:mnt', 'true');
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /No such container: nosuch/);
  });

  test('local driver tmpfs volume: mounted while a container uses it, unmounted after, with events', async () => {
    const since = String(Math.floor(Date.now() / 1000) - 1);
    await ok('volume', 'create', '--driver', 'local', '--opt', 'type=tmpfs', '--opt', 'device=tmpfs', '--opt', 'o=size=10m', 'tv');
    const [v] = JSON.parse(await ok('volume', 'inspect', 'tv'));
    assert.deepEqual(v.Options, { type: 'tmpfs', device: 'tmpfs', o: 'size=10m' });
    assert.ok(!mounted(v.Mountpoint), 'not mounted before use');
    await ok('run', '-d', '--name', 'tvu', '-v', 'tv:/m', 'bb:mnt', 'sleep', '300');
    assert.ok(mounted(v.Mountpoint), 'mounted while used');
    const df = await ok('exec', 'tvu', 'sh', '-c', 'grep " /m " /proc/mounts');
    assert.match(df, /^tmpfs \/m tmpfs .*size=10240k/);
    await ok('exec', 'tvu', 'sh', '-c', 'echo in-tmpfs > /m/f');
    assert.equal(fs.readFileSync(path.join(v.Mountpoint, 'f'), 'utf8'), 'in-tmpfs\n');
    await ok('rm', '-f', 'tvu');
    assert.ok(!mounted(v.Mountpoint), 'unmounted when no container uses it');
    const until = String(Math.floor(Date.now() / 1000) + 1);
    const ev = await ok('events', '--since', since, '--until', until, '--filter', 'type=volume', '--filter', 'volume=tv', '--format', '{{.Action}}');
    assert.deepEqual(ev.trim().split('\n'), ['create', 'mount', 'unmount']);
    await ok('volume', 'rm', 'tv');
  });

  test('copy-up keeps extended attributes (security.capability, user.*), owner and mode; nocopy opts out', async () => {
    const rootfs = fs.mkdtempSync(path.join(d.dir, 'xattr-'));
    fs.cpSync(await busyboxRootfs(), rootfs, { recursive: true, verbatimSymlinks: true });
    fs.mkdirSync(path.join(rootfs, 'caps'));
    const tool = path.join(rootfs, 'caps', 'tool');
    fs.writeFileSync(tool, 'x', { mode: 0o4750 });
    fs.chownSync(tool, 0, 1000);
    fs.chmodSync(tool, 0o4750);
    // VFS_CAP_REVISION_2 with the effective bit: cap_net_bind_service (10) permitted
    const cap = '01000002' + '00040000' + '00000000' + '00000000' + '00000000';
    execFileSync('/usr/bin/python3', ['-c', 'import os,sys; os.setxattr(sys.argv[1], "security.capability", bytes.fromhex(sys.argv[2])); os.setxattr(sys.argv[1], "user.berth", b"kept")', tool, cap]);
    const tarFile = path.join(d.dir, 'xattr.tar');
    fs.writeFileSync(tarFile, await tarDir(rootfs, false));
    await ok('import', '-c', 'CMD ["sh"]', '-c', 'VOLUME /caps', tarFile, 'bb:caps');
    await ok('run', '--rm', '-v', 'capvol:/caps', 'bb:caps', 'true');
    const [v] = JSON.parse(await ok('volume', 'inspect', 'capvol'));
    const copied = path.join(v.Mountpoint, 'tool');
    const xattr = (name: string) => execFileSync('/usr/bin/python3', ['-c', 'import os,sys; print(os.getxattr(sys.argv[1], sys.argv[2]).hex())', copied, name], { encoding: 'utf8' }).trim();
    assert.equal(xattr('security.capability'), cap);
    assert.equal(Buffer.from(xattr('user.berth'), 'hex').toString(), 'kept');
    const st = fs.statSync(copied);
    assert.deepEqual([st.uid, st.gid, st.mode & 0o7777], [0, 1000, 0o4750]);
    await ok('run', '--rm', '--mount', 'type=volume,src=capnocopy,dst=/caps,volume-nocopy', 'bb:caps', 'true');
    const [n] = JSON.parse(await ok('volume', 'inspect', 'capnocopy'));
    assert.deepEqual(fs.readdirSync(n.Mountpoint), [], 'volume-nocopy leaves the volume empty');
    await ok('volume', 'rm', 'capvol', 'capnocopy');
  });

  test('berthd kill -9 while a container uses volumes: data kept, the tmpfs volume unmounted when it stops after the restart', async () => {
    await ok('volume', 'create', '--opt', 'type=tmpfs', '--opt', 'device=tmpfs', '--opt', 'o=size=2m', 'tv9');
    const [v] = JSON.parse(await ok('volume', 'inspect', 'tv9'));
    await ok('run', '-d', '--name', 'k9', '--mount', 'type=volume,src=kept9,dst=/k', '-v', 'tv9:/m', 'bb:mnt', 'sh', '-c', 'echo durable > /k/f; echo t > /m/f; sleep 300');
    assert.equal(await ok('exec', 'k9', 'cat', '/k/f'), 'durable\n');
    await d.crashAndRestart();
    assert.ok(mounted(v.Mountpoint), 'the volume stays mounted for the container that outlived berthd');
    assert.equal(await ok('exec', 'k9', 'cat', '/m/f'), 't\n');
    const busy = await docker('volume', 'rm', 'kept9');
    assert.match(busy.stderr, /volume is in use/, 'in use is read from the record after a restart');
    await ok('rm', '-f', 'k9');
    assert.ok(!mounted(v.Mountpoint), 'unmounted once its container is gone');
    assert.equal(await ok('run', '--rm', '-v', 'kept9:/k', 'bb:mnt', 'cat', '/k/f'), 'durable\n');
    await ok('volume', 'rm', 'kept9', 'tv9');
  });

  test('bad mount specs are 400 with docker\'s message, and nothing is created', async () => {
    const before = { ctrs: await ok('ps', '-aq'), vols: await ok('volume', 'ls', '-q') };
    const cases: Array<[unknown, RegExp]> = [
      [{ Binds: ['keepme:/a', '/x:/b:bogus'] }, /^invalid mode: bogus$/],
      [{ Binds: ['keepme:/a'], Mounts: [{ Type: 'bind', Source: 'relative/dir', Target: '/r' }] }, /^invalid mount config for type "bind": invalid mount path: 'relative\/dir' mount path must be absolute$/],
      [{ Mounts: [{ Type: 'volume', Source: 'keepme' }] }, /^invalid mount config for type "volume": field Target must not be empty$/],
      [{ Mounts: [{ Type: 'bind', Source: '/nonexistent-berth-src', Target: '/x' }] }, /^invalid mount config for type "bind": bind source path does not exist: \/nonexistent-berth-src$/],
      [{ Mounts: [{ Type: 'tmpfs', Target: '/t', VolumeOptions: {} }] }, /^invalid mount config for type "tmpfs": field VolumeOptions must not be specified$/],
      [{ Mounts: [{ Type: 'bogus', Target: '/t' }] }, /^invalid mount config for type "bogus": mount type unknown$/],
      [{ Binds: ['keepme:/d', 'other:/d'] }, /^Duplicate mount point: \/d$/],
      [{ Binds: ['keepme:/d'], Mounts: [{ Type: 'volume', Source: 'other', Target: '/d' }] }, /^Duplicate mount point: \/d$/],
      [{ Binds: ['keepme:/'] }, /destination can't be '\/'/],
      [{ VolumesFrom: ['nosuch'] }, /No such container: nosuch/],
      [{ VolumesFrom: ['x:rshared'] }, /^invalid mode: rshared$/],
    ];
    for (const [hostConfig, want] of cases) {
      const r = await api(d.socket, 'POST', '/containers/create', { Image: 'bb:mnt', Cmd: ['true'], HostConfig: hostConfig });
      assert.equal(r.status, 400, `${JSON.stringify(hostConfig)}: ${r.status} ${r.body.message}`);
      assert.match(String(r.body.message), want);
    }
    const cli = await docker('run', '--rm', '-v', '/a:/b:bogus', 'bb:mnt', 'true');
    assert.notEqual(cli.code, 0);
    assert.match(cli.stderr, /invalid mode: bogus/);
    assert.deepEqual({ ctrs: await ok('ps', '-aq'), vols: await ok('volume', 'ls', '-q') }, before, 'no container and no volume were left');
  });
});
