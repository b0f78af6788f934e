// client: a small typed Docker Engine API client over a unix socket, for the berth CLI and the tests.
// It speaks what the docker CLI speaks (versioned paths, X-Registry-Auth, JSON-message streams) and
// turns {"message"} errors back into BerthErrors of the matching kind.
import type * as http from 'node:http';
import type * as net from 'node:net';
import type { Readable } from 'node:stream';
import { BerthError, type ErrorKind } from '../errors.js';
import { kindOfStatus } from '../api/errors.js';
import { encodeAuthHeader } from '../api/auth-header.js';
import { API_VERSION } from '../api/version.js';
import { send, type Answer, type Headers, type Request } from './http1.js';
import type { BodySource } from '../util/http-body.js';
import { negotiatedVersion } from './api-version.js';
import { createBodyAt } from './legacy.js';
import { inflight } from './timing.js';
import type { ContainerCreateRequest, ContainerCreateResponse, ContainerInspect, ContainerSummary, ContainerWaitResponse } from '../api/types.js';
import type { AuthConfig, AuthResponse, DiskUsage, EventMessage, HistoryResponseItem, ImageDeleteResponseItem, ImageInspect, ImagesPruneReport, ImageSummary, JSONMessage, SystemInfo, SystemVersion } from '../api/types.js';

export const DEFAULT_HOST = 'unix:///run/berth/berth.sock';

/** -H, then BERTH_HOST, then DOCKER_HOST, then the default socket. */
export function resolveHost(flag?: string, env: NodeJS.ProcessEnv = process.env): string {
  return flag || env.BERTH_HOST || env.DOCKER_HOST || DEFAULT_HOST;
}

export function socketOf(host: string): string {
  if (host.startsWith('unix://')) return host.slice(7);
  if (host.startsWith('/')) return host;
  throw new BerthError('InvalidArgument', `unsupported host ${JSON.stringify(host)}: only unix:///path sockets are supported`);
}

/** An API error: the daemon's status and message, with the BerthError kind the status stands for. */
export class ApiError extends BerthError {
  constructor(readonly status: number, message: string, kind: ErrorKind = kindOfStatus(status)) {
    super(kind, message);
    this.name = 'ApiError';
  }
}

/** The daemon did not answer at all. */
export class DaemonUnreachable extends BerthError {
  constructor(readonly socket: string, cause: unknown) {
    super('Unavailable', `Cannot connect to the Berth daemon at unix://${socket}. Is the daemon running?`, { cause });
    this.name = 'DaemonUnreachable';
  }
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | string[] | undefined>;
  body?: unknown;
  /** raw body: a Buffer or a stream (sent chunked) */
  raw?: Buffer | AsyncIterable<Uint8Array> | NodeJS.ReadableStream;
  headers?: Record<string, string>;
  /** a JSON body that depends on the API version the request goes at (client/legacy) */
  bodyAt?: (version: string) => unknown;
  /** no /vX.Y prefix */
  unversioned?: boolean;
  /** a 2xx answer's body as `source`, read into one reused buffer (client/http1) */
  rawAnswer?: boolean;
}

/** `source`: a rawAnswer's body (then `res` has no data; destroying it closes the connection). */
export interface Response { status: number; headers: http.IncomingHttpHeaders; res: Readable; source?: BodySource }

function qs(q: RequestOptions['query']): string {
  if (!q) return '';
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined) continue;
    if (Array.isArray(v)) for (const x of v) p.append(k, x);
    else p.set(k, typeof v === 'boolean' ? (v ? '1' : '0') : String(v));
  }
  const s = p.toString();
  return s ? `?${s}` : '';
}

/** The whole body; events rather than an async iterator, which costs the CLI's start-up its setup. */
function readAll(res: Readable): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    res.on('data', (c: Buffer) => { parts.push(c); });
    res.once('end', () => resolve(Buffer.concat(parts)));
    res.once('error', reject);
    res.once('close', () => reject(Object.assign(new Error('premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' })));
  });
}

/** Splits a JSON-message stream into its texts. */
export async function* jsonLines(src: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  let buf = '';
  for await (const c of src) {
    buf += Buffer.from(c).toString('utf8');
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i).trim();
      buf = buf.slice(i + 1);
      if (line) yield line;
    }
  }
  if (buf.trim()) yield buf.trim();
}

/** Splits a JSON-message stream into objects. */
export async function* jsonMessages<T = JSONMessage>(src: AsyncIterable<Uint8Array>): AsyncGenerator<T> {
  for await (const line of jsonLines(src)) yield JSON.parse(line) as T;
}

