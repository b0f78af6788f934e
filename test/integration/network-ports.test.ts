// Published ports through the real docker CLI and berth: -p with an address and a random port, -P with the
// image's EXPOSE and --expose, udp, a taken port (docker's error, nothing left running or forwarded), rules
// gone on stop / kill -9 / rm, kept across kill -9 of berthd, and 400s for bad specs. Traffic goes only to
// 127.0.0.1, this host's own address and namespaces the test made.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { ApiError, Client } from '../../src/client/index.js';
import { isRoot, run } from '../helpers/bundle.js';
import { berth, daemonLinks, removeContainers, startDaemon, type Daemon } from '../helpers/daemon.js';
import { tarDir } from '../helpers/registry.js';
import { busyboxRootfs } from '../helpers/rootfs.js';
import { fetchText } from '../helpers/http-get.js';

const haveDocker = fs.existsSync('/usr/local/bin/docker') || fs.existsSync('/usr/bin/docker');
const skip = !isRoot ? 'needs root' : !haveDocker ? 'needs the docker CLI' : false;
const HTTPD = (text: string) => ['sh', '-c', `mkdir -p /www && echo ${text} > /www/index.html && exec httpd -f -p 80 -h /www`];

/** Nothing forwards ip:port: the host answers a connect with a refusal. */
function refused(ip: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: ip, port });
    s.once('connect', () => { s.destroy(); resolve(false); });
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED'));
  });
}

/** This host's own IPv4 address on an interface that is not one of the daemon's bridges (eth0's, usually). */
async function ownAddress(d: Daemon): Promise<string | undefined> {
  const ours = new Set((await daemonLinks(d.net)).map((l) => l.ifname));
  const all = JSON.parse((await run('ip', ['-j', '-4', 'addr'])).stdout) as Array<{ ifname: string; addr_info: Array<{ local: string; scope: string }> }>;
  return all.filter((l) => !ours.has(l.ifname) && l.ifname !== 'lo').flatMap((l) => l.addr_info).find((a) => a.scope === 'global')?.local;
}

