// The berth CLI at another API version (issue 10): against Debian's dockerd 20.10 (API 1.41), the everyday
// commands a user runs; against berthd with DOCKER_API_VERSION set to older versions, and to bad values.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client } from '../../src/client/index.js';
import { API_VERSION, compareVersions } from '../../src/api/version.js';
import { busyboxRootfs } from '../helpers/rootfs.js';
import { haveTool, ociLayout, REGISTRY_BIN, skopeo, startRegistry, tarDir, type Registry } from '../helpers/registry.js';
import { berth, startDaemon, type Daemon } from '../helpers/daemon.js';
import { dockerdMissing, startDockerd, type Dockerd } from '../helpers/dockerd.js';

type Env = NodeJS.ProcessEnv;
const okIn = (env: () => Env, log: () => string) => async (...args: string[]): Promise<string> => {
  const r = await berth(args, env());
  assert.equal(r.code, 0, `berth ${args.join(' ')} failed (${r.code}): ${r.stderr}\n${log().slice(-1500)}`);
  return r.stdout;
};

const dockerdSkip = dockerdMissing() ?? (!haveTool(REGISTRY_BIN) ? 'needs docker-registry' : !haveTool('skopeo') ? 'needs skopeo' : undefined);

describe('berth CLI against dockerd', { skip: dockerdSkip }, () => {
  let d: Dockerd;
  let reg: Registry;
  let server: string; // dockerd's API version
  let want: string; // the one berth should use with it
  const ok = okIn(() => d.env, () => d.log());
  const run = (...args: string[]) => berth(args, d.env);

  before(async () => {
    [d, reg] = await Promise.all([startDockerd(), startRegistry()]);
    server = (await new Client(d.host).ping()).apiVersion;
    want = compareVersions(server, API_VERSION) < 0 ? server : API_VERSION;
    const work = path.join(d.dir, 'work');
    await ociLayout(path.join(work, 'oci'), [await tarDir(await busyboxRootfs())], { cmd: ['sh'] });
    await skopeo('copy', '--dest-tls-verify=false', `oci:${work}/oci:latest`, `docker://${reg.host}/bb:latest`);
  });
  after(async () => { await Promise.all([d?.stop(), reg?.stop()]); });

  test('version: the client at the daemon\'s API version, downgraded as docker says', async () => {
    const v = await ok('version');
    assert.match(v, new RegExp(`^Client: Berth\\n Version: .*\\n API version: +${want.replace('.', '\\.')}${want === API_VERSION ? '\\n' : ` \\(downgraded from ${API_VERSION.replace('.', '\\.')}\\)\\n`}`));
    assert.match(v, new RegExp(`\\n  API version: +${server.replace('.', '\\.')} \\(minimum version `));
    assert.equal(await ok('version', '--format', '{{.Client.APIVersion}} {{.Client.DefaultAPIVersion}} {{.Server.APIVersion}}'), `${want} ${API_VERSION} ${server}\n`);
  });

  test('pull, images, run --rm, run -d, exec, logs, inspect, ps, stats, cp, commit, rm -f', async () => {
    const bb = `${reg.host}/bb:latest`;
    assert.match(await ok('pull', `${reg.host}/bb`), /Status: Downloaded newer image/);
    assert.match(await ok('images'), new RegExp(`^REPOSITORY\\s+TAG\\s+IMAGE ID\\s+CREATED\\s+SIZE\\n${reg.host}/bb\\s+latest\\s+[0-9a-f]{12}\\s`));
    assert.match(await ok('images', '--digests'), /latest\s+sha256:[0-9a-f]{64}\s/);
    assert.equal(await ok('run', '--rm', bb, 'echo', 'hello'), 'hello\n');
    const code = await run('run', '--rm', bb, 'sh', '-c', 'exit 3');
    assert.equal(code.code, 3);
    const id = (await ok('run', '-d', '--name', 'neg1', '-e', 'A=1', bb, 'sh', '-c', 'echo started; exec sleep 1000')).trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    assert.equal(await ok('exec', '-e', 'B=2', 'neg1', 'sh', '-c', 'echo $A$B'), '12\n');
    for (let i = 0; i < 50 && !(await ok('logs', 'neg1')).includes('started'); i++) await new Promise((r) => setTimeout(r, 100));
    assert.equal(await ok('logs', 'neg1'), 'started\n');
    // durations become timestamps (dockerd takes no "10m")
    assert.equal(await ok('logs', '--since', '10m', 'neg1'), 'started\n');
    assert.equal(await ok('logs', '--until', '10m', 'neg1'), '');
    assert.equal(await ok('inspect', '--format', '{{.State.Status}} {{.Name}}', 'neg1'), 'running /neg1\n');
    assert.match(await ok('ps'), new RegExp(`^CONTAINER ID\\s+IMAGE\\s+COMMAND\\s+CREATED\\s+STATUS\\s+PORTS\\s+NAMES\\n${id.slice(0, 12)}\\s+${reg.host}/bb(:latest)?\\s+"sh -c 'echo started…"\\s+.*\\s+neg1\\n$`));
    assert.match(await ok('stats', '--no-stream', 'neg1'), new RegExp(`\\n${id.slice(0, 12)}\\s+neg1\\s+[\\d.]+%`));
    const f = path.join(d.dir, 'in.txt');
    fs.writeFileSync(f, 'copied\n');
    await ok('cp', f, 'neg1:/in.txt');
    assert.equal(await ok('exec', 'neg1', 'cat', '/in.txt'), 'copied\n');
    await ok('cp', 'neg1:/in.txt', path.join(d.dir, 'out.txt'));
    assert.equal(fs.readFileSync(path.join(d.dir, 'out.txt'), 'utf8'), 'copied\n');
    assert.match(await ok('commit', 'neg1', 'neg:c'), /^sha256:[0-9a-f]{64}\n$/);
    assert.equal(await ok('run', '--rm', 'neg:c', 'cat', '/in.txt'), 'copied\n');
    assert.equal(await ok('rm', '-f', 'neg1'), 'neg1\n');
    assert.equal(await ok('ps', '-aq'), '');
  });

  test('volumes, networks, system df, info, events, compose up and down', async () => {
    assert.equal(await ok('volume', 'create', 'negv'), 'negv\n');
    assert.match(await ok('volume', 'ls'), /\nlocal\s+negv\n/);
    assert.equal(await ok('run', '--rm', '-v', 'negv:/v', `${reg.host}/bb`, 'sh', '-c', 'echo x > /v/f; cat /v/f'), 'x\n');
    assert.equal(await ok('volume', 'rm', 'negv'), 'negv\n');
    assert.match(await ok('network', 'ls'), /^NETWORK ID\s+NAME\s+DRIVER\s+SCOPE\n(.*\n)*[0-9a-f]{12}\s+none\s+null\s+local\n/);
    // before 1.44 the daemon makes a second network of a name unless asked (CheckDuplicate), and takes the
    // MAC address from the container's config, not its endpoint's
    await ok('network', 'create', 'negn');
    const again = await run('network', 'create', 'negn');
    assert.equal(again.code, 1);
    assert.match(again.stderr, /network with name negn already exists/);
    assert.equal(await ok('run', '--rm', '--network', 'negn', '--mac-address', '02:42:ac:11:00:99', `${reg.host}/bb`, 'cat', '/sys/class/net/eth0/address'), '02:42:ac:11:00:99\n');
    assert.equal(await ok('network', 'rm', 'negn'), 'negn\n');
    assert.match(await ok('system', 'df'), /\nBuild Cache\s+0\s+0\s+0B\s+0B\n$/);
    assert.match(await ok('system', 'df', '-v'), /Images space usage:/);
    assert.match(await ok('info'), /Server Version: /);
    assert.match(await ok('events', '--since', '10m', '--until', '0s', '--filter', 'type=volume'), /volume destroy negv/);
    const proj = path.join(d.dir, 'proj');
    fs.mkdirSync(proj);
    fs.writeFileSync(path.join(proj, 'compose.yml'), `services:\n  web:\n    image: ${reg.host}/bb\n    command: sleep 1000\n    volumes: [data:/data]\nvolumes:\n  data: {}\n`);
    const cwd = (args: string[]) => ['compose', '--project-directory', proj, '-f', path.join(proj, 'compose.yml'), ...args];
    await ok(...cwd(['up', '-d']));
    assert.match(await ok(...cwd(['ps'])), /\nproj-web-1\s+.*\s+web\s+.*Up/);
    await ok(...cwd(['down', '-v']));
    assert.equal(await ok('ps', '-aq'), '');
    assert.doesNotMatch(await ok('volume', 'ls', '-q'), /proj_data/);
  });

  test('DOCKER_API_VERSION: a version above the daemon\'s gets its error; a bad one is refused before any request', async () => {
    const hi = await berth(['ps'], { ...d.env, DOCKER_API_VERSION: API_VERSION });
    if (compareVersions(server, API_VERSION) < 0) {
      assert.equal(hi.code, 1);
      assert.equal(hi.stderr, `Error response from daemon: client version ${API_VERSION} is too new. Maximum supported API version is ${server}\n`);
    } else assert.equal(hi.code, 0);
    const bad = await berth(['ps'], { ...d.env, DOCKER_API_VERSION: '1.2.3' });
    assert.equal(bad.code, 1);
    assert.equal(bad.stderr, 'Error: invalid API version (1.2.3): invalid minor version: must be formatted <major>.<minor>\n');
  });
});

