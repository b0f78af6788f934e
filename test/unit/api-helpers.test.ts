// Pure API helpers: routing, query parsing, the error map, templates, --change parsing, event filters.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { statusOf, kindOfStatus } from '../../src/api/errors.js';
import { boolValue, globMatch, matchLabels, parseFilters, filterBool } from '../../src/api/query.js';
import { timestampMs as parseTimestamp } from '../../src/util/timestamp.js';
import { Router, splitVersion } from '../../src/api/router.js';
import { parseChanges } from '../../src/api/routes/changes.js';
import { pullReference } from '../../src/api/routes/images.js';
import { eventMatches } from '../../src/api/routes/system.js';
import { decodeAuthHeader, encodeAuthHeader, toCredentials } from '../../src/api/auth.js';
import { compareVersions } from '../../src/api/version.js';
import { formatRows, tabulate } from '../../src/cli/docker/format.js';
import { render } from '../../src/cli/docker/template.js';
import { parseGlobals } from '../../src/cli/docker/index.js';
import { humanSize, humanSize3 } from '../../src/cli/docker/output.js';
import { resolveHost } from '../../src/client/index.js';
import { EventBus } from '../../src/daemon/events.js';
import { BerthError } from '../../src/errors.js';

test('router: greedy image names, one-segment vars, version prefix', () => {
  const r = new Router();
  const h = () => {};
  r.get('/images/json', h).get('/images/{name:.+}/json', h).get('/containers/{id}/json', h).delete('/images/{name:.+}', h);
  assert.deepEqual(r.match('GET', '/images/localhost:5000/a/b:tag/json')?.params, { name: 'localhost:5000/a/b:tag' });
  assert.deepEqual(r.match('GET', '/images/sha256%3Aabc/json')?.params, { name: 'sha256:abc' });
  assert.equal(r.match('GET', '/images/json')?.params.name, undefined);
  assert.equal(r.match('GET', '/containers/a/b/json'), undefined);
  assert.deepEqual(r.match('DELETE', '/images/docker.io/library/alpine:3')?.params, { name: 'docker.io/library/alpine:3' });
  assert.equal(r.match('POST', '/images/json'), undefined);
  assert.deepEqual(splitVersion('/v1.50/images/json'), { version: '1.50', path: '/images/json' });
  assert.deepEqual(splitVersion('/_ping'), { path: '/_ping' });
  assert.equal(compareVersions('1.9', '1.50'), -1);
  assert.equal(compareVersions('1.50', '1.50'), 0);
});

test('query: moby booleans, both filter forms, labels, globs, timestamps', () => {
  const q = new URLSearchParams('a=0&b=False&c=no&d=1&e=true&f=&g=none');
  assert.deepEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map((k) => boolValue(q, k)), [false, false, false, true, true, false, false, false]);
  const cli = parseFilters('{"label":{"a=b":true},"dangling":{"true":true}}');
  const py = parseFilters('{"label":["a=b"],"dangling":["true"]}');
  assert.deepEqual([...cli.get('label')!], ['a=b']);
  assert.deepEqual([...py.get('label')!], ['a=b']);
  assert.equal(filterBool(cli, 'dangling'), true);
  assert.throws(() => parseFilters('{bad'), (e: unknown) => e instanceof BerthError && e.kind === 'InvalidArgument');
  assert.ok(matchLabels(new Set(['a=b', 'c']), { a: 'b', c: '' }));
  assert.ok(!matchLabels(new Set(['a=x']), { a: 'b' }));
  assert.ok(globMatch('busy*', 'busybox'));
  assert.ok(!globMatch('busy*', 'busy/box'));
  assert.ok(globMatch('127.0.0.1:5000/*:v?', '127.0.0.1:5000/bb:v1'));
  assert.equal(parseTimestamp('1700000000'), 1700000000000);
  assert.equal(parseTimestamp('10m', 1_000_000), 1_000_000 - 600_000);
  assert.equal(parseTimestamp('2024-01-02T03:04:05Z'), Date.parse('2024-01-02T03:04:05Z'));
});

test('errors: kinds map to docker statuses', () => {
  assert.equal(statusOf(new BerthError('NotFound', 'No such image: x')), 404);
  assert.equal(statusOf(new BerthError('InvalidArgument', 'x')), 400);
  assert.equal(statusOf(new BerthError('Conflict', 'x')), 409);
  assert.equal(statusOf(new BerthError('PermissionDenied', 'pull access denied for x, repository does not exist')), 404);
  assert.equal(statusOf(new BerthError('PermissionDenied', 'reg: unauthorized: authentication required')), 401);
  assert.equal(statusOf(new BerthError('PermissionDenied', 'nope')), 403);
  assert.equal(statusOf(new BerthError('NotImplemented', 'x')), 501);
  assert.equal(statusOf(new BerthError('Unavailable', 'x')), 503);
  assert.equal(statusOf(new Error('boom')), 500);
  assert.equal(kindOfStatus(404), 'NotFound');
});

test('pull references: fromImage and tag as moby combines them', () => {
  assert.equal(pullReference('alpine', null), 'docker.io/library/alpine:latest');
  assert.equal(pullReference('docker.io/library/alpine', 'latest'), 'docker.io/library/alpine:latest');
  assert.equal(pullReference('localhost:5000/a/b:old', 'new'), 'localhost:5000/a/b:new');
  const d = `sha256:${'a'.repeat(64)}`;
  assert.equal(pullReference('busybox', d), `docker.io/library/busybox@${d}`);
});

