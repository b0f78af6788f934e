// network/ports: docker's -p/--expose grammar, the daemon's PortBindings checks, what a start publishes,
// free-port order and the nft text, asserted as data (no root).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  candidatePorts, clashes, parseExpose, parseLocalPortRange, parsePortSpec, parsePortSpecs, planPortChains,
  portMapWire, portRequests, standardNotation, validatePortBindings,
} from '../../src/network/ports.js';

test('parsePortSpec: the forms of nat.ParsePortSpec', () => {
  assert.deepEqual(parsePortSpec('80'), [{ port: '80/tcp', binding: { hostIp: '', hostPort: '' } }]);
  assert.deepEqual(parsePortSpec('8080:80'), [{ port: '80/tcp', binding: { hostIp: '', hostPort: '8080' } }]);
  assert.deepEqual(parsePortSpec('127.0.0.1::80'), [{ port: '80/tcp', binding: { hostIp: '127.0.0.1', hostPort: '' } }]);
  assert.deepEqual(parsePortSpec('127.0.0.1:8080:80/UDP'), [{ port: '80/udp', binding: { hostIp: '127.0.0.1', hostPort: '8080' } }]);
  assert.deepEqual(parsePortSpec('[::1]:8080:80'), [{ port: '80/tcp', binding: { hostIp: '::1', hostPort: '8080' } }]);
  assert.deepEqual(parsePortSpec('::1:8080:80').map((m) => m.binding.hostIp), ['::1']);
  assert.deepEqual(parsePortSpec('8000-8002:80-82').map((m) => [m.port, m.binding.hostPort]), [['80/tcp', '8000'], ['81/tcp', '8001'], ['82/tcp', '8002']]);
  // a host range beside one container port: the range to pick from
  assert.deepEqual(parsePortSpec('8000-8010:80'), [{ port: '80/tcp', binding: { hostIp: '', hostPort: '8000-8010' } }]);
  assert.deepEqual(parsePortSpec('7000-7001/udp').map((m) => m.port), ['7000/udp', '7001/udp']);
});

test('parsePortSpec: errors in docker\'s words', () => {
  assert.throws(() => parsePortSpec('8080:'), /^BerthError: no port specified: 8080:<empty>$/);
  assert.throws(() => parsePortSpec('abc'), /invalid containerPort: abc/);
  assert.throws(() => parsePortSpec('70000'), /invalid containerPort: 70000/);
  assert.throws(() => parsePortSpec('x:80'), /invalid hostPort: x/);
  assert.throws(() => parsePortSpec('8000-8001:80-82'), /invalid ranges specified for container and host Ports: 80-82 and 8000-8001/);
  assert.throws(() => parsePortSpec('80/icmp'), /invalid proto: icmp/);
  assert.throws(() => parsePortSpec('1.2.3:80:80'), /invalid IP address: 1.2.3/);
  assert.throws(() => parsePortSpec('90-80'), /invalid containerPort: 90-80/);
  for (const bad of ['abc', '8080:', '1.2.3:80:80']) assert.throws(() => parsePortSpec(bad), (e: Error & { kind?: string }) => e.kind === 'InvalidArgument');
});

test('parsePortSpecs and --expose: ExposedPorts and PortBindings as the CLI sends them', () => {
  const r = parsePortSpecs(['8080:80', '127.0.0.1:8081:80', '53/udp', 'target=443,published=8443']);
  assert.deepEqual(r.exposed, ['80/tcp', '53/udp', '443/tcp']);
  assert.deepEqual(r.bindings['80/tcp'], [{ hostIp: '', hostPort: '8080' }, { hostIp: '127.0.0.1', hostPort: '8081' }]);
  assert.deepEqual(r.bindings['443/tcp'], [{ hostIp: '', hostPort: '8443' }]);
  assert.equal(standardNotation('target=53,protocol=udp'), ':53/udp');
  assert.throws(() => standardNotation('published=1'), /missing mandatory field "target"/);
  assert.deepEqual(parseExpose(['80', '7000-7002/udp']), ['80/tcp', '7000/udp', '7001/udp', '7002/udp']);
  assert.throws(() => parseExpose(['1:2']), /invalid port format for --expose: 1:2/);
  assert.throws(() => parseExpose(['x']), /invalid range format for --expose: x, error: strconv.ParseUint: parsing "x": invalid syntax/);
});

test('validatePortBindings: the daemon refuses what cannot be published', () => {
  validatePortBindings({ '80/tcp': [{ hostIp: '', hostPort: '' }, { hostIp: '127.0.0.1', hostPort: '8000-8010' }], '53/udp': [] });
  assert.throws(() => validatePortBindings({ 'abc/tcp': [] }), /^BerthError: invalid port specification: "abc"$/);
  assert.throws(() => validatePortBindings({ '80-81/tcp': [] }), /invalid port specification: "80-81"/);
  assert.throws(() => validatePortBindings({ '0/tcp': [] }), /invalid port specification: "0"/);
  assert.throws(() => validatePortBindings({ '80/tcp': [{ hostIp: '', hostPort: 'x' }] }), /invalid port specification: "x"/);
  assert.throws(() => validatePortBindings({ '80/tcp': [{ hostIp: '', hostPort: '99999' }] }), /invalid port specification: "99999"/);
  assert.throws(() => validatePortBindings({ '80/icmp': [] }), /invalid proto: icmp/);
  assert.throws(() => validatePortBindings({ '80/tcp': [{ hostIp: 'nope', hostPort: '' }] }), /invalid host IP address: nope/);
  assert.throws(() => validatePortBindings({ '80/tcp': [{ hostIp: '::1', hostPort: '' }] }), /IPv6/);
});