describe('berth CLI against berthd with DOCKER_API_VERSION', { skip: process.getuid?.() !== 0 ? 'needs root' : undefined }, () => {
  let d: Daemon;
  const at = (v: string) => okIn(() => ({ ...d.env, DOCKER_API_VERSION: v }), () => d.log());

  before(async () => {
    d = await startDaemon();
    const tar = path.join(d.dir, 'bb.tar');
    fs.writeFileSync(tar, await tarDir(await busyboxRootfs(), false));
    await okIn(() => d.env, () => d.log())('import', '-c', 'CMD ["sh"]', tar, 'bb:v');
  });
  after(async () => { await d?.stop(); });

  for (const v of ['1.41', '1.30', '1.24']) {
    test(`at ${v}: run --rm, run -d, exec, logs, inspect, ps, rm, version`, async () => {
      const ok = at(v);
      assert.equal(await ok('run', '--rm', 'bb:v', 'echo', 'hello'), 'hello\n');
      const r = await berth(['run', '--rm', 'bb:v', 'sh', '-c', 'exit 5'], { ...d.env, DOCKER_API_VERSION: v });
      assert.equal(r.code, 5, r.stderr);
      // --rm removed the container (below 1.25 the CLI removes it itself)
      assert.equal(await ok('ps', '-aq'), '');
      await ok('run', '-d', '--name', 'old', 'bb:v', 'sh', '-c', 'echo up; exec sleep 1000');
      assert.equal(await ok('exec', 'old', 'echo', 'in'), 'in\n');
      for (let i = 0; i < 50 && !(await ok('logs', 'old')).includes('up'); i++) await new Promise((res) => setTimeout(res, 100));
      assert.equal(await ok('logs', 'old'), 'up\n');
      assert.equal(await ok('inspect', '--format', '{{.State.Running}}', 'old'), 'true\n');
      assert.match(await ok('ps'), /\s+old\n$/);
      assert.equal(await ok('rm', '-f', 'old'), 'old\n');
      assert.match(await ok('version'), new RegExp(`\\n API version: +${v.replace('.', '\\.')} \\(downgraded from ${API_VERSION.replace('.', '\\.')}\\)\\n`));
      assert.equal(await ok('version', '--format', '{{.Client.APIVersion}} {{.Server.APIVersion}}'), `${v} ${API_VERSION}\n`);
    });
  }

  test('versions berthd does not serve get its error; bad values are refused, whitespace and a v prefix are fine', async () => {
    const run = (v: string, ...args: string[]) => berth(args, { ...d.env, DOCKER_API_VERSION: v });
    const hi = await run('1.51', 'ps');
    assert.equal(hi.code, 1);
    assert.equal(hi.stderr, `Error response from daemon: client version 1.51 is too new. Maximum supported API version is ${API_VERSION}\n`);
    const lo = await run('1.11', 'ps');
    assert.equal(lo.code, 1);
    assert.match(lo.stderr, /^Error response from daemon: client version 1\.11 is too old\. Minimum supported API version is 1\.12/);
    for (const [v, msg] of [['abc', 'must be formatted <major>.<minor>'], ['1', 'must be formatted <major>.<minor>'], ['v 1.0', 'invalid major version: must be formatted <major>.<minor>']]) {
      const r = await run(v!, 'ps');
      assert.equal(r.code, 1);
      assert.equal(r.stderr, `Error: invalid API version (${v}): ${msg}\n`);
    }
    const rr = await run('abc', 'run', '--rm', 'bb:v', 'true');
    assert.equal(rr.code, 1);
    assert.equal(rr.stderr, 'Error: invalid API version (abc): must be formatted <major>.<minor>\n');
    assert.equal(await at('')('ps', '-aq'), '');
    assert.equal((await run(' v1.41 ', 'version', '--format', '{{.Client.APIVersion}}')).stdout, '1.41\n');
    assert.equal((await run('', 'version', '--format', '{{.Client.APIVersion}}')).stdout, `${API_VERSION}\n`);
  });
});
