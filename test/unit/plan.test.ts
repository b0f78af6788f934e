// The plan: TypeScript's tags match native/plan.h, and what the encoder writes is what the helper reads.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { buildExecPlan, buildInitPlan, capMask, type InitContext } from '../../src/runtime/plan/build.js';
import { encodePlan, type Op } from '../../src/runtime/plan/encode.js';
import { parseMountOptions } from '../../src/runtime/plan/mount-options.js';
import { OPS } from '../../src/runtime/plan/tags.js';
import { defaultSpec } from '../../src/runtime/defaults.js';
import { HELPER_PATH } from '../../src/runtime/sync.js';
import { MS, makedev } from '../../src/runtime/linux.js';

const native = (f: string) => fs.readFileSync(fileURLToPath(new URL(`../../../native/${f}`, import.meta.url)), 'utf8');

function decode(ops: Op[]): string[] {
  const r = spawnSync(HELPER_PATH, ['--decode-plan'], { input: encodePlan(ops) });
  assert.equal(r.status, 0, r.stderr.toString());
  return r.stdout.toString().trim().split('\n');
}

test('op tags and field layouts match native/plan.h and plan.c', () => {
  const h = native('plan.h'), c = native('plan.c');
  for (const [name, [tag, fields]] of Object.entries(OPS)) {
    assert.match(h, new RegExp(`OP_${name} = ${tag},`), `OP_${name} = ${tag} in plan.h`);
    assert.ok(c.includes(`[OP_${name}] = {"${name}", "${fields}"}`), `format of ${name} in plan.c`);
  }
  const count = (h.match(/OP_[A-Z_]+ = \d+,/g) ?? []).length;
  assert.equal(count, Object.keys(OPS).length, 'plan.h has ops TypeScript does not know');
});

test('sync message numbers match native/sync.h', async () => {
  const { MSG } = await import('../../src/runtime/plan/tags.js');
  const h = native('sync.h');
  for (const [name, n] of Object.entries(MSG)) assert.match(h, new RegExp(`MSG_${name} = ${n},`));
});

test('every kind of field round-trips through berth-helper --decode-plan', () => {
  const lines = decode([
    { op: 'MOUNT', args: { flags: MS.BIND | MS.REC, inroot: 1, mkdir: 2, src: '/a b', dst: '/c', fstype: '', data: 'x=1' } },
    { op: 'MKNOD', args: { mode: 0o20666, dev: makedev(1, 3), uid: 0, gid: 5, inroot: 1, path: '/dev/null' } },
    { op: 'SETGROUPS', args: { gids: [1, 2, 65534] } },
    { op: 'CAPSET', args: { effective: 1n << 40n, permitted: 0xffffffffffn, inheritable: 0n } },
    { op: 'CONSOLE', args: { rows: 24, cols: 80, fd: -1 } },
    { op: 'EXEC', args: { args: ['sh', '-c', 'echo "hi"'], env: ['A=1'] } },
    { op: 'SECCOMP', args: { flags: 1, filter: Buffer.alloc(16) } },
    { op: 'SETXATTR', args: { inroot: 0, path: '/x', name: 'trusted.overlay.opaque', value: Buffer.from('y') } },
    { op: 'PIVOT' },
    { op: 'SETRESID', args: { uid: 0xfffffffe, gid: 0x80000000 } },
    { op: 'HOSTNAME', args: { name: 'h\u00e9\u2603\u{1f600}' } },
  ]);
  assert.deepEqual(lines, [
    `MOUNT flags=${MS.BIND | MS.REC} inroot=1 mkdir=2 src="/a b" dst="/c" fstype="" data="x=1"`,
    `MKNOD mode=${0o20666} dev=259 uid=0 gid=5 inroot=1 path="/dev/null"`,
    'SETGROUPS gids=1,2,65534',
    `CAPSET effective=${1n << 40n} permitted=${0xffffffffffn} inheritable=0`,
    'CONSOLE rows=24 cols=80 fd=-1',
    'EXEC args=["sh","-c","echo "hi""] env=["A=1"]',
    'SECCOMP flags=1 filter=<16 bytes>',
    'SETXATTR inroot=0 path="/x" name="trusted.overlay.opaque" value=<1 bytes>',
    'PIVOT',
    `SETRESID uid=${0xfffffffe} gid=${0x80000000}`,
    'HOSTNAME name="h\u00e9\u2603\u{1f600}"',
  ]);
});

test('the helper refuses a truncated or unknown record', () => {
  const good = encodePlan([{ op: 'HOSTNAME', args: { name: 'x' } }]);
  for (const bad of [good.subarray(0, good.length - 1), Buffer.concat([good, Buffer.from([99, 0, 0, 0, 0, 0, 0, 0])])]) {
    const r = spawnSync(HELPER_PATH, ['--decode-plan'], { input: bad });
    assert.equal(r.status, 1);
    assert.match(r.stderr.toString(), /malformed plan record/);
  }
});

test('strings with NUL bytes are refused before they reach C', () => {
  assert.throws(() => encodePlan([{ op: 'HOSTNAME', args: { name: 'a\0b' } }]), /NUL byte/);
});

const ctx: InitContext = {
  rootfs: '/bundle/rootfs', execFifo: '/run/x/exec.fifo', sourceIsDir: (s) => (s === '/missing' ? undefined : !s.endsWith('.txt')),
  cgroup: { v1: [{ name: 'memory', hostDir: '/sys/fs/cgroup/memory/berth/x', links: ['memory'] }] }, hookSync: false, detach: true,
};

