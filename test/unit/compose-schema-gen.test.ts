// src/compose/schema-check.gen.ts is ajv's standalone code for COMPOSE_SCHEMA, generated once instead of
// compiled at every `berth compose` start (compiling took ~130 ms of a ~370 ms `config -q` in the CPU
// profile). This test regenerates it and fails when it drifted; UPDATE_GOLDEN=1 rewrites it.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import ajvModule from 'ajv';
import standaloneModule from 'ajv/dist/standalone/index.js';
import { AJV_OPTIONS, COMPOSE_SCHEMA, validateModel } from '../../src/compose/schema.js';

const Ajv = (ajvModule as unknown as { Ajv: typeof ajvModule.default }).Ajv;
const standalone = ((standaloneModule as unknown as { default?: unknown }).default ?? standaloneModule) as (ajv: InstanceType<typeof Ajv>, v: unknown) => string;

function generated(): string {
  const ajv = new Ajv({ ...AJV_OPTIONS, code: { source: true, esm: true } });
  const code = standalone(ajv, ajv.compile(COMPOSE_SCHEMA));
  return `// @ts-nocheck\n// Generated from COMPOSE_SCHEMA (src/compose/schema.ts) by ajv's standalone mode: do not edit; run\n// UPDATE_GOLDEN=1 node test/run.mjs unit compose-schema-gen after changing the schema.\n${code}\n`;
}

function source(): string {
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); ; dir = path.dirname(dir)) {
    const c = path.join(dir, 'src', 'compose', 'schema-check.gen.ts');
    if (fs.existsSync(c) && !dir.endsWith('/dist')) return c;
    if (dir === path.dirname(dir)) throw new Error('src/compose/schema-check.gen.ts not found');
  }
}

test('the precompiled compose validator matches COMPOSE_SCHEMA', () => {
  const got = generated();
  if (process.env.UPDATE_GOLDEN) fs.writeFileSync(source(), got);
  assert.ok(fs.readFileSync(source(), 'utf8') === got, 'src/compose/schema-check.gen.ts is stale: run with UPDATE_GOLDEN=1');
});

test('the precompiled validator accepts and refuses like the schema', () => {
  validateModel({ services: { web: { image: 'x', ports: ['80:80'] } } });
  assert.throws(() => validateModel({ services: { web: { image: 'x', bogus: 1 } } }), /services\.web additional properties 'bogus' not allowed/);
});
