// util/umask: the process's umask, read once. process.umask() alone is deprecated (DEP0139), so it is set
// and put back; only on the main thread (a worker may not call process.umask(mask)). snapshots/unpack has
// its own copy of this for the layer unpacker (pull's file): the two can become one at a merge.
let cached: number | undefined;
export function processUmask(): number {
  if (cached === undefined) { const u = process.umask(0o022); process.umask(u); cached = u; }
  return cached;
}
