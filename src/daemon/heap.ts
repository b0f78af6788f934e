// daemon/heap: V8 heap settings for a long-lived daemon whose live data is small.
import * as v8 from 'node:v8';

/**
 * Keeps the young generation at its initial size. Under a burst of requests V8 grows each semi-space
 * from 1 MB up to 16 MB and never gives the pages back while the daemon then idles: measured, berthd's
 * new space stood at 32 MB (0 used) after 100 `docker run --rm` cycles, most of its RSS growth.
 * `--max-semi-space-size` would cap it but only on node's command line, which `node berthd.js` skips;
 * the growth factor is read each time the space grows, so setting it here holds however berthd starts.
 * It holds only growth after it: berthd.ts calls this before the daemon's modules load (measured: called
 * from main(), new space had already grown from 1 to 4 MB while they loaded).
 * What a request allocates dies young, so the smaller space costs a few more, cheap, scavenges.
 */
export function capYoungGeneration(): void {
  cap();
  // Starting a worker thread (a layer unpack) has V8 enforce its flag implications again, which raise the
  // growth factor back to its minimum of 2 for the whole process: measured, the daemon's young generation
  // grew from 2 to 4 MB during one 2 MB `docker import` and to 16 MB in a burst after any worker. Set it
  // again once each worker's isolate is up ('online': the worker's constructor is too early).
  process.on('worker', (w) => { w.once('online', cap); });
}

function cap(): void {
  v8.setFlagsFromString('--semi-space-growth-factor=1');
}
