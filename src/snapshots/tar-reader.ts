// snapshots/tar-reader: a push parser for tar streams; calls the handler synchronously per entry and
// per body chunk, so an unpacker can write with sync syscalls and no per-entry stream objects.
import { BerthError } from '../errors.js';
import { bulkWork } from '../util/tiering.js';
import { applyPax, decodeHeader, isZeroBlock, parsePax, type TarHeader } from './tar-header.js';

export interface TarHandler {
  entry(h: TarHeader): void;
  data(chunk: Buffer): void;
  end(): void;
}

type State = 'header' | 'body' | 'meta' | 'done';

const MAX_SPECIAL = 1 << 20;

export class TarParser {
  private pending: Buffer[] = [];
  private pendingLen = 0;
  private state: State = 'header';
  private left = 0;     // body bytes still to deliver
  private pad = 0;      // padding after the body
  private meta: { flag: string; parts: Buffer[] } | undefined;
  private pax: Map<string, Buffer> | undefined;
  private globalPax = new Map<string, Buffer>();
  private longName: string | undefined;
  private longLink: string | undefined;
  private zeros = 0;
  private seen = 0;     // bytes pushed: a large stream brings V8's optimising compiler back (util/tiering)

  constructor(private readonly handler: TarHandler) {}

  get finished(): boolean { return this.state === 'done'; }

  push(chunk: Buffer): void {
    bulkWork(this.seen += chunk.length);
    let buf = chunk;
    while (buf.length > 0 && this.state !== 'done') {
      if (this.state === 'body' || this.state === 'meta') {
        if (this.left > 0) {
          const n = Math.min(this.left, buf.length);
          const part = buf.subarray(0, n);
          if (this.state === 'body') this.handler.data(part);
          else if (this.state === 'meta') this.meta!.parts.push(Buffer.from(part));
          this.left -= n;
          buf = buf.subarray(n);
          continue;
        }
        if (this.pad > 0) {
          const n = Math.min(this.pad, buf.length);
          this.pad -= n;
          buf = buf.subarray(n);
          continue;
        }
        this.finishEntry();
        continue;
      }
      // header: gather 512 bytes
      const need = 512 - this.pendingLen;
      if (buf.length < need || this.pendingLen > 0) {
        const n = Math.min(need, buf.length);
        // a copy: the caller may read into `chunk` again once push returns
        this.pending.push(Buffer.from(buf.subarray(0, n)));
        this.pendingLen += n;
        buf = buf.subarray(n);
        if (this.pendingLen < 512) continue;
        const block = Buffer.concat(this.pending);
        this.pending = [];
        this.pendingLen = 0;
        this.header(block, 0);
      } else {
        this.header(buf, 0);
        buf = buf.subarray(512);
      }
      const st = this.state as State;
      if ((st === 'body' || st === 'meta') && this.left === 0 && this.pad === 0) this.finishEntry();
    }
  }

  /** Call at the end of input: a tar that stops mid-entry is an error. */
  close(): void {
    if (this.state === 'done') return;
    // Some writers omit the two zero blocks; accept a clean end between entries.
    if (this.state === 'header' && this.pendingLen === 0) { this.state = 'done'; return; }
    throw new BerthError('InvalidArgument', 'unexpected end of tar stream');
  }

  private header(b: Buffer, off: number): void {
    if (isZeroBlock(b, off)) {
      if (++this.zeros >= 2) this.state = 'done';
      return;
    }
    this.zeros = 0;
    const { flag, h } = decodeHeader(b, off);
    const size = h.size;
    this.left = size;
    this.pad = (512 - (size % 512)) % 512;
    if (flag === 'x' || flag === 'g' || flag === 'L' || flag === 'K') {
      // Go's archive/tar maxSpecialFileSize: PAX records and GNU long names are held in memory
      if (size > MAX_SPECIAL) throw new BerthError('InvalidArgument', `tar ${flag === 'L' || flag === 'K' ? 'long name' : 'extended'} header of ${size} bytes: larger than ${MAX_SPECIAL} allowed`);
      this.meta = { flag, parts: [] };
      this.state = 'meta';
      return;
    }
    if (!'01234567\0'.includes(flag)) throw new BerthError('InvalidArgument', `unsupported tar entry type '${flag}' for ${h.name}`);
    for (const [k, v] of this.globalPax) if (!this.pax?.has(k)) (this.pax ??= new Map()).set(k, v);
    if (this.pax) applyPax(h, this.pax);
    if (this.longName !== undefined) h.name = this.longName;
    if (this.longLink !== undefined) h.linkname = this.longLink;
    this.pax = undefined;
    this.longName = undefined;
    this.longLink = undefined;
    // Only regular files carry a body; POSIX says the size of other types is ignored (Go's archive/tar too).
    if (h.type !== 'file') h.size = 0;
    this.left = h.size;
    this.pad = (512 - (h.size % 512)) % 512;
    this.handler.entry(h);
    this.state = 'body';
  }

  private finishEntry(): void {
    if (this.state === 'meta') {
      const m = this.meta!;
      const data = Buffer.concat(m.parts);
      this.meta = undefined;
      if (m.flag === 'x') this.pax = parsePax(data);
      else if (m.flag === 'g') {
        for (const [k, v] of parsePax(data)) this.globalPax.set(k, v);
        // global records stay for the rest of the stream: together they get one special entry's cap
        let total = 0;
        for (const [k, v] of this.globalPax) total += k.length + v.length;
        if (total > MAX_SPECIAL) throw new BerthError('InvalidArgument', `tar global headers: larger than ${MAX_SPECIAL} bytes allowed`);
      }
      else if (m.flag === 'L') this.longName = data.toString('utf8').replace(/\0+$/, '');
      else if (m.flag === 'K') this.longLink = data.toString('utf8').replace(/\0+$/, '');
      this.state = 'header';
      return;
    }
    if (this.state === 'body') this.handler.end();
    this.state = 'header';
  }
}
