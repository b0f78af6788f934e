// Bundles each CLI program into files loaded by command group (lazy chunks), so start-up reads a few files.
// (Type checking and the test build are tsc's job; this only makes what `berth` and `berthd` run.)
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { build } from 'esbuild';

rmSync('dist/bin', { recursive: true, force: true }); // chunk names change: no stale ones

await build({
  entryPoints: ['src/cli/berth.ts', 'src/cli/image.ts', 'src/cli/docker/index.ts', 'src/daemon/berthd.ts'],
  outbase: 'src',
  outdir: 'dist/bin',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  // lazily imported parts (the seccomp compiler) become chunks of their own
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  // command groups stay separate files, loaded only when used
  external: ['./runtime.js', './image.js', './docker/index.js'],
  define: { BERTH_RUNTIME_CJS: 'true' },
  // CommonJS dependencies may call require() for Node's own modules
  banner: { js: "import { createRequire as __berthRequire } from 'node:module'; const require = __berthRequire(import.meta.url);" },
  charset: 'ascii',
  logLevel: 'warning',
});

// The installed `berth` (package.json bin) starts from one CommonJS file: Node loads it without the ESM
// loader and its per-module resolve/read/link, ~40 ms less CPU than the chunked ESM entry for `berth ps`
// (bench/cli.sh). It holds only the common container commands; it imports berth.js for everything else.
await build({
  entryPoints: ['src/cli/fast.ts'],
  outfile: 'dist/bin/cli/berth.cjs',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  external: ['./berth.js'],
  charset: 'ascii',
  logLevel: 'warning',
});


// `berth runtime` is a cold process by nature (every runc verb is one): one CommonJS file, with the seccomp
// compiler inside, loads in ~30 ms of CPU where the ESM entry and its chunks took ~50 (issue 13,
// bench/runtime.sh). berth.js require()s it (BERTH_RUNTIME_CJS); runtime.js stays as an ESM face for
// any other importer (slower: Node lexes the whole file for its export names).
await build({
  entryPoints: ['src/cli/runtime.ts'],
  outfile: 'dist/bin/cli/runtime.cjs',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  // the helper's path is found from this file's own place (same depth as the chunks)
  define: { 'import.meta.url': '__berthUrl' },
  banner: { js: 'const __berthUrl = require("node:url").pathToFileURL(__filename).href;' },
  logLevel: 'warning',
});
// esbuild turns each file's `import * as fs from 'node:fs'` into __toESM(require('node:fs')): a fresh object
// with a getter per export (fs has ~100), 24 of them in this file, ~240 KB of garbage and a scavenge at every
// start (--heap-prof of `berth runtime run`). Node's own module object serves reads of its members the same,
// so a namespace whose .default nobody reads takes it as it is.
const rt = 'dist/bin/cli/runtime.cjs';
writeFileSync(rt, readFileSync(rt, 'utf8').replace(/var (\w+) = __toESM\((require\("node:[\w/]+"\))(?:, 1)?\);/g,
  (all, name, req, _o, text) => (text.includes(`${name}.default`) ? all : `var ${name} = ${req};`)));
writeFileSync('dist/bin/cli/runtime.js', "export { main } from './runtime.cjs';\n");

// One non-ASCII character makes V8 keep a whole file's source as a two-byte string (twice the memory).
// charset 'ascii' escapes strings; what esbuild leaves (regular expressions, comments) becomes \uXXXX, which
// means the same there (per UTF-16 unit, as a regular expression without the u flag reads it).
for (const f of readdirSync('dist/bin', { recursive: true, encoding: 'utf8' }).filter((n) => n.endsWith('.js') || n.endsWith('.cjs'))) {
  const file = `dist/bin/${f}`;
  const text = readFileSync(file, 'utf8');
  if (/[^\x00-\x7f]/.test(text)) writeFileSync(file, text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
}

