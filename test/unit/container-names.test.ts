import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkName, newId, randomName, resolveRef } from '../../src/containers/names.js';

test('ids are 64 hex characters and unique', () => {
  const a = newId(), b = newId();
  assert.match(a, /^[a-f0-9]{64}$/);
  assert.notEqual(a, b);
});

test('names follow docker\'s rules', () => {
  assert.equal(checkName('/web-1'), 'web-1');
  assert.equal(checkName('a.b_c'), 'a.b_c');
  for (const bad of ['-x', 'a', 'has space', 'ü', '_x'])
    assert.throws(() => checkName(bad), /Invalid container name \(.*\), only \[a-zA-Z0-9\]\[a-zA-Z0-9_.-\] are allowed/);
  const taken = new Set<string>();
  for (let i = 0; i < 200; i++) { const n = randomName((x) => taken.has(x)); assert.ok(!taken.has(n)); checkName(n); taken.add(n); }
});

test('references resolve like docker: id, name, unique prefix', () => {
  const all = [{ id: 'abc123'.padEnd(64, '0'), name: 'web' }, { id: 'abd456'.padEnd(64, '0'), name: 'db' }];
  assert.equal(resolveRef('web', all).name, 'web');
  assert.equal(resolveRef('/db', all).name, 'db');
  assert.equal(resolveRef('abc', all).name, 'web');
  assert.equal(resolveRef(all[1]!.id, all).name, 'db');
  assert.throws(() => resolveRef('ab', all), /multiple IDs found with provided prefix: ab/);
  assert.throws(() => resolveRef('nope', all), /No such container: nope/);
});
