// Docker configuration -> OCI spec, checked against golden files in test/golden/ (UPDATE_GOLDEN=1 rewrites them).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { ContainerConfig, ImageRunConfig } from '../../src/containers/config.js';
import { buildContainerSpec, type SpecContext } from '../../src/containers/spec/index.js';
import { resolveUser } from '../../src/containers/spec/user.js';
import { validateSpec } from '../../src/runtime/validate.js';
import type { Spec } from '../../src/runtime/spec-types.js';

const golden = (name: string) => fileURLToPath(new URL(`../../../test/golden/${name}.json`, import.meta.url));

const ctx: SpecContext = {
  id: 'c0ffee'.padEnd(64, '0'),
  rootfs: '/var/lib/berth/containers/c0ffee/rootfs',
  containerDir: '/var/lib/berth/containers/c0ffee',
  passwd: 'root:x:0:0:root:/root:/bin/sh\nberth:x:1000:1000::/home/berth:/bin/sh\n',
  group: 'root:x:0:\nberth:x:1000:\nextra:x:1001:berth\n',
  hostDevice: (p) => (p === '/dev/fuse' ? { type: 'c', major: 10, minor: 229, fileMode: 0o666, uid: 0, gid: 0 } : undefined),
  hostDevices: () => [{ path: '/dev/null', type: 'c', major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0 }],
  cgroupMode: 'hybrid',
  kernel: '6.1.0',
  hostHostname: 'host1',
};
const busybox: ImageRunConfig = { env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], cmd: ['sh'] };

/** The seccomp profile is long and tested elsewhere: summarise it for the golden file. */
function summary(s: Spec): unknown {
  const out = JSON.parse(JSON.stringify(s));
  if (out.linux.seccomp) out.linux.seccomp = { defaultAction: s.linux!.seccomp!.defaultAction, rules: s.linux!.seccomp!.syscalls!.length };
  return out;
}

function matchGolden(name: string, c: ContainerConfig, img = busybox): void {
  const spec = buildContainerSpec(c, img, ctx);
  assert.doesNotThrow(() => validateSpec(JSON.parse(JSON.stringify(spec))), 'the spec must pass the runtime\'s own validation');
  const got = JSON.stringify(summary(spec), null, 2) + '\n';
  if (process.env.UPDATE_GOLDEN) fs.writeFileSync(golden(name), got);
  assert.equal(got, fs.readFileSync(golden(name), 'utf8'), `golden ${name}: run with UPDATE_GOLDEN=1 after checking the change`);
}

test('golden: docker run busybox echo hi', () => {
  matchGolden('run-default', { image: 'busybox', cmd: ['echo', 'hi'], host: {} });
});

test('golden: limits, user, env, binds, tmpfs, read-only, no network, no-new-privileges', () => {
  matchGolden('run-flags', {
    image: 'busybox', cmd: ['sleep', '10'], env: ['A=1', 'PATH=/bin'], workingDir: '/tmp', user: 'berth', tty: true, hostname: 'web',
    host: {
      memory: 64 << 20, nanoCpus: 1.5e9, cpuShares: 512, cpusetCpus: '0', pidsLimit: 100, capAdd: ['NET_ADMIN'], capDrop: ['MKNOD', 'CAP_KILL'],
      readonlyRootfs: true, tmpfs: { '/run': 'size=1m' }, shmSize: 1 << 20, ulimits: [{ name: 'nofile', soft: 512, hard: 1024 }],
      binds: ['/srv/data:/data:ro', '/srv/logs:/logs'], networkMode: 'none', securityOpt: ['no-new-privileges'], devices: [{ pathOnHost: '/dev/fuse', cgroupPermissions: 'rw' }],
      oomScoreAdj: 100, sysctls: { 'net.ipv4.ip_forward': '1' },
    },
  });
});

test('golden: --privileged --network host, seccomp unconfined', () => {
  matchGolden('run-privileged', { image: 'busybox', entrypoint: ['/bin/sh', '-c'], cmd: ['id'], host: { privileged: true, networkMode: 'host', securityOpt: ['seccomp=unconfined'] } });
});

test('entrypoint and cmd follow docker\'s rules', () => {
  const img: ImageRunConfig = { entrypoint: ['/entry'], cmd: ['default'] };
  const args = (c: Partial<ContainerConfig>) => buildContainerSpec({ image: 'x', host: {}, ...c }, img, ctx).process!.args;
  assert.deepEqual(args({}), ['/entry', 'default']);
  assert.deepEqual(args({ cmd: ['mine'] }), ['/entry', 'mine']);
  assert.deepEqual(args({ entrypoint: ['/other'] }), ['/other'], 'a new entrypoint drops the image cmd');
  assert.deepEqual(args({ entrypoint: [], cmd: ['ls'] }), ['ls']);
  assert.throws(() => buildContainerSpec({ image: 'x', host: {}, entrypoint: [] }, {}, ctx), /no command specified/);
});

