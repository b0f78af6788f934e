// `berth compose` against berthd (through the Engine API only): a web service reached by name from a
// client service, a named volume kept across down/up, depends_on service_healthy waiting for a real
// healthcheck, --scale, run --rm, reconciliation by config hash, profiles, .env and config, down -v
// leaving nothing, and bad input refused with nothing created. Traffic stays on the test's own networks.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { Client } from '../../src/client/index.js';
import { composeLeftovers } from '../helpers/compose.js';
import { startDaemon, type Daemon } from '../helpers/daemon.js';
import { BERTH } from '../helpers/bundle.js';
import { tarDir } from '../helpers/registry.js';
import { busyboxRootfs } from '../helpers/rootfs.js';

const IMG = 'bb:compose';
interface Out { code: number; stdout: string; stderr: string }

const missing = process.getuid?.() !== 0 ? 'needs root' : undefined;

describe('berth compose', { skip: missing }, () => {
  let d: Daemon;
  let api: Client;
  const dirs: string[] = [];

  /** A project directory holding `files` (name → text). */
  const project = (files: Record<string, string>): string => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-compose-'));
    dirs.push(dir);
    for (const [n, t] of Object.entries(files)) fs.writeFileSync(path.join(dir, n), t);
    return dir;
  };
  const compose = (dir: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Out> => new Promise((resolve) => {
    const child = spawn(process.execPath, [BERTH, 'compose', ...args], { cwd: dir, env: { ...d.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout.on('data', (b) => { stdout += b; });
    child.stderr.on('data', (b) => { stderr += b; });
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
  const ok = async (dir: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> => {
    const r = await compose(dir, args, env);
    assert.equal(r.code, 0, `compose ${args.join(' ')} → ${r.code}\n${r.stderr}\n${d.log().slice(-2000)}`);
    return r.stdout;
  };
  const fails = async (dir: string, args: string[], message: RegExp, env: NodeJS.ProcessEnv = {}): Promise<void> => {
    const r = await compose(dir, args, env);
    assert.notEqual(r.code, 0, `compose ${args.join(' ')} should fail: ${r.stdout}`);
    assert.match(r.stderr, message);
  };
  const leftovers = (name: string) => composeLeftovers(api, name);
  const nothingLeft = async (name: string) => assert.deepEqual(await leftovers(name), { containers: [], networks: [], volumes: [] });
  const idOf = async (name: string) => (await api.inspectContainer(name)).Id;
  /** wget from inside `service` until the server answers (it may still be starting); the answer is what counts */
  const fetchFrom = (dir: string, service: string, url: string) =>
    ok(dir, ['exec', '-T', service, 'sh', '-c', `for i in $(seq 100); do wget -q -O- ${url} && exit 0; sleep 0.1; done; exit 1`]);

  before(async () => {
    d = await startDaemon();
    api = new Client(d.host);
    const tar = await tarDir(await busyboxRootfs(), false);
    await api.importImage((async function* () { yield tar; })(), { repo: 'bb', tag: 'compose', changes: ['CMD ["sh"]'] });
  });
  after(async () => {
    api?.close();
    await d?.stop();
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  const WEB = `
services:
  web:
    image: ${IMG}
    command: ["sh", "-c", "mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 80 -h /www"]
  client:
    image: ${IMG}
    command: ["sleep", "\${NAP:-3600}"]
    depends_on: [web]
  store:
    image: ${IMG}
    command: ["sh", "-c", "echo run >> /data/runs; exec sleep 3600"]
    volumes: ["data:/data"]
  debug:
    image: ${IMG}
    command: ["sleep", "3600"]
    profiles: [dbg]
volumes:
  data: {}
`;

  test('web reached by name, named volume across down/up, scale, recreate only what changed, run --rm, profiles, down -v', async () => {
    const dir = project({ 'compose.yaml': WEB, '.env': 'NAP=3600\n' });
    const name = path.basename(dir).toLowerCase().replace(/[^a-z0-9_-]/g, '');
    await ok(dir, ['up', '-d']);
    const ps = await ok(dir, ['ps']);
    for (const s of ['web', 'client', 'store']) assert.match(ps, new RegExp(`${name}-${s}-1 .* ${s} `), ps);
    assert.doesNotMatch(ps, /debug/, 'the dbg profile is off');
    const web1 = await api.inspectContainer(`${name}-web-1`);
    assert.equal(web1.Config.Labels!['com.docker.compose.project'], name);
    assert.equal(web1.Config.Labels!['com.docker.compose.oneoff'], 'False');
    assert.match(web1.Config.Labels!['com.docker.compose.config-hash'] ?? '', /^[0-9a-f]{64}$/);
    // the client reaches the web service by its service name on the project network
    assert.equal((await fetchFrom(dir, 'client', 'http://web/')).trim(), web1.Config.Hostname);

    // scale: three web containers, each answering by its container name
    await ok(dir, ['up', '-d', '--scale', 'web=3']);
    const webs = (await ok(dir, ['ps', '-q', 'web'])).trim().split('\n');
    assert.equal(webs.length, 3);
    for (const n of [1, 2, 3]) assert.ok((await fetchFrom(dir, 'client', `http://${name}-web-${n}/`)).trim().length > 0);

    // up again with only the client's config changed (.env interpolation overridden): only the client is recreated
    const before = { web: await idOf(`${name}-web-1`), client: await idOf(`${name}-client-1`), store: await idOf(`${name}-store-1`) };
    assert.match(await ok(dir, ['config']), /- "?3600"?/);
    await ok(dir, ['up', '-d', '--scale', 'web=3'], { NAP: '3601' });
    assert.equal(await idOf(`${name}-web-1`), before.web, 'unchanged web left alone');
    assert.equal(await idOf(`${name}-store-1`), before.store, 'unchanged store left alone');
    assert.notEqual(await idOf(`${name}-client-1`), before.client, 'changed client recreated');
    assert.deepEqual((await api.inspectContainer(`${name}-client-1`)).Config.Cmd, ['sleep', '3601']);
    // back to scale 1: the surplus replicas go
    await ok(dir, ['up', '-d'], { NAP: '3601' });
    assert.equal((await ok(dir, ['ps', '-q', 'web'])).trim().split('\n').length, 1);

    // run --rm: a one-off container with the service's config, gone afterwards
    const r = await compose(dir, ['run', '--rm', 'client', 'sh', '-c', 'echo one-off; exit 3'], { NAP: '3601' });
    assert.equal(r.code, 3, r.stderr);
    assert.equal(r.stdout.trim(), 'one-off');
    const oneoffs = await api.listContainers({ all: true, filters: { label: [`com.docker.compose.project=${name}`, 'com.docker.compose.oneoff=True'] } });
    assert.deepEqual(oneoffs, []);

    // profiles: --profile dbg adds the debug service
    assert.deepEqual((await ok(dir, ['config', '--services'])).trim().split('\n').sort(), ['client', 'store', 'web']);
    await ok(dir, ['--profile', 'dbg', 'up', '-d', 'debug']);
    assert.equal((await api.inspectContainer(`${name}-debug-1`)).State.Running, true);

    // the named volume keeps its data across down/up
    await ok(dir, ['--profile', 'dbg', 'down']);
    assert.deepEqual((await leftovers(name)).containers, []);
    assert.deepEqual((await leftovers(name)).volumes, [`${name}_data`], 'down without -v keeps the volume');
    await ok(dir, ['up', '-d', 'store']);
    const runs = await ok(dir, ['exec', '-T', 'store', 'cat', '/data/runs']);
    assert.equal(runs, 'run\nrun\n');

    await ok(dir, ['--profile', 'dbg', 'down', '-v']);
    await nothingLeft(name);
  });

  test('depends_on service_healthy waits for the dependency to be healthy', async () => {
    const dir = project({ 'compose.yaml': `
name: healthy
services:
  db:
    image: ${IMG}
    command: ["sh", "-c", "sleep 2; touch /tmp/ready; exec sleep 3600"]
    healthcheck: {test: ["CMD", "test", "-f", "/tmp/ready"], interval: 300ms, retries: 100}
  app:
    image: ${IMG}
    command: ["sleep", "3600"]
    depends_on: {db: {condition: service_healthy}}
` });
    try {
      const r = await compose(dir, ['up', '-d']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /Container healthy-db-1 {2}Healthy/);
      // when up returns, db is healthy and app was started only after it became so
      const db = await api.inspectContainer('healthy-db-1');
      const app = await api.inspectContainer('healthy-app-1');
      assert.equal(db.State.Health?.Status, 'healthy');
      const healthyAt = Date.parse(db.State.Health!.Log.find((l) => l.ExitCode === 0)!.End);
      assert.ok(Date.parse(app.State.StartedAt) >= healthyAt, `app started ${app.State.StartedAt}, db healthy ${db.State.Health!.Log.find((l) => l.ExitCode === 0)!.End}`);
    } finally {
      await ok(dir, ['down', '-v']);
    }
    await nothingLeft('healthy');
  });

  test('bad input: clear errors, nothing created', async () => {
    const yamlErr = project({ 'compose.yaml': 'name: bad1\nservices:\n  web:\n    image: x\n   oops: [\n' });
    await fails(yamlErr, ['up', '-d'], /yaml: .*compose\.yaml: line \d+, column \d+/);
    const unknown = project({ 'compose.yaml': `name: bad2\nservices:\n  web:\n    image: ${IMG}\n    healthcheck: {tests: x}\n` });
    await fails(unknown, ['config'], /services\.web\.healthcheck additional properties 'tests' not allowed/);
    const required = project({ 'compose.yaml': `name: bad3\nservices:\n  web:\n    image: \${TAG:?TAG must be set}\n` });
    await fails(required, ['up', '-d'], /required variable TAG is missing a value: TAG must be set/);
    const cycle = project({ 'compose.yaml': `name: bad4\nservices:\n  a: {image: ${IMG}, depends_on: [b]}\n  b: {image: ${IMG}, depends_on: [a]}\n` });
    await fails(cycle, ['up', '-d'], /dependency cycle detected: a -> b -> a/);
    const ext = project({ 'compose.yaml': `name: bad5\nservices:\n  a: {image: ${IMG}, command: [sleep, "60"], volumes: ["v:/v"]}\n  b: {image: ${IMG}, networks: [outside]}\nnetworks:\n  outside: {external: true, name: nowhere-net}\nvolumes:\n  v: {}\n` });
    await fails(ext, ['up', '-d'], /network nowhere-net declared as external, but could not be found/);
    for (const n of ['bad1', 'bad2', 'bad3', 'bad4', 'bad5']) await nothingLeft(n);
  });

  test('a published port already taken on the host: up fails with the port named, nothing left running', async () => {
    const holder = net.createServer();
    await new Promise<void>((res) => holder.listen(0, '127.0.0.1', res));
    const port = (holder.address() as net.AddressInfo).port;
    try {
      const dir = project({ 'compose.yaml': `name: bad6\nservices:\n  web:\n    image: ${IMG}\n    command: [sleep, "60"]\n    ports: ["127.0.0.1:${port}:80"]\n` });
      await fails(dir, ['up', '-d'], new RegExp(`127\\.0\\.0\\.1:${port}.*(already allocated|address already in use)`));
      const running = await api.listContainers({ filters: { label: ['com.docker.compose.project=bad6'] } });
      assert.deepEqual(running.map((c) => c.Names[0]), []);
      assert.equal((await compose(dir, ['down'])).code, 0);
      await nothingLeft('bad6');
    } finally {
      holder.close();
    }
  });

  test('-f files merge, -p names the project, --env-file feeds interpolation', async () => {
    const dir = project({
      'base.yaml': `services:\n  web:\n    image: ${IMG}\n    command: ["sleep", "1"]\n    environment: {A: "1", B: "\${BEE}"}\n`,
      'over.yaml': `services:\n  web:\n    command: ["sleep", "2"]\n    environment: [B=override, C=3]\n`,
      'vars.env': 'BEE=from-env-file\n',
    });
    const out = await ok(dir, ['-f', 'base.yaml', '-f', 'over.yaml', '-p', 'Merged', '--env-file', 'vars.env', 'config']);
    assert.match(out, /^name: merged$/m);
    assert.match(out, /command:\n\s+- sleep\n\s+- "2"/);
    assert.match(out, /A: "1"\n\s+B: override\n\s+C: "3"/);
    const only = await ok(dir, ['-f', 'base.yaml', '--env-file', 'vars.env', 'config']);
    assert.match(only, /B: from-env-file/);
  });
});
