// User-defined bridge networks end to end, without the HTTP layer (the /networks routes live in api/):
// network/manager + containers/service with real containers. Isolation between networks, internal
// networks, fixed addresses and ranges, connect/disconnect on created and running containers, and bad
// input refused with nothing left behind. Traffic only between the namespaces this test made.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { Containers } from '../../src/containers/service.js';
import { ImageService } from '../../src/images/index.js';
import { NetworkManager } from '../../src/network/manager.js';
import { isRoot } from '../helpers/bundle.js';
import { daemonLinks, type DaemonNet } from '../helpers/daemon.js';
import { haveTool, tarDir } from '../helpers/registry.js';
import { busyboxRootfs } from '../helpers/rootfs.js';

const exec = promisify(execFile);
const skip = !isRoot ? 'needs root' : !haveTool('nft') ? 'needs nft' : false;

describe('user-defined networks (network manager + container service)', { skip }, () => {
  let root: string, execRoot: string, images: ImageService, svc: Containers, nets: NetworkManager;
  const tag = randomBytes(3).toString('hex');
  const net: DaemonNet = { bridge: `bt${tag}`, table: `berth_t${tag}`, prefix: `u${tag}` };
  const ours = async () => (await daemonLinks(net)).map((l) => l.ifname).sort();

  /** runs `script` in a new container on `network` and returns its output */
  const runIn = async (network: string, script: string, networks?: Record<string, { aliases?: string[]; ipv4Address?: string }>): Promise<string> => {
    const { id } = await svc.create(undefined, { image: 'busybox:test', cmd: ['sh', '-c', script], host: { networkMode: network }, networks });
    await svc.start(id);
    await svc.wait(id);
    let out = '';
    for await (const l of svc.logs(id)) out += l.line;
    await svc.remove(id);
    return out;
  };
  const addressOn = (ref: string, network: string) => svc.get(ref).network!.endpoints.find((e) => e.networkName === network)!.ipv4Address;

  before(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-net-'));
    execRoot = fs.mkdtempSync('/run/berth-test-net-');
    images = new ImageService({ root });
    const tar = await tarDir(await busyboxRootfs(), false);
    await images.import((async function* () { yield tar; })(), { ref: 'busybox:test', config: { Cmd: ['sh'], Env: ['PATH=/bin:/usr/bin'] } });
    nets = await NetworkManager.open({ root, bridge: net.bridge, table: net.table, bridgePrefix: net.prefix });
    svc = new Containers({ root, execRoot, images, networks: nets });
  });
  after(async () => {
    for (const c of svc?.list({ all: true }) ?? []) await svc.remove(c.id, { force: true }).catch(() => undefined);
    for (const n of nets?.list({ type: ['custom'] }) ?? []) await nets.remove(n.id).catch(() => undefined);
    for (const l of await daemonLinks(net)) await exec('ip', ['link', 'del', l.ifname]).catch(() => undefined);
    await exec('nft', ['delete', 'table', 'ip', net.table]).catch(() => undefined);
    fs.rmSync(root, { recursive: true, force: true });
    fs.rmSync(execRoot, { recursive: true, force: true });
  });

  test('bad network specs are refused and leave no bridge, rule or record', async () => {
    await nets.create({ name: 'alpha' });
    const alpha = nets.get('alpha');
    assert.match(alpha.id, /^[0-9a-f]{64}$/);
    assert.equal(alpha.bridge, `${net.prefix}${alpha.id.slice(0, 15 - net.prefix.length)}`);
    const links = await ours();
    const rules = (await exec('nft', ['list', 'table', 'ip', net.table])).stdout;
    const count = nets.list().length;
    const subnet = alpha.ipam.config[0]!.subnet;
    await assert.rejects(nets.create({ name: 'alpha' }), (e: Error & { kind?: string }) => e.kind === 'Conflict' && /network with name alpha already exists/.test(e.message));
    await assert.rejects(nets.create({ name: 'x1', ipam: { config: [{ subnet }] } }), (e: Error & { kind?: string }) => e.kind === 'PermissionDenied' && /Pool overlaps with other one on this address space/.test(e.message));
    await assert.rejects(nets.create({ name: 'x2', ipam: { config: [{ subnet: '10.213.0.0/24', gateway: '10.214.0.1' }] } }), (e: Error & { kind?: string }) => e.kind === 'InvalidArgument' && /gateway 10\.214\.0\.1/.test(e.message));
    await assert.rejects(nets.create({ name: 'x3', ipam: { config: [{ subnet: '10.213.0.0/24', ipRange: '10.214.0.0/25' }] } }), /ip-range/);
    await assert.rejects(nets.create({ name: 'x4', driver: 'overlay' }), /network driver "overlay" is not supported/);
    const hostRoute = (JSON.parse((await exec('ip', ['-j', 'route'])).stdout) as Array<{ dst: string; dev: string }>).find((r) => r.dst.includes('/') && !r.dev.startsWith(net.prefix) && r.dev !== net.bridge);
    if (hostRoute) await assert.rejects(nets.create({ name: 'x5', ipam: { config: [{ subnet: hostRoute.dst }] } }), /overlaps with the host's route/);
    assert.equal(nets.list().length, count);
    assert.deepEqual(await ours(), links);
    assert.equal((await exec('nft', ['list', 'table', 'ip', net.table])).stdout, rules);
    await assert.rejects(svc.create(undefined, { image: 'busybox:test', host: { networkMode: 'nosuch' } }), /network nosuch not found/);
    await assert.rejects(nets.remove('bridge'), /bridge is a pre-defined network and cannot be removed/);
  });

  test('containers on one network reach each other and see aliases in hosts; other networks cannot reach them', async () => {
    await nets.create({ name: 'beta', ipam: { config: [{ subnet: '10.213.0.0/24', gateway: '10.213.0.254', ipRange: '10.213.0.128/25' }] } });
    const { id } = await svc.create('srv', { image: 'busybox:test', cmd: ['sleep', '1000'], host: { networkMode: 'alpha' }, networks: { alpha: { aliases: ['web'] } } });
    await svc.start(id);
    const ip = addressOn('srv', 'alpha');
    const hosts = fs.readFileSync(path.join(root, 'containers', id, 'hosts'), 'utf8');
    assert.match(hosts, new RegExp(`^${ip.replace(/\./g, '\\.')}\\t${id.slice(0, 12)} web$`, 'm'));
    const resolv = fs.readFileSync(path.join(root, 'containers', id, 'resolv.conf'), 'utf8');
    assert.match(resolv, new RegExp(`^nameserver ${nets.get('alpha').ipam.config[0]!.gateway.replace(/\./g, '\\.')}$`, 'm'), 'the embedded DNS server on the gateway');
    assert.equal(await runIn('alpha', `ping -c 1 -W 5 ${ip} >/dev/null && echo reached`), 'reached\n');
    assert.equal(await runIn('beta', `ping -c 1 -W 2 ${ip} >/dev/null && echo reached || echo blocked`), 'blocked\n');
    assert.equal(await runIn('beta', 'ip -4 -o addr show dev eth0 | grep -o "inet [0-9.]*"'), 'inet 10.213.0.128\n', 'from the range');
    assert.equal(await runIn('beta', 'ip -4 -o addr show dev eth0 | grep -o "inet [0-9.]*"', { beta: { ipv4Address: '10.213.0.10' } }), 'inet 10.213.0.10\n');
    await assert.rejects(svc.create(undefined, { image: 'busybox:test', host: { networkMode: 'beta' }, networks: { beta: { ipv4Address: '10.213.1.10' } } }), /not a host address of subnet/);
    await assert.rejects(svc.create(undefined, { image: 'busybox:test', host: { networkMode: 'alpha' }, networks: { alpha: { ipv4Address: '10.213.1.10' } } }), /user specified IP address is supported only/);
    await assert.rejects(nets.remove('alpha'), (e: Error & { kind?: string }) => e.kind === 'PermissionDenied' && e.message === `error while removing network: network alpha id ${nets.get('alpha').id} has active endpoints`);
  });

  test('an internal network has no default route and no masquerade', async () => {
    await nets.create({ name: 'inside', internal: true });
    assert.equal(await runIn('inside', 'ip route | grep -c default || true'), '0\n');
    const rules = (await exec('nft', ['list', 'table', 'ip', net.table])).stdout;
    assert.doesNotMatch(rules, new RegExp(`${nets.get('inside').ipam.config[0]!.subnet.replace(/\./g, '\\.')}.*masquerade`));
    assert.match(rules, new RegExp(`${nets.get('alpha').ipam.config[0]!.subnet.replace(/\./g, '\\.')}.*masquerade`));
  });

  test('connect and disconnect: recorded on a created container, live on a running one; twice is refused', async () => {
    const { id } = await svc.create('multi', { image: 'busybox:test', cmd: ['sleep', '1000'], host: { networkMode: 'alpha' } });
    await svc.connect('multi', 'beta', { aliases: ['m'] });
    await assert.rejects(svc.connect('multi', 'beta'), (e: Error & { kind?: string }) => e.kind === 'PermissionDenied' && /endpoint with name multi already exists in network beta/.test(e.message));
    await svc.start(id);
    const eps = svc.get(id).network!.endpoints.map((e) => e.networkName).sort();
    assert.deepEqual(eps, ['alpha', 'beta']);
    const srvBeta = async () => svc.get('srv').network!.endpoints.find((e) => e.networkName === 'beta');
    assert.equal(await srvBeta(), undefined);
    await svc.connect('srv', 'beta', {});
    await assert.rejects(svc.connect('srv', 'beta', {}), /already exists in network beta/);
    const b = (await srvBeta())!;
    const hostsSrv = fs.readFileSync(path.join(root, 'containers', svc.get('srv').id, 'hosts'), 'utf8');
    assert.match(hostsSrv, new RegExp(`^${b.ipv4Address.replace(/\./g, '\\.')}\\t`, 'm'), 'hosts rewritten in place for the new address');
    // now reachable from beta
    assert.equal(await runIn('beta', `ping -c 1 -W 5 ${b.ipv4Address} >/dev/null && echo reached`), 'reached\n');
    // by name, not a count: another veth going meanwhile would fake this one's going
    const linksBefore = await ours();
    assert.ok(b.hostVeth && linksBefore.includes(b.hostVeth), `its veth ${b.hostVeth} is on the host`);
    await svc.rename('srv', 'srv2');
    assert.ok(nets.endpoints('alpha').some((e) => e.containerName === 'srv2'), 'the DNS server sees the new name');
    await svc.rename('srv2', 'srv');
    await svc.disconnect('srv', 'beta');
    assert.equal(await srvBeta(), undefined);
    const linksAfter = await ours();
    assert.ok(!linksAfter.includes(b.hostVeth!), 'its veth is gone');
    assert.deepEqual(linksAfter.filter((l) => !linksBefore.includes(l)), [], 'and no link came');
    await assert.rejects(svc.disconnect('srv', 'beta'), /is not connected to network beta/);
    await svc.remove('multi', { force: true });
    assert.ok(!nets.endpoints('beta').some((e) => e.containerId === id));
  });

  test('a start that fails on its second network undoes the first: no veth, no lease', async () => {
    const { id: holder } = await svc.create('holder', { image: 'busybox:test', cmd: ['sleep', '1000'], host: { networkMode: 'beta' }, networks: { beta: { ipv4Address: '10.213.0.10' } } });
    await svc.start(holder);
    const links = await ours();
    const { id } = await svc.create('loser', { image: 'busybox:test', cmd: ['sleep', '1000'], host: { networkMode: 'alpha' } });
    await svc.connect('loser', 'beta', { ipv4Address: '10.213.0.10' });
    await assert.rejects(svc.start(id), /Address already in use: 10\.213\.0\.10/);
    assert.equal(svc.get(id).state.status, 'exited');
    assert.deepEqual(await ours(), links, 'the veth on alpha was taken down again');
    assert.ok(!nets.endpoints('alpha').some((e) => e.containerId === id) && !nets.endpoints('beta').some((e) => e.containerId === id), 'no lease left');
    assert.equal(addressOn('holder', 'beta'), '10.213.0.10');
    await svc.remove(id, { force: true });
    await svc.remove(holder, { force: true });
  });

  test('after every container and network is gone, nothing of them is left', async () => {
    for (const c of svc.list({ all: true })) await svc.remove(c.id, { force: true });
    for (const n of nets.list({ type: ['custom'] })) await nets.remove(n.id);
    assert.deepEqual(await ours(), [net.bridge]);
    const store = JSON.parse(fs.readFileSync(path.join(root, 'network', 'networks.json'), 'utf8'));
    assert.deepEqual(store.endpoints, []);
    assert.deepEqual(store.networks.map((n: { name: string }) => n.name).sort(), ['bridge', 'host', 'none']);
    await nets.create({ name: 'gamma', labels: { keep: 'no' } });
    assert.deepEqual(await nets.prune({ label: ['keep=no'] }), ['gamma']);
    assert.deepEqual(await ours(), [net.bridge]);
  });
});
