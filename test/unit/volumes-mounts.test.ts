// volumes/mounts and containers/log-config: docker's parsing, checks and wording, pure.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ContainerConfig } from '../../src/containers/config.js';
import { checkLogConfig, fromHumanSize, logPlan } from '../../src/containers/log-config.js';
import { parseBind, parseMountSpec, parseVolumesFrom, planMounts, tmpfsData, validMountMode, type MountPoint } from '../../src/volumes/mounts.js';
import { parseMountFlag } from '../../src/cli/docker/mount-flag.js';
import { ociMount } from '../../src/containers/spec/index.js';

const cfg = (host: ContainerConfig['host'], extra: Partial<ContainerConfig> = {}): ContainerConfig => ({ image: 'x', host, ...extra });
let n = 0;
const plan = (c: ContainerConfig, more: Partial<Parameters<typeof planMounts>[1]> = {}) =>
  planMounts(c, { exists: (p) => p.startsWith('/exists'), freshName: () => `anon${++n}`, mountsOf: () => [], ...more });

test('-v: binds, volumes, modes as moby ParseMountRaw', () => {
  assert.deepEqual(parseBind('/h:/c:ro,rshared'), { type: 'bind', destination: '/c', source: '/h', rw: false, mode: 'ro,rshared', propagation: 'rshared', copyData: false, createSource: true });
  assert.deepEqual(parseBind('data:/d/'), { type: 'volume', destination: '/d', source: '', name: 'data', driver: 'local', rw: true, mode: 'z', propagation: '', copyData: true });
  assert.equal(parseBind('data:/d:nocopy').copyData, false);
  assert.equal(parseBind('/h:/c:Z').rw, true);
  assert.deepEqual(parseBind('/only'), { type: 'volume', destination: '/only', source: '', driver: 'local', rw: true, mode: 'z', propagation: '', copyData: true });
  assert.throws(() => parseBind('/foo:rw'), /^BerthError: invalid volume specification: '\/foo:rw'$/);
  assert.throws(() => parseBind('/a:/b:bogus'), /invalid mode: bogus/);
  assert.throws(() => parseBind('/a:/b:ro,rw'), /invalid mode: ro,rw/);
  assert.throws(() => parseBind('a:b:c:d'), /invalid volume specification: 'a:b:c:d'/);
  assert.throws(() => parseBind('/a:rel'), /invalid volume specification: '\/a:rel': invalid mount config for type "bind": invalid mount path: 'rel' mount path must be absolute/);
  assert.throws(() => parseBind('v:/'), /destination can't be '\/'/);
  assert.ok(validMountMode('ro,z,rslave,nocopy,cached'));
  assert.ok(!validMountMode('z,Z'));
});

test('--mount: moby ValidateMountConfig wording; tmpfs options as ConvertTmpfsOptions', () => {
  const ex = (p: string) => p === '/exists';
  assert.deepEqual(parseMountSpec({ type: 'bind', source: '/exists', target: '/t', readOnly: true, bindOptions: { propagation: 'rslave' } }, ex).point,
    { type: 'bind', destination: '/t', source: '/exists', rw: false, mode: '', propagation: 'rslave', copyData: false });
  assert.throws(() => parseMountSpec({ type: 'bind', source: 'rel', target: '/t' }, ex), /^BerthError: invalid mount config for type "bind": invalid mount path: 'rel' mount path must be absolute$/);
  assert.throws(() => parseMountSpec({ type: 'bind', source: '/nope', target: '/t' }, ex), /bind source path does not exist: \/nope/);
  assert.doesNotThrow(() => parseMountSpec({ type: 'bind', source: '/nope', target: '/t', bindOptions: { createMountpoint: true } }, ex));
  assert.throws(() => parseMountSpec({ type: 'bind', source: '/exists', target: '/t', bindOptions: { propagation: 'sideways' } }, ex), /invalid propagation mode: sideways/);
  assert.throws(() => parseMountSpec({ type: 'volume', source: 'v' }, ex), /invalid mount config for type "volume": field Target must not be empty/);
  assert.throws(() => parseMountSpec({ type: 'tmpfs', source: 'x', target: '/t' }, ex), /field Source must not be specified/);
  assert.throws(() => parseMountSpec({ type: 'volume', target: '/t', tmpfsOptions: {} }, ex), /field TmpfsOptions must not be specified/);
  assert.throws(() => parseMountSpec({ type: 'npipe', target: '/t' }, ex), /mount type unknown/);
  const v = parseMountSpec({ type: 'volume', source: 'v', target: '/t', volumeOptions: { noCopy: true, labels: { a: 'b' }, driverConfig: { name: 'local', options: { type: 'tmpfs' } } } }, ex);
  assert.equal(v.point.copyData, false);
  assert.deepEqual(v.volume, { labels: { a: 'b' }, options: { type: 'tmpfs' } });
  assert.equal(tmpfsData({ sizeBytes: 10 << 20, mode: 0o1770, options: [['exec']] }, true), 'ro,mode=1770,size=10m,exec');
  assert.equal(tmpfsData({ sizeBytes: 1000 }, false), 'size=1000');
  assert.throws(() => tmpfsData({ options: [['suid']] }, false), /invalid option: suid/);
});

test('--volumes-from: ro/rw only', () => {
  assert.deepEqual(parseVolumesFrom('c'), { ref: 'c', rw: true });
  assert.deepEqual(parseVolumesFrom('c:ro'), { ref: 'c', rw: false });
  assert.throws(() => parseVolumesFrom('c:rshared'), /invalid mode: rshared/);
  assert.throws(() => parseVolumesFrom('c:nocopy'), /invalid mode: nocopy/);
  assert.throws(() => parseVolumesFrom(''), /cannot be an empty string/);
});

test('planMounts: order, duplicates, anonymous volumes, volumes-from', () => {
  const theirs: MountPoint[] = [
    { type: 'volume', destination: '/shared', source: '/v/s', name: 'shared', driver: 'local', rw: true, mode: 'z', propagation: '', copyData: true },
    { type: 'tmpfs', destination: '/tmp', source: '', rw: true, mode: '', propagation: '', copyData: false },
  ];
  const p = plan(cfg({ volumesFrom: ['src:ro'], binds: ['named:/n', '/exists:/shared'], tmpfs: { '/run': '' } }, { volumes: ['/anon', '/run', '/n'] }), { mountsOf: () => theirs, imageVolumes: ['/img/'] });
  assert.deepEqual(p.points.map((x) => `${x.type}:${x.destination}:${x.name ?? x.source}:${x.rw}`), ['bind:/shared:/exists:true', 'volume:/n:named:true', 'volume:/anon:anon1:true', 'volume:/img:anon2:true']);
  assert.deepEqual(p.volumes.map((v) => `${v.name}:${v.anonymous}`), ['shared:false', 'named:false', 'anon1:true', 'anon2:true']);
  assert.throws(() => plan(cfg({ binds: ['a:/d', '/exists:/d/'] })), /^BerthError: Duplicate mount point: \/d$/);
  assert.throws(() => plan(cfg({ binds: ['a:/d'], tmpfs: { '/d': '' } })), /Duplicate mount point: \/d/);
  assert.throws(() => plan(cfg({ binds: ['a:/d'], mounts: [{ type: 'volume', target: '/d' }] })), /Duplicate mount point: \/d/);
  assert.throws(() => plan(cfg({ mounts: [{ type: 'tmpfs', target: '/d' }, { type: 'tmpfs', target: '/d' }] })), /Duplicate mount point: \/d/);
  const ro = plan(cfg({ volumesFrom: ['src:ro'] }), { mountsOf: () => theirs }).points;
  assert.deepEqual(ro.map((x) => [x.destination, x.rw, x.copyData]), [['/shared', false, false]], 'ro, never copied into, tmpfs not shared');
});

test('OCI mounts from mount points', () => {
  assert.deepEqual(ociMount(parseBind('/h:/c:ro,rslave')), { destination: '/c', type: 'bind', source: '/h', options: ['rbind', 'ro', 'rslave'] });
  assert.deepEqual(ociMount({ ...parseBind('v:/c'), source: '/var/v' }), { destination: '/c', type: 'bind', source: '/var/v', options: ['rbind', 'rw', 'rprivate'] });
  assert.throws(() => ociMount(parseBind('v:/c')), /get v: no such volume/);
  const t = parseMountSpec({ type: 'tmpfs', target: '/t', tmpfsOptions: { sizeBytes: 1 << 20 } }, () => true).point;
  assert.deepEqual(ociMount(t), { destination: '/t', type: 'tmpfs', source: 'tmpfs', options: ['noexec', 'nosuid', 'nodev', 'size=1m'] });
});

test('--mount flag as the docker CLI sends it', () => {
  assert.deepEqual(parseMountFlag('type=bind,src=/a,dst=/b,readonly,bind-propagation=rshared'), { Type: 'bind', Source: '/a', Target: '/b', ReadOnly: true, BindOptions: { Propagation: 'rshared' } });
  assert.deepEqual(parseMountFlag('source=v,target=/d,volume-nocopy,volume-opt=type=tmpfs,volume-label=a=b'),
    { Type: 'volume', Source: 'v', Target: '/d', VolumeOptions: { NoCopy: true, DriverConfig: { Options: { type: 'tmpfs' } }, Labels: { a: 'b' } } });
  assert.deepEqual(parseMountFlag('type=tmpfs,target=/t,tmpfs-size=64m,tmpfs-mode=1777'), { Type: 'tmpfs', Target: '/t', TmpfsOptions: { SizeBytes: 64 << 20, Mode: 0o1777 } });
  assert.throws(() => parseMountFlag('type=bind,source=/a'), /target is required/);
  assert.throws(() => parseMountFlag('type=bind,target=/a,bogus=1'), /unexpected key 'bogus'/);
  assert.throws(() => parseMountFlag('type=tmpfs,target=/a,volume-nocopy'), /cannot mix 'volume-\*' options with mount type 'tmpfs'/);
});

test('log config: json-file rotation by default, docker\'s checks, none and local', () => {
  assert.equal(fromHumanSize('10m'), 10_000_000);
  assert.equal(fromHumanSize('1.5k'), 1500);
  assert.throws(() => fromHumanSize('ten'), /invalid size: 'ten'/);
  assert.deepEqual(logPlan(undefined), { driver: 'json-file', maxSize: 10_000_000, maxFiles: 3 });
  assert.deepEqual(logPlan({ type: 'json-file', config: { 'max-size': '1m' } }), { driver: 'json-file', maxSize: 1_000_000, maxFiles: 1 });
  assert.deepEqual(logPlan({ type: 'json-file', config: { 'max-size': '1m', 'max-file': '5' } }), { driver: 'json-file', maxSize: 1_000_000, maxFiles: 5 });
  assert.deepEqual(logPlan({ type: 'none', config: {} }), { driver: 'none' });
  const warnings: string[] = [];
  assert.deepEqual(checkLogConfig({ Type: 'local', Config: {} }, warnings), { type: 'local', config: {} });
  assert.match(warnings[0]!, /served as json-file/);
  assert.equal(checkLogConfig({ Type: '', Config: {} }), undefined);
  assert.throws(() => checkLogConfig({ Type: 'json-file', Config: { 'max-file': '0' } }), /max-file cannot be less than 1/);
  assert.throws(() => checkLogConfig({ Type: 'json-file', Config: { 'max-size': '-1' } }), /invalid size: '-1'/);
  assert.throws(() => checkLogConfig({ Type: 'json-file', Config: { 'max-siz': '1' } }), /unknown log opt 'max-siz' for json-file log driver/);
  assert.throws(() => checkLogConfig({ Type: 'gelf', Config: {} }), /logger: no log driver named 'gelf' is registered/);
  assert.throws(() => checkLogConfig({ Type: 'none', Config: { 'max-size': '1m' } }), /unknown log opt 'max-size' for none log driver/);
});