test('init plan order: setup in the parent, namespaces, mounts, pivot, then the process', () => {
  const spec = defaultSpec();
  spec.process!.terminal = false;
  spec.linux!.namespaces!.push({ type: 'user' });
  spec.linux!.uidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  spec.linux!.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
  const names = buildInitPlan(spec, ctx).map((o) => o.op);
  const at = (n: string) => names.indexOf(n as never);
  assert.ok(at('MKNOD') < at('FIFO_OPEN') && at('FIFO_OPEN') < at('CLONE'), 'fifo made before clone');
  assert.ok(at('CLONE') < at('SYNC_GO') && at('SYNC_GO') < at('SETRESID'), 'maps written before becoming root in the userns');
  assert.ok(at('ROOT') < at('PIVOT') && at('PIVOT') < at('READONLY') && at('READONLY') < at('MASK'));
  assert.ok(at('PIVOT') < at('CAPBSET') && at('SETRESUID') < at('CAPSET') && at('CAPSET') < at('READY'));
  assert.ok(at('READY') < at('FIFO_WAIT') && at('FIFO_WAIT') < at('EXEC'));
  assert.equal(names.at(-1), 'EXEC');
  // in a user namespace devices are bind-mounted from the host, not made with mknod
  const plan = buildInitPlan(spec, ctx);
  assert.ok(plan.some((o) => o.op === 'MOUNT' && o.args?.dst === '/dev/null' && o.args?.src === '/dev/null'));
  const fifo = plan.find((o) => o.op === 'MKNOD')!;
  assert.equal(fifo.args!.uid, 100000, 'the fifo belongs to the container root');
});

test('seccomp goes in last with no_new_privs, and before the capability drop without it', () => {
  const spec = defaultSpec();
  spec.process!.terminal = false;
  const seccomp = { filter: Buffer.alloc(8), flags: 0 };
  const withNNP = buildInitPlan(spec, { ...ctx, seccomp }).map((o) => o.op);
  assert.deepEqual(withNNP.slice(-3), ['FIFO_WAIT', 'SECCOMP', 'EXEC']);
  spec.process!.noNewPrivileges = false;
  const without = buildInitPlan(spec, { ...ctx, seccomp }).map((o) => o.op);
  assert.ok(without.indexOf('SECCOMP') < without.indexOf('CAPBSET'));
});

test('bind mounts: a missing source names the field; ro becomes a second, remounting op', () => {
  const spec = defaultSpec();
  spec.process!.terminal = false;
  spec.mounts!.push({ destination: '/data', source: '/missing', type: 'bind', options: ['rbind'] });
  assert.throws(() => buildInitPlan(spec, ctx), /mounts\[7\]\.source: bind source "\/missing" does not exist/);
  spec.mounts![7] = { destination: '/etc/a.txt', source: '/host/a.txt', type: 'bind', options: ['bind', 'ro', 'nosuid'] };
  const ops = buildInitPlan(spec, ctx).filter((o) => o.from === 'mounts[7]');
  assert.equal(ops.length, 2);
  assert.equal(ops[0]!.args!.mkdir, 2, 'a file source gets a file mount point');
  assert.equal(ops[1]!.args!.flags, MS.BIND | MS.REMOUNT | MS.RDONLY | MS.NOSUID);
});

test('a terminal needs a console socket or a foreground parent', () => {
  const spec = defaultSpec();
  assert.throws(() => buildInitPlan(spec, ctx), /process\.terminal/);
  assert.ok(buildInitPlan(spec, { ...ctx, console: 'relay' }).some((o) => o.op === 'CONSOLE' && o.args!.fd === -1));
});

test('exec plan joins namespaces user first and mount last', () => {
  const spec = defaultSpec();
  spec.process!.terminal = false;
  const ops = buildExecPlan(spec.process!, [{ type: 'mount', path: '/proc/1/ns/mnt' }, { type: 'pid', path: '/proc/1/ns/pid' }, { type: 'user', path: '/proc/1/ns/user' }], undefined, { detach: false });
  assert.deepEqual(ops.filter((o) => o.op === 'SETNS').map((o) => o.args!.path), ['/proc/1/ns/user', '/proc/1/ns/pid', '/proc/1/ns/mnt']);
  assert.ok(!ops.some((o) => o.op === 'FIFO_WAIT'));
});

test('mount options: flags, clearing flags, propagation, data, and refusal of what is not done', () => {
  assert.deepEqual(parseMountOptions(['nosuid', 'noexec', 'mode=755', 'size=65536k', 'rw', 'rslave'], 'm'), {
    flags: MS.NOSUID | MS.NOEXEC, propagation: [MS.SLAVE | MS.REC], data: 'mode=755,size=65536k',
  });
  assert.equal(parseMountOptions(['ro', 'rw'], 'm').flags, 0);
  assert.equal(parseMountOptions(['rbind'], 'm').flags, MS.BIND | MS.REC);
  assert.throws(() => parseMountOptions(['bind', 'idmap'], 'mounts[2]'), /mounts\[2\]\.options\[1\]: mount option "idmap" is not supported/);
});

test('capability masks', () => {
  assert.equal(capMask(['CAP_CHOWN', 'CAP_KILL'], 'f'), 0b100001n);
  assert.throws(() => capMask(['CAP_FLY'], 'process.capabilities.bounding'), /process\.capabilities\.bounding\[0\]: unknown capability "CAP_FLY"/);
});
