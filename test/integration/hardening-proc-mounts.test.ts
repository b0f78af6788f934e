// Issue 7 item 4 through berthd and the docker CLI, and through `berth runtime` with a bundle: a mount
// over /proc or inside it (-v, --tmpfs) is refused at create and leaves nothing; the lxcfs-style
// file mounts runc allows (/proc/uptime) work.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { busyboxRootfs } from '../helpers/rootfs.js';
import { haveTool, ociLayout, REGISTRY_BIN, skopeo, tarDir, type Registry } from '../helpers/registry.js';
import { startDaemonAndRegistry, type Daemon } from '../helpers/daemon.js';
import { makeBundle, rmBundle, Runtime } from '../helpers/bundle.js';

const DOCKER = '/usr/local/bin/docker';
const missing = process.getuid?.() !== 0 ? 'needs root' : !haveTool(REGISTRY_BIN) ? 'needs docker-registry' : !haveTool('skopeo') ? 'needs skopeo' : !fs.existsSync(DOCKER) ? 'needs the docker CLI at /usr/local/bin/docker' : undefined;

interface Out { code: number; stdout: string; stderr: string }

function exec(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<Out> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const t = setTimeout(() => { stderr += `\n[killed after ${timeoutMs} ms]`; child.kill('SIGKILL'); }, timeoutMs);
    child.on('close', (code) => { clearTimeout(t); resolve({ code: code ?? -1, stdout, stderr }); });
  });
}

describe('mounts over /proc through berthd', { skip: missing }, () => {
  let d: Daemon;
  let reg: Registry;
  let bb: string;
  let src: string;

  const docker = (...args: string[]) => exec(DOCKER, args, d.env);

  before(async () => {
    [d, reg] = await startDaemonAndRegistry();
    const work = path.join(d.dir, 'work');
    await ociLayout(path.join(work, 'oci-bb'), [await tarDir(await busyboxRootfs())], { cmd: ['sh'] });
    await skopeo('copy', '--dest-tls-verify=false', `oci:${work}/oci-bb:latest`, `docker://${reg.host}/busybox:latest`);
    bb = `${reg.host}/busybox:latest`;
    assert.equal((await docker('pull', bb)).code, 0);
    src = path.join(d.dir, 'x');
    fs.mkdirSync(src);
    fs.writeFileSync(path.join(d.dir, 'uptime'), '12345.67 890.12\n');
  });
  after(async () => {
    await Promise.all([d?.stop(), reg?.stop()]);
  });

  for (const [flags, why] of [
    [['-v', '/X:/proc'], /"\/proc" cannot be mounted because it is not of type proc/],
    [['-v', '/X:/proc/sys'], /"\/proc\/sys" cannot be mounted because it is inside \/proc/],
    [['--tmpfs', '/proc/sys'], /"\/proc\/sys" cannot be mounted because it is inside \/proc/],
    [['-v', '/X:/proc/kcore'], /"\/proc\/kcore" cannot be mounted because it is inside \/proc/],
    [['-v', '/X:/sys/firmware'], /"\/sys\/firmware" cannot be mounted because it is on the masked path \/sys\/firmware/],
  ] as Array<[string[], RegExp]>) {
    test(`docker run ${flags.join(' ')} is refused at create and leaves nothing`, async () => {
      const r = await docker('run', '--rm', ...flags.map((f) => f.replace('/X', src)), bb, 'true');
      assert.equal(r.code, 125, r.stdout + r.stderr);
      assert.match(r.stderr, why);
      assert.equal((await docker('ps', '-aq')).stdout, '', 'no container was created');
    });
  }

  test('a file bound onto /proc/uptime (the lxcfs case runc allows) is what the container reads', async () => {
    const r = await docker('run', '--rm', '-v', `${path.join(d.dir, 'uptime')}:/proc/uptime:ro`, bb, 'cat', '/proc/uptime');
    assert.equal(r.code, 0, r.stderr + d.log().slice(-2000));
    assert.equal(r.stdout, '12345.67 890.12\n');
  });
});

describe('mounts over /proc through berth runtime', { skip: process.getuid?.() !== 0 ? 'needs root' : false }, () => {
  const rt = new Runtime();
  after(() => rt.cleanup());

  test('a bundle with a bind inside /proc is refused like runc refuses it, and nothing is left', async () => {
    const b = await makeBundle((s) => { s.mounts!.push({ destination: '/proc/sys', type: 'bind', source: '/tmp', options: ['rbind', 'ro'] }); });
    try {
      const r = await rt.berth(['run', '--bundle', b.dir, b.id]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /mounts\[\d+\]\.destination: "\/proc\/sys" cannot be mounted because it is inside \/proc/);
      assert.deepEqual(fs.readdirSync(rt.root), [], 'no state left');
    } finally { rmBundle(b); }
  });

  test('a symlink in the rootfs cannot lead a mount into /proc (the destination is judged where it lands)', async () => {
    const b = await makeBundle((s) => { s.mounts!.push({ destination: '/hostile', type: 'bind', source: '/tmp', options: ['rbind'] }); }, { copyRoot: true });
    try {
      fs.symlinkSync('/proc/sys', path.join(b.dir, 'rootfs/hostile'));
      const r = await rt.berth(['run', '--bundle', b.dir, b.id]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /mounts\[\d+\]\.destination: \/hostile resolves to \/proc\/sys in the rootfs: "\/proc\/sys" cannot be mounted because it is inside \/proc/);
      assert.deepEqual(fs.readdirSync(rt.root), [], 'no state left');
      // and proc itself goes on an ordinary directory only
      fs.rmSync(path.join(b.dir, 'rootfs/proc'), { recursive: true });
      fs.symlinkSync('/tmp', path.join(b.dir, 'rootfs/proc'));
      fs.rmSync(path.join(b.dir, 'rootfs/hostile'));
      const p = await rt.berth(['run', '--bundle', b.dir, b.id]);
      assert.notEqual(p.code, 0);
      assert.match(p.stderr, /filesystem "proc" must be mounted on ordinary directory/);
    } finally { rmBundle(b); }
  });

  test('a bundle binding the host procfs onto /proc is allowed (runc allows it)', async () => {
    const b = await makeBundle((s) => {
      s.mounts = s.mounts!.map((m) => (m.destination === '/proc' ? { destination: '/proc', type: 'bind', source: '/proc', options: ['rbind'] } : m));
      s.process!.args = ['/bin/sh', '-c', 'test -e /proc/self/status && echo procfs'];
    });
    try {
      const r = await rt.berth(['run', '--bundle', b.dir, b.id]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'procfs\n');
    } finally { rmBundle(b); }
  });
});
