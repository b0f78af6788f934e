// Bundles each CLI program into files loaded by command group (lazy chunks), so start-up reads a few files.
// (Type checking and the test build are tsc's job; this only makes what `berth` and `berthd` run.)
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { Script } from 'node:vm';
import { build } from 'esbuild';

rmSync('dist/bin', { recursive: true, force: true }); // chunk names change: no stale ones

// what both ESM builds (the CLI's entries and berthd) share
const esmBuild = {
  outbase: 'src',
  outdir: 'dist/bin',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  // lazily imported parts (the seccomp compiler) become chunks of their own
  splitting: true,
  // CommonJS dependencies may call require() for Node's own modules
  banner: { js: "import { createRequire as __berthRequire } from 'node:module'; const require = __berthRequire(import.meta.url);" },
  charset: 'ascii',
  logLevel: 'warning',
};

await build({
  ...esmBuild,
  entryPoints: ['src/cli/berth.ts', 'src/cli/image.ts', 'src/cli/docker/index.ts'],
  chunkNames: 'chunks/[name]-[hash]',
  // command groups stay separate files, loaded only when used
  external: ['./runtime.js', './image.js', './docker/index.js'],
  define: { BERTH_RUNTIME_CJS: 'true' },
});

// berthd is a build of its own: sharing chunks with the CLI's entries split its code into ~30 files, and
// Node's ESM loader resolves every import between them (realpath, package scope lookup). That work made
// V8 optimise two of Node's path functions at start-up, which paged in ~4 MB of its optimising compiler,
// resident for the daemon's life (issue 13, idle RSS). Its own lazy parts (ajv, seccomp, the unpack
// worker, build) still become chunks of their own.
await build({
  ...esmBuild,
  entryPoints: ['src/daemon/berthd.ts'],
  // V8 keeps each loaded file's source for as long as the daemon runs (lazy functions compile from it):
  // without indentation and line breaks the main chunk is ~200 KB smaller, idle RSS -0.5 MB (issue 13).
  // Names stay, so a stack trace still names its functions (at line 1, column N).
  minifyWhitespace: true,
  chunkNames: 'chunks/berthd-[name]-[hash]', // the same depth as the CLI's chunks: paths found from import.meta.url
});

// In berth-fast.cjs, import('./template.js') becomes a require of template.cjs beside it at run time (a
// vm.Script has no import(); berth.cjs hands the bundle its require).
const templateApart = {
  name: 'template-apart',
  setup(b) {
    b.onResolve({ filter: /\/template\.js$/ }, (a) => (a.kind === 'dynamic-import' ? { path: 'template', namespace: 'template-apart' } : undefined));
    b.onLoad({ filter: /.*/, namespace: 'template-apart' }, () => ({ contents: "module.exports = require('./template.cjs');", loader: 'js' }));
    b.onResolve({ filter: /^\.\/template\.cjs$/ }, () => ({ path: './template.cjs', external: true }));
  },
};

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
  external: ['./berth.js', './cp.cjs'],
  charset: 'ascii',
  logLevel: 'warning',
  plugins: [templateApart],
});

/** A CLI command's code as a CommonJS file of its own, which berth-fast.cjs require()s when it is needed. */
const cliPart = (entry, outfile) => build({
  entryPoints: [entry], outfile, bundle: true, platform: 'node', target: 'node20', format: 'cjs', charset: 'ascii', logLevel: 'warning',
});

// The Go-template engine is dist/bin/cli/template.cjs, required when a --format needs it (cli/docker/format.ts
// imports it lazily): `berth ps`/`inspect` without --format never read it (bench/cli.sh, issue 10/13).
await cliPart('src/cli/docker/template.ts', 'dist/bin/cli/template.cjs');

// `berth cp` is a bundle of its own that berth-fast.cjs require()s when the command is cp: inside berth-fast it
// started the full entry no more (~80 ms of a copy), but its tar code cost every other command ~5 M instructions
// at start-up (valgrind, `berth ps`: 130.6 M before, 136 M with it inside, issue 10).
await cliPart('src/cli/docker/cp.ts', 'dist/bin/cli/cp.cjs');


// `berth runtime` is a cold process by nature (every runc verb is one): one CommonJS file loads in ~30 ms
// of CPU where the ESM entry and its chunks took ~50 (issue 13, bench/runtime.sh). berth.js require()s
// it (BERTH_RUNTIME_CJS); runtime.js stays as an ESM face for any other importer (slower: Node lexes
// the whole file for its export names).
// The seccomp compiler (its syscall tables and Docker's profile: 82 of the bundle's 217 KB) is a file of
// its own, required at a filter cache miss only (seccomp-cache.ts imports it lazily): every cold start
// deserialized its part of the eager code cache below, profile or not (issue 13).
const cjsRuntime = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  // the helper's path is found from this file's own place (same depth as the chunks)
  define: { 'import.meta.url': '__berthUrl' },
  banner: { js: 'const __berthUrl = require("node:url").pathToFileURL(__filename).href;' },
  logLevel: 'warning',
};
await build({
  ...cjsRuntime,
  entryPoints: ['src/cli/runtime.ts'],
  outfile: 'dist/bin/cli/runtime.cjs',
  // import('./seccomp/index.js') -> require('./runtime-seccomp.cjs'), from this file's directory
  supported: { 'dynamic-import': false },
  plugins: [{
    name: 'seccomp-apart',
    setup(b) {
      b.onResolve({ filter: /\/seccomp\/index\.js$/ }, (a) => (a.kind === 'dynamic-import' ? { path: './runtime-seccomp.cjs', external: true } : undefined));
    },
  }],
});
await build({ ...cjsRuntime, entryPoints: ['src/runtime/seccomp/index.ts'], outfile: 'dist/bin/cli/runtime-seccomp.cjs' });
writeFileSync('dist/bin/cli/runtime.js', "export { main, direct } from './runtime.cjs';\n");

