// `berth compose` against berthd, the features past the basics: build sections (and the same project
// built and run by docker-compose 1.29), extends and include, secrets and configs, volumes_from,
// pause/unpause/top/port/images, a published port reached on 127.0.0.1, and
// up --abort-on-container-exit / --exit-code-from. Traffic stays on loopback and the test's networks.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
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

const IMG = 'bb:composefeat';
interface Out { code: number; stdout: string; stderr: string }
const missing = process.getuid?.() !== 0 ? 'needs root' : undefined;
const haveCompose1 = fs.existsSync('/usr/bin/docker-compose');

function get(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => { let b = ''; res.on('data', (c: Buffer) => { b += c.toString(); }); res.on('end', () => resolve(b)); }).on('error', reject);
  });
}

describe('berth compose: build, extends/include, secrets/configs, volumes_from, more commands', { skip: missing }, () => {
  let d: Daemon;
  let api: Client;
  const dirs: string[] = [];

  const project = (files: Record<string, string>): string => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-composef-'));
    dirs.push(dir);
    for (const [n, t] of Object.entries(files)) { fs.mkdirSync(path.dirname(path.join(dir, n)), { recursive: true }); fs.writeFileSync(path.join(dir, n), t); }
    return dir;
  };
  const spawnOut = (cmd: string, args: string[], dir: string, env: NodeJS.ProcessEnv = {}): Promise<Out> => new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: dir, env: { ...process.env, ...d.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '';
    child.stdout.on('data', (b) => { stdout += b; });
    child.stderr.on('data', (b) => { stderr += b; });
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
  const compose = (dir: string, args: string[], env: NodeJS.ProcessEnv = {}) => spawnOut(process.execPath, [BERTH, 'compose', ...args], dir, env);
  const ok = async (dir: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> => {
    const r = await compose(dir, args, env);
    assert.equal(r.code, 0, `compose ${args.join(' ')} → ${r.code}\n${r.stdout}\n${r.stderr}\n${d.log().slice(-2000)}`);
    return r.stdout;
  };
  const leftovers = (name: string) => composeLeftovers(api, name);
  const nothingLeft = async (name: string) => assert.deepEqual(await leftovers(name), { containers: [], networks: [], volumes: [] });

  before(async () => {
    d = await startDaemon();
    api = new Client(d.host);
    const tar = await tarDir(await busyboxRootfs(), false);
    await api.importImage((async function* () { yield tar; })(), { repo: 'bb', tag: 'composefeat', changes: ['CMD ["sh"]'] });
  });
  after(async () => {
    api?.close();
    await d?.stop();
    for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  });

  const BUILD = (name: string) => `
${name ? `name: ${name}\n` : ''}version: "3.8"
services:
  web:
    build:
      context: ./web
      args: [GREETING=built-by-compose]
    command: ["sh", "-c", "exec httpd -f -p 80 -h /www"]
    ports: ["127.0.0.1::80"]
`;
  const BUILD_FILES = {
    'web/Dockerfile': `FROM ${IMG}\nARG GREETING=none\nRUN mkdir -p /www && echo "$GREETING" > /www/index.html\n`,
    'web/.dockerignore': 'secret.txt\n',
    'web/secret.txt': 'not in the context\n',
  };

  test('build: up builds the missing image (PROJECT-SERVICE), port and images report it, the published port answers on 127.0.0.1', async () => {
    const dir = project({ 'compose.yaml': BUILD('cbuild'), ...BUILD_FILES });
    try {
      const up = await compose(dir, ['up', '-d']);
      assert.equal(up.code, 0, up.stderr);
      assert.match(up.stderr, /Service web {2}Building/);
      const img = await api.inspectImage('cbuild-web');
      assert.ok(img.Id);
      const addr = (await ok(dir, ['port', 'web', '80'])).trim();
      assert.match(addr, /^127\.0\.0\.1:\d+$/);
      assert.equal((await get(`http://${addr}/`)).trim(), 'built-by-compose');
      assert.match(await ok(dir, ['ps']), new RegExp(`cbuild-web-1 .*${addr.replace(/\./g, '\\.')}->80/tcp`), 'ps shows the published port');
      const images = await ok(dir, ['images']);
      assert.match(images, /^CONTAINER\s+REPOSITORY\s+TAG\s+IMAGE ID\s+SIZE$/m);
      assert.match(images, new RegExp(`^cbuild-web-1\\s+cbuild-web\\s+latest\\s+${img.Id.replace('sha256:', '').slice(0, 12)}\\s`, 'm'));
      // a second up does not rebuild (the image is there); `build` does, and --build does
      assert.doesNotMatch((await compose(dir, ['up', '-d'])).stderr, /Building/);
      assert.match((await compose(dir, ['build'])).stderr, /Service web {2}Built/);
      await assert.rejects(compose(dir, ['port', 'web', '81']).then((r) => { if (r.code !== 0) throw new Error(r.stderr); }), /no port 81\/tcp for container cbuild-web-1/);
    } finally { await ok(dir, ['down', '-v', '--rmi', 'local']); }
    await nothingLeft('cbuild');
    await assert.rejects(api.inspectImage('cbuild-web'), /No such image/, 'down --rmi local removed the built image');
  });

  test('build: docker-compose 1.29 builds and runs the same project against berthd', { skip: haveCompose1 ? false : 'needs docker-compose 1.29 (/usr/bin/docker-compose)' }, async () => {
    const dir = project({ 'docker-compose.yml': BUILD(''), ...BUILD_FILES });
    const dc = (args: string[]) => spawnOut('docker-compose', ['-p', 'cbuildv1', ...args], dir);
    try {
      const b = await dc(['build']);
      assert.equal(b.code, 0, `${b.stdout}\n${b.stderr}\n${d.log().slice(-2000)}`);
      const u = await dc(['up', '-d']);
      assert.equal(u.code, 0, `${u.stdout}\n${u.stderr}\n${d.log().slice(-2000)}`);
      const port = await dc(['port', 'web', '80']);
      assert.equal(port.code, 0, port.stderr);
      assert.equal((await get(`http://${port.stdout.trim()}/`)).trim(), 'built-by-compose');
      const ex = await dc(['exec', '-T', 'web', 'cat', '/www/index.html']);
      assert.equal(ex.stdout.trim(), 'built-by-compose', ex.stderr);
    } finally {
      const r = await dc(['down', '-v']);
      assert.equal(r.code, 0, r.stderr);
    }
    await nothingLeft('cbuildv1');
  });

  test('extends, include, secrets, configs and volumes_from in one project', async () => {
    const dir = project({
      'compose.yaml': `name: cext
include:
  - path: lib/compose.yaml
services:
  app:
    extends: {file: common.yaml, service: base}
    command: ["sleep", "3600"]
    environment: {ROLE: app}
    secrets: [token, {source: fromenv, target: env_token}]
    configs: [settings, {source: inline, target: /etc/inline.conf}]
    volumes_from: [store]
  store:
    image: ${IMG}
    command: ["sh", "-c", "echo kept > /shared/file; exec sleep 3600"]
    volumes: ["/shared"]
secrets:
  token: {file: ./secrets/token.txt}
  fromenv: {environment: TOKEN_VAR}
configs:
  settings: {file: ./settings.conf}
  inline: {content: "inline=\${INLINE}"}
`,
      'common.yaml': `services:\n  base:\n    image: ${IMG}\n    environment: {FROM_BASE: "yes", ROLE: base}\n    env_file: [./base.env]\n`,
      'base.env': 'FROM_BASE_FILE=1\n',
      'lib/compose.yaml': `services:\n  helper:\n    image: ${IMG}\n    command: ["sh", "-c", "cat /data/note; exec sleep 3600"]\n    volumes: ["./data:/data:ro"]\n`,
      'lib/data/note': 'from-included-project\n',
      'secrets/token.txt': 's3cret\n',
      'settings.conf': 'setting=1\n',
    });
    const env = { TOKEN_VAR: 'env-secret', INLINE: 'yes' };
    try {
      await ok(dir, ['up', '-d'], env);
      const sh = (svc: string, cmd: string) => ok(dir, ['exec', '-T', svc, 'sh', '-c', cmd], env);
      assert.equal(await sh('app', 'echo $FROM_BASE $ROLE $FROM_BASE_FILE'), 'yes app 1\n', 'extended from common.yaml, own keys win');
      assert.equal(await sh('app', 'cat /run/secrets/token'), 's3cret\n');
      assert.equal(await sh('app', 'cat /run/secrets/env_token'), 'env-secret');
      assert.equal(await sh('app', 'cat /settings'), 'setting=1\n');
      assert.equal(await sh('app', 'cat /etc/inline.conf'), 'inline=yes');
      // the file secret is read-only in the container
      assert.notEqual((await compose(dir, ['exec', '-T', 'app', 'sh', '-c', 'echo x > /run/secrets/token'], env)).code, 0);
      // volumes_from: store's anonymous volume, with what store wrote
      assert.equal(await sh('app', 'for i in $(seq 300); do [ -f /shared/file ] && break; sleep 0.1; done; cat /shared/file'), 'kept\n');
      // include: lib's bind ./data resolves against lib/
      assert.equal(await sh('helper', 'cat /data/note'), 'from-included-project\n');
      assert.deepEqual((await ok(dir, ['config', '--services'], env)).trim().split('\n').sort(), ['app', 'helper', 'store']);
    } finally { await ok(dir, ['down', '-v'], env); }
    await nothingLeft('cext');
  });

  test('on a terminal, up shows the live progress block', { skip: fs.existsSync('/usr/bin/python3') ? false : 'needs python3 (its pty module gives the terminal)' }, async () => {
    const dir = project({ 'compose.yaml': `name: ctty\nservices:\n  a: {image: ${IMG}, command: [sleep, "3600"], stop_signal: SIGKILL}\n  b: {image: ${IMG}, command: [sleep, "3600"], stop_signal: SIGKILL}\n` });
    try {
      const r = await spawnOut('python3', ['-c', 'import pty, sys; sys.exit(pty.spawn(sys.argv[1:]) >> 8)', process.execPath, BERTH, 'compose', 'up', '-d'], dir);
      assert.equal(r.code, 0, r.stdout);
      assert.match(r.stdout, /\x1b\[\d+A/, 'redrawn in place');
      assert.match(r.stdout, /\[\+\] Running 3\/3/);
      assert.match(r.stdout, / \u2714 Container ctty-a-1 {2}Started/);
      assert.match(r.stdout, / \u2714 Network ctty_default {2}Created/);
    } finally { await ok(dir, ['down', '-v']); }
    await nothingLeft('ctty');
  });

  test('pause/unpause/top, and up --abort-on-container-exit / --exit-code-from', async () => {
    const dir = project({ 'compose.yaml': `name: cabort
services:
  long:
    image: ${IMG}
    command: ["sleep", "3600"]
    stop_signal: SIGKILL
  short:
    image: ${IMG}
    command: ["sh", "-c", "echo short-ran; sleep 1; exit 7"]
` });
    try {
      await ok(dir, ['up', '-d', 'long']);
      const top = await ok(dir, ['top', 'long']);
      assert.match(top, /^cabort-long-1\n/);
      assert.match(top, /sleep 3600/);
      await ok(dir, ['pause', 'long']);
      assert.equal((await api.inspectContainer('cabort-long-1')).State.Status, 'paused');
      await ok(dir, ['unpause', 'long']);
      assert.equal((await api.inspectContainer('cabort-long-1')).State.Status, 'running');

      const r = await compose(dir, ['up', '--abort-on-container-exit']);
      assert.equal(r.code, 7, `${r.stdout}\n${r.stderr}`);
      assert.match(r.stdout, /cabort-short-1 +\| short-ran/);
      assert.match(r.stdout, /Aborting on container exit/);
      assert.equal((await api.inspectContainer('cabort-long-1')).State.Running, false, 'the others are stopped');
      // --exit-code-from long: long was stopped by the abort (SIGKILL → 137), and that is the code
      const r2 = await compose(dir, ['up', '--exit-code-from', 'long']);
      assert.equal(r2.code, 137, `${r2.stdout}\n${r2.stderr}`);
      assert.notEqual((await compose(dir, ['up', '-d', '--exit-code-from', 'short'])).code, 0, '-d with --exit-code-from is refused');
    } finally { await ok(dir, ['down', '-v']); }
    await nothingLeft('cabort');
  });
});
