// The spec containers/spec builds from a Docker configuration runs for real under `berth runtime`.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { buildContainerSpec, type SpecContext } from '../../src/containers/spec/index.js';
import { CAPABILITIES } from '../../src/runtime/linux.js';
import { copyRootfs } from '../helpers/rootfs.js';
import { isRoot, parseJSON, Runtime, uniqueId } from '../helpers/bundle.js';

const skip = isRoot ? false : 'needs root';
const rt = new Runtime();

describe('containers/spec on the real runtime', { skip }, () => {
  after(() => rt.cleanup());

  test('docker-style flags become a container with those limits, user, caps and files', async () => {
    const id = uniqueId('spec');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-ctr-'));
    try {
      const rootfs = path.join(dir, 'rootfs');
      await copyRootfs(rootfs);
      fs.writeFileSync(path.join(dir, 'hostname'), 'web\n');
      fs.writeFileSync(path.join(dir, 'hosts'), '127.0.0.1\tlocalhost\n');
      fs.writeFileSync(path.join(dir, 'resolv.conf'), 'nameserver 127.0.0.53\n');
      const ctx: SpecContext = {
        id, rootfs, containerDir: dir, cgroupMode: 'hybrid', kernel: os.release(),
        passwd: fs.readFileSync(path.join(rootfs, 'etc/passwd'), 'utf8'), group: fs.readFileSync(path.join(rootfs, 'etc/group'), 'utf8'),
        hostDevice: () => undefined,
      };
      const spec = buildContainerSpec({
        image: 'busybox', cmd: ['/bin/sh', '-c', 'cat /etc/hostname /etc/resolv.conf; cat /sys/fs/cgroup/memory/memory.limit_in_bytes; /bin/probe facts'],
        user: 'berth', hostname: 'web',
        host: { memory: 64 << 20, pidsLimit: 50, capDrop: ['ALL'], capAdd: ['KILL'], readonlyRootfs: true, tmpfs: { '/scratch': 'size=1m' }, networkMode: 'none', cgroupnsMode: 'private' },
      }, { env: ['PATH=/bin:/usr/bin'], cmd: ['sh'] }, ctx);
      spec.linux!.cgroupsPath = `/berth-test/${id}`;
      fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify(spec));
      const r = await rt.berth(['run', '-b', dir, id]);
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.split('\n');
      assert.equal(lines[0], 'web');
      assert.equal(lines[1], 'nameserver 127.0.0.53');
      assert.equal(lines[2], String(64 << 20));
      const f = parseJSON<{ uid: number; groups: number[]; hostname: string; seccomp: number; caps: Record<string, string>; env: string[] }>(r);
      assert.equal(f.uid, 1000);
      assert.deepEqual(f.groups, [1001]);
      assert.equal(f.hostname, 'web');
      assert.equal(f.seccomp, 2, 'Docker\'s default seccomp profile');
      assert.equal(BigInt('0x' + f.caps.bounding), 1n << BigInt((CAPABILITIES as readonly string[]).indexOf('CAP_KILL')));
      assert.ok(f.env.includes('HOME=/home/berth') && f.env.includes('HOSTNAME=web'));
    } finally { fs.rmSync(dir, { recursive: true, force: true }); }
  });
});