test('memory swap: 0 means twice the memory, -1 unlimited, smaller than memory refused', () => {
  const mem = (host: ContainerConfig['host']) => buildContainerSpec({ image: 'x', cmd: ['true'], host }, busybox, ctx).linux!.resources!.memory;
  assert.deepEqual(mem({ memory: 64 << 20 }), { limit: 64 << 20, swap: 128 << 20 });
  assert.deepEqual(mem({ memory: 64 << 20, memorySwap: -1 }), { limit: 64 << 20, swap: -1 });
  assert.throws(() => mem({ memory: 64 << 20, memorySwap: 32 << 20 }), /Minimum memoryswap limit should be larger than memory limit/);
  assert.throws(() => mem({ memory: 1 << 20 }), /Minimum memory limit allowed is 6MB/);
});

test('bad input gets docker\'s wording', () => {
  const build = (host: ContainerConfig['host'], extra: Partial<ContainerConfig> = {}) => () => buildContainerSpec({ image: 'x', cmd: ['true'], host, ...extra }, busybox, ctx);
  assert.throws(build({ capAdd: ['FLY'] }), /unknown capability: "CAP_FLY"/);
  assert.throws(build({ binds: ['nocolon'] }), /invalid volume specification: 'nocolon'/);
  assert.throws(build({ binds: ['/a:/b:xyz'] }), /invalid mode: xyz/);
  assert.throws(build({ nanoCpus: 1e9, cpuPeriod: 50000 }), /Conflicting options: Nano CPUs and CPU Period cannot both be set/);
  assert.throws(build({ ulimits: [{ name: 'nofile', soft: 10, hard: 5 }] }), /soft limit must be less than or equal to hard limit/);
  assert.throws(build({ ulimits: [{ name: 'bogus', soft: 1, hard: 1 }] }), /invalid ulimit type: bogus/);
  assert.throws(build({ devices: [{ pathOnHost: '/dev/nope' }] }), /error gathering device information while adding custom device "\/dev\/nope"/);
  // as dockerd on a host without SELinux/AppArmor: accepted, no effect; moby parseSecurityOpt's wording otherwise
  for (const ok of ['label=disable', 'label:disable', 'disable', 'apparmor=unconfined', 'no-new-privileges', 'no-new-privileges=false']) build({ securityOpt: [ok] })();
  assert.equal(build({ securityOpt: ['no-new-privileges=TRUE'] })().process!.noNewPrivileges, true);
  assert.equal(build({ securityOpt: ['no-new-privileges=0'] })().process!.noNewPrivileges, false);
  assert.throws(build({ securityOpt: ['foo'] }), /invalid --security-opt 1: "foo"/);
  assert.throws(build({ securityOpt: ['foo=bar'] }), /invalid --security-opt 2: "foo=bar"/);
  assert.throws(build({ securityOpt: ['no-new-privileges=maybe'] }), /invalid --security-opt 2: "no-new-privileges=maybe"/);
  assert.throws(build({}, { workingDir: 'rel' }), /the working directory 'rel' is invalid, it needs to be an absolute path/);
  assert.throws(build({ securityOpt: ['seccomp={"defaultAction":"SCMP_ACT_BOGUS"}'] }), /SCMP_ACT_BOGUS/);
});

test('users: numbers, names, groups, supplementary groups', () => {
  assert.deepEqual(resolveUser('', ctx.passwd, ctx.group), { uid: 0, gid: 0, additionalGids: [], home: '/root' });
  assert.deepEqual(resolveUser('berth', ctx.passwd, ctx.group), { uid: 1000, gid: 1000, additionalGids: [1001], home: '/home/berth' });
  assert.deepEqual(resolveUser('1000:extra', ctx.passwd, ctx.group), { uid: 1000, gid: 1001, additionalGids: [], home: '/home/berth' });
  assert.deepEqual(resolveUser('4242:4343', ctx.passwd, ctx.group), { uid: 4242, gid: 4343, additionalGids: [], home: '/' });
  assert.throws(() => resolveUser('nobody', ctx.passwd, ctx.group), /unable to find user nobody: no matching entries in passwd file/);
  assert.throws(() => resolveUser('berth:nogroup', ctx.passwd, ctx.group), /unable to find group nogroup/);
  // --group-add: names from the image's group file or numbers, after the user's own groups, once each
  assert.deepEqual(resolveUser('berth', ctx.passwd, ctx.group, ['extra', '77', 'root']).additionalGids, [1001, 77, 0]);
  assert.deepEqual(resolveUser('', ctx.passwd, ctx.group, ['1000']).additionalGids, [1000]);
  assert.throws(() => resolveUser('', ctx.passwd, ctx.group, ['nope']), /Unable to find group nope: no matching entries in group file/);
});