/** An event's `timeNano` read from its text, exact (JSON.parse rounds it to a double); else from `time`. */
export function eventTimeNs(line: string, e: EventMessage): bigint {
  const at = line.lastIndexOf('"timeNano":');
  const m = at < 0 ? null : /^"timeNano":\s*(\d+)/.exec(line.slice(at));
  return m ? BigInt(m[1]!) : BigInt(Math.trunc(e.time ?? 0)) * 1_000_000_000n;
}

/** A request body that goes in one write to the socket (the kernel's buffer for a unix socket is larger). */
const SMALL_BODY = 64 * 1024;

export interface PullOptions { tag?: string; platform?: string; auth?: AuthConfig; onProgress?: (m: JSONMessage) => void }

export class Client {
  readonly socket: string;
  /** The API version in the paths (/vX.Y/…): fixed, or the one agreed with the daemon (client/api-version). */
  version: string;
  /** The version is fixed or agreed: no more negotiation in this client. */
  private settled: boolean;

  /**
   * `fixed`: a version to use as is (DOCKER_API_VERSION: cli/docker/connect); without one the client speaks
   * API_VERSION until the daemon's first answer, and from then on the lower of that and the daemon's.
   */
  constructor(host: string = resolveHost(), fixed?: string) {
    this.socket = socketOf(host);
    this.version = fixed ?? API_VERSION;
    this.settled = fixed !== undefined;
  }

  /** Nothing to release: every request has a connection of its own, closed with its answer. */
  close(): void { /* no pooled connections */ }

  /** One request; resolves once the response headers arrived. Non-2xx answers throw ApiError. */
  async request(method: string, path: string, o: RequestOptions = {}): Promise<Response> {
    const at = (version: string): Request => {
      const headers: Record<string, string> = { ...o.headers };
      let body: Buffer | undefined;
      const json = o.bodyAt ? o.bodyAt(version) : o.body;
      if (json !== undefined) { body = Buffer.from(JSON.stringify(json)); headers['Content-Type'] = 'application/json'; }
      else if (Buffer.isBuffer(o.raw)) body = o.raw;
      if (body) headers['Content-Length'] = String(body.length);
      return { method, path: `${path}${qs(o.query)}`, headers, body: body ?? (o.raw as AsyncIterable<Uint8Array> | undefined), rawAnswer: o.rawAnswer };
    };
    const answered = inflight();
    let a;
    try { a = await this.exchange(o.bodyAt ? at : at(this.version), !o.unversioned); } catch (e) { answered(); throw e; }
    if (a.upgraded) { a.socket.destroy(); answered(); throw new ApiError(a.status, `unexpected upgrade for API route ${method} ${path}`); }
    const res = a.body;
    res.once('end', answered).once('close', answered);
    if (a.status >= 200 && a.status < 400) return { status: a.status, headers: a.headers, res, source: a.source };
    throw await answerError(a.status, a.headers, res, `request returned ${a.status} for API route ${method} ${path}`);
  }

  /**
   * Sends `request` (its path without the /vX.Y prefix when `versioned`; a function: built for the version it
   * goes at), negotiating the version on the way as the docker CLI does, without its extra round trip: the
   * docker CLI pings (HEAD /_ping) before its first request
   * and then uses min(its version, the ping's Api-Version). Every answer of dockerd and berthd carries that
   * header (moby api/server/middleware/version.go sets it before it checks the path's version), so the first
   * answer settles the version; a daemon older than API_VERSION refuses the first request (400 "client version
   * 1.50 is too new", nothing done), which is sent again once at the daemon's version. Only a body that
   * cannot be sent twice (a stream), or not in one write (over SMALL_BODY: dockerd answers a refused version on
   * the head alone and closes, and the EPIPE of the body's rest takes its answer along), waits for the docker
   * CLI's ping first.
   */
  private async exchange(request: Request | ((version: string) => Request), versioned: boolean): Promise<Answer> {
    const build = typeof request === 'function' ? request : () => request;
    let builtAt = this.version;
    let r = build(builtAt);
    const resendable = r.body === undefined || (Buffer.isBuffer(r.body) && r.body.length <= SMALL_BODY);
    if (versioned && !this.settled && !resendable) await this.negotiate();
    for (;;) {
      const asked = this.version;
      if (asked !== builtAt) { builtAt = asked; r = build(asked); }
      let a: Answer;
      try { a = await send(this.socket, versioned ? { ...r, path: `/v${asked}${r.path}` } : r); } catch (e) { throw this.unreachable(e); }
      if (!this.settled) await this.settle(a.status, a.headers);
      // refused at a version the daemon does not serve (400 from moby's middleware; 404 from a router without
      // it), this answer's or one that was in flight beside it (`rm A B` sends its requests at once)
      if (!versioned || asked === this.version || (a.status !== 400 && a.status !== 404)) return a;
      if (a.upgraded) a.socket.destroy(); else a.body.destroy();
    }
  }