// esbuild turns each file's `import * as fs from 'node:fs'` into __toESM(require('node:fs')) in a CommonJS
// bundle: a fresh object with a getter per export (fs has ~100), 24 of them in runtime.cjs, ~240 KB of
// garbage and a scavenge at every cold start (--heap-prof of `berth runtime run`). Node's own module object
// serves reads of its members the same, so a namespace whose .default nobody reads takes it as it is.
for (const f of ['dist/bin/cli/runtime.cjs', 'dist/bin/cli/berth-fast.cjs', 'dist/bin/cli/cp.cjs']) {
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


// Node 20 has no compile cache of its own (module.enableCompileCache is Node 22): berth.cjs compiles each
// cold-start bundle with V8's code cache made here, so a start deserializes it instead of parsing the file
// (berth-fast.cjs: valgrind ~5 M of the ~45 M instructions `berth ps` spends above `node -e 0`, bench/cli.sh;
// runtime.cjs, 210 KB: ~5 ms of a cold `berth runtime run`, bench/runtime.sh). V8 rejects a cache made by
// another Node or under other V8 flags (--cpu-prof, say), and the bundle is then compiled as usual. The
// wrapper is the CommonJS one (berth-fast's has __berthFull too, the full entry's import(), which a
// vm.Script lacks); a bundle is one line into it so its line numbers stay. Written last: the ASCII pass
// above rewrites files.
// runtime.cjs's cache is made eagerly (every function compiled, not only the top level V8 compiles by
// itself): a run calls most of the bundle, and each function compiled lazily is parsed from source again
// (valgrind, node process of `berth runtime run`: 213 M instructions uncached, 187 M with a lazy cache,
// 164 M with the eager one, against 85 M for `node -e 0`). --lazy is back on before the cache is written,
// so it carries the flags a plain `node` runs with and V8 takes it.
const CJS = ['(function (exports, require, module, __filename, __dirname) {', '\n})'];
const FAST = ['(function (exports, require, module, __filename, __dirname, __berthFull, __berthRequire) {', '\n})'];
// cp.cjs's cache is eager too: a copy calls most of its tar code (valgrind, `berth cp CTR:/etc/hostname F`,
// three interleaved runs each: 146.96-155.49 M instructions uncached (required as before), 142.9-144.7 M
// with a lazy cache, 127.7-131.4 M with the eager one; its cache file is 141 KB).
// berth-fast.cjs's stays lazy. Eager (stop 28) cut `berth ps` by ~5 M instructions (callgrind: 27.6 -> 19.3 M
// compiling, +2 M deserializing), but bench/cli.sh with the lazy build as base, same rounds, quiet host, put its
// first byte 1.5-2.5 ms later for all five commands (a 211 KB cache to read and deserialize, not 31 KB).
for (const [name, wrap, eager] of [['berth-fast.cjs', FAST, false], ['runtime.cjs', CJS, true], ['cp.cjs', CJS, true]]) {
  const file = `dist/bin/cli/${name}`;
  const src = readFileSync(file, 'latin1').replace(/^#!.*/, ''); // a hashbang line stays, empty
  writeFileSync(file, src, 'latin1');
  if (eager) setFlagsFromString('--no-lazy');
  const script = new Script(wrap[0] + src + wrap[1], { filename: file });
  if (eager) setFlagsFromString('--lazy');
  writeFileSync(`${file}.cache`, script.createCachedData());
}
writeFileSync('dist/bin/cli/berth.cjs', `#!/usr/bin/env node
'use strict';
// berth: the installed entry (package.json bin). \`berth runtime\` (a cold process per runc verb) runs
// runtime.cjs (cli/runtime.ts direct); any other command runs berth-fast.cjs, the common container
// commands, which goes on to the full entry berth.js for the rest. Each from the code cache the build
// made beside it (scripts/build.mjs).
const { readFileSync } = require('node:fs');
const { Script } = require('node:vm');
/** Runs one of our CommonJS bundles (wrapper \`wrap\`, extra arguments after the usual five); its exports. */
function run(name, wrap, ...extra) {
  const file = \`\${__dirname}/\${name}\`;
  let cachedData;
  try { cachedData = readFileSync(\`\${file}.cache\`); } catch { /* no cache: compiled as usual */ }
  const script = new Script(wrap[0] + readFileSync(file, 'latin1') + wrap[1], { filename: file, cachedData });
  if (process.env.BERTH_DEBUG && script.cachedDataRejected !== false) process.stderr.write(\`berth: code cache not used (\${name})\\n\`);
  const m = { exports: {} };
  script.runInThisContext().call(m.exports, m.exports, require, m, file, __dirname, ...extra);
  return m.exports;
}
if (process.argv[2] === 'runtime') run('runtime.cjs', ${JSON.stringify(CJS)}).direct(process.argv.slice(3));
// berth-fast require()s cp.cjs for \`berth cp\`: from its cache too
else run('berth-fast.cjs', ${JSON.stringify(FAST)}, () => import('./berth.js'), (id) => (id === './cp.cjs' ? run('cp.cjs', ${JSON.stringify(CJS)}) : require(id)));
`, { mode: 0o755 });
