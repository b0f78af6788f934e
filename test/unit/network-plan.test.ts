// network/plan: subnet choice, IPAM and the iproute2/nft text, asserted as data (no root).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  allocate, bridgeNetwork, defaultPools, formatCidr, macFor, overlaps, parseCidr, pickSubnet,
  planAttach, planBridge, planDetach, planRuleset, reconcile, release, vethName,
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
    'link add berth0 type bridge', 'link set berth0 mtu 1450', 'addr replace 172.19.0.1/16 dev berth0', 'link set berth0 up',
  ]);
  const p = planAttach(net, { containerId: 'abcdef0123456789', pid: 42, address: '172.19.0.2' });
  assert.ok(p.host.every((l) => !l.includes('eth0')));
  assert.ok(p.host.includes('link set vbabcdef012345 master berth0'));
  assert.ok(p.host.at(-1)!.endsWith('netns 42'));
  assert.ok(p.netns.includes('addr add 172.19.0.2/16 dev eth0'));
  assert.ok(p.netns.includes('route add default via 172.19.0.1'));
  for (const l of [...p.host, ...p.netns]) for (const w of l.split(' ')) if (/^vb/.test(w)) assert.ok(w.length <= 15, w);
  assert.deepEqual(planDetach({ containerId: 'abcdef0123456789' }), ['link del vbabcdef012345']);
  const rs = planRuleset('berth', [net]);
  assert.match(rs, /^table ip berth \{\}\ndelete table ip berth\n/);
  assert.match(rs, /ip saddr 172\.19\.0\.0\/16 oifname != "berth0" masquerade/);
  const internal = { ...net, internal: true };
  assert.doesNotMatch(planRuleset('berth', [internal]), /masquerade/);
  assert.ok(!planAttach(internal, { containerId: 'x', pid: 1, address: '172.19.0.2' }).netns.some((l) => l.startsWith('route')));
});
