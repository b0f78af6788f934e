// api/hijack: the hijacked streams of attach (and exec later). Requests carrying `Upgrade: tcp` arrive on
// the server's 'upgrade' event, not 'request' (Node): we answer `101 UPGRADED` ourselves, take the body
// (Content-Length bytes) from `head` and the socket, and keep what follows as early stdin. Then the
// socket is a pipe: client stdin → monitor STDIN frames, monitor output → client (stdcopy frames as they
// are without a TTY, raw payloads with one). The client half-closes when its stdin ends (moby hijack.go
// CloseWrite); the socket stays writable (the http server is allowHalfOpen) and we close it once the
// monitor hangs up, which the docker CLI waits for.
import type * as http from 'node:http';
import * as net from 'node:net';
import type { Readable, Writable } from 'node:stream';
import { BerthError } from '../errors.js';
import { ATTACH, attachFrame, FrameReader } from '../monitor/protocol.js';
import { errorBody, messageOf, statusOf } from './errors.js';
import { Router, splitVersion } from './router.js';
import { checkQuery, ROUTES } from './schema/index.js';
import { API_VERSION, compareVersions, ENGINE_VERSION, MIN_API_VERSION } from './version.js';

export const MULTIPLEXED = 'application/vnd.docker.multiplexed-stream';
export const RAW_STREAM = 'application/vnd.docker.raw-stream';

export interface Hijack {
  req: http.IncomingMessage;
  socket: net.Socket;
  params: Record<string, string>;
  query: URLSearchParams;
  version: string;
  /** the request body (exec start's JSON); empty for attach */
  body: Buffer;
  /** bytes the client sent after the body before we answered: early stdin */
  early: Buffer;
  /** Sends `101 UPGRADED` (moby postContainersAttach); after it, errors can only close the stream. */
  accept(contentType: string): void;
  readonly accepted: boolean;
}

export type HijackHandler = (h: Hijack) => Promise<void>;

/** The routes served on 'upgrade' (POST only, as moby's). */
export class HijackRoutes {
  private readonly router = new Router();
  private readonly handlers = new Map<unknown, HijackHandler>();
  add(pattern: string, h: HijackHandler): this {
    const key = () => {};
    this.handlers.set(key, h);
    this.router.post(pattern, key);
    return this;
  }
  match(method: string, p: string): { handler: HijackHandler; params: Record<string, string>; route: string } | undefined {
    const m = this.router.match(method, p);
    return m ? { handler: this.handlers.get(m.handler)!, params: m.params, route: m.route } : undefined;
  }
}

const REASONS: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 409: 'Conflict', 500: 'Internal Server Error', 501: 'Not Implemented', 503: 'Service Unavailable' };

