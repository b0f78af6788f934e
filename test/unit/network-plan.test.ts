// network/plan: subnet choice, IPAM, the netlink ops and the iproute2/nft text, asserted as data (no root).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  allocate, bridgeNetwork, defaultPools, formatCidr, macFor, overlaps, parseCidr, pickSubnet,
  planAttach, planBridge, planDetach, planRuleset, reconcile, release, vethName,
  checkIfname, checkMac, nextIfname, pickAddress, planPool, parseIp,
} from '../../src/network/plan.js';

test('pickSubnet: skips pools that overlap host routes (docker0 on 172.17/16), ignores the default route', () => {
  const s = pickSubnet(defaultPools(), ['default', '172.17.0.0/16', '172.18.5.0/24', '10.0.0.0/8']);
  assert.equal(formatCidr(s), '172.19.0.0/16');
  const all172 = Array.from({ length: 15 }, (_, i) => `172.${17 + i}.0.0/16`);
  assert.equal(formatCidr(pickSubnet(defaultPools(), [...all172, '192.168.1.0/24'])), '192.168.16.0/20');
  assert.throws(() => pickSubnet(defaultPools(), ['172.16.0.0/12', '192.168.0.0/16']), /non-overlapping/);
});

test('overlaps and parseCidr', () => {
  assert.ok(overlaps(parseCidr('172.16.0.0/12'), parseCidr('172.20.1.0/24')));
  assert.ok(!overlaps(parseCidr('172.17.0.0/16'), parseCidr('172.18.0.0/16')));
  assert.equal(formatCidr(parseCidr('192.168.3.7/20')), '192.168.0.0/20');
  assert.throws(() => parseCidr('300.1.1.1/8'), /invalid IPv4/);
});

test('IPAM: lowest free address, gateway skipped, stable per container, released and reconciled', () => {
  const net = bridgeNetwork('bridge', 'berth0', parseCidr('172.19.0.0/16'), 1500);
  assert.equal(net.gateway, '172.19.0.1');
  let l = {};
  const a = allocate(net, l, 'aaa'); l = a.leases;
  const b = allocate(net, l, 'bbb'); l = b.leases;
  assert.equal(a.address, '172.19.0.2');
  assert.equal(b.address, '172.19.0.3');
  assert.equal(allocate(net, l, 'aaa').address, '172.19.0.2');
  l = release(l, 'aaa');
  assert.equal(allocate(net, l, 'ccc').address, '172.19.0.2');
  assert.deepEqual(reconcile(b.leases, new Set(['bbb'])), { '172.19.0.3': 'bbb' });
  const tiny = bridgeNetwork('t', 'bt0', parseCidr('10.9.9.0/30'), 1500);
  const one = allocate(tiny, {}, 'x');
  assert.equal(one.address, '10.9.9.2');
  assert.throws(() => allocate(tiny, one.leases, 'y'), /no available IPv4/);
});

test('names and MACs fit the kernel and docker', () => {
  assert.ok(vethName('0123456789abcdef0123').length <= 15);
  assert.equal(macFor('172.17.0.2'), '02:42:ac:11:00:02');
});

