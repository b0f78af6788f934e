// daemon/heap: after capYoungGeneration a burst of surviving allocations leaves the young generation
// at its initial size (without it V8 grows it to 32 MB and keeps the pages while the daemon idles).
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const heapModule = fileURLToPath(new URL('../../src/daemon/heap.js', import.meta.url));

/** new_space size in MB in a fresh node after a burst that keeps ~20k objects alive between scavenges. */
function newSpaceAfterBurst(cap: boolean): number {
  const script = `
    const v8 = await import('node:v8');
    if (${cap}) (await import(${JSON.stringify(heapModule)})).capYoungGeneration();
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