  /**
   * The version from an answer's Api-Version header: the lower of ours and the daemon's. An answer with no
   * header settles it only when it is a success; a refusal without one is asked about with the docker CLI's
   * ping, whose answer without a header means a daemon from before the header (FALLBACK_API_VERSION).
   */
  private async settle(status: number, headers: Headers): Promise<void> {
    const server = headers['api-version'];
    if (typeof server === 'string' && server) this.version = negotiatedVersion(server, this.version);
    else if (status >= 400) { await this.negotiate(); return; }
    this.settled = true;
  }

  /**
   * moby's Client.Ping and negotiateAPIVersionPing: HEAD /_ping (GET when the HEAD is not answered 200 or
   * 500), then the lower of our version and the answer's Api-Version, FALLBACK_API_VERSION when it has none.
   * Once per client; a fixed version stays as it is.
   */
  async negotiate(): Promise<void> {
    if (this.settled) return;
    const ping = async (method: string, orNothing: boolean): Promise<Answer | undefined> => {
      try {
        const a = await send(this.socket, { method, path: '/_ping', headers: {} });
        if (a.upgraded) a.socket.destroy(); else a.body.resume();
        return a;
      } catch (e) {
        const u = this.unreachable(e);
        if (u instanceof DaemonUnreachable || !orNothing) throw u;
        return undefined; // connected, then an error: GET next, as moby
      }
    };
    let a = await ping('HEAD', true);
    if (!a || (a.status !== 200 && a.status !== 500)) a = (await ping('GET', false))!;
    const server = a.headers['api-version'];
    this.version = negotiatedVersion(typeof server === 'string' ? server : undefined, this.version);
    this.settled = true;
  }

  /** ENOENT, ECONNREFUSED, EACCES: no daemon there. */
  private unreachable(e: unknown): unknown {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ECONNREFUSED' || code === 'EACCES' ? new DaemonUnreachable(this.socket, e) : e;
  }

  async json<T>(method: string, path: string, o: RequestOptions = {}): Promise<T> {
    const r = await this.request(method, path, o);
    const b = await readAll(r.res);
    return (b.length ? JSON.parse(b.toString('utf8')) : undefined) as T;
  }

  async drain(method: string, path: string, o: RequestOptions = {}): Promise<number> {
    const r = await this.request(method, path, o);
    await readAll(r.res);
    return r.status;
  }

  /** Follows a JSON-message stream; an in-stream errorDetail throws (as the docker CLI's DisplayJSONMessagesStream). */
  async stream(method: string, path: string, o: RequestOptions, on: (m: JSONMessage) => void = () => {}): Promise<JSONMessage[]> {
    const r = await this.request(method, path, o);
    const all: JSONMessage[] = [];
    for await (const m of jsonMessages(r.res)) {
      if (m.errorDetail || m.error) throw new ApiError(500, m.errorDetail?.message ?? m.error ?? 'unknown error', 'Internal');
      all.push(m);
      on(m);
    }
    return all;
  }

  // system
  async ping(): Promise<{ apiVersion: string; osType: string }> {
    const r = await this.request('GET', '/_ping', { unversioned: true });
    await readAll(r.res);
    return { apiVersion: String(r.headers['api-version'] ?? ''), osType: String(r.headers.ostype ?? '') };
  }
  versionInfo(): Promise<SystemVersion> { return this.json('GET', '/version'); }
  info(): Promise<SystemInfo> { return this.json('GET', '/info'); }
  df(): Promise<DiskUsage> { return this.json('GET', '/system/df'); }
  auth(a: AuthConfig): Promise<AuthResponse> { return this.json('POST', '/auth', { body: a }); }

  /** Streams events until `signal` aborts or the daemon ends the stream (`until`). */
  async events(o: { since?: string; until?: string; filters?: Record<string, string[]>; signal?: AbortSignal }, on: (e: EventMessage, ns: bigint) => void): Promise<void> {
    const r = await this.request('GET', '/events', { query: { since: o.since, until: o.until, filters: o.filters ? JSON.stringify(o.filters) : undefined } });
    o.signal?.addEventListener('abort', () => r.res.destroy(), { once: true });
    try {
      for await (const line of jsonLines(r.res)) { const e = JSON.parse(line) as EventMessage; on(e, eventTimeNs(line, e)); }
    } catch (e) { if (!o.signal?.aborted) throw e; }
  }

