// api/raw-body: the body of PUT /containers/{id}/archive (docker cp in) read off the socket into one
// reused buffer, not through node's HTTP parser. The parser copies every body chunk into a fresh Buffer
// (node_http_parser.cc on_body, Buffer::Copy); for a 100 MB copy those copies' external memory set off
// a major GC every 64 MB (4 per copy) and were most of berthd's user time. How: the server's
// IncomingMessage class answers `upgrade` for such a request, so node's parser stops at the end of the
// headers and hands the socket over on 'upgrade' (as for attach, api/hijack.ts); the socket's handle
// moves to a socket made with net's `onread` (one buffer, no allocation per read); the body
// (Content-Length or chunked, RFC 9112 §6–7) is decoded from it and fed to the route's reader as views
// of that buffer (BodySource); a ServerResponse on the socket answers with `Connection: close`. The
// route runs through api/server.ts's handler as any other.
// Measured (docker cp of 100 MB, side by side with main's build, load 11-13): berthd's CPU per copy
// user 25-31 ms and sys 75-86 ms against 81-129 and 83-91 ms; through net's 'data' events instead
// (a fresh 64 KiB buffer per read) it was worse than the parser's.
import * as http from 'node:http';
import * as net from 'node:net';
import { BerthError } from '../errors.js';
import { splitVersion } from './router.js';
import { BodyDecoder, PieceFeeder, type BodySource } from '../util/http-body.js';

export { BodyDecoder, type BodySource };

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

const bodies = new WeakMap<http.IncomingMessage, BodySource>();
/** The body of a request that came through serveRawBody (its IncomingMessage itself is empty). */
export const rawBodyOf = (req: http.IncomingMessage): BodySource | undefined => bodies.get(req);

/** The read buffer of one request: more than a unix socket queues (~200 KiB), so a read takes all there is. */
const READ_BUFFER = 256 << 10;

/**
 * The server's 'upgrade' listener for raw-body requests. The socket's handle moves to a socket that
 * reads into one buffer (net's `onread`), so the 100 MB of a copy make no garbage: node's parser copies
 * each body chunk into a fresh Buffer, and those copies' external memory set off a major GC every
 * 64 MB. A ServerResponse on the socket carries the answer; the connection closes once it is out and
 * the body is read to its end (what the route did not read is dropped, as node does, so the client sees
 * the answer rather than a broken pipe).
 */
