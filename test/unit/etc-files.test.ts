// containers/etc-files: a container's /etc/hosts and /etc/resolv.conf as docker writes them (no root).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hostResolv, hostsFile, parseExtraHost, parseResolv, resolvConf } from '../../src/containers/etc-files.js';

test('hostResolv: a systemd-resolved stub is replaced by its upstream file; loopback servers are dropped', () => {
  const stub = 'nameserver 127.0.0.53\noptions edns0 trust-ad\nsearch corp.example\n';
  const up = '# upstream\nnameserver 10.0.0.2\nnameserver 10.0.0.3\nsearch up.example\n';
  assert.deepEqual(hostResolv(stub, up), { nameservers: ['10.0.0.2', '10.0.0.3'], search: ['corp.example'], options: ['edns0', 'trust-ad'] });
  assert.deepEqual(hostResolv(stub, undefined).nameservers, ['8.8.8.8', '8.8.4.4'], 'docker\'s fallback');
  assert.deepEqual(hostResolv('nameserver 127.0.0.1\nnameserver 10.1.1.1 # x\n', undefined).nameservers, ['10.1.1.1']);
  assert.deepEqual(parseResolv('domain a.example\nsearch b.example c.example\n').search, ['b.example', 'c.example']);
});

test('hostResolv: resolved\'s upstream file is read only when the host has nothing but loopback servers', () => {
  let reads = 0;
  const up = () => { reads++; return 'nameserver 10.0.0.2\n'; };
  assert.deepEqual(hostResolv('nameserver 10.1.1.1\n', up).nameservers, ['10.1.1.1']);
  assert.equal(reads, 0);
  assert.deepEqual(hostResolv('nameserver 127.0.0.53\n', up).nameservers, ['10.0.0.2']);
  assert.equal(reads, 1);
  assert.deepEqual(hostResolv('nameserver 127.0.0.53\n', () => undefined).nameservers, ['8.8.8.8', '8.8.4.4']);
});

test('resolvConf: embedded server on user networks, --dns elsewhere, --dns-search "." clears search', () => {
  const host = { nameservers: ['10.0.0.2'], search: ['corp.example'], options: ['edns0'] };
  assert.equal(resolvConf(host, {}), 'nameserver 10.0.0.2\nsearch corp.example\noptions edns0\n');
  assert.equal(resolvConf(host, { embedded: '172.18.0.1', dns: ['9.9.9.9'] }), 'nameserver 172.18.0.1\nsearch corp.example\noptions edns0\n');
  assert.equal(resolvConf(host, { dns: ['9.9.9.9'], dnsSearch: ['.'], dnsOptions: ['ndots:3'] }), 'nameserver 9.9.9.9\noptions ndots:3\n');
});

test('parseExtraHost: name:ip, name=ip, [v6], host-gateway; bad ones refused', () => {
  assert.deepEqual(parseExtraHost('db:10.0.0.5', undefined), { name: 'db', ip: '10.0.0.5' });
  assert.deepEqual(parseExtraHost('db=10.0.0.5', undefined), { name: 'db', ip: '10.0.0.5' });
  assert.deepEqual(parseExtraHost('v6:[fd00::1]', undefined), { name: 'v6', ip: 'fd00::1' });
  assert.deepEqual(parseExtraHost('gw:host-gateway', '172.17.0.1'), { name: 'gw', ip: '172.17.0.1' });
  assert.throws(() => parseExtraHost('gw:host-gateway', undefined), /host-gateway/);
  assert.throws(() => parseExtraHost('nocolon', undefined), /bad format for add-host/);
  assert.throws(() => parseExtraHost('x:not-an-ip', undefined), /invalid IP address in add-host/);
});

test('hostsFile: localhost lines, extra hosts, the container\'s names on each address (127.0.1.1 without one)', () => {
  const h = hostsFile({ hostname: 'h1', domainname: 'example.org', addresses: [{ ip: '172.17.0.2' }, { ip: '10.5.0.3', aliases: ['web', 'h1'] }], extraHosts: [{ name: 'db', ip: '10.0.0.5' }] });
  const lines = h.trimEnd().split('\n');
  assert.equal(lines[0], '127.0.0.1\tlocalhost');
  assert.ok(lines.includes('10.0.0.5\tdb'));
  assert.ok(lines.includes('172.17.0.2\th1.example.org h1'));
  assert.ok(lines.includes('10.5.0.3\th1.example.org h1 web'));
  assert.ok(hostsFile({ hostname: 'h', addresses: [], extraHosts: [] }).endsWith('127.0.1.1\th\n'));
});
