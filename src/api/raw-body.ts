// api/raw-body: the body of PUT /containers/{id}/archive (docker cp in) read off the socket, not through
// node's HTTP parser, which copies every body chunk into a fresh Buffer (node_http_parser.cc on_body,
// Buffer::Copy) after llhttp has walked it. How: the server's IncomingMessage class answers `upgrade`
// for such a request, so node's parser stops at the end of its headers and hands the socket over on
// 'upgrade' (as it does for attach, api/hijack.ts). Here the body (Content-Length or chunked, RFC 9112
// §6–7) is decoded from the socket's reads into that same IncomingMessage, a ServerResponse on the socket
// answers with `Connection: close`, and the route runs as any other (api/server.ts's handler).
// Measured (docker CLI, 100 MB directory, discard servers side by side): the event loop's user time
// per copy went from ~34 to ~21 ms.
import * as http from 'node:http';
import type * as net from 'node:net';
import { BerthError } from '../errors.js';
import { splitVersion } from './router.js';

/** The requests whose bodies are read here: method and path (after any /vX.Y prefix). */
const RAW_ROUTES: Array<[string, RegExp]> = [['PUT', /^\/containers\/[^/]+\/archive$/]];

/** Whether a request's body is read off the socket (api/raw-body) rather than by node's parser. */
export function takesRawBody(method: string | undefined, url: string | undefined): boolean {
  if (!method || !url) return false;
  const q = url.indexOf('?');
  const { path: p } = splitVersion(q < 0 ? url : url.slice(0, q));
  return RAW_ROUTES.some(([m, re]) => m === method && re.test(p));
}

/**
 * The server's request class. node's parser sets `upgrade` before the method, and reads it back (in
 * the server's parserOnIncoming) once both are set: a raw-body request then counts as an upgrade, and
 * node's parser, told so, leaves the body on the socket.
 */
export class ApiIncomingMessage extends http.IncomingMessage {
  get rawBody(): boolean { return takesRawBody(this.method, this.url); }
}
const upgraded = new WeakSet<http.IncomingMessage>();
// an accessor in place of IncomingMessage's plain `upgrade` field (its constructor assigns it: the setter runs)
Object.defineProperty(ApiIncomingMessage.prototype, 'upgrade', {
  get(this: ApiIncomingMessage): boolean { return upgraded.has(this) || this.rawBody; },
  set(this: ApiIncomingMessage, v: unknown) { if (v) upgraded.add(this); else upgraded.delete(this); },
  configurable: true,
});

/** The longest chunk-size line (with extensions) and trailer section accepted. */
const MAX_LINE = 4096;
const MAX_TRAILERS = 16 << 10;
/** 13 hex digits: every size stays an exact integer. */
const MAX_SIZE_DIGITS = 13;

type State = 'size' | 'ext' | 'sizeLF' | 'data' | 'dataCR' | 'dataLF' | 'trailer' | 'trailerLF' | 'done';

const bad = (what: string) => new BerthError('InvalidArgument', `invalid chunked request body: ${what}`);

/**
 * An HTTP/1.1 request body from the socket's reads: `length` bytes, or chunked encoding. `push` hands
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

  constructor(length: number | 'chunked', private readonly out: (b: Buffer) => void) {
    this.chunked = length === 'chunked';
    if (length === 'chunked') { this.state = 'size'; this.left = 0; }
    else { this.state = length > 0 ? 'data' : 'done'; this.left = length; }
  }

  get done(): boolean { return this.state === 'done'; }

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
            if (++this.digits > MAX_SIZE_DIGITS) throw bad('chunk size too large');
            this.left = this.left * 16 + v;
          } else if (this.digits === 0) throw bad('no chunk size');
          else if (c === 0x3b /* ; */) this.state = 'ext';
          else if (c === 0x0d) this.state = 'sizeLF';
          else throw bad('bad character in chunk size');
          break;
        }
        case 'ext':
          if (c === 0x0d) this.state = 'sizeLF';
          else if (c === 0x0a) throw bad('bare LF in chunk size line');
          break;
        case 'sizeLF':
          if (c !== 0x0a) throw bad('CR without LF');
          this.digits = 0;
          this.line = 0;
          if (this.left > 0) this.state = 'data';
          else this.state = 'trailer'; // the last chunk: trailer fields (ignored) up to an empty line
          break;
        case 'dataCR':
          if (c !== 0x0d) throw bad('chunk data longer than its size');
          this.state = 'dataLF';
          break;
        case 'dataLF':
          if (c !== 0x0a) throw bad('CR without LF');
          this.state = 'size';
          break;
        case 'trailer':
          if (++this.trailers > MAX_TRAILERS) throw bad('trailers too long');
          if (c === 0x0d) this.state = 'trailerLF';
          else if (c === 0x0a) throw bad('bare LF in trailers');
          else this.line++;
          break;
        case 'trailerLF':
          if (c !== 0x0a) throw bad('CR without LF');
          if (this.line === 0) this.state = 'done';
          this.line = 0;
          if (this.state !== 'done') this.state = 'trailer';
          break;
      }
      if (this.state === 'size' || this.state === 'ext') { if (++this.line > MAX_LINE) throw bad('chunk size line too long'); }
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