  // images
  listImages(o: { all?: boolean; filters?: Record<string, string[]> } = {}): Promise<ImageSummary[]> {
    return this.json('GET', '/images/json', { query: { all: o.all, filters: o.filters ? JSON.stringify(o.filters) : undefined } });
  }
  inspectImage(name: string): Promise<ImageInspect> { return this.json('GET', `/images/${name}/json`); }
  history(name: string): Promise<HistoryResponseItem[]> { return this.json('GET', `/images/${name}/history`); }
  async tag(source: string, repo: string, tag?: string): Promise<void> { await this.drain('POST', `/images/${source}/tag`, { query: { repo, tag } }); }
  removeImage(name: string, o: { force?: boolean; noprune?: boolean } = {}): Promise<ImageDeleteResponseItem[]> {
    return this.json('DELETE', `/images/${name}`, { query: { force: o.force || undefined, noprune: o.noprune || undefined } });
  }
  pruneImages(o: { all?: boolean } = {}): Promise<ImagesPruneReport> {
    return this.json('POST', '/images/prune', { query: { filters: JSON.stringify({ dangling: { [o.all ? 'false' : 'true']: true } }) } });
  }
  pull(fromImage: string, o: PullOptions = {}): Promise<JSONMessage[]> {
    return this.stream('POST', '/images/create', { query: { fromImage, tag: o.tag, platform: o.platform }, headers: { 'X-Registry-Auth': encodeAuthHeader(o.auth ?? {}) } }, o.onProgress);
  }
  push(name: string, o: { tag?: string; auth?: AuthConfig; onProgress?: (m: JSONMessage) => void } = {}): Promise<JSONMessage[]> {
    return this.stream('POST', `/images/${name}/push`, { query: { tag: o.tag }, headers: { 'X-Registry-Auth': encodeAuthHeader(o.auth ?? {}) } }, o.onProgress);
  }
  importImage(src: AsyncIterable<Uint8Array> | NodeJS.ReadableStream, o: { repo?: string; tag?: string; message?: string; changes?: string[] } = {}): Promise<JSONMessage[]> {
    return this.stream('POST', '/images/create', { query: { fromSrc: '-', repo: o.repo, tag: o.tag, message: o.message, changes: o.changes }, raw: src, headers: { 'Content-Type': 'application/x-tar' } });
  }
  /** The archive as a stream (docker save). */
  async save(names: string[]): Promise<Readable> {
    return (await this.request('GET', '/images/get', { query: { names } })).res;
  }
  load(src: AsyncIterable<Uint8Array> | NodeJS.ReadableStream, o: { quiet?: boolean; onProgress?: (m: JSONMessage) => void } = {}): Promise<JSONMessage[]> {
    return this.stream('POST', '/images/load', { query: { quiet: o.quiet ?? true }, raw: src, headers: { 'Content-Type': 'application/x-tar' } }, o.onProgress);
  }

