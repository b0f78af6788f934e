// Issue 7 item 11: device nodes below a directory of /dev (/dev/net/tun, /dev/cpu/0/msr) get their
// directories made first, by a plan op TypeScript chose; --privileged gives the daemon's own capabilities.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildContainerSpec, type SpecContext } from '../../src/containers/spec/index.js';
import { capabilityNames } from '../../src/runtime/host-facts.js';
import { defaultSpec } from '../../src/runtime/defaults.js';
import { CAPABILITIES } from '../../src/runtime/linux.js';
import { buildInitPlan, type InitContext } from '../../src/runtime/plan/build.js';

const ctx: InitContext = { rootfs: '/b/rootfs', sourceIsDir: () => true, cgroup: {}, hookSync: false, detach: true };
const dev = (path: string, major: number, minor: number) => ({ path, type: 'c' as const, major, minor, fileMode: 0o600, uid: 0, gid: 0 });

test('device nodes in subdirectories of /dev: each directory is made once, before its node', () => {
  const spec = defaultSpec();
  spec.process!.terminal = false;
  spec.linux!.devices = [dev('/dev/net/tun', 10, 200), dev('/dev/cpu/0/msr', 202, 0), dev('/dev/cpu/1/msr', 202, 1), dev('/dev/fuse', 10, 229), dev('/dev/cpu/0/cpuid', 203, 0)];
  const plan = buildInitPlan(spec, ctx);
  const mkdirs = plan.filter((o) => o.op === 'MKDIR').map((o) => o.args!.path);
  assert.deepEqual(mkdirs, ['/dev/net', '/dev/cpu/0', '/dev/cpu/1']);
  for (const o of plan.filter((x) => x.op === 'MKDIR')) assert.deepEqual({ mode: o.args!.mode, inroot: o.args!.inroot }, { mode: 0o755, inroot: 1 });
  const at = (op: string, path: string) => plan.findIndex((o) => o.op === op && o.args?.path === path);
  assert.ok(at('MKDIR', '/dev/net') < at('MKNOD', '/dev/net/tun'));
  assert.ok(at('MKDIR', '/dev/cpu/1') < at('MKNOD', '/dev/cpu/1/msr'));
  assert.ok(at('MKNOD', '/dev/net/tun') >= 0 && at('MKNOD', '/dev/fuse') >= 0);
  // in a user namespace nodes are bound from the host; the bind's file creation makes its own parents
  spec.linux!.namespaces!.push({ type: 'user' });
  spec.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  spec.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  const userns = buildInitPlan(spec, ctx);
  assert.ok(!userns.some((o) => o.op === 'MKDIR'));
  assert.ok(userns.some((o) => o.op === 'MOUNT' && o.args?.dst === '/dev/net/tun' && o.args?.mkdir === 2));
});

test('privileged and --cap-add ALL get the capabilities the daemon holds', () => {
  // a daemon whose bounding set lacks CAP_SYS_RESOURCE (bit 24), as in some containers
  const held = capabilityNames(0x1fffeffffffn);
  assert.equal(held.length, CAPABILITIES.length - 1);
  assert.ok(!held.includes('CAP_SYS_RESOURCE') && held.includes('CAP_SYS_ADMIN') && held.includes('CAP_CHECKPOINT_RESTORE'));
  const sctx: SpecContext = { id: 'x'.repeat(64), rootfs: '/r', containerDir: '/c', hostDevice: () => undefined, hostDevices: () => [], cgroupMode: 'v2', hostCapabilities: held };
  const priv = buildContainerSpec({ image: 'i', cmd: ['sh'], host: { privileged: true } }, {}, sctx);
  assert.deepEqual(priv.process!.capabilities!.bounding, held);
  assert.deepEqual(priv.process!.capabilities!.effective, held);
  const all = buildContainerSpec({ image: 'i', cmd: ['sh'], host: { capAdd: ['ALL'], capDrop: ['NET_RAW'] } }, {}, sctx);
  assert.deepEqual(all.process!.capabilities!.bounding, held.filter((c) => c !== 'CAP_NET_RAW'));
});
