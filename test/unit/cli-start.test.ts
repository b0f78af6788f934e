import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

// issue 13: what the installed `berth` loads before its first request decides its start-up time. These
// check the loaded modules, never a timing: a slow module that creeps back into the start path fails here.
const root = fileURLToPath(new URL('../../../', import.meta.url));
const bin = path.join(root, (JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { bin: Record<string, string> }).bin.berth!);

/** Runs the installed entry with a preload that writes the Node modules loaded after start-up. */
function loaded(args: string[]): Promise<{ modules: string[]; code: number; stdout: string; stderr: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-cli-start-'));
  const out = path.join(dir, 'modules');
  const preload = path.join(dir, 'preload.cjs');
  fs.writeFileSync(preload, `const base = new Set(process.moduleLoadList);
process.on('exit', () => require('fs').writeFileSync(${JSON.stringify(out)}, process.moduleLoadList.filter((m) => !base.has(m)).join('\\n')));`);
  return new Promise((resolve) => {
    execFile(process.execPath, ['-r', preload, bin, ...args], { env: { ...process.env, BERTH_HOST: `unix://${dir}/nosuch.sock` } }, (e, stdout, stderr) => {
      const modules = fs.readFileSync(out, 'utf8').split('\n').map((l) => l.replace(/^NativeModule /, ''));
      fs.rmSync(dir, { recursive: true, force: true });
      resolve({ modules, code: typeof e?.code === 'number' ? e.code : 0, stdout, stderr });
    });
  });
}

test('the installed berth answers ps, run, exec, logs and inspect from one CommonJS file, without the ESM loader', async () => {
  for (const words of [['ps'], ['run', '--rm', 'busybox', 'true'], ['exec', 'c', 'true'], ['logs', 'c'], ['inspect', 'c']]) {
    const r = await loaded(words);
    assert.match(r.stderr, /Cannot connect to the Berth daemon/, `${words.join(' ')} reached for the daemon`);
    for (const slow of ['internal/modules/esm/loader', 'http', 'crypto', 'child_process', 'os', 'zlib', 'dgram']) {
      assert.ok(!r.modules.includes(slow), `berth ${words.join(' ')} loads ${slow} before its first request`);
    }
  }
});

test('the installed berth runs its bundles from the code caches the build made (V8 accepts them)', async () => {
  const stderr = (args: string[]) => new Promise<string>((resolve) => {
    execFile(process.execPath, [bin, ...args], { env: { ...process.env, BERTH_DEBUG: '1', BERTH_HOST: 'unix:///nonexistent/berth.sock' } }, (_e, _out, err) => resolve(err));
  });
  const ps = await stderr(['ps']);
  assert.match(ps, /Cannot connect to the Berth daemon/);
  assert.doesNotMatch(ps, /code cache not used/);
  // runtime.cjs's cache is made with every function compiled (scripts/build.mjs): V8 must still take it
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-cli-start-root-'));
  try {
    const rt = await stderr(['runtime', '--root', dir, 'state', 'nosuch']);
    assert.match(rt, /container nosuch does not exist/);
    assert.doesNotMatch(rt, /code cache not used/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  // `berth cp` runs cp.cjs from its (eager) cache too: taken here, and missed where the cache file is not
  const cp = await stderr(['cp', 'nosuch:/x', path.join(os.tmpdir(), 'berth-cli-start-cp')]);
  assert.match(cp, /Cannot connect to the Berth daemon/);
  assert.doesNotMatch(cp, /code cache not used/);
  const copy = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-cli-start-bin-'));
  try {
    for (const f of ['berth.cjs', 'berth-fast.cjs', 'berth-fast.cjs.cache', 'cp.cjs']) fs.copyFileSync(path.join(path.dirname(bin), f), path.join(copy, f));
    const missed = await new Promise<string>((resolve) => {
      execFile(process.execPath, [path.join(copy, 'berth.cjs'), 'cp', 'nosuch:/x', path.join(copy, 'out')], { env: { ...process.env, BERTH_DEBUG: '1', BERTH_HOST: 'unix:///nonexistent/berth.sock' } }, (_e, _out, err) => resolve(err));
    });
    assert.match(missed, /code cache not used \(cp\.cjs\)/);
    assert.match(missed, /Cannot connect to the Berth daemon/);
  } finally {
    fs.rmSync(copy, { recursive: true, force: true });
  }
});

test('the runtime bundle leaves the seccomp compiler to a file of its own, required at a filter cache miss', async () => {
  const dir = path.dirname(bin);
  const runtime = fs.readFileSync(path.join(dir, 'runtime.cjs'), 'utf8');
  // the syscall table and Docker's profile are not deserialized at every cold start
  assert.doesNotMatch(runtime, /SCMP_ACT_ALLOW|DOCKER_DEFAULT_PROFILE/);
  assert.match(runtime, /require\("\.\/runtime-seccomp\.cjs"\)/);
  const { compileSeccomp } = createRequire(bin)('./runtime-seccomp.cjs') as typeof import('../../src/runtime/seccomp/index.js');
  const c = compileSeccomp({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64'], syscalls: [{ names: ['mkdir'], action: 'SCMP_ACT_ERRNO' }] });
  assert.ok(c.filter.length > 0 && c.filter.length % 8 === 0);
});

test('every other command and --help go on to the full entry, with its output', async () => {
  const help = await loaded(['ps', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /^Usage: {2}berth ps \[OPTIONS\]/);
  const complete = await loaded(['__complete', 'subcommands', 'compose']);
  assert.match(complete.stdout, /^up\ndown\n/);
  const images = await loaded(['images']);
  assert.match(images.stderr, /Cannot connect to the Berth daemon/);
});

test('the installed berth goes straight to the runtime bundle for `berth runtime`, without the ESM loader or the client', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-cli-start-root-'));
  try {
    const r = await loaded(['runtime', '--root', dir, 'state', 'nosuch']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^berth: container nosuch does not exist\n$/);
    assert.ok(!r.modules.includes('internal/modules/esm/loader'), 'berth runtime went through the ESM entry');
    const help = await loaded(['runtime', '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: berth runtime/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