test('changes: the Dockerfile subset import accepts', () => {
  assert.deepEqual(parseChanges(['CMD ["sh","-c","x"]', 'ENV A=1 B="two words"', 'WORKDIR /w', 'EXPOSE 80 53/udp', 'LABEL k=v', 'ENTRYPOINT echo hi']), {
    Cmd: ['sh', '-c', 'x'], Env: ['A=1', 'B=two words'], WorkingDir: '/w', ExposedPorts: { '80/tcp': {}, '53/udp': {} }, Labels: { k: 'v' }, Entrypoint: ['/bin/sh', '-c', 'echo hi'],
  });
  assert.equal(parseChanges([]), undefined);
  assert.throws(() => parseChanges(['RUN x']), /RUN is not a valid change command/);
});

test('X-Registry-Auth round trip and credentials', () => {
  const h = encodeAuthHeader({ username: 'u', password: 'p+/=', serveraddress: 'r:5000' });
  assert.deepEqual(decodeAuthHeader(h), { username: 'u', password: 'p+/=', serveraddress: 'r:5000' });
  assert.deepEqual(decodeAuthHeader('e30='), {});
  assert.equal(decodeAuthHeader('%%%'), undefined);
  assert.deepEqual(toCredentials({ auth: Buffer.from('a:b:c').toString('base64') }), { username: 'a', password: 'b:c' });
  assert.equal(toCredentials({}), undefined);
});

test('events: bus history, deprecated fields, filters', () => {
  const bus = new EventBus();
  const seen: string[] = [];
  const off = bus.subscribe((e) => seen.push(e.Action));
  const t0 = BigInt(Date.now()) * 1_000_000n - 1_000_000_000n;
  const a = bus.publish('image', 'tag', 'sha256:abc', { name: 'x:1' });
  bus.publish('container', 'start', 'c'.repeat(64), { image: 'alpine', name: 'web', 'com.docker.compose.service': 'web' });
  off();
  bus.publish('image', 'delete', 'sha256:abc', { name: 'sha256:abc' });
  assert.deepEqual(seen, ['tag', 'start']);
  assert.equal(a.status, 'tag');
  assert.equal(a.id, 'sha256:abc');
  assert.ok(a.timeNano >= a.time * 1e9);
  const all = bus.replay(t0);
  assert.equal(all.length, 3);
  const f = (j: string) => parseFilters(j);
  assert.deepEqual(all.filter((e) => eventMatches(e, f('{"type":["image"]}'))).map((e) => e.Action), ['tag', 'delete']);
  assert.deepEqual(all.filter((e) => eventMatches(e, f('{"event":{"start":true}}'))).map((e) => e.Action), ['start']);
  assert.deepEqual(all.filter((e) => eventMatches(e, f('{"label":["com.docker.compose.service=web"]}'))).map((e) => e.Action), ['start']);
  assert.deepEqual(all.filter((e) => eventMatches(e, f('{"image":["x"]}'))).map((e) => e.Action), ['tag']);
  assert.deepEqual(all.filter((e) => eventMatches(e, f('{"container":["web"]}'))).map((e) => e.Action), ['start']);
  assert.equal(all[1]!.from, 'alpine');
});

test('format: Go-template fields, json, table headers', async () => {
  const row = { ID: 'abc', Repository: 'busybox', Tag: 'latest', Labels: { a: 'b' }, List: ['x', 'y'] };
  assert.equal(render('{{.ID}} {{.Repository}}:{{.Tag}}', row), 'abc busybox:latest');
  assert.equal(render('{{json .}}', { A: 1 }), '{"A":1}');
  assert.equal(render('{{json .Labels}} {{.Labels}} {{join .List ","}} {{upper .Tag}}', row), '{"a":"b"} map[a:b] x,y LATEST');
  assert.throws(() => render('{{.Nope}}', row), /can't evaluate field Nope/);
  assert.equal(await formatRows([row], 'table {{.ID}}\t{{.Tag}}', '', { ID: 'IMAGE ID', Tag: 'TAG' }), 'IMAGE ID   TAG\nabc        latest\n');
  assert.equal(await formatRows([row, row], '{{.ID}}', '', {}), 'abc\nabc\n');
  assert.equal(tabulate(['a\tbb\tc', 'aaaa\tb\tc']), 'a      bb   c\naaaa   b    c\n');
  assert.equal(humanSize3(1_982_000), '1.98MB'); // HumanSizeWithPrecision(…, 3)
  assert.equal(humanSize(1_982_000), '1.982MB'); // HumanSize
  assert.equal(humanSize(0), '0B');
});

test('cli: -H and environment pick the daemon', () => {
  assert.deepEqual(parseGlobals(['-H', 'unix:///x.sock', 'images', '-q']), { g: { host: 'unix:///x.sock' }, rest: ['images', '-q'] });
  assert.deepEqual(parseGlobals(['--host=unix:///y', 'pull', 'a']), { g: { host: 'unix:///y' }, rest: ['pull', 'a'] });
  assert.equal(resolveHost(undefined, { BERTH_HOST: 'unix:///b', DOCKER_HOST: 'unix:///d' }), 'unix:///b');
  assert.equal(resolveHost(undefined, { DOCKER_HOST: 'unix:///d' }), 'unix:///d');
  assert.equal(resolveHost(undefined, {}), 'unix:///run/berth/berth.sock');
  assert.equal(resolveHost('unix:///f', { DOCKER_HOST: 'unix:///d' }), 'unix:///f');
});
