// The Compose Specification's own test inputs (compose-go's loader/cli testdata, Apache-2.0, copied under
// test/fixtures/compose-spec with its licence): `berth compose config`'s loader accepts the valid ones,
// resolving extends, include, relative paths and .env as docker compose does, and refuses the invalid
// ones naming the offending key. Then invalid files of our own, one per kind of mistake.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { loadProject } from '../../src/compose/load.js';
import { configView, type Project } from '../../src/compose/model.js';
import { stringify } from 'yaml';

/** test/fixtures/compose-spec, whether running from test/unit or dist/test/unit. */
function fixtures(): string {
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); ; dir = path.dirname(dir)) {
    const c = path.join(dir, 'test', 'fixtures', 'compose-spec');
    if (fs.existsSync(c)) return c;
    if (dir === path.dirname(dir)) throw new Error('test/fixtures/compose-spec not found');
  }
}
const F = fixtures();
const load = (file: string, env: NodeJS.ProcessEnv = {}): Project => {
  const abs = path.join(F, file);
  const p = loadProject({ files: [abs], cwd: path.dirname(abs), env: { HOME: '/home/u', ...env } });
  stringify(configView(p)); // the config view of every accepted project renders
  return p;
};

test('compose-go fixtures: extends from another file, with paths relative to that file', () => {
  const p = load('loader/testdata/compose-test-extends.yaml');
  const s = p.services.importer!;
  assert.equal(s.image, 'nginx');
  assert.equal(s.container_name, 'imported');
  assert.deepEqual(s.environment, { SOURCE: 'extends' }, 'env_file ./extra.env is read next to the extended file');
  assert.deepEqual(s.volumes, [{ type: 'bind', source: '/opt/data', target: '/var/lib/mysql', read_only: undefined }]);
  assert.ok(!('extends' in s));
  assert.equal(load('loader/testdata/compose-test-extends.yaml', { SOURCE: 'env' }).services.importer!.container_name, 'env');
});

