// The network manager's own lifecycle: bridges are made by the netlink helper's BRIDGE op (no `ip`), the
// same op re-applied on an existing bridge puts a lost address back, a removed network takes its bridge
// along, and close() — which berthd calls on SIGTERM — stops the embedded DNS servers and ends the
// netlink helper. Every bridge and table here is the test's own.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as dgram from 'node:dgram';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { NetworkManager } from '../../src/network/manager.js';
import { isRoot } from '../helpers/bundle.js';
import { berth, daemonLinks, startDaemon, type DaemonNet } from '../helpers/daemon.js';
import { haveTool } from '../helpers/registry.js';

const exec = promisify(execFile);
const skip = !isRoot ? 'needs root' : !haveTool('nft') ? 'needs nft' : !haveTool('ip') ? 'needs ip (iproute2)' : false;

interface AddrJson { ifname: string; mtu: number; flags: string[]; linkinfo?: { info_kind: string }; addr_info: Array<{ family: string; local: string; prefixlen: number; broadcast?: string }> }
const addrOf = async (dev: string) => (JSON.parse((await exec('ip', ['-j', '-d', 'addr', 'show', 'dev', dev])).stdout) as AddrJson[])[0]!;
const exists = (dev: string) => fs.existsSync(`/sys/class/net/${dev}`);

/** pids of berth-helper processes whose parent is `ppid` */
function helperChildren(ppid: number): number[] {
  const out: number[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (parent === ppid && fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0')[0]!.endsWith('berth-helper')) out.push(Number(d));
    } catch { /* gone meanwhile */ }
  }
  return out;
}

/** Can this UDP address be bound now (no DNS server holds it)? */
function udpFree(address: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = dgram.createSocket('udp4');
    s.once('error', () => { s.close(); resolve(false); });
    s.bind({ address, port, exclusive: true }, () => s.close(() => resolve(true)));
  });
}

async function waitFor(what: string, f: () => boolean | Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await f())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('network manager lifecycle', { skip }, () => {
  const tag = randomBytes(3).toString('hex');
  const net: DaemonNet = { bridge: `bl${tag}`, table: `berth_l${tag}`, prefix: `l${tag}` };
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-netlc-'));
  after(async () => {
    for (const l of await daemonLinks(net)) await exec('ip', ['link', 'del', l.ifname]).catch(() => undefined);
    await exec('nft', ['delete', 'table', 'ip', net.table]).catch(() => undefined);
    fs.rmSync(root, { recursive: true, force: true });
  });
  const open = () => NetworkManager.open({ root, bridge: net.bridge, table: net.table, bridgePrefix: net.prefix, dns: { upstreams: () => [], port: 0 } });

  test('the default bridge: made by netlink, with MTU, gateway/prefix and broadcast, up; re-applied on an existing one', async () => {
    let m = await open();
    try {
      const gw = m.get('bridge').ipam.config[0]!.gateway;
      const prefix = Number(m.get('bridge').ipam.config[0]!.subnet.split('/')[1]);
      const a = await addrOf(net.bridge);
      assert.equal(a.linkinfo?.info_kind, 'bridge');
      assert.equal(a.mtu, m.get('bridge').mtu);
      assert.ok(a.flags.includes('UP'), a.flags.join(','));
      const v4 = a.addr_info.filter((i) => i.family === 'inet');
      assert.deepEqual(v4.map((i) => [i.local, i.prefixlen]), [[gw, prefix]]);
      assert.ok(v4[0]!.broadcast, 'a broadcast address, like docker0\'s');
      // someone takes the address and the link down: the next daemon's start puts both back
      await exec('ip', ['addr', 'flush', 'dev', net.bridge]);
      await exec('ip', ['link', 'set', net.bridge, 'down']);
      await m.close();
      m = await open();
      const b = await addrOf(net.bridge);
      assert.ok(b.flags.includes('UP'));
      assert.deepEqual(b.addr_info.filter((i) => i.family === 'inet').map((i) => [i.local, i.prefixlen]), [[gw, prefix]]);
    } finally { await m.close(); }
  });

  test('close() stops the DNS servers and ends the netlink helper; a removed network takes its bridge', async () => {
    const m = await open();
    let closed = false;
    try {
      const { id } = await m.create({ name: `lc${tag}` });
      const n = m.get(id);
      assert.ok(exists(n.bridge!), 'the user network\'s bridge was made');
      const gw = n.ipam.config[0]!.gateway;
      const port = m.dnsPort(id);
      assert.ok(port, 'its DNS server serves');
      assert.equal(await udpFree(gw, port!), false, 'the DNS server holds its address');
      const helpers = helperChildren(process.pid);
      assert.ok(helpers.length >= 1, 'the netlink helper runs');
      await m.remove(id);
      assert.equal(exists(n.bridge!), false, 'the bridge went with the network');
      const { id: id2 } = await m.create({ name: `lc2${tag}` });
      const gw2 = m.get(id2).ipam.config[0]!.gateway;
      const port2 = m.dnsPort(id2)!;
      await m.close();
      closed = true;
      assert.equal(await udpFree(gw2, port2), true, 'no DNS server after close');
      await waitFor('the netlink helper to end', () => helpers.every((p) => !fs.existsSync(`/proc/${p}`)));
      // the bridge stays: containers outlive the daemon
      assert.ok(exists(m.get(id2).bridge!));
    } finally {
      if (!closed) await m.close();
    }
  });

  test('berthd: SIGTERM closes the network manager (DNS servers, netlink helper) before it exits', async () => {
    const d = await startDaemon();
    try {
      const r = await berth(['network', 'create', 'lcnet'], d.env);
      assert.equal(r.code, 0, r.stderr);
      const helpers = helperChildren(d.pid);
      assert.ok(helpers.length >= 1, 'berthd runs a netlink helper');
      const pid = d.pid;
      process.kill(pid, 'SIGTERM');
      await waitFor('berthd to exit', () => !fs.existsSync(`/proc/${pid}`) || fs.readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z '), 10_000);
      assert.match(d.log(), /network: closed: DNS servers stopped, netlink helper released/);
      await waitFor('the helper to end', () => helpers.every((p) => !fs.existsSync(`/proc/${p}`)));
    } finally {
      await d.stop();
    }
  });
});
