// api/http: request bodies, JSON replies and JSON-message streams (moby pkg/jsonmessage framing:
// newline-separated objects over chunked encoding, `Content-Type: application/json`, no array wrapper).
import type * as http from 'node:http';
import { BerthError } from '../errors.js';
import { streamError } from './errors.js';
import { checkBody, type BodyName } from './schema/index.js';
import { goJsonSyntaxError } from './go-json.js';

export async function readBody(req: http.IncomingMessage, limit = 16 << 20): Promise<Buffer> {
  const parts: Buffer[] = [];
  let n = 0;
  for await (const c of req) {
    n += (c as Buffer).length;
    if (n > limit) throw new BerthError('InvalidArgument', `request body larger than ${limit} bytes`);
    parts.push(c as Buffer);
  }
  return Buffer.concat(parts);
}

/** Request bodies nest a handful of levels; deeper ones are refused before anything recurses over them. */
export const MAX_JSON_DEPTH = 100;

/** The deepest nesting of arrays and objects in JSON text (brackets inside strings do not count). */
export function jsonDepth(text: string): number {
  let depth = 0, max = 0, inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) { if (++depth > max) max = depth; }
    else if (c === 0x5d || c === 0x7d) depth--;
  }
  return max;
}

/** JSON text → value; a bad or too deeply nested document is 400 "invalid JSON: …" (never a RangeError). */
export function parseJson(body: Buffer | string): unknown {
  const text = typeof body === 'string' ? body : body.toString('utf8');
  if (jsonDepth(text) > MAX_JSON_DEPTH) throw new BerthError('InvalidArgument', `invalid JSON: nested more than ${MAX_JSON_DEPTH} levels deep`);
  try {
    return JSON.parse(text);
  } catch (e) {
    // Go's decoder wording, which docker's clients and tests match on
    throw new BerthError('InvalidArgument', `invalid JSON: ${goJsonSyntaxError(text) ?? (e as Error).message}`);
  }
}

/**
 * Reads a JSON body as moby's httputils.ReadJSON does: an empty body is `undefined`, another content
 * type than application/json is refused, and a bad document is 400 "invalid JSON: …". With a schema
 * name, a document of the wrong shape is a 400 naming the field (api/schema). With `required`, an
 * empty body is moby's 400 "got EOF while reading request body" (the routes where moby 20.10 decodes the
 * body straight from the request: exec create and start, network create/connect/disconnect, volume create).
 */
export async function readJson<T>(req: http.IncomingMessage, schema?: BodyName, opts: { required?: boolean } = {}): Promise<T | undefined> {
  const ct = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  const body = await readBody(req);
  if (body.length === 0 && opts.required) throw new BerthError('InvalidArgument', 'got EOF while reading request body');
  if (body.length === 0) return undefined;
  if (ct !== '' && ct !== 'application/json') throw new BerthError('InvalidArgument', `unsupported Content-Type header (${ct}): must be 'application/json'`);
  const value = parseJson(body);
  if (schema) await checkBody(schema, value);
  return value as T;
}

export function sendJson(res: http.ServerResponse, status: number, value: unknown): void {
  const body = JSON.stringify(value);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

export function sendEmpty(res: http.ServerResponse, status: number): void {
  res.writeHead(status, { 'Content-Length': 0 });
  res.end();
}

/** Waits for 'drain' when the socket is full, so a slow client slows the producer instead of filling memory. */
export function writeAll(res: http.ServerResponse, chunk: Buffer | string): Promise<void> | void {
  if (res.destroyed) throw new BerthError('Unavailable', 'client went away');
  if (res.write(chunk)) return;
  return new Promise((resolve, reject) => {
    const done = () => { res.off('drain', done); res.off('close', gone); resolve(); };
    const gone = () => { res.off('drain', done); reject(new BerthError('Unavailable', 'client went away')); };
    res.on('drain', done);
    res.on('close', gone);
  });
}

/**
 * A JSON-message stream whose headers go out with the first message that is not "deferrable". Until
 * then a failure can still be a plain HTTP error (moby: `if !output.Flushed() { return err }`): e.g. a
 * pull of a missing tag answers 404 before any progress, as docker's does.
 */
export class JsonStream {
  private held: unknown[] = [];
  private started = false;

  constructor(
    private readonly res: http.ServerResponse,
    private readonly deferrable: (m: unknown) => boolean = () => false,
    private readonly encode: (m: unknown) => string = (m) => JSON.stringify(m), // events: eventJson, for the exact timeNano
  ) {}

  get committed(): boolean { return this.started; }

  /** Sends the headers now (events, load). */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.res.writeHead(200, { 'Content-Type': 'application/json' });
    this.res.flushHeaders();
    for (const m of this.held) this.res.write(`${this.encode(m)}\r\n`);
    this.held = [];
  }

  write(m: unknown): void {
    if (!this.started && this.deferrable(m)) { this.held.push(m); return; }
    this.start();
    if (!this.res.destroyed) this.res.write(`${this.encode(m)}\r\n`);
  }

  /** Ends the stream; an error goes in-stream (errorDetail) once committed, else the caller answers it. */
  end(err?: unknown): boolean {
    if (err !== undefined) {
      if (!this.started) return false;
      this.write(streamError(err));
    } else this.start();
    this.res.end();
    return true;
  }
}