  // containers
  createContainer(body: ContainerCreateRequest, o: { name?: string; platform?: string } = {}): Promise<ContainerCreateResponse> {
    return this.json('POST', '/containers/create', { query: { name: o.name, platform: o.platform }, bodyAt: (v) => createBodyAt(body, v) });
  }
  listContainers(o: { all?: boolean; limit?: number; size?: boolean; filters?: Record<string, string[]> } = {}): Promise<ContainerSummary[]> {
    return this.json('GET', '/containers/json', { query: { all: o.all || undefined, limit: o.limit, size: o.size || undefined, filters: o.filters ? JSON.stringify(o.filters) : undefined } });
  }
  inspectContainer(id: string): Promise<ContainerInspect> { return this.json('GET', `/containers/${encodeURIComponent(id)}/json`); }
  /** 204 started, 304 already running */
  startContainer(id: string): Promise<number> { return this.drain('POST', `/containers/${encodeURIComponent(id)}/start`); }
  stopContainer(id: string, o: { timeout?: number; signal?: string } = {}): Promise<number> {
    return this.drain('POST', `/containers/${encodeURIComponent(id)}/stop`, { query: { t: o.timeout, signal: o.signal } });
  }
  restartContainer(id: string, o: { timeout?: number; signal?: string } = {}): Promise<number> {
    return this.drain('POST', `/containers/${encodeURIComponent(id)}/restart`, { query: { t: o.timeout, signal: o.signal } });
  }
  killContainer(id: string, signal?: string): Promise<number> { return this.drain('POST', `/containers/${encodeURIComponent(id)}/kill`, { query: { signal } }); }
  removeContainer(id: string, o: { force?: boolean; volumes?: boolean } = {}): Promise<number> {
    return this.drain('DELETE', `/containers/${encodeURIComponent(id)}`, { query: { force: o.force || undefined, v: o.volumes || undefined } });
  }
  renameContainer(id: string, name: string): Promise<number> { return this.drain('POST', `/containers/${encodeURIComponent(id)}/rename`, { query: { name } }); }
  resizeContainer(id: string, height: number, width: number): Promise<number> {
    return this.drain('POST', `/containers/${encodeURIComponent(id)}/resize`, { query: { h: height, w: width } });
  }
  /** Resolves once the daemon sent the headers (docker run starts the container only then); `result` is the exit. */
  async waitContainer(id: string, condition?: 'not-running' | 'next-exit' | 'removed'): Promise<{ result: Promise<ContainerWaitResponse>; abort(): void }> {
    const r = await this.request('POST', `/containers/${encodeURIComponent(id)}/wait`, { query: { condition } });
    const result = readAll(r.res).then((b) => JSON.parse(b.toString('utf8')) as ContainerWaitResponse);
    result.catch(() => { /* aborted */ });
    return { result, abort: () => r.res.destroy() };
  }
  /** The log stream: stdcopy frames unless the container has a TTY. */
  async containerLogs(id: string, o: { follow?: boolean; tail?: string; timestamps?: boolean; since?: string; until?: string; stdout?: boolean; stderr?: boolean; details?: boolean } = {}): Promise<Readable> {
    const r = await this.request('GET', `/containers/${encodeURIComponent(id)}/logs`, { query: {
      stdout: o.stdout ?? true, stderr: o.stderr ?? true, follow: o.follow || undefined, tail: o.tail ?? 'all',
      timestamps: o.timestamps || undefined, since: o.since, until: o.until, details: o.details || undefined,
    } });
    return r.res;
  }
  /** POST /containers/{id}/attach with `Upgrade: tcp`: the hijacked socket (and bytes that came with the 101). */
  attachContainer(id: string, o: { stdin?: boolean; stdout?: boolean; stderr?: boolean; stream?: boolean; logs?: boolean; detachKeys?: string } = {}): Promise<{ socket: net.Socket; head: Buffer }> {
    const query = { stream: o.stream ?? true, stdin: o.stdin || undefined, stdout: o.stdout ?? true, stderr: o.stderr ?? true, logs: o.logs || undefined, detachKeys: o.detachKeys };
    return this.hijack('POST', `/containers/${encodeURIComponent(id)}/attach`, query);
  }
  /** A hijacked request: 101 gives the raw socket; any other answer is an ApiError. */
  async hijack(method: string, path: string, query: RequestOptions['query'], body?: unknown): Promise<{ socket: net.Socket; head: Buffer }> {
    const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: Record<string, string> = { Connection: 'Upgrade', Upgrade: 'tcp', 'Content-Type': data ? 'application/json' : 'text/plain' };
    if (data) headers['Content-Length'] = String(data.length);
    const answered = inflight();
    let a;
    try { a = await this.exchange({ method, path: `${path}${qs(query)}`, headers, body: data }, true); } catch (e) { answered(); throw e; }
    if (a.upgraded) {
      a.socket.once('end', answered).once('close', answered);
      return { socket: a.socket, head: a.head };
    }
    a.body.once('end', answered).once('close', answered);
    throw await answerError(a.status, a.headers, a.body, `unable to upgrade to tcp, received ${a.status}`);
  }
}

/** A non-2xx answer as an ApiError: the daemon's {"message"}, else its text, else `fallback`. */
async function answerError(status: number, headers: http.IncomingHttpHeaders, res: Readable, fallback: string): Promise<ApiError> {
  let msg = (await readAll(res)).toString('utf8').trim();
  if (headers['content-type'] === 'application/json') { try { msg = (JSON.parse(msg) as { message?: string }).message ?? msg; } catch { /* raw text */ } }
  return new ApiError(status, msg || fallback);
}

/** Splits a stdcopy stream (8-byte header: stream, 0, 0, 0, u32 BE length) into frames. */
export async function* demux(src: AsyncIterable<Uint8Array>): AsyncGenerator<{ stream: number; payload: Buffer }> {
  let buf = Buffer.alloc(0);
  for await (const c of src) {
    buf = buf.length ? Buffer.concat([buf, Buffer.from(c)]) : Buffer.from(c);
    while (buf.length >= 8) {
      const n = buf.readUInt32BE(4);
      if (buf.length < 8 + n) break;
      yield { stream: buf[0]!, payload: buf.subarray(8, 8 + n) };
      buf = buf.subarray(8 + n);
    }
  }
}
