// berthd --bridge none through the real docker CLI, as dockerd's --bridge=none (-b none) behaves (checked against
// Debian's dockerd 20.10 with --bridge=none --iptables=false): no default network and no link named "none"; no
// firewall table or chains until a user network needs them; a container in the default mode (or --network
// bridge) runs in a netns of its own with only lo, up; -p is taken and publishes nothing; "bridge" is not found
// where a network is looked up. Then: bad network flags stop berthd at start, before it makes anything.
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { importBusybox } from '../helpers/images.js';
import { haveTool } from '../helpers/registry.js';
import { berthdPath, daemonLinks, startDaemon, type Daemon } from '../helpers/daemon.js';
import { DOCKER, dockerCli } from '../helpers/docker-cli.js';
import { iptablesChains } from '../../src/network/iptables.js';

const run = promisify(execFile);
const missing = process.getuid?.() !== 0 ? 'needs root' : !fs.existsSync(DOCKER) ? 'needs the docker CLI at /usr/local/bin/docker'
  : !haveTool('nft') ? 'needs nft' : !haveTool('ip') ? 'needs ip (iproute2)' : undefined;

const succeeds = (cmd: string, args: string[]) => run(cmd, args).then(() => true, () => false);
const nftTable = (table: string) => succeeds('nft', ['list', 'table', 'ip', table]);
/** which of the daemon's iptables chains exist (iptables backend) */
async function iptChains(table: string): Promise<string[]> {
  const c = iptablesChains(table);
  const out: string[] = [];
  for (const [t, chain] of [['filter', c.forward], ['nat', c.postrouting], ['nat', c.prerouting], ['nat', c.output], ['nat', c.dnat]] as const)
    if (await succeeds('iptables', ['-w', '-t', t, '-n', '-L', chain])) out.push(`${t}/${chain}`);
  return out;
}

for (const backend of ['nftables', 'iptables'] as const) {
  const skip = missing ?? (backend === 'iptables' && !(haveTool('iptables') && haveTool('iptables-restore')) ? 'needs iptables' : undefined);
  describe(`berthd --bridge none (docker CLI, ${backend})`, { skip }, () => {
    let d: Daemon;

    const { docker, ok } = dockerCli(() => d.env);
    const inspect = async (name: string) => JSON.parse(await ok('inspect', name))[0];
    /** nothing of the firewall's: no nft table, no iptables chains (the backend in use, and the other) */
    const noRules = async (when: string) => {
      assert.equal(await nftTable(d.net.table), false, `${when}: nft table ${d.net.table} exists`);
      if (haveTool('iptables')) assert.deepEqual(await iptChains(d.net.table), [], `${when}: iptables chains`);
    };

    before(async () => {
      // startDaemon names a bridge of the test's own first: the last --bridge counts
      d = await startDaemon(['--bridge', 'none', '--firewall-backend', backend]);
      await importBusybox(d, 'bb:nobr');
    });
    after(async () => { await d?.stop(); });

    test('no default network, no link named none or of the daemon\'s names, no firewall rules', async () => {
      const nets = (await ok('network', 'ls', '--format', '{{.Name}} {{.Driver}}')).trim().split('\n').sort();
      assert.deepEqual(nets, ['host host', 'none null']);
      assert.equal(fs.existsSync('/sys/class/net/none'), false, 'a link named none');
      assert.deepEqual(await daemonLinks(d.net), [], 'links of the daemon');
      assert.match(d.log(), new RegExp(`firewall backend: ${backend}`));
      await noRules('after start');
    });

    test('a default container, and --network bridge: a netns of its own with only lo, up', async () => {
      for (const net of [[], ['--network', 'bridge']]) {
        const links = await ok('run', '--rm', ...net, 'bb:nobr', 'sh', '-c', 'ip -o link | cut -d: -f2; ping -c1 -W2 127.0.0.1 >/dev/null && echo lo-up');
        assert.deepEqual(links.trim().split('\n').map((l) => l.trim()), ['lo', 'lo-up'], `run ${net.join(' ')}`);
      }
      const id = (await ok('run', '-d', 'bb:nobr', 'sleep', '60')).trim();
      const c = await inspect(id);
      assert.equal(c.HostConfig.NetworkMode, 'default');
      // dockerd keeps the default network's entry, empty: no id, endpoint or address
      assert.deepEqual(Object.keys(c.NetworkSettings.Networks), ['bridge']);
      const b = c.NetworkSettings.Networks.bridge;
      assert.deepEqual([b.NetworkID, b.EndpointID, b.IPAddress, b.Gateway], ['', '', '', '']);
      assert.equal(c.NetworkSettings.IPAddress, '');
      // not in the host's netns: its own
      assert.notEqual(fs.readlinkSync(`/proc/${c.State.Pid}/ns/net`), fs.readlinkSync('/proc/self/ns/net'));
      // connect to the bridge there is not: dockerd answers 200 and does nothing
      await ok('network', 'connect', 'bridge', id);
      assert.deepEqual(Object.keys((await inspect(id)).NetworkSettings.Networks), ['bridge']);
      await ok('rm', '-f', id);
      assert.deepEqual(await daemonLinks(d.net), []);
      await noRules('after default runs');
    });

    test('-p is taken and publishes nothing (dockerd: no error, Ports {}), and makes no rules', async () => {
      const id = (await ok('run', '-d', '-p', '18080:80', 'bb:nobr', 'sleep', '60')).trim();
      const c = await inspect(id);
      assert.deepEqual(c.NetworkSettings.Ports, {});
      assert.equal((await ok('port', id)).trim(), '');
      await noRules('with -p');
      await ok('rm', '-f', id);
    });

    test('"bridge" is not found where a network is looked up, and cannot be made', async () => {
      for (const args of [['network', 'inspect', 'bridge'], ['network', 'rm', 'bridge']]) {
        const r = await docker(...args);
        assert.notEqual(r.code, 0, args.join(' '));
        assert.match(r.stderr, /Error response from daemon: network bridge not found/, args.join(' '));
      }
      const r = await docker('network', 'create', 'bridge');
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /Error response from daemon: operation is not permitted on predefined bridge network/);
      const id = (await ok('create', 'bb:nobr', 'true')).trim();
      const dis = await docker('network', 'disconnect', 'bridge', id);
      assert.notEqual(dis.code, 0);
      assert.match(dis.stderr, /network bridge not found/);
      await ok('rm', id);
    });

    test('a user network still works: its bridge and rules come with it and go with it', async () => {
      await ok('network', 'create', 'nb1');
      const out = await ok('run', '--rm', '--network', 'nb1', 'bb:nobr', 'ip', '-o', '-4', 'addr', 'show', 'eth0');
      assert.match(out, /inet \d+\.\d+\.\d+\.\d+\//);
      assert.equal((await daemonLinks(d.net)).filter((l) => !l.master).length, 1, 'the network\'s bridge');
      if (backend === 'nftables') assert.equal(await nftTable(d.net.table), true);
      else assert.equal((await iptChains(d.net.table)).length, 5);
      await ok('network', 'rm', 'nb1');
      assert.deepEqual(await daemonLinks(d.net), []);
      await noRules('after the last network went');
    });
  });
}

