// /networks in process against a fake NetworkService and a fake container service with connect and
// disconnect: the wire shapes (NetworkResource), filters, prune, docker's error answers and the events.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import type * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, beforeEach, describe, test } from 'node:test';
import { toCreateSpec, toNetworkWire } from '../../src/api/network-wire.js';
import { createApiServer, listenUnix, type ApiServices } from '../../src/api/server.js';
import type { NetworkWire } from '../../src/api/types.js';
import { ApiError, Client } from '../../src/client/index.js';
import type { ContainerService } from '../../src/containers/types.js';
import { EventBus, type EventMessage } from '../../src/daemon/events.js';
import type { HostFacts } from '../../src/daemon/host.js';
import { BerthError } from '../../src/errors.js';
import { ImageService } from '../../src/images/index.js';
import type { CreateNetworkSpec, Endpoint, EndpointRequest, NetworkInfo, NetworkService } from '../../src/network/types.js';

const FACTS: HostFacts = { engineId: 'id-1', hostname: 'h', kernel: '6.1.0', operatingSystem: 'Test OS', osVersion: '1', arch: 'x86_64', goArch: 'amd64', ncpu: 3, memTotal: 1 << 30, cgroupMode: 'v2', backingFs: 'extfs', openFds: 5 };
const CID = 'c0ffee'.padEnd(64, '7');

/** Networks in memory with the contract's errors; endpoints are added by the fake connector. */
class FakeNetworks implements NetworkService {
  nets: NetworkInfo[] = [];
  eps: Endpoint[] = [];
  private n = 0;
  constructor() {
    for (const [name, driver] of [['bridge', 'bridge'], ['host', 'host'], ['none', 'null']] as const) this.add(name, driver, '2026-01-01T00:00:00Z');
  }
  private add(name: string, driver: NetworkInfo['driver'], created: string, spec?: CreateNetworkSpec): NetworkInfo {
    const id = (++this.n).toString(16).padStart(2, '0').repeat(32);
    const subnet = spec?.ipam?.config?.[0]?.subnet ?? `172.${18 + this.n}.0.0/16`;
    const n: NetworkInfo = {
      id, name, driver, created, internal: !!spec?.internal, attachable: !!spec?.attachable,
      ipam: { driver: 'default', config: driver === 'bridge' ? [{ subnet, gateway: spec?.ipam?.config?.[0]?.gateway ?? subnet.replace(/0\/\d+$/, '1') }] : [], options: {} },
      options: spec?.options ?? {}, labels: spec?.labels ?? {},
    };
    this.nets.push(n);
    return n;
  }
  async create(spec: CreateNetworkSpec) {
    if (this.nets.some((n) => n.name === spec.name)) throw new BerthError('Conflict', `network with name ${spec.name} already exists`);
    if (spec.driver && spec.driver !== 'bridge') throw new BerthError('NotFound', `plugin "${spec.driver}" not found`);
    return { id: this.add(spec.name, 'bridge', new Date().toISOString(), spec).id, warning: '' };
  }
  list() { return [...this.nets]; }
  get(ref: string) {
    const n = this.nets.find((x) => x.id === ref) ?? this.nets.find((x) => x.name === ref) ?? this.nets.find((x) => x.id.startsWith(ref));
    if (!n) throw new BerthError('NotFound', `network ${ref} not found`);
    return n;
  }
  async remove(ref: string) {
    const n = this.get(ref);
    if (this.endpoints(n.id).length) throw new BerthError('PermissionDenied', `error while removing network: network ${n.name} id ${n.id} has active endpoints`);
    this.nets = this.nets.filter((x) => x !== n);
  }
  async prune(): Promise<string[]> { throw new Error('the route prunes through list/remove'); }
  endpoints(ref: string) { const n = this.get(ref); return this.eps.filter((e) => e.networkId === n.id); }
  async attach(): Promise<Endpoint> { throw new Error('not used by the routes'); }
  async detach() { /* not used */ }
}

