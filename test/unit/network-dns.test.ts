// network/dns: the answer logic, and the server on a real UDP/TCP socket on 127.0.0.1 with a fake
// upstream resolver the test runs on 127.0.0.1 (no other address is ever queried).
import assert from 'node:assert/strict';
import * as dgram from 'node:dgram';
import * as net from 'node:net';
import { after, before, describe, test } from 'node:test';
import dnsPacket from 'dns-packet';
import { answer, DnsServer, DnsServers, inSubnets, namesOf, parseResolvConf, type Upstream } from '../../src/network/dns.js';
import type { Endpoint, NetworkInfo } from '../../src/network/types.js';

const ID1 = 'a1b2c3d4e5f6'.padEnd(64, '0');
const ID2 = 'ffeeddccbbaa'.padEnd(64, '1');
const ep = (containerId: string, containerName: string, ipv4Address: string, aliases: string[] = []): Endpoint => ({
  networkId: 'n'.repeat(64), networkName: 'mynet', endpointId: 'e'.repeat(64), containerId, containerName, aliases,
  ipv4Address, prefixLen: 24, gateway: '10.9.0.1', macAddress: '02:42:0a:09:00:02',
});
const EPS = [ep(ID1, 'web', '10.9.0.2', ['www', 'Front']), ep(ID2, 'db', '10.9.0.3', ['www'])];
const names = namesOf('mynet', () => EPS);

let nextId = 1;
const query = (name: string, type: dnsPacket.RecordType = 'A'): Buffer =>
  dnsPacket.encode({ type: 'query', id: nextId++, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type, name, class: 'IN' }] });
const rcodeOf = (b: Buffer): string => (dnsPacket.decode(b) as unknown as { rcode: string }).rcode;
const aRecords = (b: Buffer): string[] => (dnsPacket.decode(b).answers ?? []).filter((a) => a.type === 'A').map((a) => (a as { data: string }).data).sort();

describe('dns answer (pure)', () => {
  test('A for container name, alias (any case), short id and name.network', () => {
    for (const [n, want] of [['web', ['10.9.0.2']], ['FRONT', ['10.9.0.2']], ['a1b2c3d4e5f6', ['10.9.0.2']], ['db.mynet.', ['10.9.0.3']], ['www', ['10.9.0.2', '10.9.0.3']]] as const) {
      const r = answer(query(n), names);
      assert.ok(Buffer.isBuffer(r), n);
      assert.equal(rcodeOf(r), 'NOERROR');
      assert.deepEqual(aRecords(r), want, n);
      assert.equal(dnsPacket.decode(r).questions?.[0]?.name, n.replace(/\.$/, ''));
    }
  });
  test('the id of a query is kept in the reply', () => {
    const q = query('web');
    const r = answer(q, names) as Buffer;
    assert.equal(dnsPacket.decode(r).id, dnsPacket.decode(q).id);
  });
  test('AAAA for a known name is an empty NOERROR; for an unknown one it is forwarded', () => {
    const r = answer(query('web', 'AAAA'), names) as Buffer;
    assert.equal(rcodeOf(r), 'NOERROR');
    assert.equal(dnsPacket.decode(r).answers?.length, 0);
    assert.equal(answer(query('example.org', 'AAAA'), names), 'forward');
  });
  test('unknown names, other types, longer ids and other networks are forwarded', () => {
    assert.equal(answer(query('example.org'), names), 'forward');
    assert.equal(answer(query('web', 'MX'), names), 'forward');
    assert.equal(answer(query(ID1.slice(0, 13)), names), 'forward');
    assert.equal(answer(query('web.othernet'), names), 'forward');
  });
  test('PTR for a container address names it', () => {
    const r = answer(query('3.0.9.10.in-addr.arpa', 'PTR'), names) as Buffer;
    assert.deepEqual(dnsPacket.decode(r).answers?.map((a) => (a as { data: string }).data), ['db.mynet']);
    assert.equal(answer(query('9.0.9.10.in-addr.arpa', 'PTR'), names), 'forward');
  });
  test('malformed messages and responses are dropped', () => {
    assert.equal(answer(Buffer.from([1, 2, 3]), names), undefined);
    assert.equal(answer(Buffer.alloc(0), names), undefined);
    const resp = dnsPacket.encode({ type: 'response', id: 7, questions: [{ type: 'A', name: 'web', class: 'IN' }] });
    assert.equal(answer(resp, names), undefined);
  });
  test('resolv.conf: nameserver lines only', () => {
    assert.deepEqual(parseResolvConf('# x\nsearch lan\nnameserver 127.0.0.53\nnameserver fe80::1%eth0\nnameserver bogus\noptions edns0\n'),
      [{ host: '127.0.0.53', port: 53 }, { host: 'fe80::1%eth0', port: 53 }]);
  });
});