test('plans: bridge, attach, detach, ruleset', () => {
  const net = bridgeNetwork('bridge', 'berth0', parseCidr('172.19.0.0/16'), 1450);
  assert.deepEqual(planBridge(net), [
    { op: 'BRIDGE', args: { name: 'berth0', mtu: 1450, address: parseIp('172.19.0.1'), prefix: 16, broadcast: parseIp('172.19.255.255') }, from: 'bridge berth0' },
  ]);
  const p = planAttach(net, { containerId: 'abcdef0123456789', pid: 42, address: '172.19.0.2' });
  // the pair is made with its container end already in pid 42's netns, named eth0, with docker's MAC
  assert.deepEqual(p.map((o) => o.op), ['VETH', 'SETNS', 'LINK_UP', 'ADDR_ADD', 'LINK_UP', 'ROUTE_ADD']);
  assert.deepEqual(p[0]!.args, { name: 'vbabcdef012345', peer: 'eth0', master: 'berth0', mtu: 1450, nspid: 42, mac: Buffer.from([2, 0x42, 172, 19, 0, 2]) });
  assert.deepEqual(p[1]!.args, { nstype: 0x40000000, path: '/proc/42/ns/net' });
  assert.deepEqual(p[3]!.args, { dev: 'eth0', address: parseIp('172.19.0.2'), prefix: 16, broadcast: parseIp('172.19.255.255') });
  assert.deepEqual(p[4]!.args, { name: 'eth0' });
  assert.deepEqual(p[5]!.args, { dev: 'eth0', dst: 0, prefix: 0, gateway: parseIp('172.19.0.1') });
  assert.ok((p[0]!.args!.name as string).length <= 15);
  assert.deepEqual(planDetach('vbabcdef012345'), [{ op: 'LINK_DEL', args: { optional: 1, name: 'vbabcdef012345' }, from: 'veth vbabcdef012345' }]);
  const rs = planRuleset('berth', [net]);
  assert.match(rs, /^table ip berth \{\}\ndelete table ip berth\n/);
  assert.match(rs, /ip saddr 172\.19\.0\.0\/16 oifname != "berth0" masquerade/);
  const internal = { ...net, internal: true };
  assert.doesNotMatch(planRuleset('berth', [internal]), /masquerade/);
  assert.ok(!planAttach(internal, { containerId: 'x', pid: 1, address: '172.19.0.2' }).some((o) => o.op === 'ROUTE_ADD'));
});

