// The compose model without a daemon: interpolation, YAML errors with line and column, schema errors
// naming the bad key's path, -f merge rules, profiles, depends_on cycles, env files, and the create body.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { interpolateString } from '../../src/compose/interpolate.js';
import { mergeModels } from '../../src/compose/merge.js';
import { configView, loadModel, parseEnvFile, shellSplit, type ModelInput } from '../../src/compose/model.js';
import { validateModel } from '../../src/compose/schema.js';
import { configHash, createRequest, L } from '../../src/compose/convert.js';

const input = (files: string[], o: Partial<ModelInput> = {}): ModelInput => ({
  files: files.map((text, i) => ({ path: `/p/app/f${i}.yaml`, text })), env: {}, workingDir: '/p/app', readFile: () => undefined, ...o,
});

test('interpolation: ${VAR}, $VAR, defaults, alternatives, required, $$ and nesting', () => {
  const env = { A: 'a', E: '' };
  assert.equal(interpolateString('x${A}y$A-$$A', env), 'xay a-$A'.replace(' ', ''));
  assert.equal(interpolateString('${B:-def}|${E:-def}|${E-def}|${B-d2}', env), 'def|def||d2');
  assert.equal(interpolateString('${A:+alt}|${E:+alt}|${E+alt}', env), 'alt||alt');
  assert.equal(interpolateString('${B:-${A}x}', env), 'ax');
  assert.throws(() => interpolateString('${B:?B is needed}', env, 'services.web.image'), /required variable B is missing a value: B is needed/);
  assert.throws(() => interpolateString('${E:?empty}', env), /required variable E is missing a value: empty/);
  assert.equal(interpolateString('${E?ok}', env), '');
  assert.throws(() => interpolateString('${A', env, 'services.web.image'), /invalid interpolation format for services.web.image/);
});

test('a YAML syntax error gives the file, line and column', () => {
  assert.throws(() => loadModel(input(['services:\n  web:\n    image: busybox\n   bad: [\n'])), (e: Error) => {
    assert.match(e.message, /^yaml: \/p\/app\/f0\.yaml: line \d+, column \d+: /);
    return true;
  });
  assert.throws(() => loadModel(input(['services:\n  web:\n    image: a\n    image: b\n'])), /line 4, column 5/);
});

test('schema errors name the path of the bad key', () => {
  assert.throws(() => validateModel({ services: { web: { image: 'x', imagee: 'y' } } }, 'c.yaml'), /validating c.yaml: services.web additional properties 'imagee' not allowed/);
  assert.throws(() => validateModel({ services: { web: { image: 'x', healthcheck: { tst: 'x' } } } }), /services.web.healthcheck additional properties 'tst' not allowed/);
  assert.throws(() => validateModel({ services: { web: { image: 'x', depends_on: { db: { condition: 'service_up' } } } } }), /services.web.depends_on.db.condition must be one of/);
  assert.throws(() => validateModel({ servics: {} }), /\(root\) additional properties 'servics' not allowed/);
  assert.throws(() => validateModel({ services: { web: { image: 'x', ports: [{ target: 80, bogus: 1 }] } } }), /services.web.ports.0 additional properties 'bogus' not allowed/);
  validateModel({ 'x-common': { a: 1 }, services: { web: { image: 'x', 'x-note': 'ok', ports: ['80:80', { target: 81 }] } } });
});

test('anchors, merge keys and x- extensions; x- keys do not reach the service', () => {
  const p = loadModel(input([`
x-base: &base
  image: busybox
  environment:
    A: "1"
services:
  web:
    <<: *base
    command: httpd -f -p 80
`]));
  assert.equal(p.services.web!.image, 'busybox');
  assert.deepEqual(p.services.web!.command, ['httpd', '-f', '-p', '80']);
  assert.equal(p.services.web!.environment.A, '1');
  assert.ok(p.raw['x-base']);
});

