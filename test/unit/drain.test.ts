// util/drain: end() aborts the tracked work and waits for it to settle, but no longer than its bound.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Drain } from '../../src/util/drain.js';

test('end() aborts the signal and waits for the work to finish its cleanup', async () => {
  const d = new Drain();
  let cleaned = false;
  const work = d.track(new Promise<void>((resolve, reject) => {
    d.signal.addEventListener('abort', () => setTimeout(() => { cleaned = true; reject(new Error('cancelled')); }, 50), { once: true });
  }));
  work.catch(() => undefined);
  assert.equal(d.signal.aborted, false);
  await d.end(5000);
  assert.equal(d.signal.aborted, true);
  assert.equal(cleaned, true, 'end() returned only after the work settled');
});

test('end() gives up after its bound on work that never ends', async () => {
  const d = new Drain();
  void d.track(new Promise(() => { /* never */ }));
  const t = Date.now();
  await d.end(100);
  assert.ok(Date.now() - t < 4000);
});

test('finished work is no longer waited for', async () => {
  const d = new Drain();
  assert.equal(await d.track(Promise.resolve(7)), 7);
  const t = Date.now();
  await d.end(60_000); // returns at once: the settled work is no longer tracked
  assert.ok(Date.now() - t < 10_000);
});