describe('published ports', { skip }, () => {
  let d: Daemon;
  const docker = (...args: string[]) => run('docker', args, { env: d.env });
  const dnatRules = async () => (await run('nft', ['list', 'table', 'ip', d.net.table])).stdout.split('\n').filter((l) => l.includes('dnat to'));
  const portOf = async (name: string, spec: string) => {
    const r = await docker('port', name, spec);
    assert.equal(r.code, 0, r.stderr);
    const [ip, port] = r.stdout.trim().split('\n')[0]!.split(':');
    return { ip: ip!, port: Number(port) };
  };

  before(async () => {
    d = await startDaemon();
    const tarFile = path.join(d.dir, 'rootfs.tar');
    fs.writeFileSync(tarFile, await tarDir(await busyboxRootfs(), false));
    const r = await docker('import', '-c', 'CMD ["sh"]', '-c', 'EXPOSE 80', tarFile, 'bb:ports');
    assert.equal(r.code, 0, r.stderr);
  });
  // each test removes its containers as an assertion; this is for the ones a failed test left running, which would
  // fail the next tests too (their rules and taken ports are still there)
  afterEach(async () => { if (d) await removeContainers(d); });
  after(async () => { await d?.stop(); });

  test('-p 127.0.0.1::80 answers on 127.0.0.1 only; -p 80 on 127.0.0.1, the host\'s own address and, hairpinned, to containers', async (t) => {
    assert.equal((await docker('run', '-d', '--name', 'lo-only', '-p', '127.0.0.1::80', 'bb:ports', ...HTTPD('local'))).code, 0);
    assert.equal((await docker('run', '-d', '--name', 'everywhere', '-p', '80', 'bb:ports', ...HTTPD('all'))).code, 0);
    const a = await portOf('lo-only', '80');
    assert.equal(a.ip, '127.0.0.1');
    assert.equal(await fetchText('127.0.0.1', a.port), 'local\n');
    const b = await portOf('everywhere', '80/tcp');
    assert.equal(b.ip, '0.0.0.0');
    assert.notEqual(a.port, b.port);
    assert.equal(await fetchText('127.0.0.1', b.port), 'all\n');
    // ps and inspect say the same
    const ps = await docker('ps', '--format', '{{.Names}} {{.Ports}}');
    assert.match(ps.stdout, new RegExp(`lo-only 127\\.0\\.0\\.1:${a.port}->80/tcp`));
    const ins = JSON.parse((await docker('inspect', 'everywhere')).stdout)[0];
    assert.deepEqual(ins.NetworkSettings.Ports, { '80/tcp': [{ HostIp: '0.0.0.0', HostPort: String(b.port) }] });
    assert.deepEqual(ins.HostConfig.PortBindings, { '80/tcp': [{ HostIp: '', HostPort: '' }] });
    // hairpin: through the bridge's gateway (an address of this host) from another container and from itself
    const gw = ins.NetworkSettings.Gateway as string;
    const get = `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 5 ${gw} ${b.port} | tail -n 1`;
    const fromOther = await docker('run', '--rm', 'bb:ports', 'sh', '-c', get);
    assert.equal(fromOther.stdout, 'all\n', `another container through ${gw}:${b.port}: ${fromOther.stderr}`);
    const fromSelf = await docker('exec', 'everywhere', 'sh', '-c', get);
    assert.equal(fromSelf.stdout, 'all\n', `the container itself through ${gw}:${b.port}: ${fromSelf.stderr}`);
    const own = await ownAddress(d);
    if (!own) { t.diagnostic('this host has no global IPv4 address besides the daemon\'s bridges: own-address checks skipped'); } else {
      assert.equal(await fetchText(own, b.port), 'all\n');
      assert.ok(await refused(own, a.port), 'a port published on 127.0.0.1 is not reachable through the host\'s other addresses');
    }
    assert.equal((await docker('rm', '-f', 'lo-only', 'everywhere')).code, 0);
    assert.deepEqual(await dnatRules(), []);
  });

  test('-P publishes the image\'s EXPOSE and --expose on distinct free ports, through berth too', async () => {
    const r1 = await berth(['run', '-d', '--name', 'pa1', '-P', '--expose', '81', 'bb:ports', ...HTTPD('pa1')], d.env);
    assert.equal(r1.code, 0, r1.stderr);
    assert.equal((await docker('run', '-d', '--name', 'pa2', '-P', 'bb:ports', ...HTTPD('pa2'))).code, 0);
    const out = (await berth(['port', 'pa1'], d.env)).stdout.trim().split('\n');
    assert.equal(out.length, 2, out.join('\n'));
    assert.match(out[0]!, /^80\/tcp -> 0\.0\.0\.0:\d+$/);
    assert.match(out[1]!, /^81\/tcp -> 0\.0\.0\.0:\d+$/);
    const [lo, hi] = fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/).map(Number);
    const ports = [...out.map((l) => Number(l.split(':').at(-1))), (await portOf('pa2', '80')).port];
    assert.equal(new Set(ports).size, 3, `three different host ports: ${ports.join(', ')}`);
    for (const p of ports) assert.ok(p >= lo! && p <= hi!, `${p} is in the ephemeral range`);
    assert.equal(await fetchText('127.0.0.1', ports[0]!), 'pa1\n');
    assert.equal(await fetchText('127.0.0.1', ports[2]!), 'pa2\n');
    const none = await berth(['port', 'pa1', '82'], d.env);
    assert.equal(none.code, 1);
    // docker 28's cli/command/container/port.go names the port as typed
    assert.equal(none.stderr, "Error: No public port '82' published for pa1\n");
    assert.equal((await docker('rm', '-f', 'pa1', 'pa2')).code, 0);
  });

  test('udp: a datagram to the published port reaches the container and the answer comes back', async () => {
    assert.equal((await docker('run', '-d', '--name', 'udp1', '-p', '127.0.0.1::5000/udp', 'bb:ports', 'sleep', '1000')).code, 0);
    const { port } = await portOf('udp1', '5000/udp');
    const pid = JSON.parse((await docker('inspect', 'udp1')).stdout)[0].State.Pid as number;
    // busybox's nc has no -u: an echo server from this test, inside the container's network namespace
    const echo = spawn('nsenter', [`--net=/proc/${pid}/ns/net`, process.execPath, '-e',
      "const s=require('dgram').createSocket('udp4');s.on('message',(m,r)=>s.send(Buffer.concat([Buffer.from('echo:'),m]),r.port,r.address));s.bind(5000,()=>console.log('ready'))"], { stdio: ['ignore', 'pipe', 'pipe'] });
    let echoErr = '';
    echo.stderr!.on('data', (b: Buffer) => { echoErr += b; });
    const sock = dgram.createSocket('udp4');
    try {
      await new Promise<void>((resolve, reject) => { echo.stdout!.once('data', () => resolve()); echo.once('exit', (c) => reject(new Error(`echo server exited ${c}: ${echoErr}`))); });
      const answer = new Promise<string>((resolve) => sock.once('message', (m) => resolve(m.toString())));
      // udp may drop a datagram (a loaded host's full queue): send again each second until the answer, for at most
      // a minute; what is checked is that one comes back through the published port
      let sends = 0;
      const send = () => { sends++; sock.send('hi', port, '127.0.0.1'); };
      send();
      const again = setInterval(send, 1000);
      try {
        assert.equal(await Promise.race([answer, new Promise<string>((r) => setTimeout(() => r(`no answer to ${sends} datagrams`), 60_000).unref())]), 'echo:hi');
      } finally { clearInterval(again); }
    } finally { sock.close(); echo.kill('SIGKILL'); }
    assert.equal((await docker('rm', '-f', 'udp1')).code, 0);
  });

  test('a taken host port fails docker run -p with docker\'s message; nothing runs, nothing is forwarded', async () => {
    const holder = net.createServer();
    await new Promise<void>((r) => holder.listen(0, '0.0.0.0', r));
    const taken = (holder.address() as net.AddressInfo).port;
    try {
      const r = await docker('run', '-d', '--name', 'clash', '-p', `${taken}:80`, 'bb:ports', 'sleep', '1000');
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, new RegExp(`driver failed programming external connectivity on endpoint clash \\([0-9a-f]{64}\\): Bind for 0\\.0\\.0\\.0:${taken} failed: port is already allocated`));
      assert.equal((await docker('ps', '-q', '--filter', 'name=clash')).stdout.trim(), '', 'no container left running');
      assert.deepEqual(await dnatRules(), []);
      // a port another container of this daemon holds is taken too, and the first keeps it
      assert.equal((await docker('run', '-d', '--name', 'first', '-p', '127.0.0.1::80', 'bb:ports', ...HTTPD('first'))).code, 0);
      const { port } = await portOf('first', '80');
      const second = await docker('run', '-d', '--name', 'second', '-p', `${port}:80`, 'bb:ports', 'sleep', '1000');
      assert.match(second.stderr, new RegExp(`Bind for 0\\.0\\.0\\.0:${port} failed: port is already allocated`));
      assert.equal((await dnatRules()).length, 1);
      assert.equal(await fetchText('127.0.0.1', port), 'first\n');
    } finally { holder.close(); }
    assert.equal((await docker('rm', '-f', 'clash', 'first', 'second')).code, 0);
  });

  test('rules leave on stop, on kill -9 of the container and on rm -f', async () => {
    for (const n of ['s1', 's2', 's3']) assert.equal((await docker('run', '-d', '--name', n, '-p', '127.0.0.1::80', 'bb:ports', 'sleep', '1000')).code, 0);
    assert.equal((await dnatRules()).length, 3);
    assert.equal((await docker('stop', '-t', '0', 's1')).code, 0);
    assert.equal((await dnatRules()).length, 2);
    assert.equal((await docker('port', 's1')).stdout, '');
    const pid = JSON.parse((await docker('inspect', 's2')).stdout)[0].State.Pid as number;
    process.kill(pid, 'SIGKILL');
    assert.equal((await docker('wait', 's2')).stdout.trim(), '137');
    assert.equal((await dnatRules()).length, 1);
    assert.equal((await docker('rm', '-f', 's3')).code, 0);
    assert.deepEqual(await dnatRules(), []);
    // a restarted container gets its ports again
    assert.equal((await docker('start', 's1')).code, 0);
    assert.equal((await dnatRules()).length, 1);
    await portOf('s1', '80');
    assert.equal((await docker('rm', '-f', 's1', 's2')).code, 0);
    assert.deepEqual(await dnatRules(), []);
  });

  test('kill -9 of berthd and a restart keep a published port answering', async () => {
    assert.equal((await docker('run', '-d', '--name', 'keep', '-p', '80', 'bb:ports', ...HTTPD('kept'))).code, 0);
    const { port } = await portOf('keep', '80');
    assert.equal(await fetchText('127.0.0.1', port), 'kept\n');
    await d.crashAndRestart();
    assert.equal(await fetchText('127.0.0.1', port, 0), 'kept\n', 'answers at once: the new daemon\'s first ruleset has the port');
    assert.equal((await portOf('keep', '80')).port, port);
    // the restarted daemon still knows the port is taken, and frees it with the container
    const again = await docker('run', '-d', '--name', 'again', '-p', `${port}:80`, 'bb:ports', 'true');
    assert.match(again.stderr, /port is already allocated/);
    assert.equal((await docker('rm', '-f', 'keep', 'again')).code, 0);
    assert.deepEqual(await dnatRules(), []);
  });

  test('bad port specs are 400s and create nothing', async () => {
    const c = new Client(d.host);
    try {
      for (const [pb, msg] of [[{ 'abc/tcp': [] }, 'invalid port specification: "abc"'], [{ '80/tcp': [{ HostPort: '99999' }] }, 'invalid port specification: "99999"'], [{ '80/tcp': [{ HostIp: '300.1.1.1', HostPort: '' }] }, 'invalid host IP address']] as const) {
        await assert.rejects(c.createContainer({ Image: 'bb:ports', HostConfig: { PortBindings: pb } }), (e: ApiError) => e.status === 400 && e.message.includes(msg));
      }
      assert.deepEqual(await c.listContainers({ all: true }), []);
    } finally { c.close(); }
    const r = await berth(['run', '-d', '-p', '8080:', 'bb:ports'], d.env);
    assert.equal(r.code, 125);
    assert.match(r.stderr, /no port specified: 8080:<empty>/);
  });
});
