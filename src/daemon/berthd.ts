#!/usr/bin/env -S MALLOC_ARENA_MAX=2 MALLOC_MMAP_THRESHOLD_=131072 MALLOC_TRIM_THRESHOLD_=131072 node --no-short-builtin-calls --max-semi-space-size=1 --expose-gc --optimize-for-size
// berthd's entry. The hashbang line sets glibc's malloc up for a daemon that idles between bursts: without
// it the thresholds adapt upwards after a large free, and freed memory stays with the process (measured:
// after a 2 MB image import, +5 MB of anonymous memory that never went back). glibc reads these once, at
// exec, so no code in here can set them, and Node 20 cannot re-exec itself (no execve): whatever starts
// berthd runs this file as a program (npm's bin link, the systemd unit, scripts/install.sh, the tests and
// benches), not `node berthd.js`. Two arenas, not one per thread: the libuv pool's and a layer worker's
// would each keep their own freed memory.
// Two V8 flags that only node's command line sets (V8 reads them as the isolate starts, before any code
// here; v8.setFlagsFromString is too late): --no-short-builtin-calls keeps V8 from mapping node's
// embedded builtins a second time beside its code space (the pages berthd runs count twice in RSS: -0.9 MB
// idle, issue 13); --max-semi-space-size=1 holds the young generation at 1 MB from the first
// allocation (daemon/heap's cap holds only after it runs). --expose-gc: daemon/heap collects once the
// daemon goes quiet after a burst (V8 itself runs no GC while it idles) with gc() where native/trim's
// reduceMemory (V8's memory-reducing collections) is not there. --optimize-for-size: V8's GCs
// (that one too) reduce memory (compaction, pages given back): bench-like runs of idle / after an import
// went from 48.1-50.0 / 49.0-49.7 MB (median 48.7 / 49.5) to 48.4-48.5 / 49.2-49.3 (one idle of 11 at
// 50.1), with no CPU difference seen in create+start or 40 `run --rm`.
// V8 grows its young generation while a program's modules load and keeps it grown (no GC
// runs while berthd idles): capped here, before the daemon's modules (daemon/main) are read and run.
// Its JavaScript stays off V8's optimising compiler until bulk work (util/tiering): the compiler's code
// would page in for good on a small image's import.
import { capTiers } from '../util/tiering.js';
import { capYoungGeneration } from './heap.js';

capYoungGeneration();
capTiers();
await import('./main.js');
