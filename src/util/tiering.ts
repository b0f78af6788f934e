// util/tiering: berthd keeps V8's optimising compiler (TurboFan) for bulk work, which it pays off in.
// The first function TurboFan compiles pages ~3 MB of the compiler's machine code (node's binary) into the
// process, resident from then on. Measured (issue 13): a 2 MB `docker import` (279 tar entries) had V8
// start compiling the tar header's decodeHeader (its checksum loop) and a few of Node's path functions,
// and berthd's idle RSS after it was 57.5 MB against 54.4 with TurboFan off; the compiler's text made
// 2.8 MB of the difference. Off for good, a 200 MB `docker load` cost berthd 40% more CPU (the tar
// parse at Sparkplug's speed) and a pull 20%; create + start (bench/start-steps.sh) no more beyond noise.
// So: off from berthd's start, on again (for the process, every thread) once one tar stream passes
// BULK_BYTES; a daemon that only runs containers and takes small images never pages the compiler in.
import * as v8 from 'node:v8';

/** Tar bytes one stream (parsed or written) may pass before the optimising compiler comes back. */
export const BULK_BYTES = 4 << 20;

/** berthd's start: V8's interpreter and its baseline compiler (Sparkplug) only. Process-wide, workers too. */
export function capTiers(): void {
  v8.setFlagsFromString('--max-opt=1');
}

let lifted = false;

/**
 * A tar stream that has moved `bytes` (its total so far): past BULK_BYTES the optimising compiler comes
 * back for the process. `--max-opt=1` also turned `--turbofan` off (a flag implication), so both go back
 * (Node's defaults: in a process that never capped them, as the CLI, this changes nothing). Cheap per
 * chunk; `lifted` is per isolate, so a worker thread's first bulk stream sets the flags once more, harmless.
 */
export function bulkWork(bytes: number): void {
  if (lifted || bytes <= BULK_BYTES) return;
  lifted = true;
  v8.setFlagsFromString('--turbofan --max-opt=999');
}

let eager = false;

/**
 * berthd's first container create or start: from then on a function gets Sparkplug's code when V8 first
 * compiles it, not after its interpreter budget. A create + start runs most of its code once or a few
 * times per container, so without this it ran in the interpreter throughout (issue 13; bench/start-steps.sh,
 * berthd's main-thread CPU per container, alternating pairs on a loaded host: medians 33.9 -> 27.5 ms).
 * Not at the daemon's start: the code of start-up and `docker info` stays bytecode, and the idle RSS with
 * it (eager from the start: 49.2 -> 50.4 MB in bench/daemon-idle.sh, and +1.5-2 MB after 20 containers).
 */
export function eagerBaseline(): void {
  if (eager) return;
  eager = true;
  v8.setFlagsFromString('--always-sparkplug');
}
