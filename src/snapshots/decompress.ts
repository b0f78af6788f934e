// snapshots/decompress: gzip, zstd or plain, told apart by magic bytes (as containerd's compression.DecompressStream).
import { pipeline, Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { Decompress as Zstd } from 'fzstd';
import { BerthError } from '../errors.js';

export type Compression = 'gzip' | 'zstd' | 'none';

export function detect(head: Uint8Array): Compression {
  if (head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd';
  return 'none';
}

export async function* decompress(src: AsyncIterable<Uint8Array>): AsyncGenerator<Buffer> {
  const it = src[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let headLen = 0;
  let ended = false;
  while (headLen < 4) {
    const r = await it.next();
    if (r.done) { ended = true; break; }
    head.push(Buffer.from(r.value.buffer, r.value.byteOffset, r.value.length));
    headLen += r.value.length;
  }
  const first = Buffer.concat(head);
  async function* rest(): AsyncGenerator<Buffer> {
    if (first.length) yield first;
    if (ended) return;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield Buffer.from(r.value.buffer, r.value.byteOffset, r.value.length);
    }
  }
  const kind = detect(first);
  if (kind === 'none') { yield* rest(); return; }
  if (kind === 'gzip') {
    const gz = createGunzip({ chunkSize: 256 << 10 });
    pipeline(Readable.from(rest(), { objectMode: false }), gz, () => { /* errors surface through gz */ });
    for await (const c of gz) yield c as Buffer;
    return;
  }
  let out: Buffer[] = [];
  const z = new Zstd((chunk) => { out.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length)); });
  try {
    for await (const c of rest()) {
      z.push(c);
      if (out.length) { const o = out; out = []; yield* o; }
    }
    z.push(new Uint8Array(0), true);
  } catch (e) {
    throw new BerthError('InvalidArgument', `zstd: ${(e as Error).message}`, { cause: e });
  }
  yield* out;
}
