// util/read-capped: reads a small document (manifest, index, config) from the network or a file into
// memory, stopping as soon as it passes its cap: no body is buffered whole before its size is known.
import * as fs from 'node:fs';
import { BerthError } from '../errors.js';

// distribution registry/handlers/manifests.go maxManifestBodySize (4 MiB), also containers/image
// iolimits.MaxManifestBodySize; indexes and docker-archive manifest.json are the same kind of document.
export const MAX_MANIFEST = 4 << 20;
// image configs carry history and env but no file data; containers/image caps them at 4 MiB
// (iolimits.MaxConfigBodySize), this leaves room for twice that.
export const MAX_CONFIG = 8 << 20;

// token answers and error bodies (containers/image iolimits.MaxAuthTokenBodySize, MaxErrorBodySize)
export const MAX_SMALL = 1 << 20;

function tooLarge(what: string, cap: number): BerthError {
  return new BerthError('InvalidArgument', `${what}: larger than the ${cap >> 20} MiB allowed`);
}

/** Reads src whole unless it passes cap bytes; then stops reading (the iterator is returned, so a
 *  fetch body is cancelled) and throws. */
export async function readCapped(src: AsyncIterable<Uint8Array>, cap: number, what: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const c of src) {
    n += c.length;
    if (n > cap) throw tooLarge(what, cap);
    parts.push(Buffer.from(c.buffer, c.byteOffset, c.length));
  }
  return Buffer.concat(parts, n);
}

/** A fetch Response's body, refused early by its Content-Length and otherwise while streaming. */
export async function readResponseCapped(res: Response, cap: number, what: string): Promise<Buffer> {
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (declared > cap) { await res.body?.cancel().catch(() => undefined); throw tooLarge(what, cap); }
  if (!res.body) return Buffer.alloc(0);
  return readCapped(res.body as unknown as AsyncIterable<Uint8Array>, cap, what);
}

/** A file's content, refused by its size before any byte is read. */
export function readFileCapped(file: string, cap: number, what: string): Buffer {
  const fd = fs.openSync(file, 'r');
  try {
    const st = fs.fstatSync(fd);
    if (!st.isFile()) throw new BerthError('InvalidArgument', `${what}: not a regular file`);
    if (st.size > cap) throw tooLarge(what, cap);
    return fs.readFileSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}
