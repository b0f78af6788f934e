// Storage hardening as root (issue 7): an unprivileged host user cannot reach a running container's
// files (a setuid binary made inside it), the roots keep their modes across an upgrade, layer views
// are nosuid,nodev, and the image store lock survives a full disk and never stalls the daemon.
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { Client } from '../../src/client/index.js';
import { sha256 } from '../../src/content/digest.js';
import { ImageStore } from '../../src/images/store.js';
import { mountAll, unmount } from '../../src/snapshots/mount.js';
import { Snapshotter } from '../../src/snapshots/overlay.js';
import { pingSocket, startDaemon, type Daemon } from '../helpers/daemon.js';
import { tarDir } from '../helpers/registry.js';
import { busyboxRootfs } from '../helpers/rootfs.js';
import { tarOf } from '../helpers/tar.js';
import { eventually } from '../helpers/leaks.js';

const run = promisify(execFile);
const DOCKER = '/usr/local/bin/docker';
const missing = process.getuid?.() !== 0 ? 'needs root' : !fs.existsSync(DOCKER) ? 'needs the docker CLI at /usr/local/bin/docker' : !fs.existsSync('/usr/bin/setpriv') ? 'needs setpriv' : undefined;

/**
 * Runs argv as uid/gid 65534 with no supplementary groups. Through a shell: setpriv keeps root's
 * capabilities up to its own execve (which would pass any permission check); the shell has none.
 */
function asNobody(...argv: string[]): { code: number; out: string } {
  const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', '--', '/bin/sh', '-c', 'exec "$@"', 'sh', ...argv], { encoding: 'utf8' });
  return { code: r.status ?? -1, out: `${r.stdout}${r.stderr}` };
}

const mode = (p: string) => fs.statSync(p).mode & 0o7777;

function mountOptions(target: string): string[] | undefined {
  for (const line of fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const f = line.split(' ');
    if (f[4] === target) return f[5]!.split(',');
  }
  return undefined;
}

describe('storage hardening against berthd', { skip: missing }, () => {
  let d: Daemon;
  const docker = async (...args: string[]) => (await run(DOCKER, args, { env: d.env, maxBuffer: 64 << 20 })).stdout.trim();

  before(async () => {
    d = await startDaemon();
    // the test's temp dir must not be what keeps the unprivileged user out
    fs.chmodSync(d.dir, 0o755);
    const tar = path.join(d.dir, 'bb.tar');
    fs.writeFileSync(tar, await tarDir(await busyboxRootfs(), false));
    await docker('import', tar, 'bb:harden');
  });
  after(async () => { await d?.stop(); });

  test('a setuid file made inside a running container cannot be reached by an unprivileged host user', async () => {
    const id = await docker('run', '-d', 'bb:harden', 'sleep', '600');
    try {
      // made by an exec, which returns once it is there (polling for a ready file had a 10 s bound a loaded CI
      // machine could outlast)
      await docker('exec', id, 'sh', '-c', 'cp /bin/busybox /tmp/busybox && chmod 4755 /tmp/busybox');
      await probeContainer(id);
    } finally { await docker('rm', '-f', id); }
  });

  async function probeContainer(id: string): Promise<void> {
    const rootfs = path.join(d.root, 'containers', id, 'rootfs');
    const suid = path.join(rootfs, 'tmp', 'busybox');
    assert.equal(mode(suid), 0o4755, 'root sees the setuid file the container made');
    // the container's root keeps suid, as under docker: setuid programs inside it must work
    assert.ok(!mountOptions(rootfs)?.includes('nosuid'), 'the container root is not nosuid');

    const st = asNobody('stat', suid);
    assert.notEqual(st.code, 0, `stat as nobody succeeded: ${st.out}`);
    assert.match(st.out, /Permission denied/);
    const ex = asNobody(suid, 'id', '-u');
    assert.notEqual(ex.code, 0, `exec as nobody succeeded: ${ex.out}`);
    assert.match(ex.out, /Permission denied/);
    for (const dir of [d.root, path.join(d.root, 'containers'), path.join(d.root, 'containers', id), rootfs, path.join(rootfs, 'tmp')]) {
      const ls = asNobody('ls', dir);
      assert.notEqual(ls.code, 0, `nobody can list ${dir}: ${ls.out}`);
      assert.match(ls.out, /Permission denied/, dir);
    }
    // the layers are just as out of reach
    const ls = asNobody('ls', path.join(d.root, 'snapshots'));
    assert.match(ls.out, /Permission denied/);
  }

  test('the data root and the exec root have their modes, also when an older berthd made them looser', async () => {
    const execRoot = path.join(d.root, 'run');
    const want: Array<[string, number]> = [
      [d.root, 0o710], [path.join(d.root, 'containers'), 0o710], [path.join(d.root, 'snapshots'), 0o710],
      [path.join(d.root, 'content'), 0o700], [path.join(d.root, 'images'), 0o700], [path.join(d.root, 'tmp'), 0o700],
      [execRoot, 0o711], [path.join(execRoot, 'runtime'), 0o700], [path.join(execRoot, 'attach'), 0o700],
    ];
    const check = () => { for (const [p, m] of want) assert.equal(mode(p).toString(8), m.toString(8), p); };
    check();
    // what berthd before issue 7 left behind
    for (const [p] of want) fs.chmodSync(p, p.endsWith('snapshots') ? 0o755 : 0o711);
    await d.crashAndRestart();
    check();
  });

  test('while another process holds the image store lock the daemon still answers, and tags once it is gone', async () => {
    const holder = spawn('sleep', ['600'], { stdio: 'ignore' });
    try {
      await new Promise((r) => holder.once('spawn', r));
      const lock = path.join(d.root, 'images', 'lock');
      // the pid alone, as an older berthd or a `berth image` command of any version writes it
      fs.writeFileSync(lock, `${holder.pid}`);
      const c = new Client(d.host);
      let settled = false;
      const tag = c.tag('bb:harden', 'bb', 'while-locked').finally(() => { settled = true; });
      // the daemon is waiting once its own complete lock file (.lock.<pid>.*, to be linked into place) exists
      const images = path.join(d.root, 'images');
      // a deadline far beyond a loaded machine's request (the 10 s count it replaces was not); the temp file stays
      // while the daemon waits (~9 s or more), so a poll 25 ms apart cannot miss it
      await eventually(() => settled || fs.readdirSync(images).some((n) => n.startsWith('.lock.')), 60_000, 25);
      assert.ok(settled || fs.readdirSync(images).some((n) => n.startsWith('.lock.')), 'the daemon never tried to take the lock');
      assert.equal(settled, false, 'the tag waits for the lock');
      // the old lock slept synchronously: the ping would only have been answered after the tag failed
      assert.equal(await pingSocket(d.socket), 200);
      assert.equal(settled, false, 'the tag still waits for the lock');
      const gone = new Promise((r) => holder.once('exit', r));
      holder.kill('SIGKILL');
      await gone;
      await tag;
      assert.match(await docker('image', 'ls', '--format', '{{.Repository}}:{{.Tag}}'), /bb:while-locked/);
      c.close();
    } finally {
      holder.kill('SIGKILL');
    }
  });

  test('tag, rmi and load work over an empty lock file (an older berthd on a full disk)', async () => {
    const lock = path.join(d.root, 'images', 'lock');
    fs.writeFileSync(lock, '');
    // the first test's container is gone, so the image is free to go and come back
    await docker('tag', 'bb:harden', 'bb:empty-lock');
    fs.writeFileSync(lock, '');
    await docker('rmi', 'bb:empty-lock');
    const saved = path.join(d.dir, 'saved.tar');
    await docker('save', '-o', saved, 'bb:harden');
    await docker('rmi', 'bb:harden');
    fs.writeFileSync(lock, '');
    assert.match(await docker('load', '-i', saved), /Loaded image: bb:harden/);
    assert.equal(fs.existsSync(lock), false);
  });
});

