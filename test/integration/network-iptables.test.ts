// The iptables fallback: a berthd whose PATH has no `nft` (but iptables, Debian's iptables-nft here) drives
// chains of its own in iptables' nat and filter tables. Checked for real: info names the backend, a
// published port answers on 127.0.0.1, a container on a user network reaches out through masquerade's
// path, the rules go with the container, nothing touches other chains, and nothing is left after stop.
// Traffic goes only to 127.0.0.1 and the test daemon's own bridges.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client } from '../../src/client/index.js';
import { BERTH, isRoot, run } from '../helpers/bundle.js';
import { startDaemon, type Daemon } from '../helpers/daemon.js';
import { haveTool } from '../helpers/registry.js';
import { busyboxRootfs } from '../helpers/rootfs.js';
import { fetchText } from '../helpers/http-get.js';

const DOCKER = '/usr/local/bin/docker';
const skip = !isRoot ? 'needs root' : !fs.existsSync(DOCKER) ? 'needs the docker CLI at /usr/local/bin/docker'
  : !haveTool('iptables') || !haveTool('iptables-restore') ? 'needs iptables (Debian package iptables)' : false;

/** A PATH of symlinks to everything on the usual PATH except nft: a host without nftables' tool. */
function pathWithoutNft(dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  for (const d of ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']) {
    let names: string[] = [];
    try { names = fs.readdirSync(d); } catch { continue; }
    for (const n of names) if (n !== 'nft' && !fs.existsSync(path.join(dir, n))) fs.symlinkSync(path.join(d, n), path.join(dir, n));
  }
  return dir;
}

function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => { s.destroy(); resolve(false); });
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code === 'ECONNREFUSED'));
  });
}

describe('iptables backend (no nft on PATH)', { skip }, () => {
  let d: Daemon;
  let bin: string;
  const docker = (...args: string[]) => run(DOCKER, args, { env: d.env });
  const ok = async (...args: string[]) => {
    const r = await docker(...args);
    assert.equal(r.code, 0, `docker ${args.join(' ')}: ${r.stderr}\n${d.log().slice(-1500)}`);
    return r.stdout.trim();
  };
  /** every iptables rule line (both tables) that names this daemon's chains */
  const ours = async () => (await run('iptables-save', [])).stdout.split('\n').filter((l) => l.includes(`${d.net.table}-`));
  const nftTable = async () => (await run('nft', ['list', 'tables'])).stdout.includes(d.net.table);

  before(async () => {
    bin = pathWithoutNft(fs.mkdtempSync(path.join(os.tmpdir(), 'nonft-')));
    d = await startDaemon([], { env: { PATH: bin } });
    const r = await run('sh', ['-c', `tar -C ${await busyboxRootfs()} -c . | ${process.execPath} ${BERTH} import -c 'ENV PATH=/bin' - busybox`], { env: d.env });
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => {
    await d?.stop();
    fs.rmSync(bin, { recursive: true, force: true });
  });

  test('info names the backend; the bridge rules are in chains of Berth\'s own, and no nft table is made', async () => {
    const info = await new Client(d.host).info();
    assert.equal(info.FirewallBackend?.Driver, 'iptables');
    assert.deepEqual(info.FirewallBackend?.Info, [['Chains', `${d.net.table}-*`]]);
    assert.equal(await nftTable(), false, 'no nft table of this daemon');
    const rules = await ours();
    assert.ok(rules.includes(`-A FORWARD -j ${d.net.table}-FWD`), rules.join('\n'));
    assert.ok(rules.includes(`-A POSTROUTING -j ${d.net.table}-POST`), rules.join('\n'));
    assert.ok(rules.some((l) => l.startsWith(`-A ${d.net.table}-POST`) && l.includes(`! -o ${d.net.bridge}`) && l.includes('MASQUERADE')), rules.join('\n'));
  });

  test('a published port answers on 127.0.0.1, from another container too; its rules go with the container', async () => {
    await ok('run', '-d', '--name', 'web', '-p', '127.0.0.1::80', 'busybox', 'sh', '-c', 'mkdir -p /www && echo via-iptables > /www/index.html && exec httpd -f -p 80 -h /www');
    const port = Number((await ok('port', 'web', '80')).split(':').pop());
    assert.equal((await fetchText('127.0.0.1', port)).trim(), 'via-iptables');
    const dnat = (await ours()).filter((l) => l.includes('DNAT --to-destination'));
    assert.equal(dnat.length, 1, dnat.join('\n'));
    assert.match(dnat[0]!, new RegExp(`-d 127\\.0\\.0\\.1/32 -p tcp -m tcp --dport ${port} -j DNAT`));
    // a second container on the bridge reaches the first by its address (the forward chain lets it)
    const ip = JSON.parse(await ok('inspect', 'web'))[0].NetworkSettings.IPAddress as string;
    const got = await ok('run', '--rm', 'busybox', 'busybox', 'wget', '-q', '-O', '-', `http://${ip}/`);
    assert.equal(got, 'via-iptables');
    await ok('stop', '-t', '1', 'web');
    assert.deepEqual((await ours()).filter((l) => l.includes('-j DNAT')), [], 'the DNAT rule left with the stopped container');
    assert.equal(await refused(port), true);
    await ok('rm', 'web');
  });

  test('user networks: isolated from each other like on nftables; their rules go with them', async () => {
    await ok('network', 'create', 'ipt-a');
    await ok('network', 'create', 'ipt-b');
    try {
      await ok('run', '-d', '--name', 'a1', '--network', 'ipt-a', 'busybox', 'sleep', '300');
      const ipA = JSON.parse(await ok('inspect', 'a1'))[0].NetworkSettings.Networks['ipt-a'].IPAddress as string;
      const same = await docker('run', '--rm', '--network', 'ipt-a', 'busybox', 'ping', '-c1', '-W2', ipA);
      assert.equal(same.code, 0, same.stderr);
      const cross = await docker('run', '--rm', '--network', 'ipt-b', 'busybox', 'ping', '-c1', '-W2', ipA);
      assert.notEqual(cross.code, 0, 'a container of another network must not reach it');
      const rules = await ours();
      assert.ok(rules.some((l) => l.includes(`-i ${d.net.prefix}`) && l.includes(`-o ${d.net.prefix}`) && l.endsWith('-j DROP')), rules.join('\n'));
    } finally {
      await docker('rm', '-f', 'a1');
      await docker('network', 'rm', 'ipt-a', 'ipt-b');
    }
    assert.equal((await ours()).filter((l) => l.includes(`${d.net.prefix}`)).length, 0, 'no rule names a removed network\'s bridge');
  });

  test('after stop nothing of this daemon is left in iptables', async () => {
    const table = d.net.table;
    await d.stop();
    const left = (await run('iptables-save', [])).stdout.split('\n').filter((l) => l.includes(`${table}-`));
    assert.deepEqual(left, []);
    d = undefined as unknown as Daemon;
  });
});
