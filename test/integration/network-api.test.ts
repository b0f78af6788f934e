// User networks through berthd with the real docker CLI, `berth`, docker-py and docker-compose 1.29:
// create/ls/inspect/connect/disconnect/rm/prune, name resolution by the embedded DNS server (name, alias,
// short id; again after kill -9 of berthd), isolation between networks, and the bad-input answers
// (overlapping subnets, a gateway outside its subnet, an unknown network, connecting twice, removing a
// network in use) with nothing half-created. Traffic goes only to addresses of the test's own networks:
// every name looked up is a container's, so the DNS server never forwards to the host's resolvers.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client } from '../../src/client/index.js';
import { berth, daemonLinks, startDaemon, type Daemon } from '../helpers/daemon.js';
import { tarDir } from '../helpers/registry.js';
import { busyboxRootfs } from '../helpers/rootfs.js';

const DOCKER = '/usr/local/bin/docker';
const COMPOSE = '/usr/bin/docker-compose';
const PYTHON = '/usr/bin/python3';
const IMG = 'bb:net';

interface Out { code: number; stdout: string; stderr: string }

function exec(cmd: string, args: string[], env: NodeJS.ProcessEnv, o: { cwd?: string; input?: string; timeoutMs?: number } = {}): Promise<Out> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env, cwd: o.cwd, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const t = setTimeout(() => { stderr += `\n[killed after ${o.timeoutMs ?? 60_000} ms]`; child.kill('SIGKILL'); }, o.timeoutMs ?? 60_000);
    child.on('close', (code) => { clearTimeout(t); resolve({ code: code ?? -1, stdout, stderr }); });
    child.stdin.end(o.input ?? '');
  });
}

const missing = process.getuid?.() !== 0 ? 'needs root' : !fs.existsSync(DOCKER) ? 'needs the docker CLI at /usr/local/bin/docker' : undefined;