describe('berthd network flags: a bad value stops it at start, before anything is made', { skip: missing }, () => {
  const cases: Array<{ args: string[]; message: RegExp }> = [
    { args: ['--bridge', 'bad/name'], message: /invalid bridge name "bad\/name"/ },
    { args: ['--bridge', 'a-name-too-long-for-a-link'], message: /invalid bridge name/ },
    { args: ['--bridge', ''], message: /invalid bridge name ""/ },
    { args: ['--nft-table', 'bad-table'], message: /invalid nft table name "bad-table"/ },
    { args: ['--bridge-prefix', 'muchtoolong'], message: /bridge prefix "muchtoolong" is too long/ },
    { args: ['--bridge-prefix', 'a/b'], message: /invalid bridge prefix "a\/b"/ },
    { args: ['--firewall-backend', 'pf'], message: /invalid firewall backend "pf": nftables or iptables/ },
    { args: ['--firewall-backend', 'iptables', '--nft-table', 'a_table_name_of_26_letters'], message: /too long for iptables chains/ },
    // dockerd's other bridge flags are not berthd's: refused by name, not ignored
    { args: ['--bip', '10.9.0.1/24'], message: /unknown flag: --bip/ },
    { args: ['--fixed-cidr', '10.9.0.0/25'], message: /unknown flag: --fixed-cidr/ },
    { args: ['--default-address-pool', 'base=10.10.0.0/16,size=24'], message: /unknown flag: --default-address-pool/ },
    { args: ['--ip', '127.0.0.1'], message: /unknown flag: --ip/ },
    { args: ['--iptables=false'], message: /unknown flag: --iptables/ },
  ];
  for (const { args, message } of cases) {
    test(args.join(' '), async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berthd-badflag-'));
      try {
        const root = path.join(dir, 'root');
        const c = spawn(berthdPath(), ['-H', `unix://${dir}/s.sock`, '--root', root, '--pidfile', `${dir}/berthd.pid`, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
        let err = '';
        c.stderr.on('data', (b: Buffer) => { err += b.toString(); });
        const code = await new Promise<number | null>((resolve) => c.on('close', resolve));
        assert.equal(code, 1, err);
        assert.match(err, message);
        assert.deepEqual(fs.readdirSync(dir), [], 'no root, socket or pid file');
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
