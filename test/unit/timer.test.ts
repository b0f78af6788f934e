// util/timer: waits longer than setTimeout's 2^31-1 ms limit (which fires at once) with mocked time.
import assert from 'node:assert/strict';
import { mock, test } from 'node:test';
import { MAX_TIMER_MS, sleep } from '../../src/util/timer.js';

test('sleep: a wait beyond 2^31-1 ms does not fire early', async () => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  try {
    let done = false;
    const p = sleep(3_000_000 * 1000).then(() => { done = true; }); // docker stop -t 3000000
    for (const step of [1, MAX_TIMER_MS, 3_000_000 * 1000 - MAX_TIMER_MS - 2]) {
      mock.timers.tick(step);
      await Promise.resolve();
      assert.equal(done, false, `still waiting after ${Date.now()} ms`);
    }
    mock.timers.tick(1);
    await p;
    assert.equal(done, true);
    assert.equal(Date.now(), 3_000_000 * 1000);
  } finally {
    mock.timers.reset();
  }
});

test('sleep: abort ends it; zero, negative and NaN resolve at once', async () => {
  const ac = new AbortController();
  const p = sleep(Infinity, ac.signal);
  ac.abort();
  await p;
  await sleep(0);
  await sleep(-5);
  await sleep(NaN);
});