describe('network routes in process', () => {
  let dir: string;
  let socket: string;
  let server: http.Server;
  let c: Client;
  let nets: FakeNetworks;
  let events: EventMessage[];
  const connects: Array<[string, string, EndpointRequest | boolean]> = [];

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-net-'));
    socket = path.join(dir, 'api.sock');
    const bus = new EventBus();
    bus.subscribe((e) => events.push(e));
    const containers = {
      create: async () => ({ id: CID, warnings: [] }),
      counts: () => ({ running: 0, paused: 0, stopped: 0 }),
      get: (ref: string) => {
        if (ref !== 'web' && ref !== CID) throw new BerthError('NotFound', `No such container: ${ref}`);
        return { id: CID, name: 'web' };
      },
      connect: async (ref: string, netRef: string, req: EndpointRequest) => {
        const container = containers.get(ref).id;
        const network = nets.get(netRef).id;
        if (nets.eps.some((e) => e.containerId === container && e.networkId === network)) throw new BerthError('PermissionDenied', `endpoint with name web already exists in network ${nets.get(network).name}`);
        connects.push([container, network, req]);
        nets.eps.push({ networkId: network, networkName: nets.get(network).name, endpointId: 'e'.repeat(64), containerId: container, containerName: 'web', aliases: req.aliases ?? [], ipv4Address: req.ipv4Address ?? '10.1.0.2', prefixLen: 24, gateway: '10.1.0.1', macAddress: '02:42:0a:01:00:02' });
      },
      disconnect: async (ref: string, netRef: string, force?: boolean) => {
        const container = containers.get(ref).id;
        const network = nets.get(netRef).id;
        connects.push([container, network, !!force]);
        nets.eps = nets.eps.filter((e) => !(e.containerId === container && e.networkId === network));
      },
    } as unknown as ContainerService;
    nets = new FakeNetworks();
    const s: ApiServices = { images: new ImageService({ root: path.join(dir, 'root') }), events: bus, root: path.join(dir, 'root'), host: () => FACTS, containers, networks: nets };
    server = createApiServer(s);
    await listenUnix(server, { socket });
    c = new Client(`unix://${socket}`);
  });
  after(async () => {
    c.close();
    await new Promise<void>((r) => server.close(() => r()));
    fs.rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => { events = []; connects.length = 0; });

  const status = (p: Promise<unknown>, code: number, message: string | RegExp) =>
    assert.rejects(p, (e: unknown) => e instanceof ApiError && e.status === code && (typeof message === 'string' ? e.message === message : message.test(e.message)));

  test('create answers 201 {Id, Warning}; inspect has docker\'s NetworkResource shape; an event goes out', async () => {
    const r = await c.request('POST', '/networks/create', { body: { Name: 'front', CheckDuplicate: true, Driver: 'bridge', IPAM: { Driver: 'default', Config: [{ Subnet: '10.1.0.0/24', Gateway: '10.1.0.1' }] }, Labels: { team: 'a' }, Options: { 'com.docker.network.bridge.name': 'br-front' } } });
    assert.equal(r.status, 201);
    const body = JSON.parse(await new Promise<string>((res) => { let b = ''; r.res.on('data', (x: Buffer) => { b += x; }); r.res.on('end', () => res(b)); })) as { Id: string; Warning: string };
    assert.match(body.Id, /^[0-9a-f]{64}$/);
    assert.equal(body.Warning, '');
    assert.deepEqual(events.map((e) => [e.Type, e.Action, e.Actor.ID, e.Actor.Attributes]), [['network', 'create', body.Id, { name: 'front', type: 'bridge' }]]);
    const n = await c.json<NetworkWire>('GET', '/networks/front');
    assert.deepEqual(Object.keys(n), ['Name', 'Id', 'Created', 'Scope', 'Driver', 'EnableIPv4', 'EnableIPv6', 'IPAM', 'Internal', 'Attachable', 'Ingress', 'ConfigFrom', 'ConfigOnly', 'Containers', 'Options', 'Labels']);
    assert.deepEqual(n.IPAM, { Driver: 'default', Options: {}, Config: [{ Subnet: '10.1.0.0/24', Gateway: '10.1.0.1' }] });
    assert.deepEqual([n.Name, n.Id, n.Scope, n.Driver, n.Internal, n.Containers, n.Labels, n.Options], ['front', body.Id, 'local', 'bridge', false, {}, { team: 'a' }, { 'com.docker.network.bridge.name': 'br-front' }]);
    assert.equal((await c.json<NetworkWire>('GET', `/networks/${body.Id.slice(0, 6)}`)).Name, 'front');
  });

  test('create: bad input is a 4xx with docker\'s message and creates nothing', async () => {
    const before = nets.nets.length;
    await status(c.json('POST', '/networks/create', { body: { Name: 'bridge' } }), 403, 'operation is not permitted on predefined bridge network ');
    await status(c.json('POST', '/networks/create', { body: { Name: 'front' } }), 409, 'network with name front already exists');
    await status(c.json('POST', '/networks/create', { body: { Name: '' } }), 400, 'network name must not be empty');
    await status(c.json('POST', '/networks/create', { body: { Name: 'x', IPAM: { Config: { Subnet: '10.0.0.0/8' } } } }), 400, 'invalid type for IPAM.Config: expected array, got object');
    await status(c.json('POST', '/networks/create', { body: { Name: 'x', EnableIPv6: true } }), 400, /IPv6/);
    await status(c.json('POST', '/networks/create', { body: { Name: 'x', Driver: 'overlay' } }), 404, 'plugin "overlay" not found');
    await status(c.json('POST', '/networks/create'), 400, 'got EOF while reading request body');
    assert.equal(nets.nets.length, before);
    assert.deepEqual(events, []);
  });

  test('list: every network, with Containers empty; filters as moby\'s', async () => {
    const names = async (filters?: Record<string, string[]>) => (await c.json<NetworkWire[]>('GET', '/networks', { query: { filters: filters && JSON.stringify(filters) } })).map((n) => n.Name).sort();
    assert.deepEqual(await names(), ['bridge', 'front', 'host', 'none']);
    assert.deepEqual(await names({ type: ['custom'] }), ['front']);
    assert.deepEqual(await names({ type: ['builtin'] }), ['bridge', 'host', 'none']);
    assert.deepEqual(await names({ driver: ['bridge'] }), ['bridge', 'front']);
    assert.deepEqual(await names({ name: ['^fr'] }), ['front']);
    assert.deepEqual(await names({ label: ['team=a'] }), ['front']);
    assert.deepEqual(await names({ label: ['team=b'] }), []);
    assert.deepEqual(await names({ dangling: ['true'] }), ['front']);
    assert.deepEqual(await names({ dangling: ['false'] }), ['bridge', 'host', 'none']);
    assert.deepEqual(await names({ scope: ['swarm'] }), []);
    const id = nets.get('front').id;
    assert.deepEqual(await names({ id: [id.slice(0, 10)] }), ['front']);
    await status(c.json('GET', '/networks', { query: { filters: JSON.stringify({ color: ['red'] }) } }), 400, "invalid filter 'color'");
    await status(c.json('GET', '/networks', { query: { filters: JSON.stringify({ type: ['odd'] }) } }), 400, "invalid filter: 'type'='odd'");
    await status(c.json('GET', '/networks', { query: { filters: JSON.stringify({ dangling: ['maybe'] }) } }), 400, /invalid value for filter 'dangling'/);
  });

  test('connect passes the refs, aliases and the address; inspect lists the container; connect twice is refused', async () => {
    await c.request('POST', '/networks/front/connect', { body: { Container: 'web', EndpointConfig: { Aliases: ['www'], IPAMConfig: { IPv4Address: '10.1.0.9' } } } });
    const id = nets.get('front').id;
    assert.deepEqual(connects, [[CID, id, { aliases: ['www'], ipv4Address: '10.1.0.9' }]]);
    const n = await c.json<NetworkWire>('GET', `/networks/${id}`);
    assert.deepEqual(n.Containers, { [CID]: { Name: 'web', EndpointID: 'e'.repeat(64), MacAddress: '02:42:0a:01:00:02', IPv4Address: '10.1.0.9/24', IPv6Address: '' } });
    await status(c.json('POST', '/networks/front/connect', { body: { Container: 'web' } }), 403, /already exists in network front/);
    await status(c.json('POST', '/networks/front/connect', { body: { Container: 'nope' } }), 404, 'No such container: nope');
    await status(c.json('POST', '/networks/nope/connect', { body: { Container: 'web' } }), 404, 'network nope not found');
    await status(c.json('POST', '/networks/front/connect', { body: {} }), 400, /no container specified/);
    await status(c.json('POST', '/networks/front/connect', { body: { Container: 'web', EndpointConfig: { Aliases: 'www' } } }), 400, /EndpointConfig.Aliases/);
  });

  test('remove of a network in use is refused; disconnect (with force) frees it; prune removes only unused custom ones', async () => {
    await status(c.json('DELETE', '/networks/front'), 403, /has active endpoints/);
    const kept = await c.request('POST', '/networks/create', { body: { Name: 'kept', Labels: { keep: '1' } } });
    kept.res.resume();
    const pr = await c.json<{ NetworksDeleted: string[] }>('POST', '/networks/prune');
    assert.deepEqual(pr, { NetworksDeleted: ['kept'] }); // front has a container; builtins never go
    await c.request('POST', '/networks/front/disconnect', { body: { Container: 'web', Force: true } });
    assert.deepEqual(connects.at(-1), [CID, nets.get('front').id, true]);
    const labelled = await c.json<{ NetworksDeleted: string[] }>('POST', '/networks/prune', { query: { filters: JSON.stringify({ label: ['team=b'] }) } });
    assert.deepEqual(labelled, { NetworksDeleted: [] });
    await status(c.json('POST', '/networks/prune', { query: { filters: JSON.stringify({ dangling: ['true'] }) } }), 400, "invalid filter 'dangling'");
    await status(c.json('DELETE', '/networks/bridge'), 403, 'bridge is a pre-defined network and cannot be removed');
    events = [];
    const r = await c.request('DELETE', '/networks/front');
    assert.equal(r.status, 204);
    assert.deepEqual(events.map((e) => [e.Action, e.Actor.Attributes.name]), [['destroy', 'front']]);
    await status(c.json('GET', '/networks/front'), 404, 'network front not found');
    await status(c.json('DELETE', '/networks/front'), 404, 'network front not found');
  });
});

describe('network wire mapping (pure)', () => {
  test('CreateRequest -> spec keeps IPAM pools, options and labels', () => {
    assert.deepEqual(toCreateSpec({ Name: 'n', Driver: 'bridge', Internal: true, IPAM: { Config: [{ Subnet: '10.2.0.0/16', IPRange: '10.2.1.0/24', Gateway: '10.2.0.254' }] }, Labels: { a: 'b' } }), {
      name: 'n', driver: 'bridge', internal: true, attachable: false,
      ipam: { driver: undefined, config: [{ subnet: '10.2.0.0/16', gateway: '10.2.0.254', ipRange: '10.2.1.0/24' }], options: undefined },
      options: {}, labels: { a: 'b' }, checkDuplicate: undefined,
    });
  });
  test('IPAM Config omits empty fields, as Go\'s omitempty', () => {
    const w = toNetworkWire({ id: 'x', name: 'n', driver: 'bridge', created: 't', internal: false, attachable: false, ipam: { driver: 'default', config: [{ subnet: '10.0.0.0/24', gateway: '' }], options: {} }, options: {}, labels: {} });
    assert.deepEqual(w.IPAM.Config, [{ Subnet: '10.0.0.0/24' }]);
  });
});
