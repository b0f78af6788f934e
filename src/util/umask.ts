// util/umask: the process's umask, read once, so a file whose open(2) mode survives it needs no fchmod
// (snapshots/unpack, util/untar). process.umask() alone is deprecated (DEP0139), so it is set and put back;
// only on the main thread (a worker may not call process.umask(mask)): workers are handed the value.
let cached: number | undefined;
export function processUmask(): number {
  if (cached === undefined) { const u = process.umask(0o022); process.umask(u); cached = u; }
  return cached;
}