describe('image store on a full disk', { skip: process.getuid?.() !== 0 ? 'needs root' : undefined }, () => {
  test('ENOSPC while locking leaves no lock behind: the next change works once there is room', async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-enospc-'));
    spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'tmpfs', dir], { stdio: 'inherit' });
    t.after(() => { spawnSync('umount', ['-l', dir]); fs.rmSync(dir, { recursive: true, force: true }); });
    const store = new ImageStore(dir);
    await store.setRefs({ 'docker.io/library/a:1': sha256('a') });
    // fill the disk: inodes are left, pages are not (as a real full disk)
    const filler = path.join(dir, 'filler');
    const fd = fs.openSync(filler, 'w');
    try { for (;;) fs.writeSync(fd, Buffer.alloc(4096)); } catch (e) { assert.equal((e as { code?: string }).code, 'ENOSPC'); } finally { fs.closeSync(fd); }
    await assert.rejects(store.setRefs({ 'docker.io/library/b:1': sha256('b') }), /ENOSPC|no space/i);
    assert.deepEqual(fs.readdirSync(path.join(dir, 'images')).sort(), ['db', 'refs.json'], 'no lock and no temp file');
    fs.rmSync(filler);
    await store.setRefs({ 'docker.io/library/b:1': sha256('b') });
    assert.deepEqual(Object.keys(store.refs()).sort(), ['docker.io/library/a:1', 'docker.io/library/b:1']);
  });
});

describe('layer views', { skip: process.getuid?.() !== 0 ? 'needs root' : undefined }, () => {
  test('a read-only view of layers is mounted nosuid,nodev; a container snapshot is not', async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-view-'));
    t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
    const snaps = new Snapshotter(path.join(dir, 'root'));
    const l1 = await tarOf([[{ name: 'a' }, Buffer.from('a')]]);
    const l2 = await tarOf([[{ name: 'b' }, Buffer.from('b')]]);
    async function* one(b: Buffer) { yield b; }
    await snaps.unpack(sha256(l1), undefined, one(l1), sha256(l1));
    await snaps.unpack('sha256:' + sha256(`${sha256(l1)} ${sha256(l2)}`).slice(7), sha256(l1), one(l2), sha256(l2));
    const top = snaps.list().find((s) => s.parent)!.name;
    for (const [key, parent] of [['one', sha256(l1)], ['two', top]] as const) {
      const target = path.join(dir, `mnt-${key}`);
      fs.mkdirSync(target);
      await mountAll(await snaps.view(`view-${key}`, parent), target);
      try {
        const opts = mountOptions(target)!;
        for (const o of ['ro', 'nosuid', 'nodev']) assert.ok(opts.includes(o), `${key}-layer view has ${o}: ${opts.join(',')}`);
        assert.equal(fs.readFileSync(path.join(target, 'a'), 'utf8'), 'a');
      } finally {
        await unmount(target, true);
      }
    }
    const target = path.join(dir, 'mnt-rw');
    fs.mkdirSync(target);
    await mountAll(await snaps.prepare('rw', top), target);
    try {
      assert.ok(!mountOptions(target)!.includes('nosuid'), 'a container root keeps suid');
    } finally {
      await unmount(target, true);
    }
  });
});
