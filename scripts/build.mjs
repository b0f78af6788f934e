// Bundles each CLI program into files loaded by command group (lazy chunks), so start-up reads a few files.
// (Type checking and the test build are tsc's job; this only makes what `berth` and `berthd` run.)
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Script } from 'node:vm';
import { build } from 'esbuild';

rmSync('dist/bin', { recursive: true, force: true }); // chunk names change: no stale ones

await build({
  entryPoints: ['src/cli/berth.ts', 'src/cli/image.ts', 'src/cli/docker/index.ts'],
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

// berthd is a build of its own: sharing chunks with the CLI's entries split its code into ~30 files, and
// Node's ESM loader resolves every import between them (realpath, package scope lookup). That work made
// V8 optimise two of Node's path functions at start-up, which paged in ~4 MB of its optimising compiler,
// resident for the daemon's life (issue 13, idle RSS). Its own lazy parts (ajv, seccomp, the unpack
// worker, build) still become chunks of their own.
await build({
  entryPoints: ['src/daemon/berthd.ts'],
  outbase: 'src',
  outdir: 'dist/bin',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  splitting: true,
  chunkNames: 'chunks/berthd-[name]-[hash]', // the same depth as the CLI's chunks: paths found from import.meta.url
  banner: { js: "import { createRequire as __berthRequire } from 'node:module'; const require = __berthRequire(import.meta.url);" },
  charset: 'ascii',
  logLevel: 'warning',
});

// The installed `berth` (package.json bin) starts from one CommonJS file: Node loads it without the ESM
// loader and its per-module resolve/read/link, ~40 ms less CPU than the chunked ESM entry for `berth ps`
// (bench/cli.sh). It holds only the common container commands; it imports berth.js for everything else.
// berth.cjs itself is a small loader (written below) that runs this bundle, berth-fast.cjs, from a code cache.
await build({
  entryPoints: ['src/cli/fast.ts'],
  outfile: 'dist/bin/cli/berth-fast.cjs',
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
writeFileSync('dist/bin/cli/runtime.js', "export { main } from './runtime.cjs';\n");

// esbuild turns each file's `import * as fs from 'node:fs'` into __toESM(require('node:fs')) in a CommonJS
// bundle: a fresh object with a getter per export (fs has ~100), 24 of them in runtime.cjs, ~240 KB of
// garbage and a scavenge at every cold start (--heap-prof of `berth runtime run`). Node's own module object
// serves reads of its members the same, so a namespace whose .default nobody reads takes it as it is.
for (const f of ['dist/bin/cli/runtime.cjs', 'dist/bin/cli/berth-fast.cjs']) {
  // `var fs = …` at the top, or `fs = …` in a lazily initialised module
  writeFileSync(f, readFileSync(f, 'utf8').replace(/\b(var )?(\w+) = __toESM\((require\("node:[\w/]+"\))(?:, 1)?\);/g,
    (all, decl, name, req, _o, text) => (text.includes(`${name}.default`) ? all : `${decl ?? ''}${name} = ${req};`)));
}

// One non-ASCII character makes V8 keep a whole file's source as a two-byte string (twice the memory).
// charset 'ascii' escapes strings; what esbuild leaves (regular expressions, comments) becomes \uXXXX, which
// means the same there (per UTF-16 unit, as a regular expression without the u flag reads it).
for (const f of readdirSync('dist/bin', { recursive: true, encoding: 'utf8' }).filter((n) => n.endsWith('.js') || n.endsWith('.cjs'))) {
  const file = `dist/bin/${f}`;
  const text = readFileSync(file, 'utf8');
  if (/[^\x00-\x7f]/.test(text)) writeFileSync(file, text.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
}


// Node 20 has no compile cache of its own (module.enableCompileCache is Node 22): berth.cjs compiles the
// bundle with V8's code cache made here, so a start deserializes it instead of parsing 80 KB (valgrind: ~5 M
// of the ~45 M instructions `berth ps` spends above `node -e 0`; bench/cli.sh). V8 rejects a cache made by
// another Node or under other V8 flags (--cpu-prof, say), and the bundle is then compiled as usual. The
// wrapper is the CommonJS one plus __berthFull, the full entry's import() (not available in a vm.Script);
// the bundle is one line into it so its line numbers stay. Written last: the ASCII pass above rewrites files.
const FAST = 'dist/bin/cli/berth-fast.cjs';
const WRAP = ['(function (exports, require, module, __filename, __dirname, __berthFull) {', '\n})'];
const fastSrc = readFileSync(FAST, 'latin1').replace(/^#!.*/, ''); // the hashbang line stays, empty
writeFileSync(FAST, fastSrc, 'latin1');
writeFileSync(`${FAST}.cache`, new Script(WRAP[0] + fastSrc + WRAP[1], { filename: FAST }).createCachedData());
writeFileSync('dist/bin/cli/berth.cjs', `#!/usr/bin/env node
'use strict';
// berth: the installed entry (package.json bin). Runs berth-fast.cjs, the common container commands, from
// the code cache the build made (scripts/build.mjs); any other command goes on to the full entry berth.js.
// \`berth runtime\` (a cold process per runc verb) goes straight to its own CommonJS file (cli/runtime.ts direct)
if (process.argv[2] === 'runtime') return require('./runtime.cjs').direct(process.argv.slice(3));
const { readFileSync } = require('node:fs');
const { Script } = require('node:vm');
const file = \`\${__dirname}/berth-fast.cjs\`;
let cachedData;
try { cachedData = readFileSync(\`\${file}.cache\`); } catch { /* no cache: compiled as usual */ }
const script = new Script(${JSON.stringify(WRAP[0])} + readFileSync(file, 'latin1') + ${JSON.stringify(WRAP[1])}, { filename: file, cachedData });
if (process.env.BERTH_DEBUG && script.cachedDataRejected !== false) process.stderr.write('berth: code cache not used\\n');
const main = script.runInThisContext();
main.call(module.exports, module.exports, require, module, file, __dirname, () => import('./berth.js'));
`, { mode: 0o755 });
