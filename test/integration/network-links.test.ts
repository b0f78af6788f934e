// docker's links through the real docker CLI: on the default bridge a legacy --link gives the linking
// container <ALIAS>_PORT…, <ALIAS>_NAME and <ALIAS>_ENV_… (moby daemon/links) at every start; on a user
// network --link is an alias that only the linking container resolves, through the embedded DNS server.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { BERTH, isRoot, run } from '../helpers/bundle.js';
import { berth, daemonLinks, startDaemon, type Daemon } from '../helpers/daemon.js';
import { busyboxRootfs } from '../helpers/rootfs.js';
import { haveTool } from '../helpers/registry.js';

const DOCKER = '/usr/local/bin/docker';
const missing = !isRoot ? 'needs root' : !fs.existsSync(DOCKER) ? 'needs the docker CLI at /usr/local/bin/docker' : !haveTool('nft') ? 'needs nft' : undefined;

describe('links (docker CLI)', { skip: missing }, () => {
  let d: Daemon;
  const docker = (args: string[]) => run(DOCKER, args, { env: d.env });
  const ok = async (args: string[]): Promise<string> => {
    const r = await docker(args);
    assert.equal(r.code, 0, `docker ${args.join(' ')} → ${r.code}: ${r.stderr}\n${d.log().slice(-2000)}`);
    return r.stdout.trim();
  };
  const ipOn = async (name: string, net: string) => JSON.parse(await ok(['inspect', name]))[0].NetworkSettings.Networks[net].IPAddress as string;
  const envOf = (text: string) => new Map(text.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));

  before(async () => {
    d = await startDaemon();
    const r = await run('sh', ['-c', `tar -C ${await busyboxRootfs()} -c . | ${process.execPath} ${BERTH} import -c 'ENV PATH=/bin' -c 'ENV FROMIMAGE=img' - busybox`], { env: d.env });
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => { await d?.stop(); });

  test('default bridge: the linking container gets the target\'s address, ports, name and env as variables', async () => {
    await ok(['run', '-d', '--name', 'lk-db', '--expose', '5432', '--expose', '7000-7002/udp', '--expose', '9000/tcp',
      '-e', 'PASSWORD=s3cret', '-e', 'HOME=/root', 'busybox', 'sleep', '300']);
    const ip = await ipOn('lk-db', 'bridge');
    const env = envOf(await ok(['run', '--rm', '--name', 'lk-web', '--link', 'lk-db:my-db', '-e', 'MY_DB_ENV_PASSWORD=mine', 'busybox', 'busybox', 'env']));
    assert.equal(env.get('MY_DB_PORT'), `tcp://${ip}:5432`, 'the first port: tcp before udp, lowest first');
    assert.equal(env.get('MY_DB_PORT_5432_TCP'), `tcp://${ip}:5432`);
    assert.equal(env.get('MY_DB_PORT_5432_TCP_ADDR'), ip);
    assert.equal(env.get('MY_DB_PORT_5432_TCP_PORT'), '5432');
    assert.equal(env.get('MY_DB_PORT_5432_TCP_PROTO'), 'tcp');
    assert.equal(env.get('MY_DB_PORT_9000_TCP'), `tcp://${ip}:9000`);
    assert.equal(env.get('MY_DB_PORT_7001_UDP_ADDR'), ip);
    assert.equal(env.get('MY_DB_PORT_7000_UDP_START'), `udp://${ip}:7000`, 'a run of ports has START/END');
    assert.equal(env.get('MY_DB_PORT_7000_UDP_PORT_END'), '7002');
    assert.equal(env.get('MY_DB_PORT_7000_UDP_END'), `udp://${ip}:7002`);
    assert.equal(env.get('MY_DB_NAME'), '/lk-web/my-db');
    assert.equal(env.get('MY_DB_ENV_FROMIMAGE'), 'img', 'the target\'s image env');
    assert.equal(env.get('MY_DB_ENV_PASSWORD'), 'mine', 'the container\'s own env wins over a link variable');
    assert.equal(env.has('MY_DB_ENV_HOME'), false, 'HOME and PATH are not exported');
    assert.equal(env.has('MY_DB_ENV_PATH'), false);
    // and the address in the variable is the target's: the linking container reaches it there
    const reach = await docker(['run', '--rm', '--link', 'lk-db:db', 'busybox', 'sh', '-c', 'ping -c1 -W2 "$DB_PORT_5432_TCP_ADDR" >/dev/null && echo reached']);
    assert.equal(reach.stdout.trim(), 'reached', reach.stderr);
    assert.equal((await docker(['inspect', '--format', '{{json .Config.Env}}', 'lk-db'])).stdout.includes('MY_DB'), false, 'nothing is stored in the target');
  });

  test('berth run --link: the same variables through Berth\'s own CLI', async () => {
    const r = await berth(['run', '--rm', '--link', 'lk-db:db', 'busybox', 'busybox', 'env'], d.env);
    assert.equal(r.code, 0, r.stderr);
    const env = envOf(r.stdout);
    assert.match(env.get('DB_NAME') ?? '', /^\/[^/]+\/db$/);
    assert.equal(env.get('DB_PORT'), `tcp://${await ipOn('lk-db', 'bridge')}:5432`);
  });

  test('default bridge: a target that is not running fails the start in docker\'s words, and nothing is left running', async () => {
    await ok(['create', '--name', 'lk-stopped', 'busybox', 'sleep', '300']);
    const r = await docker(['run', '-d', '--name', 'lk-web2', '--link', 'lk-stopped:db', 'busybox', 'sleep', '300']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Cannot link to a non running container: \/lk-stopped AS \/lk-web2\/db/);
    assert.equal((await ok(['inspect', '--format', '{{.State.Running}}', 'lk-web2'])), 'false');
    assert.deepEqual((await daemonLinks(d.net)).filter((l) => l.master).length, 1, 'only lk-db\'s veth is on the bridge');
    await ok(['start', 'lk-stopped']);
    await ok(['start', 'lk-web2']);
    const env = envOf(await ok(['exec', 'lk-web2', 'busybox', 'env']));
    assert.equal(env.get('DB_NAME'), '/lk-web2/db');
    assert.equal(env.has('DB_PORT'), false, 'no exposed port, no _PORT variables');
    await ok(['rm', '-f', 'lk-web2', 'lk-stopped']);
  });

  test('user network: --link is an alias only the linking container resolves through the embedded DNS', async () => {
    await ok(['network', 'create', 'lk-net']);
    try {
      await ok(['run', '-d', '--name', 'lk-target', '--network', 'lk-net', 'busybox', 'sleep', '300']);
      const ip = await ipOn('lk-target', 'lk-net');
      // the target need not exist at create on a user network (moby registers no legacy link there)
      await ok(['create', '--name', 'lk-later', '--network', 'lk-net', '--link', 'nosuch:gone', 'busybox', 'true']);
      await ok(['run', '-d', '--name', 'lk-user', '--network', 'lk-net', '--link', 'lk-target:dbalias', 'busybox', 'sleep', '300']);
      await ok(['run', '-d', '--name', 'lk-other', '--network', 'lk-net', 'busybox', 'sleep', '300']);
      const inspect = JSON.parse(await ok(['inspect', 'lk-user']))[0];
      assert.deepEqual(inspect.NetworkSettings.Networks['lk-net'].Links, ['lk-target:dbalias']);
      // /etc/hosts emptied (as moby's tests do), so only the DNS server can answer
      const look = (who: string, name: string) => docker(['exec', who, 'sh', '-c', `echo 127.0.0.1 localhost > /etc/hosts && nslookup ${name}`]);
      const mine = await look('lk-user', 'dbalias');
      assert.equal(mine.code, 0, mine.stdout + mine.stderr);
      assert.ok(mine.stdout.includes(ip), mine.stdout);
      const other = await look('lk-other', 'dbalias');
      assert.notEqual(other.code, 0, `another container must not resolve the alias: ${other.stdout}`);
      assert.ok(!other.stdout.includes(ip), other.stdout);
      assert.ok((await look('lk-other', 'lk-target')).stdout.includes(ip), 'the target\'s own name still resolves for everyone');
      // network connect --link: the same, for a container joining later
      await ok(['network', 'disconnect', 'lk-net', 'lk-other']);
      await ok(['network', 'connect', '--link', 'lk-target:viaconnect', 'lk-net', 'lk-other']);
      const via = await look('lk-other', 'viaconnect');
      assert.ok(via.stdout.includes(ip), via.stdout + via.stderr);
      // links on the default bridge's endpoint are refused, as docker does
      const bad = await docker(['network', 'connect', '--link', 'lk-target:x', 'bridge', 'lk-later']);
      assert.notEqual(bad.code, 0);
      assert.match(bad.stderr, /links are only supported for user-defined networks/);
    } finally {
      await docker(['rm', '-f', 'lk-target', 'lk-user', 'lk-other', 'lk-later']);
      await docker(['network', 'rm', 'lk-net']);
    }
  });
});
