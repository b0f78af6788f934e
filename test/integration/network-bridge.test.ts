// The default bridge network through the real docker CLI: every container gets a veth on the daemon's
// own bridge (test daemons never meet berth0), an address, a default route and docker's /etc files;
// none, container:X; teardown on exit, on kill -9 and across a daemon restart. Traffic goes only to
// addresses of the namespaces and the bridge this test made.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { Client } from '../../src/client/index.js';
import { importBusybox } from '../helpers/images.js';
import { haveTool } from '../helpers/registry.js';
import { daemonLinks, startDaemon, type Daemon } from '../helpers/daemon.js';
import { DOCKER, dockerCli } from '../helpers/docker-cli.js';

const run = promisify(execFile);
const missing = process.getuid?.() !== 0 ? 'needs root' : !fs.existsSync(DOCKER) ? 'needs the docker CLI at /usr/local/bin/docker'
  : !haveTool('nft') ? 'needs nft' : !haveTool('ip') ? 'needs ip (iproute2)' : undefined;

describe('default bridge network (docker CLI)', { skip: missing }, () => {
  let d: Daemon;
  let gateway: string;
  let prefixLen: number;

  const { docker, ok } = dockerCli(() => d.env);
  const inspect = async (name: string) => JSON.parse(await ok('inspect', name))[0];
  /** veths on the daemon's bridge */
  const veths = async () => (await daemonLinks(d.net)).filter((l) => l.master === d.net.bridge).map((l) => l.ifname);
  // the leases as berthd keeps them: endpoints.json (networks.json has a copy from the last change of networks)
  const leases = () => (JSON.parse(fs.readFileSync(path.join(d.root, 'network', 'endpoints.json'), 'utf8')) as { endpoints: Array<{ containerId: string; ipv4Address: string }> }).endpoints;

  before(async () => {
    d = await startDaemon();
    await importBusybox(d, 'bb:net');
    const addr = JSON.parse((await run('ip', ['-j', '-4', 'addr', 'show', 'dev', d.net.bridge])).stdout)[0].addr_info[0];
    gateway = addr.local;
    prefixLen = addr.prefixlen;
  });
  after(async () => { await d?.stop(); });

  test('a default container: address on the bridge, default route, docker\'s inspect shape and /etc files', async () => {
    await ok('run', '-d', '--name', 'web1', '--hostname', 'h1', '--domainname', 'example.org', '--add-host', 'gw:host-gateway',
      '--add-host', 'other:10.1.2.3', '--dns-search', 's.example', '--dns-option', 'ndots:2', 'bb:net', 'sleep', '1000');
    const j = await inspect('web1');
    const ns = j.NetworkSettings;
    assert.equal(j.HostConfig.NetworkMode, 'default'); // docker 20.10's answer for no --network
    assert.deepEqual(Object.keys(ns.Networks), ['bridge']);
    const ep = ns.Networks.bridge;
    assert.equal(ep.Gateway, gateway);
    assert.equal(ep.IPPrefixLen, prefixLen);
    assert.match(ep.NetworkID, /^[0-9a-f]{64}$/);
    assert.match(ep.EndpointID, /^[0-9a-f]{64}$/);
    assert.match(ep.MacAddress, /^02:42:/);
    assert.equal(ns.IPAddress, ep.IPAddress);
    assert.equal(ns.Gateway, gateway);
    assert.equal(ns.MacAddress, ep.MacAddress);
    assert.ok(ns.SandboxKey, 'a sandbox key while it runs');
    const ip = ep.IPAddress as string;
    assert.notEqual(ip, gateway);
    assert.equal((await ok('exec', 'web1', 'ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0')).includes(`inet ${ip}/${prefixLen}`), true);
    assert.match(await ok('exec', 'web1', 'ip', 'route'), new RegExp(`default via ${gateway.replace(/\./g, '\\.')} dev eth0`));
    assert.equal((await ok('exec', 'web1', 'cat', '/sys/class/net/eth0/address')).trim(), ep.MacAddress);
    const hosts = await ok('exec', 'web1', 'cat', '/etc/hosts');
    assert.match(hosts, new RegExp(`^${ip.replace(/\./g, '\\.')}\\th1\\.example\\.org h1$`, 'm'));
    assert.match(hosts, new RegExp(`^${gateway.replace(/\./g, '\\.')}\\tgw$`, 'm'));
    assert.match(hosts, /^10\.1\.2\.3\tother$/m);
    const resolv = await ok('exec', 'web1', 'cat', '/etc/resolv.conf');
    assert.match(resolv, /^search s\.example$/m);
    assert.match(resolv, /^options ndots:2$/m);
    assert.doesNotMatch(resolv, /^nameserver 127\./m, 'a container cannot reach the host\'s loopback resolver');
    assert.equal((await ok('exec', 'web1', 'hostname')).trim(), 'h1');
    assert.equal((await veths()).length, 1);
  });

  test('two containers on the bridge reach each other by address', async () => {
    const ip1 = (await inspect('web1')).NetworkSettings.IPAddress as string;
    await ok('run', '-d', '--name', 'web2', 'bb:net', 'sleep', '1000');
    const ip2 = (await inspect('web2')).NetworkSettings.IPAddress as string;
    assert.notEqual(ip1, ip2);
    await ok('exec', 'web2', 'ping', '-c', '1', '-W', '5', ip1);
    await ok('exec', 'web1', 'ping', '-c', '1', '-W', '5', ip2);
    await ok('rm', '-f', 'web2');
  });

  test('a container reaches a listener on the bridge\'s gateway address', async () => {
    const server = http.createServer((_req, res) => res.end('hello from the host side'));
    await new Promise<void>((r) => server.listen(0, gateway, r));
    try {
      const port = (server.address() as { port: number }).port;
      const out = await ok('run', '--rm', 'bb:net', 'wget', '-q', '-O', '-', `http://${gateway}:${port}/`);
      assert.equal(out, 'hello from the host side');
    } finally { server.close(); }
  });

  test('--network none has only lo; container:X shares X\'s addresses while X runs', async () => {
    const links = await ok('run', '--rm', '--network', 'none', 'bb:net', 'ls', '/sys/class/net');
    assert.deepEqual(links.trim().split(/\s+/), ['lo']);
    const none = await inspect((await ok('create', '--network', 'none', 'bb:net', 'true')).trim());
    assert.deepEqual(Object.keys(none.NetworkSettings.Networks), ['none']);
    const ip1 = (await inspect('web1')).NetworkSettings.IPAddress as string;
    const shared = await ok('run', '--rm', '--network', 'container:web1', 'bb:net', 'ip', '-4', '-o', 'addr');
    assert.ok(shared.includes(`inet ${ip1}/`), shared);
    assert.equal((await veths()).length, 1, 'joining adds no veth');
    await ok('create', '--name', 'sleeper', 'bb:net', 'sleep', '1');
    const r = await docker('run', '--rm', '--network', 'container:sleeper', 'bb:net', 'true');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /cannot join network of a non running container: sleeper/);
    const u = await docker('run', '--rm', '--network', 'container:nosuch', 'bb:net', 'true');
    assert.match(u.stderr, /No such container: nosuch/);
  });

  test('--network host sees the host\'s links; info names the firewall backend', async () => {
    const links = (await ok('run', '--rm', '--network', 'host', 'bb:net', 'ls', '/sys/class/net')).trim().split(/\s+/);
    assert.ok(links.includes(d.net.bridge), links.join(' '));
    const j = await inspect((await ok('create', '--network', 'host', 'bb:net', 'true')).trim());
    assert.deepEqual(Object.keys(j.NetworkSettings.Networks), ['host']);
    assert.equal(j.NetworkSettings.IPAddress, '');
    assert.equal((await new Client(d.host).info()).FirewallBackend?.Driver, 'nftables');
  });

  test('--mac-address and --dns are honoured', async () => {
    const out = await ok('run', '--rm', '--mac-address', '02:42:ac:99:00:07', '--dns', '10.9.8.7', 'bb:net', 'sh', '-c', 'cat /sys/class/net/eth0/address /etc/resolv.conf');
    assert.match(out, /^02:42:ac:99:00:07$/m);
    assert.match(out, /^nameserver 10\.9\.8\.7$/m);
  });

  test('bad input is refused before anything exists', async () => {
    const before = (await ok('ps', '-aq')).trim();
    const a = await docker('run', '--rm', '--network', 'nosuch', 'bb:net', 'true');
    assert.equal(a.code, 125);
    assert.match(a.stderr, /network nosuch not found/);
    const b = await docker('run', '--rm', '--ip', '10.99.0.5', 'bb:net', 'true');
    assert.match(b.stderr, /user specified IP address is supported only when connecting to networks with user configured subnets/);
    // the docker CLI refuses this one itself; the API must too
    await assert.rejects(new Client(d.host).createContainer({ Image: 'bb:net', HostConfig: { NetworkMode: 'default' }, NetworkingConfig: { EndpointsConfig: { bridge: { Aliases: ['x'] } } } }),
      (e: Error & { status?: number }) => e.status === 400 && /network-scoped alias is supported only for containers in user defined networks/.test(e.message));
    assert.equal((await ok('ps', '-aq')).trim(), before, 'no container was created');
    assert.equal((await veths()).length, 1);
  });

  test('kill -9 of the container: its veth and lease go', async () => {
    await ok('run', '-d', '--name', 'victim', 'bb:net', 'sleep', '1000');
    const j = await inspect('victim');
    assert.equal((await veths()).length, 2);
    assert.ok(leases().some((l) => l.containerId === j.Id));
    process.kill(j.State.Pid, 'SIGKILL');
    await ok('wait', 'victim');
    assert.equal((await veths()).length, 1);
    assert.ok(!leases().some((l) => l.containerId === j.Id), 'lease released');
    // started again, it is wired again
    await ok('start', 'victim');
    const again = await inspect('victim');
    assert.match(again.NetworkSettings.IPAddress, /^\d+\.\d+\.\d+\.\d+$/);
    assert.equal((await veths()).length, 2);
    await ok('rm', '-f', 'victim');
    assert.equal((await veths()).length, 1);
  });

  test('berthd kill -9 and restart: a running container keeps its address and link; one that died meanwhile gives them back', async () => {
    const j = await inspect('web1');
    const ip = j.NetworkSettings.IPAddress as string;
    const before = await veths();
    await ok('run', '-d', '--name', 'dies-while-down', 'bb:net', 'sleep', '1000');
    const dying = await inspect('dies-while-down');
    assert.equal((await veths()).length, before.length + 1);
    await d.crashAndRestart(async () => {
      process.kill(dying.State.Pid, 'SIGKILL');
      // no daemon to ask: wait for the process itself to be gone (or a zombie)
      for (let i = 0; i < 200; i++) {
        let st = '';
        try { st = fs.readFileSync(`/proc/${dying.State.Pid}/stat`, 'utf8'); } catch { break; }
        if (/\) Z /.test(st)) break;
        await new Promise((r) => setTimeout(r, 25));
      }
    });
    const after = await inspect('web1');
    assert.equal(after.State.Running, true);
    assert.equal(after.NetworkSettings.IPAddress, ip);
    assert.equal((await inspect('dies-while-down')).State.Running, false);
    assert.deepEqual(await veths(), before);
    assert.ok(!leases().some((l) => l.containerId === dying.Id), 'the dead container\'s lease is released');
    assert.ok(leases().some((l) => l.containerId === j.Id && l.ipv4Address === ip), 'the running one keeps its lease');
    // the address is still taken: a new container gets another, and reaches the old one
    const out = await ok('run', '--rm', 'bb:net', 'sh', '-c', `ping -c 1 -W 5 ${ip} >/dev/null && ip -4 -o addr show dev eth0`);
    assert.ok(!out.includes(`inet ${ip}/`), 'the restarted daemon did not hand the address out again');
  });

  test('100 create/start/rm cycles leave no veth, lease or rule', async () => {
    const rules = (await run('nft', ['list', 'table', 'ip', d.net.table])).stdout;
    const before = await veths();
    const leasesBefore = leases().length;
    const c = new Client(d.host);
    for (let i = 0; i < 100; i++) {
      const { Id } = await c.createContainer({ Image: 'bb:net', Cmd: ['true'], HostConfig: { NetworkMode: 'default' } });
      await c.startContainer(Id);
      await (await c.waitContainer(Id)).result;
      await c.removeContainer(Id, { force: true });
    }
    assert.deepEqual(await veths(), before);
    assert.equal(leases().length, leasesBefore);
    assert.equal((await run('nft', ['list', 'table', 'ip', d.net.table])).stdout, rules);
  });
});
