// network/links: moby's link environment (daemon/links ToEnv) and link aliases in the embedded DNS answer.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import dnsPacket from 'dns-packet';
import { answer, namesOf } from '../../src/network/dns.js';
import { linkEnv, mergedEnv, parseLink } from '../../src/network/links.js';
import type { Endpoint } from '../../src/network/types.js';

describe('links (pure)', () => {
  test('parseLink: name, name:alias, leading slashes; empty parts are refused', () => {
    assert.deepEqual(parseLink('db'), { name: 'db', alias: 'db' });
    assert.deepEqual(parseLink('/db:/x'), { name: 'db', alias: 'x' });
    for (const bad of ['', ':x', 'db:', 'a:b:c']) assert.throws(() => parseLink(bad), /invalid link/, bad);
  });

  test('linkEnv: moby ToEnv order — first port, every port, ranges, name, env without HOME and PATH', () => {
    const env = linkEnv({ name: '/web/my-db', ip: '10.0.0.5', exposed: ['53/udp', '8081/tcp', '8080/tcp', '54/udp'], env: ['A=1', 'HOME=/root', 'PATH=/bin', 'B=x=y', 'NOVALUE'] });
    assert.deepEqual(env, [
      'MY_DB_PORT=tcp://10.0.0.5:8080',
      'MY_DB_PORT_8080_TCP=tcp://10.0.0.5:8080', 'MY_DB_PORT_8080_TCP_ADDR=10.0.0.5', 'MY_DB_PORT_8080_TCP_PORT=8080', 'MY_DB_PORT_8080_TCP_PROTO=tcp',
      'MY_DB_PORT_8081_TCP=tcp://10.0.0.5:8081', 'MY_DB_PORT_8081_TCP_ADDR=10.0.0.5', 'MY_DB_PORT_8081_TCP_PORT=8081', 'MY_DB_PORT_8081_TCP_PROTO=tcp',
      'MY_DB_PORT_53_UDP=udp://10.0.0.5:53', 'MY_DB_PORT_53_UDP_ADDR=10.0.0.5', 'MY_DB_PORT_53_UDP_PORT=53', 'MY_DB_PORT_53_UDP_PROTO=udp',
      'MY_DB_PORT_8080_TCP_START=tcp://10.0.0.5:8080', 'MY_DB_PORT_8080_TCP_PORT_START=8080', 'MY_DB_PORT_8080_TCP_END=tcp://10.0.0.5:8081', 'MY_DB_PORT_8080_TCP_PORT_END=8081',
      'MY_DB_PORT_54_UDP=udp://10.0.0.5:54', 'MY_DB_PORT_54_UDP_ADDR=10.0.0.5', 'MY_DB_PORT_54_UDP_PORT=54', 'MY_DB_PORT_54_UDP_PROTO=udp',
      'MY_DB_PORT_53_UDP_START=udp://10.0.0.5:53', 'MY_DB_PORT_53_UDP_PORT_START=53', 'MY_DB_PORT_53_UDP_END=udp://10.0.0.5:54', 'MY_DB_PORT_53_UDP_PORT_END=54',
      'MY_DB_NAME=/web/my-db', 'MY_DB_ENV_A=1', 'MY_DB_ENV_B=x=y',
    ]);
    assert.deepEqual(linkEnv({ name: '/a/b', ip: '1.2.3.4', exposed: [], env: [] }), ['B_NAME=/a/b']);
  });

  test('mergedEnv: the container\'s value replaces the image\'s in place', () => {
    assert.deepEqual(mergedEnv(['PATH=/bin', 'A=1'], ['A=2', 'C=3']), ['PATH=/bin', 'A=2', 'C=3']);
  });

  test('dns: a link alias resolves for the linking container only', () => {
    const ep = (containerName: string, ipv4Address: string, links?: Endpoint['links']): Endpoint => ({
      networkId: 'n'.repeat(64), networkName: 'net', endpointId: 'e'.repeat(64), containerId: containerName.padEnd(64, '0'), containerName, aliases: [],
      ipv4Address, prefixLen: 24, gateway: '10.9.0.1', macAddress: '02:42:0a:09:00:02', ...(links ? { links } : {}),
    });
    const names = namesOf('net', () => [ep('db', '10.9.0.2'), ep('web', '10.9.0.3', [{ name: 'db', alias: 'Store' }]), ep('other', '10.9.0.4')]);
    const q = dnsPacket.encode({ type: 'query', id: 7, flags: dnsPacket.RECURSION_DESIRED, questions: [{ type: 'A', name: 'store', class: 'IN' }] });
    const r = answer(q, names, '10.9.0.3');
    assert.ok(Buffer.isBuffer(r));
    assert.deepEqual((dnsPacket.decode(r).answers ?? []).map((a) => (a as { data: string }).data), ['10.9.0.2']);
    assert.equal(answer(q, names, '10.9.0.4'), 'forward');
    assert.equal(answer(q, names), 'forward');
  });
});
