// client/http1: the HTTP/1.1 the API client needs, over node:net. One connection per request (Connection:
// close), a Buffer or streamed (chunked) request body, and an answer whose body has a Content-Length, is
// chunked, or runs to the close; a 101 hands over the raw socket (attach, exec start). node:http, its agent and
// parser cost the berth CLI ~10 ms of CPU at every start (issue 13, bench/cli.sh); this is what is left of it.
// named imports: a namespace import becomes a copy of every export (esbuild's __toESM) at each start
import { connect, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import { BodyDecoder, PieceFeeder, type BodySource } from '../util/http-body.js';

export type Headers = Record<string, string | string[] | undefined>;

export interface Request {
  method: string;
  /** path and query */
  path: string;
  headers: Record<string, string>;
  /**
   * A Buffer is sent as is (the caller sets Content-Length). A stream is sent chunked, or as it is when the
   * caller set a Content-Length (it must come to that length). A sized stream's chunk is written while
   * the next is asked for, and that one is written only once the socket took the chunk before it: a
   * stream may fill a buffer again two chunks later (cli/docker/cp's tarBody takes two in turn).
   */
  body?: Buffer | AsyncIterable<Uint8Array>;
  /**
   * A 2xx answer's body is read into one reused buffer (the answer's `source`, util/http-body), not handed
   * as a stream of fresh Buffers: berth cp out's 100 MB made 1,600 64 KiB Buffers, their GC and page faults.
   */
  rawAnswer?: boolean;
}

export type Answer =
  /** `source`: the body of a 2xx answer to a `rawAnswer` request; `body` then only closes the connection */
  | { upgraded: false; status: number; headers: Headers; body: Readable; source?: BodySource }
  | { upgraded: true; status: number; headers: Headers; socket: Socket; head: Buffer };

const HEAD_END = Buffer.from('\r\n\r\n');
/** The reused read buffer of a rawAnswer request: more than a unix socket queues (~200 KiB), a read takes all. */
const READ_BUFFER = 256 << 10;

/** Sends one request on a new connection; resolves with the answer once its head is read. */
export function send(socketPath: string, r: Request): Promise<Answer> {
  return new Promise((resolve, reject) => {
    // a rawAnswer socket reads into one buffer (net's `onread`): what is done with a read, false pauses it
    let onRead: (b: Buffer) => boolean = (b) => { onData(Buffer.from(b)); return true; };
    const socket = r.rawAnswer
      ? connect({ path: socketPath, onread: { buffer: Buffer.allocUnsafeSlow(READ_BUFFER), callback: (n: number, b: Uint8Array) => onRead(Buffer.from(b.buffer, b.byteOffset, n)) } })
      : connect(socketPath);
    const listen = (f: (c: Buffer) => void) => {
      if (r.rawAnswer) onRead = (b) => { f(Buffer.from(b)); return true; }; // a copy: the buffer is read into again
      else socket.on('data', f);
    };
    let settled = false;
    const fail = (e: Error) => { if (!settled) { settled = true; socket.destroy(); reject(e); } };
    const hangUp = () => fail(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }));
    socket.once('error', fail);
    socket.once('end', hangUp);

    const streamed = r.body !== undefined && !Buffer.isBuffer(r.body);
    const lines = [`${r.method} ${r.path} HTTP/1.1`, 'Host: api.moby.localhost'];
    const headers: Record<string, string> = { Connection: 'close', ...r.headers };
    const sized = Object.keys(headers).some((k) => k.toLowerCase() === 'content-length');
    if (streamed && !sized) headers['Transfer-Encoding'] = 'chunked';
    for (const [k, v] of Object.entries(headers)) lines.push(`${k}: ${v}`);
    const head = `${lines.join('\r\n')}\r\n\r\n`;
    if (Buffer.isBuffer(r.body)) {
      // head and body in one writev: a daemon may answer on the head alone and close (dockerd refusing a
      // path's API version, before reading the body); a body sent after that answer fails with EPIPE, and
      // the socket's error would take the answer with it
      socket.cork();
      socket.write(head);
      socket.write(r.body);
      socket.uncork();
    } else socket.write(head);
    if (streamed && sized) {
      (async () => {
        // one chunk in flight: the next is made while the socket takes this one
        let last: Promise<void> | undefined;
        for await (const c of r.body as AsyncIterable<Uint8Array>) {
          if (!c.length) continue;
          if (last) await last;
          last = new Promise<void>((ok, no) => { socket.write(c, (e) => (e ? no(e) : ok())); });
          last.catch(() => {}); // its error is thrown where it is awaited
        }
        if (last) await last;
      })().catch((e: unknown) => { socket.destroy(e as Error); });
    } else if (streamed) {
      (async () => {
        for await (const c of r.body as AsyncIterable<Uint8Array>) {
          if (!c.length) continue;
          socket.write(`${c.length.toString(16)}\r\n`);
          socket.write(c);
          if (!socket.write('\r\n')) await new Promise((ok) => socket.once('drain', ok));
        }
        socket.write('0\r\n\r\n');
      })().catch((e: unknown) => { socket.destroy(e as Error); });
    }

    let buf: Buffer = Buffer.alloc(0);
    let inHead = true;
    function onData(c: Buffer): void {
      if (!inHead) return;
      buf = buf.length ? Buffer.concat([buf, c]) : c;
      for (;;) {
        const end = buf.indexOf(HEAD_END);
        if (end < 0) return;
        const h = parseHead(buf.subarray(0, end).toString('latin1'));
        const rest = buf.subarray(end + 4);
        if (!h) { fail(new Error('malformed HTTP response from the daemon')); return; }
        if (h.status === 100) { buf = rest; continue; } // 100 Continue: the real answer follows
        inHead = false;
        socket.off('data', onData);
        socket.off('end', hangUp);
        socket.off('error', fail);
        settled = true;
        if (h.status === 101) {
          socket.pause();
          resolve({ upgraded: true, status: h.status, headers: h.headers, socket, head: rest });
          return;
        }
        const noBody = r.method === 'HEAD' || h.status === 204 || h.status === 304;
        if (r.rawAnswer && !noBody && h.status >= 200 && h.status < 300) {
          socket.pause();
          const [body, source] = rawBody(socket, h.headers, rest, (f) => { onRead = f; });
          resolve({ upgraded: false, status: h.status, headers: h.headers, body, source });
          return;
        }
        resolve({ upgraded: false, status: h.status, headers: h.headers, body: bodyOf(socket, h.headers, noBody, rest, listen) });
        return;
      }
    }
    if (!r.rawAnswer) socket.on('data', onData);
  });
}

