// daemon/heap: memory settings for a long-lived daemon whose live data is small (V8's young generation,
// glibc's malloc).
import type { EventEmitter } from 'node:events';
import { fileURLToPath } from 'node:url';
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

/** Quiet time after the last request ended before freed malloc memory goes back to the kernel. */
const TRIM_AFTER_MS = 1000;

/**
 * Calls collectAndTrim (a GC, then malloc_trim(0)) once the server has been quiet (no request ended, none started) for TRIM_AFTER_MS.
 * glibc gives a freed chunk back only when it lies at the top of an arena; what a burst frees between
 * chunks that live on stays resident (MALLOC_TRIM_THRESHOLD_ in berthd.ts covers the top only). Measured
 * after a 2 MB `docker import`: the main arena held 4.5 MB, 2 MB in use, and malloc_trim(0) (called through
 * gdb) gave 3.4 MB back; bench/memory.sh's idle RSS (after that import) went from 57.1-57.6 to 54.5-54.6 MB.
 * A trim costs the loop ~1 ms, ~20 ms with 90 MB of holes to give back. Streams that stay open (events,
 * attach) do not hold it off; a daemon that never pauses never trims.
 */
export function trimWhenIdle(server: EventEmitter, trim: () => unknown = collectAndTrim, after = TRIM_AFTER_MS): void {
  let timer: NodeJS.Timeout | undefined;
  const quiet = () => { clearTimeout(timer); timer = setTimeout(trim, after).unref(); };
  server.on('request', (_req: unknown, res: EventEmitter) => { clearTimeout(timer); res.once('close', quiet); });
  // hijacked and raw-body requests (api/server.ts) end with their socket
  server.on('upgrade', (_req: unknown, socket: EventEmitter) => { clearTimeout(timer); socket.once('close', quiet); });
}

/** What the last idle collection left live: V8's heap and the memory its objects hold outside it (Buffers). */
let liveAfterGc = 0;

/** Below this much growth since the last idle collection, a quiet spell trims malloc only. */
const GC_AFTER_GROWTH = 512 << 10;

/**
 * A memory-reducing collection (when the daemon's memory grew since the last one), then mallocTrim. V8 runs no
 * GC while the daemon idles: what a burst left dead (its objects, the Buffers they held: malloc memory,
 * ArrayBuffer backing stores) stays resident until the next allocation-driven GC, which an idle daemon
 * never reaches. V8's memory reducer does run ~8 s after a full GC and gives back more (the young
 * generation's idle semi-space, old-space pages after compaction): reduceMemory (native/trim.c) runs such
 * collections now. Measured (issue 13): berthd 3 s after start + `docker info`: 49.1-49.3 MB RSS (12.1-12.3
 * anonymous) with a plain gc() here, 46.7 when read 14 s later (V8's reducer had run); with reduceMemory
 * 46.5-46.7 at 3 s. It costs the quiet spell ~+30 ms CPU (two reducing GCs for one plain one). Without the
 * addon, gc() (there with --expose-gc, the entry's hashbang line); without either only the trim runs.
 */
export function collectAndTrim(): boolean {
  const m = process.memoryUsage();
  if (m.heapUsed + m.external - liveAfterGc >= GC_AFTER_GROWTH) {
    const gc = (globalThis as { gc?: () => void }).gc;
    if (!addon()?.reduceMemory?.()) gc?.();
    const a = process.memoryUsage();
    liveAfterGc = a.heapUsed + a.external;
  }
  return mallocTrim();
}

interface TrimAddon { trim?: () => boolean; reduceMemory?: () => boolean }
let loaded: TrimAddon | null | undefined;

/** native/build/berth-trim.node (built with berth-helper), or null when it is not there (not built, no glibc). */
function addon(): TrimAddon | null {
  if (loaded === undefined) {
    const m = { exports: {} as TrimAddon };
    try {
      process.dlopen(m, fileURLToPath(new URL('../../../native/build/berth-trim.node', import.meta.url)));
      loaded = m.exports;
    } catch {
      loaded = null;
    }
  }
  return loaded;
}

/** glibc's malloc_trim(0) through the addon; true when memory went back. Without it, nothing and false. */
export function mallocTrim(): boolean {
  return addon()?.trim?.() ?? false;
}