/** A fake upstream resolver on 127.0.0.1 (UDP and TCP on one port): answers every A query with 192.0.2.7, unless silent. */
class FakeUpstream {
  udp = dgram.createSocket('udp4');
  tcp = net.createServer((s) => {
    s.on('data', (c: Buffer) => { const r = this.reply(c.subarray(2)); if (r) { const h = Buffer.alloc(2); h.writeUInt16BE(r.length); s.end(Buffer.concat([h, r])); } });
    s.on('error', () => {});
  });
  silent = false;
  seen: string[] = [];
  reply(m: Buffer): Buffer | undefined {
    const q = dnsPacket.decode(m);
    this.seen.push(q.questions![0]!.name);
    if (this.silent) return undefined;
    return dnsPacket.encode({ type: 'response', id: q.id, flags: dnsPacket.RECURSION_AVAILABLE, questions: q.questions, answers: [{ type: 'A', class: 'IN', name: q.questions![0]!.name, ttl: 5, data: '192.0.2.7' }] });
  }
  async start(): Promise<Upstream> {
    this.udp.on('message', (m, r) => { const a = this.reply(m); if (a) this.udp.send(a, r.port, r.address); });
    await new Promise<void>((res) => this.udp.bind(0, '127.0.0.1', () => res()));
    const port = this.udp.address().port;
    await new Promise<void>((res) => this.tcp.listen(port, '127.0.0.1', () => res()));
    return { host: '127.0.0.1', port };
  }
  close(): void { this.udp.close(); this.tcp.close(); }
}

function udpAsk(port: number, msg: Buffer, timeoutMs = 5000): Promise<Buffer | undefined> {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    const t = setTimeout(() => { s.close(); resolve(undefined); }, timeoutMs);
    s.on('message', (m) => { clearTimeout(t); s.close(); resolve(m); });
    s.send(msg, port, '127.0.0.1');
  });
}

function tcpAsk(port: number, frame: Buffer): Promise<Buffer | 'closed'> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    s.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) { s.destroy(); resolve(buf.subarray(2)); }
    });
    s.on('close', () => resolve('closed'));
    s.on('error', (e) => { if ((e as NodeJS.ErrnoException).code === 'ECONNRESET') resolve('closed'); else reject(e); });
    s.write(frame);
  });
}
const framed = (m: Buffer): Buffer => { const h = Buffer.alloc(2); h.writeUInt16BE(m.length); return Buffer.concat([h, m]); };

