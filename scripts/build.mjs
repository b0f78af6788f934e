// Bundles each CLI program and command group into one file, so start-up reads a few files, not dozens.
// (Type checking and the test build are tsc's job; this only makes what `berth` and `berthd` run.)
import { rmSync } from 'node:fs';
import { build } from 'esbuild';

rmSync('dist/bin', { recursive: true, force: true }); // chunk names change: no stale ones

await build({
  entryPoints: ['src/cli/berth.ts', 'src/cli/runtime.ts', 'src/cli/image.ts', 'src/cli/docker/index.ts', 'src/daemon/berthd.ts'],
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
  // CommonJS dependencies may call require() for Node's own modules
  banner: { js: "import { createRequire as __berthRequire } from 'node:module'; const require = __berthRequire(import.meta.url);" },
  logLevel: 'warning',
});