test('-f merge rules: maps merge, command is replaced, environment merges by key, ports append, volumes merge by target', () => {
  const merged = mergeModels(
    { services: { web: { image: 'a', command: ['x', 'y'], environment: ['A=1', 'B=2'], ports: ['80:80'], volumes: ['v:/data', '/h:/h'], labels: { l: '1' } } } },
    { services: { web: { command: ['z'], environment: { B: '3' }, ports: ['81:81'], volumes: ['w:/data'], labels: ['m=2'] }, db: { image: 'db' } } },
  ) as { services: Record<string, Record<string, unknown>> };
  assert.deepEqual(merged.services.web!.command, ['z']);
  assert.deepEqual(merged.services.web!.environment, { A: '1', B: '3' });
  assert.deepEqual(merged.services.web!.ports, ['80:80', '81:81']);
  assert.deepEqual(merged.services.web!.volumes, ['w:/data', '/h:/h']);
  assert.deepEqual(merged.services.web!.labels, { l: '1', m: '2' });
  assert.equal(merged.services.db!.image, 'db');
});

test('project name: -p over name: over the directory, normalised', () => {
  assert.equal(loadModel(input(['services: {a: {image: x}}'])).name, 'app');
  assert.equal(loadModel(input(['name: named\nservices: {a: {image: x}}'])).name, 'named');
  assert.equal(loadModel(input(['name: named\nservices: {a: {image: x}}'], { projectName: 'My.Proj' })).name, 'myproj');
  assert.equal(loadModel(input(['name: ${N}\nservices: {a: {image: x}}'], { env: { N: 'fromenv' } })).name, 'fromenv');
});

test('profiles select services; a required dependency on a disabled one is refused', () => {
  const text = 'services:\n  web: {image: x}\n  debug: {image: x, profiles: [dbg]}\n';
  assert.deepEqual(Object.keys(loadModel(input([text])).services), ['web']);
  assert.deepEqual(Object.keys(loadModel(input([text], { profiles: ['dbg'] })).services).sort(), ['debug', 'web']);
  assert.throws(() => loadModel(input(['services:\n  web: {image: x, depends_on: [debug]}\n  debug: {image: x, profiles: [dbg]}\n'])), /depends on service "debug" which is disabled by profiles/);
});

test('depends_on: cycles and unknown services are refused; long form keeps its condition', () => {
  assert.throws(() => loadModel(input(['services:\n  a: {image: x, depends_on: [b]}\n  b: {image: x, depends_on: [c]}\n  c: {image: x, depends_on: [a]}\n'])), /dependency cycle detected: a -> b -> c -> a/);
  assert.throws(() => loadModel(input(['services:\n  a: {image: x, depends_on: [nope]}\n'])), /depends on undefined service "nope"/);
  const p = loadModel(input(['services:\n  a: {image: x, depends_on: {b: {condition: service_healthy}}}\n  b: {image: x}\n']));
  assert.deepEqual(p.services.a!.depends_on.b, { condition: 'service_healthy', required: true, restart: false });
});

test('env files: dotenv syntax, and environment entries without a value come from the environment', () => {
  assert.deepEqual(parseEnvFile('# c\nA=1\nexport B="two words"\nC=\'$lit\'\nD=x # comment\nE\n', { E: 'fromenv' }), { A: '1', B: 'two words', C: '$lit', D: 'x', E: 'fromenv' });
  const p = loadModel(input(['services:\n  a: {image: x, env_file: [e.env], environment: [K, L=2]}\n'], {
    env: { K: 'k' }, readFile: (f) => (f === '/p/app/e.env' ? 'L=1\nM=3\n' : undefined),
  }));
  assert.deepEqual(p.services.a!.environment, { L: '2', M: '3', K: 'k' });
  assert.throws(() => loadModel(input(['services:\n  a: {image: x, env_file: missing.env}\n'])), /env file \/p\/app\/missing.env not found/);
});

test('shell words of a string command', () => {
  assert.deepEqual(shellSplit(`sh -c 'echo "a b"; exit 3'`), ['sh', '-c', 'echo "a b"; exit 3']);
  assert.deepEqual(shellSplit('a\\ b "c\\"d"'), ['a b', 'c"d']);
});