function rawError(socket: net.Socket, e: unknown): void {
  if (socket.destroyed) return;
  const status = statusOf(e);
  const body = errorBody(messageOf(e));
  socket.end(`HTTP/1.1 ${status} ${REASONS[status] ?? 'Error'}\r\nApi-Version: ${API_VERSION}\r\nOstype: linux\r\nServer: Docker/${ENGINE_VERSION} (linux)\r\n` +
    `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

/** A hijacked request's body is exec start's small JSON document; nothing bigger is buffered. */
const MAX_BODY = 1 << 20;

/** Content-Length bytes of body from `head` and then the socket; what follows is early stdin. */
function readBody(req: http.IncomingMessage, socket: net.Socket, head: Buffer): Promise<{ body: Buffer; early: Buffer }> {
  const n = Number(req.headers['content-length'] ?? 0);
  if (!Number.isInteger(n) || n < 0) return Promise.reject(new BerthError('InvalidArgument', 'invalid Content-Length'));
  if (n > MAX_BODY) return Promise.reject(new BerthError('InvalidArgument', `request body larger than ${MAX_BODY} bytes`));
  if (req.headers['transfer-encoding'] && n === 0) return Promise.reject(new BerthError('InvalidArgument', 'chunked bodies are not accepted on hijacked requests'));
  if (head.length >= n) return Promise.resolve({ body: head.subarray(0, n), early: head.subarray(n) });
  return new Promise((resolve, reject) => {
    let buf = head;
    const on = (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (buf.length < n) return;
      socket.off('data', on); socket.off('end', short);
      socket.pause();
      resolve({ body: buf.subarray(0, n), early: buf.subarray(n) });
    };
    const short = () => { socket.off('data', on); reject(new BerthError('InvalidArgument', 'unexpected EOF in request body')); };
    socket.on('data', on);
    socket.once('end', short);
  });
}

/** The server's 'upgrade' listener: version checks as the middleware, routing, 101 or an HTTP error. */
export function upgradeListener(routes: HijackRoutes, log?: (m: string) => void): (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => void {
  return (req, socket, head) => {
    socket.on('error', () => { /* the client went away; handlers see 'close' */ });
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://berth');
      const { version, path: p } = splitVersion(url.pathname);
      if (version !== undefined) {
        if (compareVersions(version, API_VERSION) > 0) throw new BerthError('InvalidArgument', `client version ${version} is too new. Maximum supported API version is ${API_VERSION}`);
        if (compareVersions(version, MIN_API_VERSION) < 0) throw new BerthError('InvalidArgument', `client version ${version} is too old. Minimum supported API version is ${MIN_API_VERSION}, please upgrade your client to a newer version`);
      }
      const hit = routes.match(req.method ?? 'GET', p);
      if (!hit) throw new BerthError('NotFound', 'page not found');
      checkQuery(ROUTES[hit.route], url.searchParams);
      const { body, early } = await readBody(req, socket, head);
      let accepted = false;
      const h: Hijack = {
        req, socket, params: hit.params, query: url.searchParams, version: version ?? API_VERSION, body, early,
        accept(contentType: string) {
          if (accepted) return;
          accepted = true;
          socket.write(`HTTP/1.1 101 UPGRADED\r\nContent-Type: ${contentType}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n`);
        },
        get accepted() { return accepted; },
      };
      try {
        await hit.handler(h);
      } catch (e) {
        if (!accepted) throw e;
        log?.(`${req.method} ${req.url}: ${messageOf(e)}`);
        socket.destroy();
      }
    })().catch((e: unknown) => {
      log?.(`${req.method} ${req.url} -> ${statusOf(e)}: ${messageOf(e)}`);
      rawError(socket, e);
    });
  };
}

/** moby pkg/term ToBytes: "ctrl-p,ctrl-q" → [0x10, 0x11]; single characters stand for themselves. */
export function parseDetachKeys(keys: string): Buffer {
  const out: number[] = [];
  for (const k of keys.split(',')) {
    const t = k.trim();
    if (t.length > 1 && t.startsWith('ctrl-')) {
      const c = t.slice(5);
      if (c.length === 1 && /[a-z@[\\\]^_]/.test(c)) { out.push(c === '@' ? 0 : c >= 'a' && c <= 'z' ? c.charCodeAt(0) - 96 : c.charCodeAt(0) - 64); continue; }
    } else if (t.length === 1) { out.push(t.charCodeAt(0)); continue; }
    throw new BerthError('InvalidArgument', `Invalid detach keys (${keys}) provided`);
  }
  return Buffer.from(out);
}

export interface BridgeOptions {
  tty: boolean;
  stdin: boolean;
  stdout: boolean;
  stderr: boolean;
  /** close the container's stdin when the client's ends (docker's StdinOnce) */
  stdinOnce: boolean;
  /** the escape sequence that detaches (empty: none) */
  detachKeys?: Buffer;
  /** stdin that came with the request */
  early?: Buffer;
}

/**
 * One attach stream. Output goes to `out`; stdin comes from `input` and is buffered until the monitor's
 * socket is connected (the CLI sends it before `start`). `done` resolves when either side is finished.
 */
export class StreamBridge {
  readonly done: Promise<void>;
  /** aborts when the client is gone */
  readonly gone = new AbortController();
  private finish!: () => void;
  private monitor?: net.Socket;
  private pending: Buffer[] = [];
  private stdinEnded = false;
  private matched = 0;
  /** the client typed the detach keys: the stream ends now, whatever the process does */
  detached = false;
  private held: Buffer[] = [];
  private reader = new FrameReader(true);

  constructor(private readonly out: Writable, private readonly input: Readable | undefined, private readonly o: BridgeOptions) {
    this.done = new Promise((r) => { this.finish = r; });
    out.on('close', () => this.close());
    out.on('error', () => this.close());
    if (input) {
      if (o.stdin) {
        if (o.early?.length) this.stdin(o.early);
        input.on('data', (d: Buffer) => this.stdin(d));
        input.on('end', () => this.stdinEnd());
      } else {
        input.on('data', () => { /* not attached: discarded, as moby */ });
      }
      input.resume();
    }
  }

  get closed(): boolean { return this.gone.signal.aborted; }

  /** Output that does not come from the monitor (the log replay of logs=1). */
  async output(stream: 1 | 2, payload: Buffer): Promise<void> {
    if ((stream === 1 && !this.o.stdout) || (stream === 2 && !this.o.stderr) || this.closed) return;
    const chunk = this.o.tty ? payload : attachFrame(stream, payload);
    if (!this.out.write(chunk)) await new Promise<void>((r) => { this.out.once('drain', r); this.gone.signal.addEventListener('abort', () => r(), { once: true }); });
  }

  /** Wires the monitor's attach socket: flushes buffered stdin, then pipes both ways. */
  connect(monitor: net.Socket): void {
    if (this.closed) { monitor.destroy(); return; }
    this.monitor = monitor;
    for (const p of this.pending) monitor.write(attachFrame(ATTACH.STDIN, p));
    this.pending = [];
    if (this.stdinEnded && this.o.stdinOnce) monitor.write(attachFrame(ATTACH.CLOSE_STDIN));
    const passThrough = !this.o.tty && this.o.stdout && this.o.stderr;
    monitor.on('data', (d: Buffer) => {
      let ok = true;
      if (passThrough) ok = this.out.write(d);
      else {
        for (const f of this.reader.push(d)) {
          if (f.type === ATTACH.STDOUT ? !this.o.stdout : f.type === ATTACH.STDERR ? !this.o.stderr : true) continue;
          ok = this.out.write(this.o.tty ? f.payload : attachFrame(f.type, f.payload)) && ok;
        }
      }
      if (!ok) { monitor.pause(); this.out.once('drain', () => monitor.resume()); }
    });
    monitor.on('error', () => { /* 'close' follows */ });
    // the monitor closes its attach socket after the container's exit: end the stream after the output
    monitor.on('close', () => this.end());
  }

  /** Ends the stream after what was written (the container exited, or nothing more to send). */
  end(): void {
    if (this.closed) return;
    this.out.end();
    this.close();
  }

  private close(): void {
    if (!this.gone.signal.aborted) this.gone.abort();
    this.monitor?.destroy();
    this.finish();
  }

  private stdin(d: Buffer): void {
    const keys = this.o.detachKeys;
    if (keys?.length) d = this.escape(d, keys);
    if (this.closed || d.length === 0) return;
    if (this.monitor) this.monitor.write(attachFrame(ATTACH.STDIN, d));
    else this.pending.push(d);
  }

  /** moby term.NewEscapeProxy: holds a partial match back; a full match detaches, a broken one lets it through. */
  private escape(d: Buffer, keys: Buffer): Buffer {
    const out: number[] = [];
    for (const b of d) {
      if (b === keys[this.matched]) {
        this.matched++;
        this.held.push(Buffer.of(b));
        if (this.matched === keys.length) {
          // detach: the container keeps running and keeps its stdin
          this.held = [];
          this.matched = 0;
          this.detached = true;
          this.stdinEnded = true;
          this.end();
          return Buffer.alloc(0);
        }
        continue;
      }
      if (this.matched) { for (const h of this.held) out.push(...h); this.held = []; this.matched = 0; }
      out.push(b);
    }
    return Buffer.from(out);
  }

  private stdinEnd(): void {
    if (this.stdinEnded) return;
    this.stdinEnded = true;
    if (this.matched) { const h = Buffer.concat(this.held); this.held = []; this.matched = 0; if (this.monitor) this.monitor.write(attachFrame(ATTACH.STDIN, h)); else this.pending.push(h); }
    if (this.o.stdinOnce && this.monitor && !this.closed) this.monitor.write(attachFrame(ATTACH.CLOSE_STDIN));
  }
}

/** Connects to a unix socket; rejects with the errno error. */
export function connectUnix(p: string): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect(p);
    s.once('connect', () => { s.removeListener('error', reject); resolve(s); });
    s.once('error', reject);
  });
}
