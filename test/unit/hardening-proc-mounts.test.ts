// Issue 7 item 4: mounts on or inside /proc and on masked paths are refused like runc's
// checkProcMount, by the runtime's validate and at Docker-level create alike.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkMounts } from '../../src/containers/spec/index.js';
import type { ContainerConfig } from '../../src/containers/config.js';
import { defaultSpec } from '../../src/runtime/defaults.js';
import { mountRefusal } from '../../src/runtime/mount-rules.js';
import { validateSpec } from '../../src/runtime/validate.js';

test('mountRefusal: /proc only as a procfs, inside /proc only the lxcfs files, never on a masked path', () => {
  const bind = (destination: string, procfsSource = false) => mountRefusal({ destination, type: 'bind', bind: true, procfsSource }, ['/sys/firmware', '/proc/kcore']);
  assert.equal(mountRefusal({ destination: '/proc', type: 'proc', bind: false }), undefined);
  assert.equal(bind('/proc', true), undefined, 'a bind of a procfs onto /proc (runc allows it)');
  assert.equal(bind('/proc'), '"/proc" cannot be mounted because it is not of type proc');
  assert.equal(mountRefusal({ destination: '/proc/', type: 'tmpfs', bind: false }), '"/proc" cannot be mounted because it is not of type proc');
  assert.equal(bind('/proc/sys'), '"/proc/sys" cannot be mounted because it is inside /proc');
  assert.equal(bind('/x/../proc/sys/'), '"/proc/sys" cannot be mounted because it is inside /proc', 'lexically cleaned first');
  assert.equal(bind('/proc/kcore'), '"/proc/kcore" cannot be mounted because it is inside /proc');
  assert.equal(mountRefusal({ destination: '/proc/sys/net', type: 'proc', bind: false }), '"/proc/sys/net" cannot be mounted because it is inside /proc');
  for (const ok of ['/proc/uptime', '/proc/meminfo', '/proc/sys/kernel/ns_last_pid', '/procx', '/data/proc']) assert.equal(bind(ok), undefined, ok);
  assert.equal(bind('/sys/firmware'), '"/sys/firmware" cannot be mounted because it is on the masked path /sys/firmware');
  assert.equal(bind('/sys/firmware/efi'), '"/sys/firmware/efi" cannot be mounted because it is on the masked path /sys/firmware');
  assert.equal(bind('/sys/firmwarex'), undefined);
});

test('validateSpec refuses such a bundle, naming the mount', () => {
  const s = defaultSpec();
  s.mounts!.push({ destination: '/proc/sys', type: 'bind', source: '/tmp', options: ['rbind'] });
  assert.throws(() => validateSpec(JSON.parse(JSON.stringify(s))), /mounts\[\d+\]\.destination: "\/proc\/sys" cannot be mounted because it is inside \/proc/);
  const t = defaultSpec();
  t.mounts!.push({ destination: '/proc', type: 'tmpfs', source: 'tmpfs' });
  assert.throws(() => validateSpec(JSON.parse(JSON.stringify(t))), /"\/proc" cannot be mounted because it is not of type proc/);
  const b = defaultSpec();
  b.mounts!.push({ destination: '/proc', source: '/proc', options: ['rbind'] });
  assert.throws(() => validateSpec(JSON.parse(JSON.stringify(b))), /not of type proc/, 'no host facts: not known to be a procfs');
  assert.doesNotThrow(() => validateSpec(JSON.parse(JSON.stringify(b)), { isProcfs: (p) => p === '/proc' }));
  const m = defaultSpec();
  m.mounts!.push({ destination: '/sys/firmware', type: 'tmpfs', source: 'tmpfs' });
  assert.throws(() => validateSpec(JSON.parse(JSON.stringify(m))), /masked path \/sys\/firmware/);
  m.linux!.maskedPaths = [];
  assert.doesNotThrow(() => validateSpec(JSON.parse(JSON.stringify(m))), 'nothing masked (privileged): nothing to shadow');
  const u = defaultSpec();
  u.mounts!.push({ destination: '/proc/uptime', type: 'bind', source: '/tmp/uptime', options: ['bind'] });
  assert.doesNotThrow(() => validateSpec(JSON.parse(JSON.stringify(u))));
});

test('checkMounts at create: -v and --tmpfs on /proc, inside it, or on a masked path are refused', () => {
  const cfg = (host: ContainerConfig['host']): ContainerConfig => ({ image: 'bb', cmd: ['sh'], host });
  const no = () => false;
  assert.throws(() => checkMounts(cfg({ binds: ['/tmp/x:/proc'] }), no), /error mounting "\/tmp\/x" to rootfs at "\/proc": "\/proc" cannot be mounted because it is not of type proc/);
  assert.throws(() => checkMounts(cfg({ binds: ['/tmp/x:/proc/sys:ro'] }), no), /"\/proc\/sys" cannot be mounted because it is inside \/proc/);
  assert.throws(() => checkMounts(cfg({ tmpfs: { '/proc/sys': '' } }), no), /"\/proc\/sys" cannot be mounted because it is inside \/proc/);
  assert.throws(() => checkMounts(cfg({ binds: ['/tmp/x:/sys/firmware'] }), no), /masked path \/sys\/firmware/);
  assert.doesNotThrow(() => checkMounts(cfg({ binds: ['/tmp/x:/sys/firmware'], privileged: true }), no), 'privileged: nothing is masked');
  assert.doesNotThrow(() => checkMounts(cfg({ binds: ['/proc:/proc'] }), (p) => p === '/proc'));
  assert.doesNotThrow(() => checkMounts(cfg({ binds: ['/tmp/u:/proc/uptime', '/tmp/x:/data'], tmpfs: { '/run': '' } }), no));
});