/** The body's framing from the headers node's parser checked (it refuses a Content-Length with chunked). */
function framing(req: http.IncomingMessage): number | 'chunked' {
  const te = req.headers['transfer-encoding'];
  if (te !== undefined) {
    if (te.trim().toLowerCase() !== 'chunked') throw new BerthError('InvalidArgument', `unsupported Transfer-Encoding: ${te}`);
    return 'chunked';
  }
  const cl = req.headers['content-length'];
  if (cl === undefined) return 0;
  if (!/^[0-9]{1,15}$/.test(cl.trim())) throw new BerthError('InvalidArgument', 'invalid Content-Length');
  return Number(cl.trim());
}

/**
 * The server's 'upgrade' listener for raw-body requests: the body decoded from `head` and the socket
 * into `req` (with the socket paused while `req` is full), a ServerResponse on the socket for `handle`.
 * The connection closes once the response is out and the body is read to its end (what the route did
 * not read is discarded, as node does, so the client sees the answer rather than a broken pipe).
 */
export function serveRawBody(parsed: http.IncomingMessage, socket: net.Socket, head: Buffer, handle: (req: http.IncomingMessage, res: http.ServerResponse) => void, fail: (res: http.ServerResponse, e: unknown) => void): void {
  socket.on('error', () => { /* the client went away: 'close' follows */ });
  // node's parser ended the request it parsed (an upgrade has no body): the body gets a request of its own
  const req = new http.IncomingMessage(socket);
  req.httpVersionMajor = parsed.httpVersionMajor;
  req.httpVersionMinor = parsed.httpVersionMinor;
  req.httpVersion = parsed.httpVersion;
  req.method = parsed.method;
  req.url = parsed.url;
  req.rawHeaders = parsed.rawHeaders;
  req.headers = parsed.headers;
  const res = new http.ServerResponse(req);
  res.shouldKeepAlive = false;
  res.assignSocket(socket);
  let finished = false;
  const endSocket = () => { if (!socket.destroyed) socket.end(); };
  res.on('finish', () => {
    finished = true;
    res.detachSocket(socket);
    // what the route left unread is read and dropped; then the connection ends
    if (req.complete || req.destroyed) endSocket(); else req.resume();
  });
  req.on('end', () => { if (finished) endSocket(); });

  let decoder: BodyDecoder | undefined;
  const onData = (d: Buffer) => {
    let rest: Buffer | undefined;
    try { rest = decoder!.push(d); } catch (e) { stop(); req.destroy(e as Error); return; }
    if (rest !== undefined) { stop(); req.complete = true; req.push(null); }
  };
  const onClose = () => { stop(); if (!req.complete) req.destroy(); };
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    socket.off('data', onData).off('close', onClose);
    if (socket.destroyed) return;
    socket.pause();
    // the client gone while the route still works: its answer has nowhere to go
    socket.on('close', () => { if (!finished) res.destroy(); });
  };
  try {
    decoder = new BodyDecoder(framing(req), (b) => { if (!req.push(b)) socket.pause(); });
  } catch (e) {
    stop();
    req.destroy();
    fail(res, e);
    return;
  }
  if (decoder.done) { stop(); req.complete = true; req.push(null); }
  else {
    socket.on('data', onData).on('close', onClose);
    if (head.length) onData(head);
    // IncomingMessage's _read resumes its socket: the reader's demand restarts the reads
    if (!stopped) socket.resume();
  }
  handle(req, res);
}