test('compose-go fixtures: extends in the same file, chains across directories, build contexts, ports, volumes_from', () => {
  const nested = load('loader/testdata/extends/nested.yaml');
  assert.equal(nested.services['with-build']!.build!.context, path.join(F, 'loader/testdata/extends'));
  const withdir = load('loader/testdata/extends/withdir/compose.yaml');
  assert.equal(withdir.services.test!.image, 'hello-world');
  assert.deepEqual(load('loader/testdata/extends/ports.yaml').services.test!.ports, [{ target: 8080, published: '8080', host_ip: undefined, protocol: 'tcp' }]);
  const deps = load('loader/testdata/extends/depends_on.yaml');
  assert.deepEqual(deps.services.with_volumes_from!.volumes_from, ['zot']);
  assert.equal(deps.services.with_network_mode!.network_mode, 'service:zot');
  assert.equal(load('loader/testdata/extends/interpolated.yaml').services.foo!.volumes[0]!.source, '/dev/null');
  const reset = load('loader/testdata/extends/reset.yaml');
  assert.equal(reset.services.base!.image, 'alpine:latest');
  const url = load('loader/testdata/compose-test-extends-with-context-url.yaml');
  assert.match(String(url.services['importer-with-https-url']!.build!.context), /^https:\/\//, 'a URL context is not a path');
  const v2 = load('loader/testdata/compose-test-with-version.yaml');
  assert.deepEqual(v2.services.web!.volumes_from, ['other']);
  assert.equal(v2.services.web!.build!.context, path.join(F, 'loader/testdata/Dockerfile'));
});

test('compose-go fixtures: include, with its own project directory, and include + extends combined', () => {
  const inc = load('loader/testdata/compose-include.yaml');
  assert.deepEqual(Object.keys(inc.services).sort(), ['bar', 'imported']);
  assert.deepEqual(inc.services.imported!.environment, { SOURCE: 'extends' });
  const dir = load('loader/testdata/include/compose.yaml');
  assert.equal(dir.services.included!.build!.context, path.join(F, 'loader/testdata/include'));
  assert.equal(dir.services.included!.volumes[0]!.source, path.join(F, 'loader/testdata/include'));
  // project_directory: ../subdir — the included file's relative paths resolve there, not next to it
  const pd = load('loader/testdata/include/project-directory.yaml');
  const svc = pd.services.service!;
  assert.equal(svc.volumes[0]!.source, path.join(F, 'loader/testdata/subdir/compose-test-extends-imported.yaml'));
  assert.deepEqual(svc.environment, { SOURCE: 'extends' });
  assert.match(String(svc.build!.dockerfile_inline), /^FROM busybox/);
  const combined = load('loader/testdata/combined/compose.yaml');
  assert.equal(combined.services.service!.build!.context, path.join(F, 'loader/testdata/combined/dir'));
});

test('compose-go fixtures: .env interpolation and the project name', () => {
  assert.equal(load('cli/testdata/simple/compose-with-variables.yaml').services.simple!.ports[0]!.published, '8000');
  assert.equal(load('cli/testdata/simple/compose.yaml').services.simple!.image, 'nginx');
  assert.equal(load('cli/testdata/simple/compose-with-overrides.yaml').services.simple!.image, 'haproxy');
  assert.equal(load('cli/testdata/simple/compose-name.yaml', { TEST: 'x' }).name, 'test-x-test');
});

test('compose-go fixtures: the invalid ones are refused, naming what is wrong', () => {
  const refused: Array<[string, RegExp]> = [
    ['loader/testdata/compose-depends-on-cycle.yaml', /dependency cycle detected: service1 -> service2 -> service3 -> service1/],
    ['loader/testdata/compose-depends-on-self.yaml', /dependency cycle detected: service1 -> service1/],
    ['loader/testdata/compose-include-cycle.yaml', /include cycle detected: .*compose-include-cycle\.yaml -> .*compose-include-cycle\.yaml/],
    ['loader/testdata/empty.yaml', /empty compose file/],
    // `nil:` is an empty (null) service: the schema wants a mapping there
    ['loader/testdata/extends/base.yaml', /services\.nil must be an object/],
    // included alone, its env_file (extra.env) is looked for next to it, where there is none
    ['loader/testdata/include/dir/compose.yaml', /env file .*include\/dir\/extra\.env not found/],
  ];
  for (const [file, re] of refused) assert.throws(() => load(file), re, file);
});

/** A project directory of our own with `files`; returns the loader's result for compose.yaml. */
function loadOwn(files: Record<string, string>, env: NodeJS.ProcessEnv = {}): Project {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-compose-unit-'));
  try {
    for (const [n, t] of Object.entries(files)) { fs.mkdirSync(path.dirname(path.join(dir, n)), { recursive: true }); fs.writeFileSync(path.join(dir, n), t); }
    return loadProject({ cwd: dir, env: { HOME: '/home/u', ...env } });
  } finally { fs.rmSync(dir, { recursive: true, force: true }); }
}

test('invalid files: each refused with the offending key or name', () => {
  const cases: Array<[string, RegExp]> = [
    ['services:\n  web:\n    image: x\n    prots: ["80"]\n', /services\.web additional properties 'prots' not allowed/],
    ['services:\n  web:\n    image: x\n    ports: [{target: 80, publish: 8080}]\n', /services\.web\.ports\.0 additional properties 'publish' not allowed/],
    ['services:\n  web:\n    image: x\n    deploy: {resources: {limits: {memory: 1g, cpu: 1}}}\n', /services\.web\.deploy\.resources\.limits additional properties 'cpu' not allowed/],
    ['services:\n  web:\n    image: x\n    volumes: [{type: bind, source: ., target: /a, bind: {propagate: rshared}}]\n', /services\.web\.volumes\.0\.bind additional properties 'propagate' not allowed/],
    ['services:\n  web:\n    image: x\n    extends: {file: other.yaml}\n', /services\.web\.extends missing property 'service'/],
    ['services:\n  web: {image: x}\nnetworks:\n  n: {driver: bridge, ipam: {config: [{subnet: 10.0.0.0/24, gw: 10.0.0.1}]}}\n', /networks\.n\.ipam\.config\.0 additional properties 'gw' not allowed/],
    ['services:\n  web: {image: x}\nvolumes:\n  v: {external: true, drivers: local}\n', /volumes\.v additional properties 'drivers' not allowed/],
    ['services:\n  web: {image: x}\nsecrets:\n  s: {file: ./s, mode: 0400}\n', /secrets\.s additional properties 'mode' not allowed/],
    ['services:\n  web: {image: x, secrets: [nope]}\n', /service "web" refers to undefined secret nope/],
    ['services:\n  web: {image: x, configs: [c]}\nconfigs:\n  c: {file: ./missing.conf}\n', /config "c": file .*missing\.conf does not exist/],
    ['services:\n  web: {image: x, volumes_from: [ghost]}\n', /service "web" depends on undefined service "ghost"/],
    ['services:\n  a: {image: x, volumes_from: [b]}\n  b: {image: x, depends_on: [a]}\n', /dependency cycle detected: a -> b -> a/],
    ['services:\n  web:\n    extends: base\n  base:\n    extends: web\n', /circular reference with extends: web -> base -> web/],
    ['services:\n  web:\n    extends: nowhere\n', /cannot extend service "web" in .*: service "nowhere" not found/],
    ['include: [other.yaml]\nservices:\n  web: {image: x}\n', /include: open .*other\.yaml: no such file or directory/],
  ];
  for (const [text, re] of cases) assert.throws(() => loadOwn({ 'compose.yaml': text }), re, text);
  // an included project may not redefine what the including file defines
  assert.throws(() => loadOwn({ 'compose.yaml': 'include: [sub/compose.yaml]\nservices:\n  web: {image: x}\n', 'sub/compose.yaml': 'services:\n  web: {image: y}\n' }),
    /imported compose file .*sub\/compose\.yaml defines conflicting service web/);
});

test('secrets and configs: file binds at /run/secrets/NAME and /NAME, environment and content copied in', () => {
  const p = loadOwn({
    'compose.yaml': `services:
  web:
    image: x
    secrets: [token, {source: token, target: other}]
    configs: [app, {source: inline, target: /etc/inline.conf, mode: "0440"}]
secrets:
  token: {file: ./token.txt}
configs:
  app: {file: ./app.conf}
  inline: {content: "k=\${V}"}
`, 'token.txt': 's3cret', 'app.conf': 'a=1',
  }, { V: 'v' });
  const web = p.services.web!;
  assert.deepEqual(web.secrets!.map((r) => r.target), ['/run/secrets/token', '/run/secrets/other']);
  assert.deepEqual(web.configs!.map((r) => r.target), ['/app', '/etc/inline.conf']);
  assert.equal(p.configs.inline!.content, 'k=v');
  assert.match(p.secrets.token!.file!, /\/token\.txt$/);
});

test('create body: a built service runs PROJECT-SERVICE, secrets/configs files are read-only binds, volumes_from names the first container', async () => {
  const { createRequest, fileMounts } = await import('../../src/compose/convert.js');
  const p = loadOwn({
    'compose.yaml': `name: proj
services:
  app:
    build: {context: ., args: [A=1, B]}
    secrets: [token]
    configs: [inline]
    volumes_from: [data, "container:other:ro"]
    ipc: service:data
  data: {image: x}
secrets:
  token: {file: ./token.txt}
configs:
  inline: {content: hello}
`, 'token.txt': 's',
  }, { B: 'from-env' });
  const app = p.services.app!;
  assert.deepEqual(app.build!.args, { A: '1', B: 'from-env' });
  const { body } = createRequest(p, app, { number: 1 });
  assert.equal(body.Image, 'proj-app');
  assert.ok(body.HostConfig!.Binds!.some((b) => /\/token\.txt:\/run\/secrets\/token:ro$/.test(b)), String(body.HostConfig!.Binds));
  assert.deepEqual(body.HostConfig!.VolumesFrom, ['proj-data-1', 'other:ro']);
  assert.equal(body.HostConfig!.IpcMode, 'container:proj-data-1');
  assert.deepEqual(fileMounts(p, app).inject, [{ target: '/inline', content: 'hello', mode: 0o444 }]);
  const { startOrder } = await import('../../src/compose/model.js');
  assert.deepEqual(startOrder(p.services), ['data', 'app'], 'volumes_from and ipc: service: start the other service first');
});

test('progress: a live block redrawn in place on a terminal, plain lines elsewhere', async () => {
  const { progress } = await import('../../src/compose/progress.js');
  let tty = '';
  const say = progress({ isTTY: true, write: (s: string) => { tty += s; } });
  say(' Network p_default  Creating');
  say(' Network p_default  Created');
  say(' Container p-web-1  Creating');
  say('WARN something of its own');
  say(' Container p-web-1  Started');
  // what a terminal shows at the end: apply the cursor-up/clear sequences to a screen of lines
  const screen: string[] = [];
  let row = 0;
  for (const part of tty.split(/(\x1b\[\d*[AJK]|\n)/)) {
    const up = /^\x1b\[(\d+)A$/.exec(part);
    if (up) row -= Number(up[1]);
    else if (part === '\x1b[0J') screen.length = row;
    else if (part === '\x1b[2K') screen[row] = '';
    else if (part === '\n') row++;
    else if (part) screen[row] = (screen[row] ?? '') + part;
  }
  assert.deepEqual(screen.slice(0, row), ['WARN something of its own', '[+] Running 2/2', ' \u2714 Network p_default  Created', ' \u2714 Container p-web-1  Started']);
  let plain = '';
  const sayPlain = progress({ isTTY: false, write: (s: string) => { plain += s; } });
  sayPlain(' Container p-web-1  Started');
  assert.equal(plain, ' Container p-web-1  Started\n');
});
