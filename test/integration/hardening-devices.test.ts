// Issue 7 item 11 through berthd and the docker CLI: --device /dev/net/tun gives a working node in a
// directory the container's /dev did not have; --privileged gives every host device (with its
// directories), the daemon's capabilities, no seccomp, and writable /sys and /proc/sys, like docker.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { busyboxRootfs } from '../helpers/rootfs.js';
import { haveTool, ociLayout, REGISTRY_BIN, skopeo, tarDir, type Registry } from '../helpers/registry.js';
import { startDaemonAndRegistry, type Daemon } from '../helpers/daemon.js';

const DOCKER = '/usr/local/bin/docker';
const missing = process.getuid?.() !== 0 ? 'needs root' : !haveTool(REGISTRY_BIN) ? 'needs docker-registry' : !haveTool('skopeo') ? 'needs skopeo' : !fs.existsSync(DOCKER) ? 'needs the docker CLI at /usr/local/bin/docker' : !fs.existsSync('/dev/net/tun') ? 'needs /dev/net/tun on the host' : undefined;

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

/** A host device node two or more levels below /dev (/dev/cpu/0/cpuid, /dev/net/tun…), as "path major,minor". */
function nestedHostDevice(): { path: string; numbers: string } {
  const walk = (dir: string, depth: number): string | undefined => {
    for (const n of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, n.name);
      if (n.isDirectory() && !['pts', 'shm', 'mqueue', 'fd'].includes(n.name)) { const f = walk(p, depth + 1); if (f) return f; }
      else if (depth > 0 && n.isCharacterDevice() && p !== '/dev/net/tun') return p;
    }
    return undefined;
  };
  const p = walk('/dev', 0) ?? '/dev/net/tun';
  const rdev = fs.statSync(p).rdev;
  return { path: p, numbers: `${Math.floor(rdev / 256) & 0xfff},\\s+${rdev % 256}` };
}

describe('devices and --privileged', { skip: missing }, () => {
  let d: Daemon;
  let reg: Registry;
  let bb: string;

  const ok = async (...args: string[]): Promise<string> => {
    const r = await exec(DOCKER, args, d.env);
    assert.equal(r.code, 0, `docker ${args.join(' ')} → ${r.code}: ${r.stderr}\n${d.log().slice(-3000)}`);
    return r.stdout;
  };

  before(async () => {
    [d, reg] = await startDaemonAndRegistry();
    const work = path.join(d.dir, 'work');
    await ociLayout(path.join(work, 'oci-bb'), [await tarDir(await busyboxRootfs())], { cmd: ['sh'] });
    await skopeo('copy', '--dest-tls-verify=false', `oci:${work}/oci-bb:latest`, `docker://${reg.host}/busybox:latest`);
    bb = `${reg.host}/busybox:latest`;
    await ok('pull', bb);
  });
  after(async () => {
    await Promise.all([d?.stop(), reg?.stop()]);
  });

  test('--device /dev/net/tun: the node exists (c 10,200) and opens (EBADFD on read, not ENOENT)', async () => {
    const r = await exec(DOCKER, ['run', '--rm', '--device', '/dev/net/tun', bb, 'sh', '-c', 'ls -l /dev/net/tun && cat /dev/net/tun'], d.env);
    assert.match(r.stdout, /^c.* 10,\s+200 .*\/dev\/net\/tun$/m, r.stderr);
    assert.match(r.stderr, /File descriptor in bad state/);
  });

  test('--privileged: nested host devices, all the daemon\'s capabilities, no seccomp, writable /sys and /proc/sys', async () => {
    const nested = nestedHostDevice();
    const own = /^CapEff:\s*(\S+)$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))![1];
    const out = await ok('run', '--rm', '--privileged', bb, 'sh', '-c', [
      `ls -l ${nested.path} /dev/net/tun`,
      'grep -E "^(CapEff|CapBnd|Seccomp):" /proc/self/status',
      // the container's own network namespace: this changes nothing on the host
      'echo 1 > /proc/sys/net/ipv4/ip_forward && echo ip_forward=$(cat /proc/sys/net/ipv4/ip_forward)',
      'grep -E " /sys | /proc/timer_list | /proc/sys " /proc/mounts || true',
    ].join('; '));
    assert.match(out, new RegExp(`^c.* ${nested.numbers} .*${nested.path}$`, 'm'));
    assert.match(out, /^c.* 10,\s+200 .*\/dev\/net\/tun$/m);
    assert.match(out, new RegExp(`^CapEff:\\s*${own}$`, 'm'));
    assert.match(out, new RegExp(`^CapBnd:\\s*${own}$`, 'm'));
    assert.match(out, /^Seccomp:\s*0$/m);
    assert.match(out, /^ip_forward=1$/m);
    assert.match(out, /^sysfs \/sys sysfs rw,/m);
    assert.doesNotMatch(out, /\/proc\/timer_list|\/proc\/sys /, 'nothing masked, /proc/sys not remounted read-only');
  });

  test('exec --privileged gets the daemon\'s capabilities', async () => {
    const own = /^CapEff:\s*(\S+)$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))![1];
    await ok('run', '-d', '--name', 'plain', bb, 'sleep', '1000');
    try {
      assert.match(await ok('exec', '--privileged', 'plain', 'grep', '^CapEff:', '/proc/self/status'), new RegExp(`^CapEff:\\s*${own}$`, 'm'));
    } finally { await ok('rm', '-f', 'plain'); }
  });

  test('without --privileged: /proc/sys is read-only and /proc/timer_list masked (the contrast)', async () => {
    const r = await exec(DOCKER, ['run', '--rm', bb, 'sh', '-c', 'grep -E " /proc/timer_list | /proc/sys " /proc/mounts; echo 1 > /proc/sys/net/ipv4/ip_forward'], d.env);
    assert.match(r.stdout, /\/proc\/timer_list/);
    assert.match(r.stdout, /\/proc\/sys \S+ ro,/);
    assert.notEqual(r.code, 0);
  });
});
