#!/usr/bin/env node
// Runs the compiled test suite: `node test/run.mjs [unit|integration] [FILTER]`.
// As root the run happens inside a private mount namespace, so a failing test cannot leave
// mounts behind on the host. Node's test runner prints the closing summary CI reads.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const [kind, filter] = process.argv.slice(2);
const root = new URL('../dist/test/', import.meta.url).pathname;
const dirs = kind === 'unit' || kind === 'integration' ? [kind] : ['unit', 'integration'];
const files = [];
const walk = (d) => {
  let names = [];
  try { names = readdirSync(d); } catch { return; }
  for (const n of names.sort()) {
    const p = join(d, n);
    if (statSync(p).isDirectory()) walk(p);
    else if (n.endsWith('.test.js') && (!filter || p.includes(filter))) files.push(p);
  }
};
for (const d of dirs) walk(join(root, d));
if (files.length === 0) { console.error('no test files found: run `npm run build` first'); process.exit(1); }

const node = [process.execPath, '--test', '--test-concurrency=1', ...files];
const asRoot = process.getuid?.() === 0;
const cmd = asRoot ? ['unshare', '-m', '--propagation', 'private', ...node] : node;
const r = spawnSync(cmd[0], cmd.slice(1), { stdio: 'inherit' });
process.exit(r.status ?? 1);
