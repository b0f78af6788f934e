// network/iptables: the iptables-restore plan — only chains of Berth's own, the same policy as the nft ruleset.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { iptablesChains, iptablesJumps, planIptables } from '../../src/network/iptables.js';
import type { Network } from '../../src/network/plan.js';

const NETS: Network[] = [
  { name: 'bridge', bridge: 'berth0', subnet: '172.17.0.0/16', gateway: '172.17.0.1', internal: false, mtu: 1500 },
  { name: 'back', bridge: 'br-1', subnet: '172.18.0.0/16', gateway: '172.18.0.1', internal: true, mtu: 1500 },
];

describe('iptables plan (pure)', () => {
  test('declares and fills only its own chains, in both tables, each table committed', () => {
    const text = planIptables('berth', NETS, [{ proto: 'tcp', containerPort: 80, hostIp: '127.0.0.1', hostPort: 8080, containerIp: '172.17.0.2', bridge: 'berth0', subnet: '172.17.0.0/16' }]);
    const lines = text.trim().split('\n');
    assert.deepEqual(lines.filter((l) => l.startsWith('*') || l === 'COMMIT'), ['*nat', 'COMMIT', '*filter', 'COMMIT']);
    const own = Object.values(iptablesChains('berth'));
    for (const l of lines.filter((x) => x.startsWith(':') || x.startsWith('-A'))) {
      const chain = l.startsWith(':') ? l.slice(1).split(' ')[0] : l.split(' ')[1];
      assert.ok(own.includes(chain as never), `only Berth's chains: ${l}`);
    }
    assert.ok(lines.includes('-A berth-POST -s 172.17.0.0/16 ! -o berth0 -j MASQUERADE'));
    assert.ok(!lines.some((l) => l.includes('-s 172.18.0.0/16 ! -o')), 'an internal network is not masqueraded');
    assert.ok(lines.includes('-A berth-DNAT -d 127.0.0.1/32 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80'));
    assert.ok(lines.includes('-A berth-FWD -i berth0 -o br-1 -j DROP'));
    assert.ok(lines.includes('-A berth-FWD -i br-1 -j DROP') && lines.includes('-A berth-FWD -o br-1 -j DROP'));
    assert.ok(lines.includes('-A berth-FWD -o berth0 -m conntrack --ctstate DNAT -j ACCEPT'));
  });

  test('no ports: no DNAT jump from prerouting/output; jumps lead from the built-in chains', () => {
    const text = planIptables('berth', NETS, []);
    assert.ok(!text.includes('addrtype'));
    assert.deepEqual(iptablesJumps('berth').map((j) => `${j.table} ${j.from} -> ${j.to}`), ['filter FORWARD -> berth-FWD', 'nat POSTROUTING -> berth-POST', 'nat PREROUTING -> berth-PRE', 'nat OUTPUT -> berth-OUT']);
  });

  test('a table name too long for iptables chain names is refused', () => {
    assert.throws(() => iptablesChains('x'.repeat(23)), /too long for iptables/);
  });
});
