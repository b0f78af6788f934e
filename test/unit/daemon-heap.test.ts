// daemon/heap: after capYoungGeneration a burst of surviving allocations leaves the young generation
// at its initial size (without it V8 grows it to 32 MB and keeps the pages while the daemon idles).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const heapModule = fileURLToPath(new URL('../../src/daemon/heap.js', import.meta.url));

/**
 * new_space size in MB in a fresh node after a burst that keeps ~20k objects alive between scavenges.
 * cap: capYoungGeneration first; 'flag': only the flag, set once; worker: a worker thread ran before the burst.
 */
function newSpaceAfterBurst(cap: boolean | 'flag', worker = false): number {
  const script = `
    const v8 = await import('node:v8');
    if (${cap === true}) (await import(${JSON.stringify(heapModule)})).capYoungGeneration();
    if (${cap === 'flag'}) v8.setFlagsFromString('--semi-space-growth-factor=1');
    if (${worker}) {
      const { Worker } = await import('node:worker_threads');
      const w = new Worker('', { eval: true });
      await new Promise((resolve) => w.once('online', resolve));
      await w.terminate();
    }
    let keep = [];
    for (let i = 0; i < 1e6; i++) { keep.push({ a: i, b: 'x' + i }); if (keep.length > 20000) keep = []; }
    process.stdout.write(String(v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size / 1048576));`;
  return Number(execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' }));
}

test('capYoungGeneration keeps the young generation at its initial size under a burst', () => {
  const uncapped = newSpaceAfterBurst(false);
  // the control: the burst does grow an uncapped young generation, so the assertion below can fail
  assert.ok(uncapped > 4, `uncapped new space ${uncapped} MB did not grow: the burst proves nothing`);
  const capped = newSpaceAfterBurst(true);
  assert.ok(capped <= 2, `new space ${capped} MB after the burst with the cap`);
});

test('capYoungGeneration holds after a worker thread started (a worker resets the flag for the process)', () => {
  // the control: the flag set once does not survive a worker's start
  const once = newSpaceAfterBurst('flag', true);
  assert.ok(once > 4, `new space ${once} MB with the flag set once before a worker: the worker did not reset it, the test proves nothing`);
  const capped = newSpaceAfterBurst(true, true);
  assert.ok(capped <= 2, `new space ${capped} MB after a worker and the burst with the cap`);
});

/** Runs a module script in a fresh node (with extra node flags) and returns what it printed. */
function fresh(script: string, flags: string[] = []): string {
  return execFileSync(process.execPath, [...flags, '--input-type=module', '-e', script], { encoding: 'utf8' });
}

test('mallocTrim gives back freed malloc memory that glibc keeps (holes below a live chunk)', () => {
  // 48 MB of 32 KiB buffers (malloc'd: under the mmap threshold), one in 16 kept so the freed ones are holes
  // glibc's own trim (the arena's top only) cannot return; RSS before the frees, after them, after the trim
  const out = fresh(`
    const v8 = await import('node:v8'); const vm = await import('node:vm'); const fs = await import('node:fs');
    v8.setFlagsFromString('--expose-gc'); const gc = vm.runInNewContext('gc');
    const rss = () => Number(/VmRSS:\\s+(\\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]);
    let bufs = []; for (let i = 0; i < 1536; i++) bufs.push(Buffer.allocUnsafeSlow(32 << 10).fill(i));
    const full = rss();
    const kept = bufs.filter((_, i) => i % 16 === 15); bufs = null;
    for (let i = 0; i < 3; i++) { gc(); await new Promise((r) => setTimeout(r, 50)); }
    const freed = rss();
    const { mallocTrim } = await import(${JSON.stringify(heapModule)});
    const gave = mallocTrim();
    process.stdout.write(JSON.stringify({ full, freed, trimmed: rss(), gave, kept: kept.length }));`);
  const r = JSON.parse(out) as { full: number; freed: number; trimmed: number; gave: boolean };
  // the control: the frees alone left the memory resident, so the trim has something to prove
  assert.ok(r.freed > r.full - 8192, `RSS fell from ${r.full} to ${r.freed} kB without a trim: the test proves nothing`);
  assert.equal(r.gave, true, 'malloc_trim said it released nothing (is native/build/berth-trim.node built?)');
  assert.ok(r.trimmed < r.freed - 20480, `RSS ${r.freed} -> ${r.trimmed} kB after mallocTrim: under 20 MB went back`);
});

test('trimWhenIdle trims once the server has been quiet, not while a request runs', async () => {
  const { EventEmitter } = await import('node:events');
  const { trimWhenIdle } = await import(heapModule) as typeof import('../../src/daemon/heap.js');
  const server = new EventEmitter();
  let trims = 0;
  trimWhenIdle(server, () => { trims++; }, 30);
  const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const a = new EventEmitter(), b = new EventEmitter();
  server.emit('request', {}, a);
  await wait(60);
  assert.equal(trims, 0, 'trimmed while the first request ran');
  a.emit('close');
  server.emit('upgrade', {}, b); // a hijacked request starts before the quiet time is over
  await wait(60);
  assert.equal(trims, 0, 'trimmed while a hijacked request ran');
  b.emit('close');
  await wait(60);
  assert.equal(trims, 1, 'no trim after the last request ended');
  await wait(60);
  assert.equal(trims, 1, 'trimmed again with no request in between');
});

test('collectAndTrim collects what a burst left dead (Buffers no object holds) and gives the memory back', () => {
  // 24 MB of 32 KiB buffers dropped without a GC since: V8 has not freed them, so malloc still holds them
  const run = (fn: 'mallocTrim' | 'collectAndTrim') => JSON.parse(fresh(`
    const fs = await import('node:fs');
    const rss = () => Number(/VmRSS:\\s+(\\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]);
    const { ${fn}: tidy } = await import(${JSON.stringify(heapModule)});
    let bufs = []; for (let i = 0; i < 768; i++) bufs.push(Buffer.allocUnsafeSlow(32 << 10).fill(i));
    bufs = null;
    const before = rss();
    tidy();
    await new Promise((r) => setTimeout(r, 50));
    process.stdout.write(JSON.stringify({ before, after: rss() }));`)) as { before: number; after: number };
  // the control: the trim alone collects nothing, and the dead buffers stay
  const trimOnly = run('mallocTrim');
  assert.ok(trimOnly.after > trimOnly.before - 8192, `RSS ${trimOnly.before} -> ${trimOnly.after} kB with the trim alone: the test proves nothing`);
  const r = run('collectAndTrim');
  assert.ok(r.after < r.before - 16384, `RSS ${r.before} -> ${r.after} kB after collectAndTrim: under 16 MB went back`);
});

test('collectAndTrim gives back the young generation\'s idle pages, which a plain gc() keeps (the addon\'s lowMemory)', () => {
  // a burst of short-lived objects leaves both semi-spaces touched (new_space physical 2 MB at a 1 MB cap)
  const run = (how: 'gc' | 'collectAndTrim') => JSON.parse(fresh(`
    const v8 = await import('node:v8');
    const { collectAndTrim } = await import(${JSON.stringify(heapModule)});
    const phys = () => v8.getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').physical_space_size >> 10;
    let keep = []; for (let i = 0; i < 300000; i++) { keep.push({ a: i, b: 'x' + i }); if (keep.length > 1000) keep = []; }
    keep = null;
    const before = phys();
    if (${JSON.stringify(how)} === 'gc') gc(); else collectAndTrim();
    process.stdout.write(JSON.stringify({ before, after: phys() }));`, ['--expose-gc', '--max-semi-space-size=1'])) as { before: number; after: number };
  // the control: a plain full GC leaves the new space's pages as they were
  const plain = run('gc');
  assert.ok(plain.before >= 1536 && plain.after >= plain.before, `new space ${plain.before} -> ${plain.after} kB with gc(): the test proves nothing`);
  const r = run('collectAndTrim');
  assert.ok(r.after <= r.before / 2, `new space ${r.before} -> ${r.after} kB after collectAndTrim (is native/build/berth-trim.node built?)`);
});
