// util/tiering: capTiers keeps V8's optimising compiler off (in worker threads too); a tar stream past
// BULK_BYTES brings it back for the process.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const tiering = fileURLToPath(new URL('../../src/util/tiering.js', import.meta.url));
const tarReader = fileURLToPath(new URL('../../src/snapshots/tar-reader.js', import.meta.url));
const tarHeader = fileURLToPath(new URL('../../src/snapshots/tar-header.js', import.meta.url));

const HOT = 'function f(s) { let n = 0; for (let i = 0; i < s.length; i++) n += s.charCodeAt(i); return n; } let t = 0; for (let i = 0; i < 3e5; i++) t += f("layer " + i);';

/**
 * How many functions V8's optimising compiler compiled (node's --trace-opt) in a fresh node: `before` runs
 * first, then the hot code in a worker thread and in the main thread.
 */
function optimised(before: string): number {
  const out = execFileSync(process.execPath, ['--trace-opt', '--input-type=module', '-e', `
    ${before}
    const { Worker } = await import('node:worker_threads');
    await new Promise((resolve) => new Worker(${JSON.stringify(HOT)}, { eval: true }).once('exit', resolve));
    ${HOT}`], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.startsWith('[completed optimizing')).length;
}

test('capTiers keeps the optimising compiler off, in worker threads too', () => {
  // the control: without it the hot code is optimised (the --trace-opt lines are there to count)
  const free = optimised('');
  assert.ok(free >= 2, `${free} functions optimised without capTiers: the test proves nothing`);
  assert.equal(optimised(`(await import(${JSON.stringify(tiering)})).capTiers();`), 0, 'functions optimised after capTiers');
});

test('a tar stream past BULK_BYTES brings the optimising compiler back', () => {
  const parse = (mb: number) => `
    const { capTiers, BULK_BYTES } = await import(${JSON.stringify(tiering)});
    const { TarParser } = await import(${JSON.stringify(tarReader)});
    const { encodeHeader, header } = await import(${JSON.stringify(tarHeader)});
    capTiers();
    const size = ${mb} << 20;
    let got = 0;
    const p = new TarParser({ entry() {}, data(c) { got += c.length; }, end() {} });
    p.push(encodeHeader(header({ name: 'big', size })));
    for (let i = 0; i < size; i += 65536) p.push(Buffer.alloc(65536));
    if (got !== size) throw new Error('parser took ' + got + ' bytes');
    if (BULK_BYTES !== 4 << 20) throw new Error('BULK_BYTES changed: fix the sizes in this test');`;
  // the control: a stream under BULK_BYTES leaves the cap
  assert.equal(optimised(parse(3)), 0, 'functions optimised after a 3 MB tar stream');
  const lifted = optimised(parse(6));
  assert.ok(lifted >= 2, `${lifted} functions optimised after a 6 MB tar stream`);
});

test('after eagerBaseline a function runs Sparkplug code from its first call', () => {
  // %ActiveTierIsSparkplug (--allow-natives-syntax): the tier the function's next call runs in
  const tierAfterOneCall = (before: string) => execFileSync(process.execPath, ['--allow-natives-syntax', '--input-type=module', '-e', `
    ${before}
    const once = new Function('s', 'return s.length + 1');
    once('x');
    process.stdout.write(String(%ActiveTierIsSparkplug(once)));`], { encoding: 'utf8' });
  // the control: without it one call leaves the function in the interpreter
  assert.equal(tierAfterOneCall(''), 'false');
  assert.equal(tierAfterOneCall(`(await import(${JSON.stringify(tiering)})).capTiers();`), 'false', 'capTiers alone (berthd idle) keeps the interpreter');
  assert.equal(tierAfterOneCall(`const t = await import(${JSON.stringify(tiering)}); t.capTiers(); t.eagerBaseline();`), 'true');
});
