// network/ports-publisher against a fake table writer and a temp root: bind tests on 127.0.0.1, reservations
// that two containers never share, all or nothing, the store a restarted daemon reads (no root).
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { PortPublisher } from '../../src/network/ports-publisher.js';
import type { PortRequest } from '../../src/network/ports.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ports-pub-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));
const target = { containerIp: '10.9.0.2', bridge: 'btx', subnet: '10.9.0.0/24' };
const any = (containerPort: number, proto: 'tcp' | 'udp' = 'tcp'): PortRequest => ({ proto, containerPort, hostIp: '127.0.0.1', hostPortStart: 0, hostPortEnd: 0 });
const fixed = (containerPort: number, hostPort: number): PortRequest => ({ proto: 'tcp', containerPort, hostIp: '127.0.0.1', hostPortStart: hostPort, hostPortEnd: hostPort });

function publisher(writes: string[][]): PortPublisher {
  const p = new PortPublisher({ root });
  p.setChains = async (lines) => { writes.push(lines); };
  return p;
}

test('random ports are distinct, never in use, and a fixed port another container holds is refused', async () => {
  const writes: string[][] = [];
  const p = publisher(writes);
  const holder = net.createServer();
  await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
  const held = (holder.address() as net.AddressInfo).port;
  try {
    const a = await p.publish('a', 'a (e1)', [any(80), any(81), any(53, 'udp')], target);
    const b = await p.publish('b', 'b (e2)', [any(80)], { ...target, containerIp: '10.9.0.3' });
    const ports = [...a, ...b].filter((x) => x.proto === 'tcp').map((x) => x.hostPort);
    assert.equal(new Set(ports).size, 3);
    assert.ok(!ports.includes(held));
    assert.equal(writes.length, 2);
    assert.ok(writes[1]!.some((l) => l.includes(`tcp dport ${b[0]!.hostPort} dnat to 10.9.0.3:80`)));
    await assert.rejects(p.publish('c', 'c (e3)', [fixed(80, a[0]!.hostPort)], target), /driver failed programming external connectivity on endpoint c \(e3\): Bind for 127\.0\.0\.1:\d+ failed: port is already allocated/);
    await assert.rejects(p.publish('c', 'c (e3)', [any(80), fixed(81, held)], target), new RegExp(`Bind for 127\\.0\\.0\\.1:${held} failed: port is already allocated`));
    assert.deepEqual(p.published('c'), [], 'all or nothing: the first, free, port was not kept either');
    assert.equal(writes.length, 2, 'a refused publish writes no rules');
  } finally { holder.close(); }
});

test('the store outlives the publisher: a restarted daemon keeps running containers\' ports and frees the rest', async () => {
  const writes: string[][] = [];
  const p = publisher(writes);
  const before = p.published('a');
  assert.equal(before.length, 3);
  await p.restore(new Set(['a']));
  assert.deepEqual(p.published('a'), before);
  assert.deepEqual(p.published('b'), []);
  await p.unpublish('a');
  assert.deepEqual(p.rules(), []);
  assert.deepEqual(writes.at(-1), [], 'no ports: no chains of ours left in the table');
  await p.unpublish('a'); // twice is fine
});

test('a failed table write keeps nothing reserved', async () => {
  const p = new PortPublisher({ root });
  p.setChains = async () => { throw new Error('nft: boom'); };
  await assert.rejects(p.publish('z', 'z (e)', [any(80)], target), /boom/);
  assert.deepEqual(p.published('z'), []);
});