function parseHead(text: string): { status: number; headers: Headers } | undefined {
  const lines = text.split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]!);
  if (!m) return undefined;
  const headers: Headers = {};
  for (const l of lines.slice(1)) {
    const i = l.indexOf(':');
    if (i <= 0) continue;
    const k = l.slice(0, i).trim().toLowerCase();
    const v = l.slice(i + 1).trim();
    const had = headers[k];
    // as node:http: set-cookie collects, other repeated headers join with ", "
    if (had === undefined) headers[k] = k === 'set-cookie' ? [v] : v;
    else if (Array.isArray(had)) had.push(v);
    else headers[k] = `${had}, ${v}`;
  }
  return { status: Number(m[1]), headers };
}

/** The answer's body as a stream: Content-Length, chunked, or to the close; destroying it closes the connection. */
function bodyOf(socket: Socket, headers: Headers, noBody: boolean, first: Buffer, listen: (f: (c: Buffer) => void) => void): Readable {
  const body = new Readable({
    read() { socket.resume(); },
    destroy(e, cb) { socket.destroy(); cb(e); },
  });
  const push = (b: Buffer) => { if (b.length && !body.push(b)) socket.pause(); };
  let done = false;
  const finish = () => { if (!done) { done = true; body.push(null); socket.destroy(); } };
  const cut = () => { if (!done) { done = true; body.destroy(Object.assign(new Error('aborted'), { code: 'ECONNRESET' })); } };
  const length = headers['content-length'] === undefined ? undefined : Number(headers['content-length']);
  const chunked = /\bchunked\b/i.test(String(headers['transfer-encoding'] ?? ''));

  let feed: (c: Buffer) => void;
  if (noBody || length === 0) {
    feed = () => {};
    queueMicrotask(finish);
  } else if (chunked || length !== undefined) {
    const decoder = new BodyDecoder(chunked ? 'chunked' : length!, push, 'answer body');
    feed = (c) => {
      try { decoder.push(c); } catch (e) { if (!done) { done = true; body.destroy(e as Error); } return; }
      if (decoder.done) finish();
    };
  } else {
    feed = push; // no length: the body runs to the close
  }
  listen((c: Buffer) => { if (!done) feed(c); });
  socket.on('end', () => { if (length === undefined && !chunked) finish(); else cut(); });
  socket.on('error', (e) => { if (!done) { done = true; body.destroy(e); } });
  socket.on('close', cut);
  if (first.length) feed(first);
  return body;
}

