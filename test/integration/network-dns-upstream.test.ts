// --dns, --dns-search and --dns-option on a user network, through the docker CLI: the container's
// resolv.conf names the embedded server (with the search list and options asked for), and the embedded
// server forwards names it does not know to the container's --dns servers, not the host's (docker's
// ExtDNS). The upstream is a DNS server this test runs itself on a loopback address of the host.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as net from 'node:net';
import { after, before, describe, test } from 'node:test';
import dnsPacket from 'dns-packet';
import { Client } from '../../src/client/index.js';
import { startDaemon, type Daemon } from '../helpers/daemon.js';
import { tarDir } from '../helpers/registry.js';
import { busyboxRootfs } from '../helpers/rootfs.js';

const DOCKER = '/usr/local/bin/docker';
const IMG = 'bb:dns';
const UPSTREAM = '127.77.0.53';

/** Answers every A question with 192.0.2.77 and records the names asked. */
class Upstream {
  readonly seen: string[] = [];
  private readonly udp = dgram.createSocket('udp4');
  private readonly tcp = net.createServer((s) => {
    s.on('data', (c: Buffer) => { const h = Buffer.alloc(2); const r = this.reply(c.subarray(2)); h.writeUInt16BE(r.length); s.end(Buffer.concat([h, r])); });
    s.on('error', () => undefined);
  });
  private reply(m: Buffer): Buffer {
    const q = dnsPacket.decode(m);
    const name = q.questions![0]!.name;
    this.seen.push(name);
    const answers = q.questions![0]!.type === 'A' ? [{ type: 'A' as const, class: 'IN' as const, name, ttl: 5, data: '192.0.2.77' }] : [];
    return dnsPacket.encode({ type: 'response', id: q.id, flags: dnsPacket.RECURSION_AVAILABLE, questions: q.questions, answers });
  }
  async start(): Promise<void> {
    this.udp.on('message', (m, r) => { try { this.udp.send(this.reply(m), r.port, r.address); } catch { /* not DNS */ } });
    await new Promise<void>((res, rej) => { this.udp.once('error', rej); this.udp.bind(53, UPSTREAM, () => res()); });
    await new Promise<void>((res, rej) => { this.tcp.once('error', rej); this.tcp.listen(53, UPSTREAM, () => res()); });
  }
  close(): void { this.udp.close(); this.tcp.close(); }
}

function run(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; out: string; err: string }> {
  return new Promise((resolve) => {
    const c = spawn(DOCKER, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    c.stdout.on('data', (d) => { out += d; });
    c.stderr.on('data', (d) => { err += d; });
    c.on('close', (code) => resolve({ code: code ?? -1, out, err }));
  });
}

const skip = process.getuid?.() !== 0 ? 'needs root' : !fs.existsSync(DOCKER) ? 'needs the docker CLI at /usr/local/bin/docker' : false;

describe('--dns on a user network: the embedded server forwards to it', { skip }, () => {
  let d: Daemon;
  const up = new Upstream();

  before(async () => {
    await up.start();
    d = await startDaemon();
    const api = new Client(d.host);
    try {
      const tar = await tarDir(await busyboxRootfs(), false);
      await api.importImage((async function* () { yield tar; })(), { repo: 'bb', tag: 'dns', changes: ['CMD ["sh"]'] });
    } finally { api.close(); }
  });
  after(async () => {
    await run(['rm', '-f', 'dnsweb'], d?.env ?? {});
    await run(['network', 'rm', 'dnsnet'], d?.env ?? {});
    await d?.stop();
    up.close();
  });

  test('resolv.conf names the embedded server; unknown names go to --dns, container names stay local', async () => {
    const ok = async (...args: string[]) => { const r = await run(args, d.env); assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.out}${r.err}\n${d.log().slice(-2000)}`); return r.out; };
    await ok('network', 'create', 'dnsnet');
    const gw = (await ok('network', 'inspect', '-f', '{{(index .IPAM.Config 0).Gateway}}', 'dnsnet')).trim();
    await ok('run', '-d', '--name', 'dnsweb', '--network', 'dnsnet', IMG, 'sleep', '60');
    const out = await ok('run', '--rm', '--network', 'dnsnet', '--dns', UPSTREAM, '--dns-search', 'corp.test', '--dns-option', 'ndots:0', IMG,
      'sh', '-c', 'cat /etc/resolv.conf; echo ===; nslookup far.example.test; echo ===; nslookup dnsweb.');
    const [resolv, far, local] = out.split('===\n');
    assert.equal(resolv, `nameserver ${gw}\nsearch corp.test\noptions ndots:0\n`);
    assert.match(far!, /Address(?: \d+)?:\s+192\.0\.2\.77/, out);
    assert.ok(up.seen.includes('far.example.test'), `the --dns server was not asked: ${JSON.stringify(up.seen)}`);
    // the network's own names are answered by the embedded server, never sent upstream (absolute: busybox would try the search list first)
    assert.doesNotMatch(local!, /192\.0\.2\.77/, out);
    assert.match(local!, /Address(?: \d+)?:\s+\d+\.\d+\.\d+\.\d+/, out);
    assert.ok(!up.seen.includes('dnsweb'), JSON.stringify(up.seen));
    // a container without --dns on the same network does not use that server
    const before = up.seen.length;
    await run(['run', '--rm', '--network', 'dnsnet', IMG, 'timeout', '5', 'nslookup', 'other.example.test'], d.env);
    assert.equal(up.seen.length, before, `a container without --dns was forwarded to it: ${JSON.stringify(up.seen)}`);
  });
});
