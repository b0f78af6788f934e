import assert from 'node:assert/strict';
import { test } from 'node:test';
import { familiarString, formatReference, parseReference } from '../../src/registry/reference.js';
import { parseChallenges } from '../../src/registry/auth.js';

test('references normalise like docker', () => {
  const cases: Array<[string, string]> = [
    ['busybox', 'docker.io/library/busybox:latest'],
    ['busybox:1.36', 'docker.io/library/busybox:1.36'],
    ['user/app', 'docker.io/user/app:latest'],
    ['index.docker.io/library/busybox', 'docker.io/library/busybox:latest'],
    ['localhost/app', 'localhost/app:latest'],
    ['localhost:5000/a/b:tag', 'localhost:5000/a/b:tag'],
    ['127.0.0.1:5000/a/b@sha256:' + 'a'.repeat(64), '127.0.0.1:5000/a/b@sha256:' + 'a'.repeat(64)],
    ['quay.io/org/img:v1@sha256:' + 'b'.repeat(64), 'quay.io/org/img:v1@sha256:' + 'b'.repeat(64)],
    ['a.b-c_d__e', 'docker.io/library/a.b-c_d__e:latest'],
  ];
  for (const [input, want] of cases) assert.equal(formatReference(parseReference(input)), want, input);
});

test('invalid references are refused with docker wording', () => {
  for (const bad of ['', 'Busybox', 'a//b', 'a:b:c', 'busybox@sha256:abc', '-a', 'a/-b', 'x:' + 'y'.repeat(200)]) {
    assert.throws(() => parseReference(bad), /invalid reference format/, bad);
  }
  assert.throws(() => parseReference('docker.io/Library/x'), /must be lowercase/);
});

test('familiar names strip docker.io/library', () => {
  assert.equal(familiarString('docker.io/library/busybox:latest'), 'busybox:latest');
  assert.equal(familiarString('docker.io/user/app:1'), 'user/app:1');
  assert.equal(familiarString('localhost:5000/a:1'), 'localhost:5000/a:1');
});

test('WWW-Authenticate challenges parse', () => {
  const c = parseChallenges('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push"');
  assert.deepEqual(c, [{ scheme: 'bearer', params: { realm: 'https://auth.example/token', service: 'registry.example', scope: 'repository:a/b:pull,push' } }]);
  const two = parseChallenges('Basic realm="r", Bearer realm="x"');
  assert.deepEqual(two.map((x) => x.scheme), ['basic', 'bearer']);
  assert.deepEqual(parseChallenges(null), []);
});
