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