describe('dns server on 127.0.0.1', () => {
  const up = new FakeUpstream();
  let upstreams: Upstream[] = [];
  let server: DnsServer;

  before(async () => {
    upstreams = [await up.start()];
    server = new DnsServer({ address: '127.0.0.1', port: 0, names, upstreams: () => upstreams, upstreamTimeoutMs: 300 });
    await server.start();
  });
  after(async () => { await server.close(); up.close(); });

  test('UDP: a container name is answered locally, the upstream is not asked', async () => {
    up.seen = [];
    const r = await udpAsk(server.port, query('web'));
    assert.ok(r);
    assert.deepEqual(aRecords(r), ['10.9.0.2']);
    assert.deepEqual(up.seen, []);
  });
  test('UDP: other names are forwarded to the host resolver and its answer relayed', async () => {
    up.seen = [];
    const r = await udpAsk(server.port, query('example.org'));
    assert.ok(r);
    assert.deepEqual(aRecords(r), ['192.0.2.7']);
    assert.deepEqual(up.seen, ['example.org']);
  });
  test('TCP: local and forwarded answers', async () => {
    const a = await tcpAsk(server.port, framed(query('db')));
    assert.ok(Buffer.isBuffer(a));
    assert.deepEqual(aRecords(a), ['10.9.0.3']);
    const b = await tcpAsk(server.port, framed(query('example.com')));
    assert.ok(Buffer.isBuffer(b));
    assert.deepEqual(aRecords(b), ['192.0.2.7']);
  });
  test('an upstream that does not answer gives SERVFAIL after the timeout', async () => {
    up.silent = true;
    try {
      const r = await udpAsk(server.port, query('slow.example'));
      assert.ok(r);
      assert.equal(rcodeOf(r), 'SERVFAIL');
    } finally { up.silent = false; }
  });
  test('no upstream at all gives SERVFAIL; local names still answer', async () => {
    const saved = upstreams;
    upstreams = [];
    try {
      assert.equal(rcodeOf((await udpAsk(server.port, query('example.org')))!), 'SERVFAIL');
      assert.deepEqual(aRecords((await udpAsk(server.port, query('www')))!), ['10.9.0.2', '10.9.0.3']);
    } finally { upstreams = saved; }
  });
  test('malformed UDP packets get no answer and do not stop the server', async () => {
    assert.equal(await udpAsk(server.port, Buffer.from('garbage!'), 300), undefined);
    assert.deepEqual(aRecords((await udpAsk(server.port, query('web')))!), ['10.9.0.2']);
  });
  test('TCP: a malformed message closes the connection; the server goes on', async () => {
    assert.equal(await tcpAsk(server.port, framed(Buffer.from('garbage!'))), 'closed');
    assert.ok(Buffer.isBuffer(await tcpAsk(server.port, framed(query('web')))));
  });
  test('TCP: two queries in one write get two answers, in order; a question-less message gets FORMERR', async () => {
    const replies = await new Promise<Buffer[]>((resolve, reject) => {
      const s = net.connect(server.port, '127.0.0.1');
      let buf = Buffer.alloc(0);
      const out: Buffer[] = [];
      s.on('data', (c: Buffer) => {
        buf = Buffer.concat([buf, c]);
        while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) { out.push(buf.subarray(2, 2 + buf.readUInt16BE(0))); buf = buf.subarray(2 + buf.readUInt16BE(0)); }
        if (out.length === 3) { s.destroy(); resolve(out); }
      });
      s.on('error', reject);
      s.write(Buffer.concat([framed(query('db')), framed(query('web')), framed(Buffer.alloc(12))]));
    });
    assert.deepEqual(aRecords(replies[0]!), ['10.9.0.3']);
    assert.deepEqual(aRecords(replies[1]!), ['10.9.0.2']);
    assert.equal(rcodeOf(replies[2]!), 'FORMERR');
  });
});

describe('dns servers follow the network list', () => {
  const mk = (id: string, name: string, internal = false, subnet = '127.0.0.0/8'): NetworkInfo => ({
    id: id.repeat(64), name, driver: 'bridge', created: '', internal, attachable: false,
    ipam: { driver: 'default', config: [{ subnet, gateway: '127.0.0.1' }], options: {} }, options: {}, labels: {},
  });
  test('only clients inside the network\'s subnet are served: other networks reach the gateway address too', async () => {
    const allow = inSubnets(mk('x', 'n', false, '10.9.0.0/24'));
    assert.deepEqual(['10.9.0.7', '::ffff:10.9.0.7', '10.9.1.7', '127.0.0.1', 'fe80::1'].map(allow), [true, true, false, false, false]);
    const d = new DnsServers({ networks: () => [mk('d', 'far', false, '10.9.0.0/24')], endpoints: () => EPS, upstreams: () => [], port: 0 });
    try {
      await d.sync();
      const port = d.portOf('d'.repeat(64))!;
      assert.ok(port);
      assert.equal(await udpAsk(port, query('web'), 300), undefined);
      assert.equal(await tcpAsk(port, framed(query('web'))), 'closed');
    } finally { await d.close(); }
  });

  test('a server per user network with a gateway; none for the default bridge; stopped when the network goes', async () => {
    let nets = [mk('a', 'bridge'), mk('b', 'mynet')];
    const up = new FakeUpstream();
    const u = await up.start();
    const d = new DnsServers({ networks: () => nets, endpoints: () => EPS, upstreams: () => [u], port: 0 });
    try {
      await d.sync();
      assert.equal(d.portOf('a'.repeat(64)), undefined);
      const port = d.portOf('b'.repeat(64));
      assert.ok(port);
      assert.deepEqual(aRecords((await udpAsk(port, query('web')))!), ['10.9.0.2']);
      nets = [mk('a', 'bridge')];
      await d.sync();
      assert.equal(d.portOf('b'.repeat(64)), undefined);
      assert.equal(await udpAsk(port, query('web'), 300), undefined);
      // an internal network's server answers its names and forwards nothing
      nets = [mk('c', 'inside', true)];
      await d.sync();
      const p2 = d.portOf('c'.repeat(64))!;
      up.seen = [];
      assert.deepEqual(aRecords((await udpAsk(p2, query('db')))!), ['10.9.0.3']);
      assert.equal(rcodeOf((await udpAsk(p2, query('example.org')))!), 'SERVFAIL');
      assert.deepEqual(up.seen, []);
    } finally { await d.close(); up.close(); }
  });
});
