// network/iptables: the firewall plan for hosts with iptables but no nft — the rules of plan.ts
// planRuleset and ports.ts planPortChains, in chains of Berth's own in iptables' nat and filter tables.
// Written with `iptables-restore --noflush`: declaring a chain there empties only that chain, so every
// other rule on the host stays; one jump per built-in chain leads into ours. Pure: the manager runs it.
import { BerthError } from '../errors.js';
import type { Network } from './plan.js';
import type { PortRule } from './ports.js';

/** Berth's chains, named after its table: `<table>-FWD` … (iptables allows 28 bytes). */
export function iptablesChains(table: string) {
  if (!/^[A-Za-z0-9_]{1,22}$/.test(table)) throw new BerthError('InvalidArgument', `table name ${JSON.stringify(table)} is too long for iptables chains (at most 22 letters, digits or '_')`);
  return { forward: `${table}-FWD`, postrouting: `${table}-POST`, prerouting: `${table}-PRE`, output: `${table}-OUT`, dnat: `${table}-DNAT` } as const;
}

/** A jump from a built-in chain into one of ours: `iptables -t <table> -C/-I/-D <from> -j <to>`. */
export interface Jump { table: 'nat' | 'filter'; from: string; to: string }

export function iptablesJumps(table: string): Jump[] {
  const c = iptablesChains(table);
  return [
    { table: 'filter', from: 'FORWARD', to: c.forward },
    { table: 'nat', from: 'POSTROUTING', to: c.postrouting },
    { table: 'nat', from: 'PREROUTING', to: c.prerouting },
    { table: 'nat', from: 'OUTPUT', to: c.output },
  ];
}

function portMatch(r: PortRule): string {
  const dst = r.hostIp === '0.0.0.0' ? '' : `-d ${r.hostIp}/32 `;
  return `${dst}-p ${r.proto} -m ${r.proto} --dport ${r.hostPort}`;
}

/**
 * The `iptables-restore --noflush` input: every chain of ours declared (so emptied) and filled again.
 * Same policy as the nft ruleset: masquerade out of non-internal bridges; traffic stays inside its bridge
 * or leaves to the uplink, never crosses to another Berth bridge; an internal network talks only inside
 * its bridge; published ports are DNAT for local destinations (loopback included) with the masquerade
 * that lets the container answer 127.0.0.1 and hairpin clients. DNATed connections into a bridge are
 * accepted here, as nft's forward chain (policy accept) lets them pass.
 */
export function planIptables(table: string, nets: Network[], ports: PortRule[]): string {
  const c = iptablesChains(table);
  const nat = ['*nat', `:${c.postrouting} - [0:0]`, `:${c.prerouting} - [0:0]`, `:${c.output} - [0:0]`, `:${c.dnat} - [0:0]`];
  for (const n of nets) if (!n.internal) nat.push(`-A ${c.postrouting} -s ${n.subnet} ! -o ${n.bridge} -j MASQUERADE`);
  if (ports.length) {
    nat.push(`-A ${c.prerouting} -m addrtype --dst-type LOCAL -j ${c.dnat}`, `-A ${c.output} -m addrtype --dst-type LOCAL -j ${c.dnat}`);
    for (const r of ports) nat.push(`-A ${c.dnat} ${portMatch(r)} -j DNAT --to-destination ${r.containerIp}:${r.containerPort}`);
    const targets = [...new Map(ports.map((r) => [`${r.bridge} ${r.subnet}`, r])).values()].sort((a, b) => a.bridge.localeCompare(b.bridge) || a.subnet.localeCompare(b.subnet));
    for (const b of [...new Set(targets.map((t) => t.bridge))]) nat.push(`-A ${c.postrouting} -o ${b} -s 127.0.0.0/8 -m conntrack --ctstate DNAT -j MASQUERADE`);
    for (const t of targets) nat.push(`-A ${c.postrouting} -o ${t.bridge} -s ${t.subnet} -m conntrack --ctstate DNAT -j MASQUERADE`);
  }
  nat.push('COMMIT');
  const filter = ['*filter', `:${c.forward} - [0:0]`];
  for (const n of nets) {
    filter.push(`-A ${c.forward} -i ${n.bridge} -o ${n.bridge} -j ACCEPT`);
    if (n.internal) {
      filter.push(`-A ${c.forward} -i ${n.bridge} -j DROP`, `-A ${c.forward} -o ${n.bridge} -j DROP`);
      continue;
    }
    for (const o of nets) if (o.bridge !== n.bridge) filter.push(`-A ${c.forward} -i ${n.bridge} -o ${o.bridge} -j DROP`);
    filter.push(`-A ${c.forward} -i ${n.bridge} -j ACCEPT`);
    filter.push(`-A ${c.forward} -o ${n.bridge} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT`);
    if (ports.some((r) => r.bridge === n.bridge)) filter.push(`-A ${c.forward} -o ${n.bridge} -m conntrack --ctstate DNAT -j ACCEPT`);
  }
  filter.push('COMMIT');
  return [...nat, ...filter].join('\n') + '\n';
}
