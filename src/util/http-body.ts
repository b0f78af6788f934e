// util/http-body: an HTTP/1.1 message body decoded from a socket's reads into one reused buffer (net's
// `onread`), with no copy and no allocation per read: the daemon's PUT archive (api/raw-body) and the
// client's answer to GET archive (client/http1, berth cp out). No node:http here: the CLI loads it.
import { BerthError } from '../errors.js';

/**
 * A message body read into one reused buffer: `read` hands each piece to `feed` (a view that is valid
 * only until `settled` runs: after that the buffer is read into again), pausing the socket while a
 * promise from `feed` is pending. It resolves at the body's end or once `done()`; it rejects when the
 * other end goes away or the framing is bad.
 */
export interface BodySource {
  read(feed: (b: Buffer) => void | Promise<void>, done: () => boolean, settled: () => void): Promise<void>;
}

/** The longest chunk-size line (with extensions) and trailer section accepted. */
const MAX_LINE = 4096;
const MAX_TRAILERS = 16 << 10;
/** 13 hex digits: every size stays an exact integer. */
const MAX_SIZE_DIGITS = 13;

type State = 'size' | 'ext' | 'sizeLF' | 'data' | 'dataCR' | 'dataLF' | 'trailer' | 'trailerLF' | 'done';

/**
 * An HTTP/1.1 message body from the socket's reads: `length` bytes, or chunked encoding. `push` hands
 * each piece of body to `out` (slices of the read, never copied) and returns the bytes after the body's
 * end (or undefined while it goes on); it throws on bad framing. Strict as Go's server: CRLF line ends,
 * hex sizes, chunk extensions and trailers skipped within limits.
 */
export class BodyDecoder {
  private state: State;
  private left: number;
  private readonly chunked: boolean;
  private digits = 0;
  private line = 0;
  private trailers = 0;

  /** `what`: the body as errors name it ("request body": the daemon's 400s, which clients match). */
  constructor(length: number | 'chunked', private readonly out: (b: Buffer) => void, private readonly what = 'request body') {
    this.chunked = length === 'chunked';
    if (length === 'chunked') { this.state = 'size'; this.left = 0; }
    else { this.state = length > 0 ? 'data' : 'done'; this.left = length; }
  }

  get done(): boolean { return this.state === 'done'; }

  private bad(why: string): BerthError { return new BerthError('InvalidArgument', `invalid chunked ${this.what}: ${why}`); }

  push(buf: Buffer): Buffer | undefined {
    let i = 0;
    while (i < buf.length) {
      if (this.state === 'done') return buf.subarray(i);
      if (this.state === 'data') {
        const n = Math.min(this.left, buf.length - i);
        this.out(buf.subarray(i, i + n));
        i += n;
        this.left -= n;
        if (this.left === 0) this.state = this.chunked ? 'dataCR' : 'done';
        continue;
      }
      const c = buf[i++]!;
      switch (this.state) {
        case 'size': {
          const v = hexValue(c);
          if (v >= 0) {
            if (++this.digits > MAX_SIZE_DIGITS) throw this.bad('chunk size too large');
            this.left = this.left * 16 + v;
          } else if (this.digits === 0) throw this.bad('no chunk size');
          else if (c === 0x3b /* ; */) this.state = 'ext';
          else if (c === 0x0d) this.state = 'sizeLF';
          else throw this.bad('bad character in chunk size');
          break;
        }
        case 'ext':
          if (c === 0x0d) this.state = 'sizeLF';
          else if (c === 0x0a) throw this.bad('bare LF in chunk size line');
          break;
        case 'sizeLF':
          if (c !== 0x0a) throw this.bad('CR without LF');
          this.digits = 0;
          this.line = 0;
          if (this.left > 0) this.state = 'data';
          else this.state = 'trailer'; // the last chunk: trailer fields (ignored) up to an empty line
          break;
        case 'dataCR':
          if (c !== 0x0d) throw this.bad('chunk data longer than its size');
          this.state = 'dataLF';
          break;
        case 'dataLF':
          if (c !== 0x0a) throw this.bad('CR without LF');
          this.state = 'size';
          break;
        case 'trailer':
          if (++this.trailers > MAX_TRAILERS) throw this.bad('trailers too long');
          if (c === 0x0d) this.state = 'trailerLF';
          else if (c === 0x0a) throw this.bad('bare LF in trailers');
          else this.line++;
          break;
        case 'trailerLF':
          if (c !== 0x0a) throw this.bad('CR without LF');
          if (this.line === 0) this.state = 'done';
          this.line = 0;
          if (this.state !== 'done') this.state = 'trailer';
          break;
      }
      if (this.state === 'size' || this.state === 'ext') { if (++this.line > MAX_LINE) throw this.bad('chunk size line too long'); }
    }
    return this.state === 'done' ? buf.subarray(i) : undefined;
  }
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}


/**
 * The pieces of one read, fed in order to a BodySource's `feed` (the loop both readers share): a promise from
 * `feed` holds the rest, and the socket (paused), until it settles. `run(i)` feeds from piece i on; true when
 * the read is used up and the body goes on (the caller resumes the socket), false when it waits for a piece or
 * the body is over (`finish` was called). `busy` is the piece being applied: a reader ending early settles
 * only after it, since the caller closes what that piece uses once `read` settles.
 */
export class PieceFeeder {
  readonly parts: Buffer[] = [];
  busy: Promise<unknown> | undefined;

  constructor(private readonly o: {
    feed: (b: Buffer) => void | Promise<void>; done: () => boolean; settled: () => void;
    finish: (e?: unknown) => void; over: () => boolean; bodyDone: () => boolean; resume: () => void;
  }) {}

  /** The read's pieces are used: the caller's buffer may be read into again. */
  settle(): void { this.parts.length = 0; this.o.settled(); }

  run(i: number): boolean {
    const o = this.o;
    for (; i < this.parts.length; i++) {
      let wait: void | Promise<void>;
      try { wait = o.feed(this.parts[i]!); } catch (e) { o.finish(e); return false; }
      if (wait) {
        const next = i + 1;
        this.busy = wait;
        wait.then(() => {
          this.busy = undefined;
          if (o.over()) return;
          if (o.done()) { this.settle(); o.finish(); return; }
          if (this.run(next)) o.resume();
        }, (e: unknown) => { this.busy = undefined; o.finish(e); });
        return false;
      }
      if (o.done()) { this.settle(); o.finish(); return false; }
    }
    this.settle();
    if (o.bodyDone()) { o.finish(); return false; }
    return true;
  }
}