describe('user networks through berthd', { skip: missing }, () => {
  let d: Daemon;

  const docker = (...args: string[]) => exec(DOCKER, args, d.env);
  const ok = async (...args: string[]): Promise<string> => {
    const r = await docker(...args);
    assert.equal(r.code, 0, `docker ${args.join(' ')} → ${r.code}: ${r.stderr}\n${d.log().slice(-3000)}`);
    return r.stdout;
  };
  const fails = async (args: string[], message: RegExp): Promise<void> => {
    const r = await docker(...args);
    assert.notEqual(r.code, 0, `docker ${args.join(' ')} should fail: ${r.stdout}`);
    assert.match(r.stderr, message, `docker ${args.join(' ')}`);
  };
  const ipOn = async (container: string, net: string): Promise<string> =>
    (await ok('inspect', '-f', `{{(index .NetworkSettings.Networks "${net}").IPAddress}}`, container)).trim();
  /** The addresses busybox nslookup prints for a name (through the container's resolv.conf: the embedded server). */
  const lookup = async (net: string, name: string): Promise<{ code: number; addrs: string[]; out: string }> => {
    const r = await docker('run', '--rm', '--network', net, IMG, 'nslookup', name);
    const answer = r.stdout.split(/\n\s*\n/).slice(1).join('\n');
    return { code: r.code, addrs: [...answer.matchAll(/Address(?: \d+)?:\s+(\d+\.\d+\.\d+\.\d+)/g)].map((m) => m[1]!), out: r.stdout + r.stderr };
  };

  before(async () => {
    d = await startDaemon();
    const api = new Client(d.host);
    try {
      const tar = await tarDir(await busyboxRootfs(), false);
      await api.importImage((async function* () { yield tar; })(), { repo: 'bb', tag: 'net', changes: ['CMD ["sh"]'] });
    } finally { api.close(); }
  });
  after(async () => { await d?.stop(); });

  test('docker network create/ls/inspect; containers resolve each other by name, alias and short id; other networks are unreachable', async () => {
    const idA = (await ok('network', 'create', '--label', 'suite=net', 'netA')).trim();
    assert.match(idA, /^[0-9a-f]{64}$/);
    await ok('network', 'create', 'netB');
    const ls = await ok('network', 'ls');
    assert.match(ls, /^NETWORK ID +NAME +DRIVER +SCOPE\n/);
    assert.match(ls, new RegExp(`${idA.slice(0, 12)} +netA +bridge +local\\n`));
    assert.match(ls, / bridge +bridge +local\n/);
    assert.equal((await ok('network', 'ls', '-q', '--filter', 'label=suite=net')).trim(), idA.slice(0, 12));
    const [insp] = JSON.parse(await ok('network', 'inspect', 'netA')) as Array<Record<string, any>>;
    assert.equal(insp!.Id, idA);
    assert.deepEqual([insp!.Name, insp!.Driver, insp!.Scope, insp!.Internal, insp!.Labels], ['netA', 'bridge', 'local', false, { suite: 'net' }]);
    const cfg = insp!.IPAM.Config[0] as { Subnet: string; Gateway: string };
    assert.match(cfg.Subnet, /^\d+\.\d+\.\d+\.\d+\/\d+$/);
    assert.match(cfg.Gateway, /^\d+\.\d+\.\d+\.\d+$/);

    const webId = (await ok('run', '-d', '--name', 'web', '--network', 'netA', '--network-alias', 'www', IMG, 'sleep', '1000')).trim();
    await ok('run', '-d', '--name', 'other', '--network', 'netB', IMG, 'sleep', '1000');
    const webIp = await ipOn('web', 'netA');
    const otherIp = await ipOn('other', 'netB');
    const [withWeb] = JSON.parse(await ok('network', 'inspect', 'netA')) as Array<Record<string, any>>;
    assert.deepEqual(Object.keys(withWeb!.Containers), [webId]);
    assert.equal(withWeb!.Containers[webId].Name, 'web');
    assert.equal(withWeb!.Containers[webId].IPv4Address, `${webIp}/${cfg.Subnet.split('/')[1]}`);

    for (const name of ['web', 'www', webId.slice(0, 12), 'web.netA']) {
      const r = await lookup('netA', name);
      assert.equal(r.code, 0, `nslookup ${name}: ${r.out}`);
      assert.deepEqual(r.addrs, [webIp], `nslookup ${name}: ${r.out}`);
    }
    const ping = await docker('run', '--rm', '--network', 'netA', IMG, 'ping', '-c1', '-W3', 'www');
    assert.equal(ping.code, 0, ping.stdout + ping.stderr);
    assert.match(ping.stdout, new RegExp(`PING www \\(${webIp.replace(/\./g, '\\.')}\\)`));
    // the container on netB is neither named nor reachable from netA
    const across = await docker('run', '--rm', '--network', 'netA', IMG, 'ping', '-c1', '-W1', otherIp);
    assert.notEqual(across.code, 0, `netA reached ${otherIp} on netB: ${across.stdout}`);
    // netA's DNS server listens on a host address netB's containers can reach: it must not answer them
    const peek = await docker('run', '--rm', '--network', 'netB', IMG, 'timeout', '3', 'nslookup', 'web', cfg.Gateway);
    assert.doesNotMatch(peek.stdout, new RegExp(`Address(?: \\d+)?:\\s+${webIp.replace(/\./g, '\\.')}`), `netB learnt web's address from netA's server: ${peek.stdout}`);
    // the default bridge has no embedded DNS (like docker's): its containers use the host's servers
    const resolv = await ok('run', '--rm', IMG, 'cat', '/etc/resolv.conf');
    assert.doesNotMatch(resolv, new RegExp(`nameserver ${cfg.Gateway.replace(/\./g, '\\.')}\\n`));
  });

  test('docker network connect with an alias and disconnect, on a running container', async () => {
    await ok('network', 'connect', '--alias', 'second', 'netB', 'web');
    const webIpB = await ipOn('web', 'netB');
    assert.match(webIpB, /^\d+\.\d+\.\d+\.\d+$/);
    const r = await lookup('netB', 'second');
    assert.deepEqual(r.addrs, [webIpB], r.out);
    const byName = await lookup('netB', 'web');
    assert.deepEqual(byName.addrs, [webIpB], `on netB, web has its netB address: ${byName.out}`);
    const [b] = JSON.parse(await ok('network', 'inspect', 'netB')) as Array<Record<string, any>>;
    assert.deepEqual(Object.values(b!.Containers).map((c: any) => c.Name).sort(), ['other', 'web']);
    assert.equal(await ok('network', 'disconnect', 'netB', 'web'), '');
    const [b2] = JSON.parse(await ok('network', 'inspect', 'netB')) as Array<Record<string, any>>;
    assert.deepEqual(Object.values(b2!.Containers).map((c: any) => c.Name), ['other']);
    assert.equal((await ok('inspect', '-f', '{{len .NetworkSettings.Networks}}', 'web')).trim(), '1');
  });

  test('bad input: 4xx answers with docker\'s message, nothing half-created', async () => {
    const linksBefore = (await daemonLinks(d.net)).map((l) => l.ifname).sort();
    const netsBefore = await ok('network', 'ls', '-q');
    const [a] = JSON.parse(await ok('network', 'inspect', 'netA')) as Array<Record<string, any>>;
    const subnetA = a!.IPAM.Config[0].Subnet as string;
    await fails(['network', 'create', '--subnet', subnetA, 'overlap'], /Error response from daemon: .*overlap/i);
    await fails(['network', 'create', '--subnet', '10.251.7.0/24', '--gateway', '10.251.8.1', 'badgw'], /no matching subnet for gateway 10\.251\.8\.1/);
    // the same through the API, past the CLI's own check
    const api = new Client(d.host);
    try {
      await assert.rejects(api.json('POST', '/networks/create', { body: { Name: 'badgw', IPAM: { Config: [{ Subnet: '10.251.7.0/24', Gateway: '10.251.8.1' }] } } }), (e: any) => e.status >= 400 && e.status < 500 && /gateway|subnet/i.test(e.message));
    } finally { api.close(); }
    await fails(['network', 'inspect', 'nope'], /network nope not found/);
    await fails(['network', 'connect', 'nope', 'web'], /network nope not found/);
    // a container on an unknown network: refused at create or at start (dockerd: at start), never running
    {
      const api2 = new Client(d.host);
      try {
        let id: string | undefined;
        await assert.rejects((async () => {
          id = (await api2.createContainer({ Image: IMG, Cmd: ['true'], HostConfig: { NetworkMode: 'nope' } })).Id;
          await api2.drain('POST', `/containers/${id}/start`);
        })(), (e: any) => e.status >= 400 && e.status < 500 && /network nope not found/.test(e.message));
        if (id) await api2.removeContainer(id, { force: true });
      } finally { api2.close(); }
    }
    await fails(['network', 'connect', 'netA', 'web'], /endpoint with name web already exists in network netA/);
    await fails(['network', 'rm', 'netA'], /has active endpoints/);
    await fails(['network', 'create', 'netA'], /network with name netA already exists/);
    assert.equal(await ok('network', 'ls', '-q'), netsBefore);
    assert.deepEqual((await daemonLinks(d.net)).map((l) => l.ifname).sort(), linksBefore);
  });

  test('DNS answers again after kill -9 of berthd and a restart', async () => {
    const webIp = await ipOn('web', 'netA');
    await d.crashAndRestart();
    const r = await lookup('netA', 'www');
    assert.deepEqual(r.addrs, [webIp], `${r.out}\n${d.log().slice(-2000)}`);
  });

  test('docker network rm and prune', async () => {
    await ok('rm', '-f', 'web', 'other');
    await ok('network', 'create', '--label', 'keep=1', 'netC');
    assert.equal(await ok('network', 'rm', 'netB'), 'netB\n');
    const pruned = await ok('network', 'prune', '-f', '--filter', 'label!=keep=1');
    assert.equal(pruned, 'Deleted Networks:\nnetA\n\n');
    assert.equal(await ok('network', 'prune', '-f'), 'Deleted Networks:\nnetC\n\n');
    assert.equal(await ok('network', 'prune', '-f'), '', 'nothing to prune prints nothing');
    assert.deepEqual((await ok('network', 'ls', '--format', '{{.Name}}')).trim().split('\n').sort(), ['bridge', 'host', 'none']);
    // only the default bridge is left on the host
    assert.deepEqual((await daemonLinks(d.net)).map((l) => l.ifname), [d.net.bridge]);
  });

  test('berth network: the same grammar and output', async () => {
    const run = async (...args: string[]) => {
      const r = await berth(args, d.env);
      assert.equal(r.code, 0, `berth ${args.join(' ')} → ${r.code}: ${r.stderr}\n${d.log().slice(-2000)}`);
      return r.stdout;
    };
    const id = (await run('network', 'create', '--label', 'via=berth', 'bnet')).trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    assert.match(await run('network', 'ls'), new RegExp(`^NETWORK ID +NAME +DRIVER +SCOPE\\n(.*\\n)*${id.slice(0, 12)} +bnet +bridge +local\\n`));
    assert.equal(JSON.parse(await run('network', 'inspect', 'bnet'))[0].Labels.via, 'berth');
    // byte for byte what the docker CLI prints for the same daemon state
    for (const args of [['network', 'ls'], ['network', 'ls', '--no-trunc'], ['network', 'ls', '-q', '-f', 'type=custom'], ['network', 'inspect', 'bnet'], ['network', 'inspect', '-f', '{{.Name}} {{.Driver}} {{json .Labels}}', 'bnet']]) {
      assert.equal(await run(...args), await ok(...args), args.join(' '));
    }
    await run('run', '-d', '--name', 'bweb', '--network', 'bnet', IMG, 'sleep', '1000');
    await run('create', '--name', 'bcli', '--network', 'bnet', IMG, 'sleep', '1000');
    const twice = await berth(['network', 'connect', 'bnet', 'bweb'], d.env);
    assert.equal(twice.code, 1);
    assert.match(twice.stderr, /Error response from daemon: endpoint with name bweb already exists in network bnet/);
    await run('network', 'create', 'bnet2');
    await run('network', 'connect', '--alias', 'front', 'bnet2', 'bweb');
    const ipB = await ipOn('bweb', 'bnet2');
    const r = await docker('run', '--rm', '--network', 'bnet2', IMG, 'nslookup', 'front');
    assert.match(r.stdout, new RegExp(`Address(?: \\d+)?:\\s+${ipB.replace(/\./g, '\\.')}`), r.stdout + r.stderr);
    assert.equal(await run('network', 'disconnect', 'bnet2', 'bweb'), '');
    const rmBusy = await berth(['network', 'rm', 'bnet'], d.env);
    assert.equal(rmBusy.code, 1);
    assert.match(rmBusy.stderr, /has active endpoints/);
    await run('rm', '-f', 'bweb', 'bcli');
    assert.equal(await run('network', 'rm', 'bnet', 'bnet2'), 'bnet\nbnet2\n');
    const gone = await berth(['network', 'inspect', 'bnet'], d.env);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /network bnet not found/);
    const dockerGone = await docker('network', 'inspect', 'bnet');
    assert.deepEqual([gone.stdout, gone.stderr], [dockerGone.stdout, dockerGone.stderr]);
    await run('network', 'create', 'bnet3');
    assert.equal(await run('network', 'prune', '-f'), 'Deleted Networks:\nbnet3\n\n');
    assert.equal(await run('network', 'prune', '-f'), '');
  });

  test('docker-py: create, inspect, connect with aliases, disconnect, remove', { skip: fs.existsSync(PYTHON) ? false : 'needs /usr/bin/python3 with python3-docker' }, async () => {
    const script = `
import docker, json
c = docker.DockerClient(base_url=${JSON.stringify(d.host)})
n = c.networks.create("pynet", driver="bridge", labels={"by": "py"})
n.reload()
assert n.attrs["Labels"] == {"by": "py"}, n.attrs
assert n.attrs["Scope"] == "local"
ctr = c.containers.run(${JSON.stringify(IMG)}, ["sleep", "1000"], detach=True, name="pyweb")
n.connect(ctr, aliases=["pyalias"])
n.reload()
eps = n.attrs["Containers"]
assert list(eps) == [ctr.id], eps
ctr.reload()
ep = ctr.attrs["NetworkSettings"]["Networks"]["pynet"]
assert "pyalias" in (ep["Aliases"] or []), ep
out = c.containers.run(${JSON.stringify(IMG)}, ["nslookup", "pyalias"], network="pynet", remove=True).decode()
assert ep["IPAddress"] in out, out
n.disconnect(ctr)
n.reload()
assert n.attrs["Containers"] == {}, n.attrs["Containers"]
try:
    c.networks.get("nope")
    raise SystemExit("found nope")
except docker.errors.NotFound:
    pass
ctr.remove(force=True)
n.remove()
assert [x.name for x in c.networks.list(names=["pynet"])] == []
print("ok")
`;
    const r = await exec(PYTHON, ['-c', script], d.env);
    assert.equal(r.code, 0, `${r.stdout}${r.stderr}\n${d.log().slice(-2000)}`);
    assert.equal(r.stdout, 'ok\n');
  });

  test('docker-compose 1.29: the client reaches the server by service name; down removes the network', { skip: fs.existsSync(COMPOSE) ? false : 'needs docker-compose (Debian package)' }, async () => {
    const dir = path.join(d.dir, 'compose');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'docker-compose.yml'), `version: "2.4"
services:
  server:
    image: ${IMG}
    command: ["sh", "-c", "mkdir -p /www && echo hello-from-server > /www/index.html && exec httpd -f -p 80 -h /www"]
  client:
    image: ${IMG}
    depends_on: [server]
    # the server may still be starting: retry, the answer decides
    command: ["sh", "-c", "for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do wget -q -O - http://server/ && exit 0; sleep 0.5; done; exit 1"]
`);
    const compose = (...args: string[]) => exec(COMPOSE, ['-p', 'bnproj', ...args], d.env, { cwd: dir, timeoutMs: 120_000 });
    try {
      const up = await compose('up', '-d');
      assert.equal(up.code, 0, `${up.stdout}${up.stderr}\n${d.log().slice(-3000)}`);
      assert.match(await ok('network', 'ls', '--format', '{{.Name}}'), /^bnproj_default$/m);
      const client = (await ok('ps', '-aq', '--filter', 'label=com.docker.compose.service=client')).trim();
      assert.match(client, /^[0-9a-f]{12}$/);
      assert.equal((await ok('wait', client)).trim(), '0', (await docker('logs', client)).stderr);
      assert.equal((await docker('logs', client)).stdout, 'hello-from-server\n');
      const down = await compose('down');
      assert.equal(down.code, 0, `${down.stdout}${down.stderr}`);
      assert.doesNotMatch(await ok('network', 'ls', '--format', '{{.Name}}'), /bnproj_default/);
      assert.equal(await ok('ps', '-aq'), '');
    } finally {
      await compose('down').catch(() => undefined);
    }
  });
});