test('planPool: given or picked subnet, checked against other networks and host routes; gateway and range inside', () => {
  assert.deepEqual(planPool({}, ['172.17.0.0/16'], ['192.0.2.0/24']), { subnet: '172.18.0.0/16', gateway: '172.18.0.1' });
  assert.deepEqual(planPool({ subnet: '10.5.0.0/24', gateway: '10.5.0.254', ipRange: '10.5.0.128/25' }, [], []),
    { subnet: '10.5.0.0/24', gateway: '10.5.0.254', ipRange: '10.5.0.128/25' });
  assert.throws(() => planPool({ subnet: '10.5.0.0/24' }, ['10.5.0.0/16'], []), (e: Error & { kind?: string }) => e.kind === 'PermissionDenied' && /Pool overlaps/.test(e.message));
  assert.throws(() => planPool({ subnet: '192.0.2.128/25' }, [], ['192.0.2.0/24', 'default']), /overlaps with the host's route or address 192\.0\.2\.0\/24/);
  assert.throws(() => planPool({ subnet: '10.5.0.0/24', gateway: '10.6.0.1' }, [], []), /no matching subnet for gateway 10\.6\.0\.1/);
  assert.throws(() => planPool({ subnet: '10.5.0.0/24', gateway: '10.5.0.255' }, [], []), /broadcast/);
  assert.throws(() => planPool({ subnet: '10.5.0.0/24', ipRange: '10.5.1.0/25' }, [], []), /ip-range/);
  assert.throws(() => planPool({ subnet: '10.5.0.0/24', ipRange: '10.5.0.0/23' }, [], []), /ip-range/);
  assert.throws(() => planPool({ gateway: '10.5.0.1' }, [], []), /needs a subnet/);
  assert.throws(() => planPool({ subnet: '10.5.0.1' }, [], []), /invalid CIDR/);
  assert.throws(() => planPool({ subnet: 'fd00::/64' }, [], []), /IPv6/);
});

test('pickAddress: lowest free of the range, or the one asked for if it is a free host address', () => {
  const pool = { subnet: '10.5.0.0/24', gateway: '10.5.0.1' };
  assert.equal(pickAddress(pool, new Set()), '10.5.0.2');
  assert.equal(pickAddress(pool, new Set(['10.5.0.2'])), '10.5.0.3');
  assert.equal(pickAddress({ ...pool, ipRange: '10.5.0.128/25' }, new Set()), '10.5.0.128');
  assert.equal(pickAddress({ subnet: '10.5.0.0/24', gateway: '10.5.0.128', ipRange: '10.5.0.128/25' }, new Set()), '10.5.0.129');
  assert.equal(pickAddress(pool, new Set(), '10.5.0.77'), '10.5.0.77');
  assert.throws(() => pickAddress(pool, new Set(['10.5.0.77']), '10.5.0.77'), /Address already in use/);
  assert.throws(() => pickAddress(pool, new Set(), '10.5.0.1'), /Address already in use/);
  assert.throws(() => pickAddress(pool, new Set(), '10.5.0.255'), /not a host address/);
  assert.throws(() => pickAddress(pool, new Set(), '10.6.0.3'), /not a host address/);
  assert.throws(() => pickAddress({ subnet: '10.5.0.0/30', gateway: '10.5.0.1' }, new Set(['10.5.0.2'])), /no available IPv4 addresses/);
});

test('names and MACs: ethN in order, bridge names fit IFNAMSIZ, unicast MACs only', () => {
  assert.equal(nextIfname([]), 'eth0');
  assert.equal(nextIfname(['eth0', 'eth2']), 'eth1');
  checkIfname('br-0123456789ab');
  assert.throws(() => checkIfname('br-0123456789abc'), /at most 15/);
  assert.throws(() => checkIfname('a b'), /invalid bridge name/);
  assert.equal(checkMac('02:42:AC:11:00:07'), '02:42:ac:11:00:07');
  assert.throws(() => checkMac('01:00:5e:00:00:01'), /multicast/);
  assert.throws(() => checkMac('02:42:ac'), /invalid MAC/);
});

test('planAttach: a second network is eth1 with its own veth and no second default route', () => {
  const net = bridgeNetwork('alpha', 'br-a', parseCidr('10.5.0.0/24'), 1500);
  const p = planAttach(net, { containerId: 'c1', pid: 7, address: '10.5.0.9', hostVeth: 'vb0123456789ab', ifname: 'eth1', mac: '02:00:00:00:00:01', defaultRoute: false });
  assert.deepEqual(p[0]!.args, { name: 'vb0123456789ab', peer: 'eth1', master: 'br-a', mtu: 1500, nspid: 7, mac: Buffer.from([2, 0, 0, 0, 0, 1]) });
  assert.equal(p.find((o) => o.op === 'ADDR_ADD')!.args!.dev, 'eth1');
  assert.ok(!p.some((o) => o.op === 'ROUTE_ADD'));
});

test('planRuleset: bridges isolated from each other, internal ones closed, extra chains kept in the table', () => {
  const a = bridgeNetwork('a', 'br-a', parseCidr('10.5.0.0/24'), 1500);
  const b = bridgeNetwork('b', 'br-b', parseCidr('10.6.0.0/24'), 1500);
  const i = { ...bridgeNetwork('i', 'br-i', parseCidr('10.7.0.0/24'), 1500), internal: true };
  const rs = planRuleset('berth', [a, b, i], ['chain ports {', '}']);
  assert.match(rs, /iifname "br-a" oifname \{ "br-b", "br-i" \} drop/);
  assert.match(rs, /iifname "br-b" oifname \{ "br-a", "br-i" \} drop/);
  assert.match(rs, /iifname "br-i" oifname "br-i" accept\n\s+iifname "br-i" drop\n\s+oifname "br-i" drop/);
  assert.doesNotMatch(rs, /10\.7\.0\.0\/24.*masquerade/);
  assert.match(rs, /\n  chain ports \{\n  \}\n\}\n$/);
  // one bridge: nothing to isolate from
  assert.doesNotMatch(planRuleset('berth', [a]), /drop/);
});
