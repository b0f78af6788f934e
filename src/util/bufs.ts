// util/bufs: lists of buffers as a byte stream's pending part (tar data held between reads and writes).

/** `bufs` without its first `n` bytes (the buffers themselves are not copied). */
export function skipBytes(bufs: Buffer[], n: number): Buffer[] {
  let i = 0;
  while (i < bufs.length && n >= bufs[i]!.length) n -= bufs[i++]!.length;
  const rest = bufs.slice(i);
  if (n > 0) rest[0] = rest[0]!.subarray(n);
  return rest;
}