/**
 * A rawAnswer's body as a BodySource: each read's pieces (views of the socket's one buffer) go to `feed`,
 * and the read buffer is reused only once `settled` ran (the extractor has written them). The socket is
 * paused until `read` is called and closed when it ends, well or not (the connection is ours alone); the
 * Readable beside it has no data: destroying it closes the connection, and it closes when the body is over.
 */
function rawBody(socket: Socket, headers: Headers, first: Buffer, setOnRead: (f: (b: Buffer) => boolean) => void): [Readable, BodySource] {
  const handle = new Readable({ read() {}, destroy(e, cb) { socket.destroy(); cb(e); } });
  socket.on('error', () => { /* 'close' follows */ });
  const chunked = /\bchunked\b/i.test(String(headers['transfer-encoding'] ?? ''));
  const cl = headers['content-length'];
  const length = cl === undefined ? undefined : Number(cl);
  let pieces: PieceFeeder | undefined;
  let decoder: BodyDecoder | undefined;
  // no framing: the body runs to the close
  if (chunked || length !== undefined) decoder = new BodyDecoder(chunked ? 'chunked' : length!, (b) => { pieces!.parts.push(b); }, 'answer body');
  const source: BodySource = {
    read: (feed, done, settled) => new Promise<void>((resolve, reject) => {
      if (pieces) { reject(new Error('the answer body is read once')); return; }
      let over = false;
      const finish = (e?: unknown) => {
        if (over) return;
        over = true;
        setOnRead(() => false);
        socket.off('close', gone).off('end', ended);
        handle.destroy();
        // a piece still being applied finishes first: the caller closes what it uses once we settle
        const settleRead = () => { p.parts.length = 0; if (e) reject(e); else resolve(); };
        if (p.busy) void p.busy.then(settleRead, settleRead); else settleRead();
      };
      const gone = () => finish(Object.assign(new Error('aborted: the daemon closed the connection mid-answer'), { code: 'ECONNRESET' }));
      const ended = () => { if (decoder) gone(); else { settled(); finish(); } };
      const p = pieces = new PieceFeeder({
        feed, done, settled, finish, over: () => over, bodyDone: () => decoder?.done ?? false,
        resume: () => { if (!socket.destroyed) socket.resume(); },
      });
      const onRead = (b: Buffer): boolean => {
        if (over) return false;
        if (decoder) { try { decoder.push(b); } catch (e) { finish(e); return false; } } else p.parts.push(b);
        return p.run(0);
      };
      setOnRead(onRead);
      socket.on('close', gone).on('end', ended);
      if (first.length && !onRead(first)) return;
      if (decoder?.done) finish(); else if (socket.destroyed || socket.readableEnded) ended(); else socket.resume();
    }),
  };
  return [handle, source];
}