test('portRequests: bindings, and -P gives every exposed port without one any free port', () => {
  const bindings = { '80/tcp': [{ hostIp: '127.0.0.1', hostPort: '' }], '81/tcp': [{ hostIp: '', hostPort: '9000-9005' }] };
  assert.deepEqual(portRequests({ portBindings: bindings, exposed: ['443/tcp', '80/tcp'] }), [
    { proto: 'tcp', containerPort: 80, hostIp: '127.0.0.1', hostPortStart: 0, hostPortEnd: 0 },
    { proto: 'tcp', containerPort: 81, hostIp: '0.0.0.0', hostPortStart: 9000, hostPortEnd: 9005 },
  ]);
  assert.deepEqual(portRequests({ portBindings: bindings, exposed: ['443/tcp', '53/udp', '80/tcp'], publishAllPorts: true }).map((r) => `${r.containerPort}/${r.proto}@${r.hostIp}:${r.hostPortStart}`), [
    '80/tcp@127.0.0.1:0', '81/tcp@0.0.0.0:9000', '443/tcp@0.0.0.0:0', '53/udp@0.0.0.0:0',
  ]);
  assert.deepEqual(portRequests({ exposed: ['80/tcp'] }), []);
});

test('free ports: ranges, round robin after the last one, clashes between addresses', () => {
  const any = { proto: 'tcp' as const, containerPort: 80, hostIp: '0.0.0.0', hostPortStart: 0, hostPortEnd: 0 };
  assert.deepEqual(candidatePorts(any, [100, 104], 0), [100, 101, 102, 103, 104]);
  assert.deepEqual(candidatePorts(any, [100, 104], 102), [103, 104, 100, 101, 102]);
  assert.deepEqual(candidatePorts(any, [100, 104], 104), [100, 101, 102, 103, 104]);
  assert.deepEqual(candidatePorts({ ...any, hostPortStart: 8000, hostPortEnd: 8002 }, [100, 104], 0), [8000, 8001, 8002]);
  assert.deepEqual(parseLocalPortRange('32768\t60999\n'), [32768, 60999]);
  assert.deepEqual(parseLocalPortRange(undefined), [49153, 60999]);
  const p = (hostIp: string, hostPort: number, proto: 'tcp' | 'udp' = 'tcp') => ({ proto, hostIp, hostPort });
  assert.ok(clashes(p('0.0.0.0', 80), p('127.0.0.1', 80)));
  assert.ok(clashes(p('127.0.0.1', 80), p('127.0.0.1', 80)));
  assert.ok(!clashes(p('127.0.0.1', 80), p('10.0.0.1', 80)));
  assert.ok(!clashes(p('0.0.0.0', 80), p('0.0.0.0', 80, 'udp')));
  assert.ok(!clashes(p('0.0.0.0', 80), p('0.0.0.0', 81)));
});

test('nft: DNAT per port, loopback and hairpin masquerade per bridge', () => {
  const rules = [
    { proto: 'tcp' as const, containerPort: 80, hostIp: '0.0.0.0', hostPort: 8080, containerIp: '172.19.0.2', bridge: 'bt1', subnet: '172.19.0.0/16' },
    { proto: 'udp' as const, containerPort: 53, hostIp: '127.0.0.1', hostPort: 5353, containerIp: '172.19.0.3', bridge: 'bt1', subnet: '172.19.0.0/16' },
  ];
  const text = planPortChains(rules).join('\n');
  assert.match(text, /chain ports-prerouting \{\n\s+type nat hook prerouting priority dstnat; policy accept;\n\s+fib daddr type local jump ports-dnat\n/);
  assert.match(text, /type nat hook output priority -100;[^\n]*\n\s+fib daddr type local jump ports-dnat/);
  assert.match(text, /\n {2}tcp dport 8080 dnat to 172\.19\.0\.2:80\n/);
  assert.match(text, /\n {2}ip daddr 127\.0\.0\.1 udp dport 5353 dnat to 172\.19\.0\.3:53\n/);
  assert.equal(text.match(/oifname "bt1" ip saddr 127\.0\.0\.0\/8 ct status dnat masquerade/g)?.length, 1);
  assert.equal(text.match(/oifname "bt1" ip saddr 172\.19\.0\.0\/16 ct status dnat masquerade/g)?.length, 1);
  assert.doesNotMatch(planPortChains([]).join('\n'), /masquerade|dnat to/);
});

test('portMapWire: NetworkSettings.Ports, exposed-only ports are null', () => {
  assert.deepEqual(portMapWire(['80/tcp', '443/tcp'], [{ proto: 'tcp', containerPort: 80, hostIp: '0.0.0.0', hostPort: 8080 }, { proto: 'tcp', containerPort: 80, hostIp: '127.0.0.1', hostPort: 8081 }]), {
    '80/tcp': [{ HostIp: '0.0.0.0', HostPort: '8080' }, { HostIp: '127.0.0.1', HostPort: '8081' }], '443/tcp': null,
  });
});