test('create body: labels, networks with the service alias, volumes, ports, limits, healthcheck; the hash follows the config', () => {
  const p = loadModel(input([`
services:
  web:
    image: busybox
    command: ["httpd", "-f"]
    ports: ["127.0.0.1:8080:80", {target: 81, published: "9090"}]
    volumes: ["data:/data", "./site:/www:ro", {type: tmpfs, target: /tmp, tmpfs: {size: 1m}}]
    networks: {back: {aliases: [www]}}
    healthcheck: {test: "wget -q -O- localhost", interval: 1s, retries: 3}
    deploy: {resources: {limits: {cpus: "0.5", memory: 64m, pids: 50}}}
    restart: on-failure:2
    stop_grace_period: 3s
    ulimits: {nofile: {soft: 100, hard: 200}, nproc: 10}
    extra_hosts: ["h:1.2.3.4"]
networks: {back: {}}
volumes: {data: {}}
`]));
  const { name, body } = createRequest(p, p.services.web!, { number: 2 });
  assert.equal(name, 'app-web-2');
  const h = body.HostConfig as Record<string, unknown>;
  assert.equal(body.Labels![L.project], 'app');
  assert.equal(body.Labels![L.service], 'web');
  assert.equal(body.Labels![L.number], '2');
  assert.equal(body.Labels![L.oneoff], 'False');
  assert.equal(body.Labels![L.hash], configHash(p.services.web!));
  assert.equal(h.NetworkMode, 'app_back');
  assert.deepEqual(body.NetworkingConfig, { EndpointsConfig: { app_back: { Aliases: ['web', 'www'] } } });
  assert.deepEqual(h.Binds, ['app_data:/data', '/p/app/site:/www:ro']);
  assert.deepEqual(h.Tmpfs, { '/tmp': 'size=1048576' });
  assert.deepEqual(h.PortBindings, { '80/tcp': [{ HostIp: '127.0.0.1', HostPort: '8080' }], '81/tcp': [{ HostIp: '', HostPort: '9090' }] });
  assert.equal(h.NanoCpus, 5e8);
  assert.equal(h.Memory, 64 << 20);
  assert.equal(h.PidsLimit, 50);
  assert.deepEqual(h.RestartPolicy, { Name: 'on-failure', MaximumRetryCount: 2 });
  assert.deepEqual(h.Ulimits, [{ Name: 'nofile', Soft: 100, Hard: 200 }, { Name: 'nproc', Soft: 10, Hard: 10 }]);
  assert.deepEqual(h.ExtraHosts, ['h:1.2.3.4']);
  assert.equal(body.StopTimeout, 3);
  assert.deepEqual(body.Healthcheck, { Test: ['CMD-SHELL', 'wget -q -O- localhost'], Interval: 1e9, Timeout: 0, StartPeriod: 0, StartInterval: 0, Retries: 3 });
  const changed = loadModel(input([`services:\n  web: {image: busybox, command: ["httpd"]}\n`]));
  const same = loadModel(input([`services:\n  web: {image: busybox, command: httpd, scale: 3}\n`]));
  assert.equal(configHash(changed.services.web!), configHash(same.services.web!), 'scale and short/long syntax do not change the hash');
  assert.notEqual(configHash(changed.services.web!), configHash(p.services.web!));
});

test('undefined networks and volumes, network_mode with networks, and no image are refused', () => {
  assert.throws(() => loadModel(input(['services:\n  a: {image: x, networks: [nope]}\n'])), /refers to undefined network nope/);
  assert.throws(() => loadModel(input(['services:\n  a: {image: x, volumes: ["nope:/d"]}\n'])), /refers to undefined volume nope/);
  assert.throws(() => loadModel(input(['services:\n  a: {command: x}\n'])), /has neither an image nor a build context/);
  const p = loadModel(input(['services:\n  a: {image: x, networks: [ext]}\nnetworks:\n  ext: {external: true, name: shared}\n']));
  assert.deepEqual(p.networks.ext, { external: true, name: 'shared', labels: {} });
});

test('config view: interpolated values, a literal $ printed as $$, x- extensions kept', () => {
  const p = loadModel(input(['x-note: hi\nservices:\n  a: {image: "${IMG:-busybox}", environment: [A=$$HOME]}\n']));
  const v = configView(p) as { services: { a: { image: string; environment: Record<string, string> } }; 'x-note': string };
  assert.equal(v.services.a.image, 'busybox');
  assert.equal(v.services.a.environment.A, '$$HOME');
  assert.equal(v['x-note'], 'hi');
});
