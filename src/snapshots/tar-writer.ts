// snapshots/tar-writer: builds tar streams (layers for import, docker archives for save).
import { bulkWork } from '../util/tiering.js';
import { encodeHeader, header, type TarHeader } from './tar-header.js';

const ZERO = Buffer.alloc(1024);

/** Collects tar output as chunks through a sink; files are streamed, never buffered whole. */
export class TarWriter {
  private seen = 0; // bytes written: a large stream brings V8's optimising compiler back (util/tiering)

  constructor(private readonly sink: (chunk: Buffer) => void | Promise<void>) {}

  async entry(h: Partial<TarHeader> & { name: string }, body?: Buffer | AsyncIterable<Uint8Array>): Promise<void> {
    const full = header({ ...h, size: body instanceof Buffer ? body.length : h.size ?? 0 });
    bulkWork(this.seen += 512 + full.size);
    await this.sink(encodeHeader(full));
    let n = 0;
    if (body instanceof Buffer) { if (body.length) await this.sink(body); n = body.length; }
    else if (body) for await (const c of body as AsyncIterable<Uint8Array>) { n += c.length; await this.sink(Buffer.from(c.buffer, c.byteOffset, c.length)); }
    if (n !== full.size) throw new Error(`tar entry ${h.name}: wrote ${n} bytes, header says ${full.size}`);
    const pad = (512 - (n % 512)) % 512;
    if (pad) await this.sink(ZERO.subarray(0, pad));
  }

  async finish(): Promise<void> {
    await this.sink(ZERO);
  }
}
