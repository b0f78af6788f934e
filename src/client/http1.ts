// client/http1: the HTTP/1.1 the API client needs, over node:net. One connection per request (Connection:
// close), a Buffer or streamed (chunked) request body, and an answer whose body has a Content-Length, is
// chunked, or runs to the close; a 101 hands over the raw socket (attach, exec start). node:http, its agent and
// parser cost the berth CLI ~10 ms of CPU at every start (issue 13, bench/cli.sh); this is what is left of it.
// named imports: a namespace import becomes a copy of every export (esbuild's __toESM) at each start
import { connect, type Socket } from 'node:net';
import { Readable } from 'node:stream';

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
}

export type Answer =
  | { upgraded: false; status: number; headers: Headers; body: Readable }
  | { upgraded: true; status: number; headers: Headers; socket: Socket; head: Buffer };

const HEAD_END = Buffer.from('\r\n\r\n');

/** Sends one request on a new connection; resolves with the answer once its head is read. */
export function send(socketPath: string, r: Request): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
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
    const onData = (c: Buffer) => {
      buf = buf.length ? Buffer.concat([buf, c]) : c;
      for (;;) {
        const end = buf.indexOf(HEAD_END);
        if (end < 0) return;
        const head = parseHead(buf.subarray(0, end).toString('latin1'));
        const rest = buf.subarray(end + 4);
        if (!head) { fail(new Error('malformed HTTP response from the daemon')); return; }
        if (head.status === 100) { buf = rest; continue; } // 100 Continue: the real answer follows
        socket.off('data', onData);
        socket.off('end', hangUp);
        socket.off('error', fail);
        settled = true;
        if (head.status === 101) {
          socket.pause();
          resolve({ upgraded: true, status: head.status, headers: head.headers, socket, head: rest });
          return;
        }
        const noBody = r.method === 'HEAD' || head.status === 204 || head.status === 304;
        resolve({ upgraded: false, status: head.status, headers: head.headers, body: bodyOf(socket, head.headers, noBody, rest) });
        return;
      }
    };
    socket.on('data', onData);
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
function bodyOf(socket: Socket, headers: Headers, noBody: boolean, first: Buffer): Readable {
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
  } else if (chunked) {
    feed = dechunk(push, finish, (e) => { if (!done) { done = true; body.destroy(e); } });
  } else if (length !== undefined) {
    let left = length;
    feed = (c) => {
      const take = c.subarray(0, left);
      left -= take.length;
      push(take);
      if (left === 0) finish();
    };
  } else {
    feed = push; // no length: the body runs to the close
  }
  socket.on('data', (c: Buffer) => { if (!done) feed(c); });
  socket.on('end', () => { if (length === undefined && !chunked) finish(); else cut(); });
  socket.on('error', (e) => { if (!done) { done = true; body.destroy(e); } });
  socket.on('close', cut);
  if (first.length) feed(first);
  return body;
}

/** A chunked transfer-coding decoder (RFC 9112 §7.1): size line, data, CRLF, …, 0, trailers, empty line. */
function dechunk(push: (b: Buffer) => void, finish: () => void, fail: (e: Error) => void): (c: Buffer) => void {
  let buf: Buffer = Buffer.alloc(0);
  let left = -1; // bytes of chunk data still to come; -1: a size line is next
  let trailers = false;
  return (c) => {
    buf = buf.length ? Buffer.concat([buf, c]) : c;
    for (;;) {
      if (left > 0) {
        const take = buf.subarray(0, left);
        left -= take.length;
        buf = buf.subarray(take.length);
        push(take);
        if (left > 0) return;
      }
      const nl = buf.indexOf('\r\n');
      if (nl < 0) return;
      const line = buf.subarray(0, nl).toString('latin1');
      buf = buf.subarray(nl + 2);
      if (trailers) { if (line === '') { finish(); return; } continue; }
      if (left === 0) { left = -1; if (line !== '') { fail(new Error('bad chunked encoding from the daemon')); return; } continue; }
      const size = parseInt(line, 16); // a size may carry ";ext"
      if (!Number.isFinite(size) || size < 0) { fail(new Error('bad chunked encoding from the daemon')); return; }
      if (size === 0) trailers = true;
      else left = size;
    }
  };
}
