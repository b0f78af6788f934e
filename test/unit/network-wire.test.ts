// api/container-wire, the network parts: EndpointsConfig in, NetworkSettings out, in docker's shape (no root).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { toContainerConfig, toInspect, toSummary } from '../../src/api/container-wire.js';
import type { Container } from '../../src/containers/types.js';

test('create: EndpointsConfig, Config.MacAddress, DNS and extra hosts reach the config', () => {
  const c = toContainerConfig({
    Image: 'bb', MacAddress: '02:00:00:00:00:09',
    HostConfig: { NetworkMode: 'default', Dns: ['9.9.9.9'], DnsSearch: ['s.example'], DnsOptions: ['ndots:2'], ExtraHosts: ['db:10.0.0.5'] },
    NetworkingConfig: { EndpointsConfig: { front: { Aliases: ['web'], IPAMConfig: { IPv4Address: '10.5.0.9' } }, back: null } },
  });
  assert.deepEqual(c.networks, { front: { aliases: ['web'], ipv4Address: '10.5.0.9' }, back: {}, bridge: { macAddress: '02:00:00:00:00:09' } });
  assert.deepEqual([c.host.dns, c.host.dnsSearch, c.host.dnsOptions, c.host.extraHosts], [['9.9.9.9'], ['s.example'], ['ndots:2'], ['db:10.0.0.5']]);
  assert.equal(toContainerConfig({ Image: 'bb', NetworkingConfig: { EndpointsConfig: {} } }).networks, undefined);
});

const base = (over: Partial<Container>): Container => ({
  id: 'c'.repeat(64), name: 'web1', created: '2026-01-01T00:00:00Z', image: 'bb', imageId: 'sha256:x', path: 'sh', args: [],
  logPath: '/var/lib/berth/containers/ccc/json.log', attachSocket: '/run/x.sock', restartCount: 0,
  state: { status: 'running', pid: 42, exitCode: 0, oomKilled: false, error: '', startedAt: '2026-01-01T00:00:00Z', finishedAt: '0001-01-01T00:00:00Z' },
  config: { image: 'bb', host: { networkMode: 'default' }, networks: { bridge: {}, front: { aliases: ['web'] } } },
  ...over,
});

test('inspect: Networks per configured network, filled while running; top-level fields are the default bridge\'s', () => {
  const ep = { networkId: 'n1', endpointId: 'e1', containerId: 'c'.repeat(64), containerName: 'web1', prefixLen: 16, macAddress: '02:42:ac:11:00:02' };
  const c = base({
    network: {
      networkIds: { bridge: 'n1', front: 'n2' },
      endpoints: [
        { ...ep, networkName: 'bridge', aliases: [], ipv4Address: '172.17.0.2', gateway: '172.17.0.1' },
        { ...ep, networkId: 'n2', endpointId: 'e2', networkName: 'front', aliases: ['web'], ipv4Address: '10.5.0.2', gateway: '10.5.0.1', prefixLen: 24, macAddress: '02:42:0a:05:00:02' },
      ],
    },
  });
  const j = toInspect(c);
  const ns = j.NetworkSettings;
  assert.equal(j.HostConfig.NetworkMode, 'default');
  assert.deepEqual([ns.IPAddress, ns.Gateway, ns.IPPrefixLen, ns.MacAddress, ns.EndpointID], ['172.17.0.2', '172.17.0.1', 16, '02:42:ac:11:00:02', 'e1']);
  assert.equal(ns.SandboxKey, '/proc/42/ns/net');
  assert.deepEqual(Object.keys(ns.Networks), ['bridge', 'front']);
  assert.equal(ns.Networks.bridge!.Aliases, null);
  assert.deepEqual(ns.Networks.front!.Aliases, ['web', 'cccccccccccc']);
  assert.deepEqual([ns.Networks.front!.NetworkID, ns.Networks.front!.IPAddress, ns.Networks.front!.IPPrefixLen], ['n2', '10.5.0.2', 24]);
  assert.equal(j.HostsPath, '/var/lib/berth/containers/ccc/hosts');
  assert.deepEqual(Object.keys(toSummary(c).NetworkSettings.Networks), ['bridge', 'front']);
  // stopped: the networks stay, empty of addresses
  const stopped = toInspect(base({ state: { ...c.state, status: 'exited', pid: 0 }, network: { networkIds: { bridge: 'n1', front: 'n2' }, endpoints: [] } }));
  assert.deepEqual([stopped.NetworkSettings.IPAddress, stopped.NetworkSettings.SandboxKey, stopped.NetworkSettings.Networks.bridge!.NetworkID], ['', '', 'n1']);
  const none = toInspect(base({ config: { image: 'bb', host: { networkMode: 'none' } }, network: { networkIds: { none: 'n0' }, endpoints: [] } }));
  assert.deepEqual(Object.keys(none.NetworkSettings.Networks), ['none']);
  const joined = toInspect(base({ config: { image: 'bb', host: { networkMode: 'container:abc' } }, network: { networkIds: {}, endpoints: [] } }));
  assert.deepEqual(joined.NetworkSettings.Networks, {});
});
