// Published ports on the wire: the CLI's -p/-P/--expose request, the daemon's create checks (400s),
// HostConfig/Config echo, NetworkSettings.Ports and the list's Ports, ps's PORTS column (no root).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toContainerConfig, toInspect, toSummary, type WireContainerConfig } from '../../src/api/container-wire.js';
import { createRequest, displayPorts } from '../../src/cli/docker/containers.js';
import type { Container } from '../../src/containers/types.js';
import type { BerthError } from '../../src/errors.js';

const ZERO = '0001-01-01T00:00:00Z';

test('berth run -p/-P/--expose sends what the docker CLI sends', () => {
  const { body } = createRequest(['-p', '127.0.0.1::80', '-p', '8000-8001:90-91/udp', '-P', '--expose', '7000-7001', 'img'], true);
  assert.deepEqual(Object.keys(body.ExposedPorts ?? {}), ['80/tcp', '90/udp', '91/udp', '7000/tcp', '7001/tcp']);
  assert.deepEqual(body.HostConfig?.PortBindings, {
    '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '' }], '90/udp': [{ HostIp: '', HostPort: '8000' }], '91/udp': [{ HostIp: '', HostPort: '8001' }],
  });
  assert.equal(body.HostConfig?.PublishAllPorts, true);
  assert.throws(() => createRequest(['-p', '8080:', 'img'], true), /no port specified: 8080:<empty>/);
  assert.throws(() => createRequest(['--expose', 'a:b', 'img'], true), /invalid port format for --expose/);
});

test('create: PortBindings, PublishAllPorts and ExposedPorts kept; bad ones are InvalidArgument (400)', () => {
  const c = toContainerConfig({
    Image: 'x', ExposedPorts: { '80/tcp': {}, '53/udp': {}, 81: {} } as Record<string, object>,
    HostConfig: { PortBindings: { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '8080' }, { HostPort: '' }], '53/udp': null }, PublishAllPorts: true },
  });
  assert.deepEqual(c.exposedPorts?.sort(), ['53/udp', '80/tcp', '81/tcp']);
  assert.deepEqual(c.host.portBindings, { '80/tcp': [{ hostIp: '127.0.0.1', hostPort: '8080' }, { hostIp: '', hostPort: '' }], '53/udp': [] });
  assert.equal(c.host.publishAllPorts, true);
  const bad = (hc: object, re: RegExp) => assert.throws(() => toContainerConfig({ Image: 'x', HostConfig: hc }), (e: BerthError) => e.kind === 'InvalidArgument' && re.test(e.message));
  bad({ PortBindings: { 'abc/tcp': [] } }, /^invalid port specification: "abc"$/);
  bad({ PortBindings: { '80/tcp': [{ HostPort: '65536' }] } }, /invalid port specification: "65536"/);
  bad({ PortBindings: { '80/tcp': [{ HostIp: '1.2.3', HostPort: '1' }] } }, /invalid host IP address: 1.2.3/);
  bad({ PortBindings: { '80/tcp': 'x' } }, /cannot unmarshal/);
  assert.throws(() => toContainerConfig({ Image: 'x', ExposedPorts: { 'x/tcp': {} } }), /invalid port specification: "x"/);
  bad({ NetworkMode: 'container:web', PortBindings: { '80/tcp': [] } }, /^conflicting options: port publishing and the container type network mode$/);
  assert.throws(() => toContainerConfig({ Image: 'x', ExposedPorts: { '80/tcp': {} }, HostConfig: { NetworkMode: 'container:web' } }), /port exposing and the container type network mode/);
  const warnings: string[] = [];
  toContainerConfig({ Image: 'x', HostConfig: { NetworkMode: 'host', PortBindings: { '80/tcp': [] } } }, { warnings });
  assert.deepEqual(warnings, ['Published ports are discarded when using host network mode']);
});

