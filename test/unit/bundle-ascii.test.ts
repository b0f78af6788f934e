// scripts/build.mjs: the shipped bundles are ASCII only. One non-ASCII character (a `…` in a comment
// esbuild kept) makes V8 hold the whole file's source as a two-byte string: twice its memory in berthd.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../../bin', import.meta.url));

test('every bundled file is ASCII', () => {
  const files = fs.readdirSync(bin, { recursive: true, encoding: 'utf8' }).filter((n) => /\.c?js$/.test(n));
  assert.ok(files.includes(path.join('daemon', 'berthd.js')), `berthd's bundle is in ${bin} (npm run build)`);
  for (const f of files) {
    const text = fs.readFileSync(path.join(bin, f), 'utf8');
    const i = text.search(/[^\x00-\x7f]/);
    assert.equal(i, -1, `${f}: non-ASCII at ${i}: ${JSON.stringify(text.slice(Math.max(0, i - 40), i + 10))}`);
  }
});