export function serveRawBody(parsed: http.IncomingMessage, old: net.Socket, head: Buffer, handle: (req: http.IncomingMessage, res: http.ServerResponse) => void, fail: (res: http.ServerResponse, e: unknown) => void): void {
  old.on('error', () => { /* its handle is the new socket's now */ });
  const buf = Buffer.allocUnsafeSlow(READ_BUFFER);
  // what node's parser read past the headers comes first (a copy: it is a view of node's own buffer)
  let early: Buffer | undefined = head.length ? Buffer.from(head) : undefined;
  /** what is done with each read; returning false pauses the socket */
  let onRead: (b: Buffer) => boolean = () => false;
  // net's `onread` is offered for sockets made here only: the accepted socket's handle moves to one
  const raw = old as unknown as { _handle: unknown };
  const sockHandle = raw._handle;
  raw._handle = null;
  const socket = new net.Socket({
    handle: sockHandle, allowHalfOpen: true, pauseOnCreate: true,
    onread: { buffer: buf, callback: (n: number, b: Uint8Array) => onRead(Buffer.from(b.buffer, b.byteOffset, n)) },
  } as net.SocketConstructorOpts);
  socket.on('error', () => { /* the client went away: 'close' follows */ });
  // the server counts (close() waits for) and the daemon's shutdown ends the accepted socket, now without its
  // handle: it closes with the connection, and ending it ends the connection (else every copy in kept
  // server.close() from ever calling back)
  socket.once('close', () => old.destroy());
  old.once('close', () => socket.destroy());

  // node's parser ended the request it parsed (an upgrade has no body): the route gets one of its own,
  // as empty, with the body beside it (rawBodyOf)
  const req = new http.IncomingMessage(socket);
  req.httpVersionMajor = parsed.httpVersionMajor;
  req.httpVersionMinor = parsed.httpVersionMinor;
  req.httpVersion = parsed.httpVersion;
  req.method = parsed.method;
  req.url = parsed.url;
  req.rawHeaders = parsed.rawHeaders;
  req.headers = parsed.headers;
  req.complete = true;
  req.push(null);
  const res = new http.ServerResponse(req);
  res.shouldKeepAlive = false;
  res.assignSocket(socket);
  let finished = false;
  socket.on('close', () => { if (!finished) res.destroy(); });

  let sink: (b: Buffer) => void = () => {};
  let decoder: BodyDecoder;
  try {
    decoder = new BodyDecoder(framing(req), (b) => sink(b));
  } catch (e) {
    res.on('finish', () => { finished = true; res.detachSocket(socket); socket.end(); });
    fail(res, e);
    return;
  }

  let reading = false;
  /** the framing was bad: nothing after it can be read, the connection ends with the answer */
  let broken = false;
  // after the answer (Connection: close) the socket ends; it is read on (and what comes dropped) until the
  // client's end, with which it closes: left paused, it never saw that end, and every copy kept its fd
  const endSocket = () => {
    if (socket.destroyed) return;
    socket.end();
    onRead = () => true;
    // after the read callback that may be running has returned (its false stops reading)
    process.nextTick(() => { if (!socket.destroyed) socket.resume(); });
  };
  /** After the answer: the rest of the body is read and dropped, then the connection ends. */
  const dropRest = () => {
    sink = () => {};
    onRead = (b) => {
      try { decoder.push(b); } catch { socket.destroy(); return false; }
      if (decoder.done) { endSocket(); return false; }
      return true;
    };
    socket.once('end', endSocket);
    if (early) { const e = early; early = undefined; if (!onRead(e)) return; }
    if (decoder.done) endSocket(); else socket.resume();
  };
  res.on('finish', () => {
    finished = true;
    res.detachSocket(socket);
    if (socket.destroyed) return;
    if (decoder.done || broken) endSocket();
    else if (!reading) dropRest();
  });

  const body: BodySource = {
    read: (feed, done, settled) => new Promise<void>((resolve, reject) => {
      if (reading) { reject(new BerthError('Internal', 'the request body is read once')); return; }
      reading = true;
      let over = false;
      const finish = (e?: unknown) => {
        if (over) return;
        over = true;
        reading = false;
        socket.off('close', gone).off('end', gone);
        onRead = () => false;
        if (!socket.destroyed) socket.pause();
        const settleRead = () => {
          pieces.parts.length = 0;
          if (e) reject(e); else resolve();
          if (finished && !socket.destroyed) { if (decoder.done || broken) endSocket(); else dropRest(); }
        };
        // a piece still being applied finishes first: the caller closes what it uses only after us (a client
        // gone mid-copy otherwise had untar close its directories while a lookup was under way, whose
        // FileHandle then went to the garbage collector, and whose later entries opened fds nothing closed)
        if (pieces.busy) void pieces.busy.then(settleRead, settleRead); else settleRead();
      };
      const gone = () => finish(new BerthError('Unavailable', 'the archive stream ended early: the client went away'));
      const pieces = new PieceFeeder({
        feed, done, settled, finish, over: () => over, bodyDone: () => decoder.done,
        resume: () => { if (!socket.destroyed) socket.resume(); },
      });
      sink = (b) => { pieces.parts.push(b); };
      onRead = (b) => {
        try { decoder.push(b); } catch (e) { broken = true; finish(e); return false; }
        return pieces.run(0);
      };
      // the client's end of the stream before the body's (the socket is half-open: 'close' need not follow)
      socket.on('close', gone).on('end', gone);
      if (socket.destroyed || socket.readableEnded) { gone(); return; }
      if (early) { const e = early; early = undefined; if (!onRead(e)) return; }
      if (decoder.done) finish(); else socket.resume();
    }),
  };
  bodies.set(req, body);
  // node's server answers `Expect: 100-continue` before the handler runs (curl -T waits a second for it)
  if (/^100-continue$/i.test(req.headers.expect?.trim() ?? '')) res.writeContinue();
  handle(req, res);
}