test('inspect and list: the published ports while running, nothing once stopped', () => {
  const c: Container = {
    id: 'a'.repeat(64), name: 'web', created: '2025-01-01T00:00:00Z', image: 'busybox', imageId: `sha256:${'b'.repeat(64)}`,
    config: { image: 'busybox', exposedPorts: ['80/tcp', '443/tcp'], host: { portBindings: { '80/tcp': [{ hostIp: '', hostPort: '' }] }, publishAllPorts: true } } as WireContainerConfig,
    state: { status: 'running', pid: 7, exitCode: 0, oomKilled: false, error: '', startedAt: new Date().toISOString(), finishedAt: ZERO },
    path: 'sh', args: [], logPath: '/l', attachSocket: '/s', restartCount: 0,
    ports: [{ proto: 'tcp', containerPort: 80, hostIp: '0.0.0.0', hostPort: 49153 }],
  };
  const i = toInspect(c);
  assert.deepEqual(i.NetworkSettings.Ports, { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '49153' }], '443/tcp': null });
  assert.deepEqual(i.HostConfig.PortBindings, { '80/tcp': [{ HostIp: '', HostPort: '' }] });
  assert.equal(i.HostConfig.PublishAllPorts, true);
  assert.deepEqual(i.Config.ExposedPorts, { '80/tcp': {}, '443/tcp': {} });
  assert.deepEqual(toSummary(c).Ports, [{ IP: '0.0.0.0', PrivatePort: 80, PublicPort: 49153, Type: 'tcp' }, { PrivatePort: 443, Type: 'tcp' }]);
  const stopped = { ...c, state: { ...c.state, status: 'exited' as const } };
  assert.deepEqual(toInspect(stopped).NetworkSettings.Ports, {});
  assert.deepEqual(toSummary(stopped).Ports, []);
});

test('inspect: no endpoint (--network none, a daemon with --bridge none), no Ports, as moby reads them off the endpoints', () => {
  const c: Container = {
    id: 'c'.repeat(64), name: 'lo-only', created: '2025-01-01T00:00:00Z', image: 'busybox', imageId: `sha256:${'b'.repeat(64)}`,
    config: { image: 'busybox', exposedPorts: ['80/tcp'], host: { networkMode: 'none', portBindings: { '80/tcp': [{ hostIp: '', hostPort: '8080' }] } } } as WireContainerConfig,
    state: { status: 'running', pid: 7, exitCode: 0, oomKilled: false, error: '', startedAt: new Date().toISOString(), finishedAt: ZERO },
    path: 'sh', args: [], logPath: '/l', attachSocket: '/s', restartCount: 0,
    network: { endpoints: [], networkIds: {} },
  };
  assert.deepEqual(toInspect(c).NetworkSettings.Ports, {});
  // with an endpoint the exposed port shows, unpublished (null)
  const ep = { networkId: 'n', networkName: 'u1', endpointId: 'e', containerId: c.id, containerName: c.name, aliases: [], ipv4Address: '172.20.0.2', prefixLen: 16, gateway: '172.20.0.1', macAddress: '02:42:ac:14:00:02', hostVeth: 'vb1' };
  assert.deepEqual(toInspect({ ...c, network: { endpoints: [ep], networkIds: { u1: 'n' } } }).NetworkSettings.Ports, { '80/tcp': null });
});

test('ps PORTS column as docker prints it', () => {
  assert.equal(displayPorts([
    { IP: '0.0.0.0', PrivatePort: 80, PublicPort: 49153, Type: 'tcp' }, { PrivatePort: 443, Type: 'tcp' }, { PrivatePort: 444, Type: 'tcp' },
    { IP: '0.0.0.0', PrivatePort: 7000, PublicPort: 7000, Type: 'tcp' }, { IP: '0.0.0.0', PrivatePort: 7001, PublicPort: 7001, Type: 'tcp' },
    { IP: '127.0.0.1', PrivatePort: 53, PublicPort: 5353, Type: 'udp' },
  ]), '443-444/tcp, 0.0.0.0:7000-7001->7000-7001/tcp, 127.0.0.1:5353->53/udp, 0.0.0.0:49153->80/tcp');
  assert.equal(displayPorts([]), '');
});
