// registry/client: the OCI distribution API v2 (distribution spec.md): ping, resolve, fetch, push.
// Plain HTTP only for localhost, 127.0.0.1, ::1 and registries marked insecure; retries transient failures.
import { createHash } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import { BerthError } from '../errors.js';
import { MAX_MANIFEST, MAX_SMALL, readResponseCapped } from '../util/read-capped.js';
import { credentialsFor, parseChallenges, type Credentials } from './auth.js';
import { httpGet } from './http-get.js';
import { DEFAULT_DOMAIN, familiarName, type Reference } from './reference.js';

export const MANIFEST_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
];

export interface ClientOptions {
  insecure?: string[];
  /** overrides ~/.docker/config.json lookup (tests, login) */
  credentials?: (host: string) => Credentials | undefined;
  retries?: number;
  userAgent?: string;
}

export interface Fetched { digest: string; mediaType: string; size: number; bytes: Buffer }

type Body = Buffer | (() => AsyncIterable<Uint8Array>) | undefined;
interface Req { method: string; url: string; headers?: Record<string, string>; body?: Body; scope?: string; ok?: number[] }

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function isLoopback(host: string): boolean {
  const h = host.replace(/:\d+$/, '');
  return h === 'localhost' || h === '127.0.0.1' || h === '[::1]' || h.endsWith('.localhost');
}

export function insecureFromEnv(): string[] {
  return (process.env.BERTH_INSECURE_REGISTRIES ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

export class RegistryClient {
  private readonly tokens = new Map<string, string>();      // scope -> Authorization header value
  private challenge: { scheme: string; params: Record<string, string> } | undefined;
  private readonly base: string;
  private readonly retries: number;

  constructor(readonly host: string, private readonly opts: ClientOptions = {}) {
    const apiHost = host === DEFAULT_DOMAIN ? 'registry-1.docker.io' : host;
    const plain = isLoopback(host) || (opts.insecure ?? insecureFromEnv()).includes(host);
    this.base = `${plain ? 'http' : 'https'}://${apiHost}`;
    this.retries = opts.retries ?? 3;
  }

  private creds(): Credentials | undefined {
    return this.opts.credentials ? this.opts.credentials(this.host) : credentialsFor(this.host);
  }

  url(p: string): string { return p.startsWith('http') ? p : `${this.base}${p}`; }

  /** GET /v2/: checks the registry answers and learns its auth challenge. */
  async ping(): Promise<void> {
    const res = await this.send({ method: 'GET', url: '/v2/', scope: '', ok: [200, 401] });
    await res.body?.cancel();
    if (res.status === 401) {
      // with credentials, a 401 here means they were refused
      const again = await this.request({ method: 'GET', url: '/v2/', scope: '' });
      await again.body?.cancel();
      // only a 2xx with the credentials is a login (moby loginV2); a 431 or a 404 is no acceptance
      // a 4xx is the registry refusing these credentials (moby: errdefs.Unauthorized); a 5xx is the registry failing
      if (!again.ok) throw new BerthError(again.status < 500 ? 'PermissionDenied' : 'Unavailable', `login attempt to ${this.url('/v2/')} failed with status: ${again.status} ${STATUS_CODES[again.status] ?? again.statusText}`);
    }
  }

  private async authorize(scope: string, res: Response): Promise<boolean> {
    const ch = parseChallenges(res.headers.get('www-authenticate'));
    const bearer = ch.find((c) => c.scheme === 'bearer');
    const basic = ch.find((c) => c.scheme === 'basic');
    const creds = this.creds();
    if (bearer) {
      this.challenge = bearer;
      const scopes = [...scope.split(' '), bearer.params.scope].filter((s): s is string => !!s);
      const token = await this.fetchToken(bearer.params, [...new Set(scopes)], creds);
      this.tokens.set(scope, `Bearer ${token}`);
      return true;
    }
    if (basic && creds?.username) {
      this.challenge = basic;
      this.tokens.set(scope, `Basic ${Buffer.from(`${creds.username}:${creds.password ?? ''}`).toString('base64')}`);
      return true;
    }
    return false;
  }

  private async fetchToken(p: Record<string, string>, scopes: string[], creds: Credentials | undefined): Promise<string> {
    if (!p.realm) throw new BerthError('Unavailable', `registry ${this.host}: bearer challenge without realm`);
    const u = new URL(p.realm);
    if (p.service) u.searchParams.set('service', p.service);
    for (const s of scopes) u.searchParams.append('scope', s);
    const headers: Record<string, string> = {};
    if (creds?.username) headers.authorization = `Basic ${Buffer.from(`${creds.username}:${creds.password ?? ''}`).toString('base64')}`;
    let res: Response;
    if (creds?.identityToken) {
      // docker's OAuth2 refresh-token flow
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: creds.identityToken, service: p.service ?? '', scope: scopes.join(' '), client_id: 'berth' });
      res = await fetch(u.origin + u.pathname, { method: 'POST', body: form });
    } else {
      res = await fetch(u, { headers });
    }
    if (res.status === 401 || res.status === 403) throw new BerthError('PermissionDenied', `registry ${this.host}: authentication required (token server refused: ${res.status})`);
    if (!res.ok) throw new BerthError('Unavailable', `registry ${this.host}: token server answered ${res.status}`);
    let j: { token?: string; access_token?: string };
    try { j = JSON.parse((await readResponseCapped(res, MAX_SMALL, 'token server answer')).toString('utf8')) as typeof j; } catch (e) {
      throw new BerthError('Unavailable', `registry ${this.host}: token server: ${(e as Error).message}`, { cause: e });
    }
    const t = j.token ?? j.access_token;
    if (!t) throw new BerthError('Unavailable', `registry ${this.host}: token server returned no token`);
    return t;
  }

  /** One request with auth; 401 triggers one authorization round. Statuses outside ok throw. */
  async request(r: Req): Promise<Response> {
    const scope = r.scope ?? '';
    let res = await this.send(r, true);
    if (res.status === 401) {
      await res.body?.cancel();
      if (await this.authorize(scope, res)) res = await this.send(r, true);
      if (res.status === 401) {
        await res.body?.cancel();
        throw new BerthError('PermissionDenied', `${this.host}: unauthorized: authentication required${this.creds() ? ' (credentials refused)' : ''}`);
      }
    }
    if (r.ok && !r.ok.includes(res.status)) throw await this.httpError(res, r);
    return res;
  }

  private async send(r: Req, allowAny = false): Promise<Response> {
    const headers: Record<string, string> = { 'user-agent': this.opts.userAgent ?? 'berth/0.1', ...r.headers };
    const tok = this.tokens.get(r.scope ?? '');
    if (tok) headers.authorization = tok;
    for (let attempt = 0; ; attempt++) {
      let res: Response | undefined;
      let err: unknown;
      try {
        const body = typeof r.body === 'function' ? r.body() : r.body;
        res = await fetch(this.url(r.url), { method: r.method, headers, body: body as never, redirect: 'follow', ...(typeof r.body === 'function' ? { duplex: 'half' } : {}) } as RequestInit);
      } catch (e) {
        err = e;
      }
      const transient = err !== undefined || (res !== undefined && (res.status >= 500 || res.status === 429) && res.status !== 501);
      if (transient && attempt < this.retries) {
        await res?.body?.cancel();
        await sleep(100 * 4 ** attempt);
        continue;
      }
      if (err) {
        const cause = (err as { cause?: { code?: string; message?: string } }).cause;
        throw new BerthError('Unavailable', `${r.method} ${this.url(r.url)}: ${cause?.code ?? cause?.message ?? (err as Error).message}`, { cause: err });
      }
      if (!allowAny && r.ok && !r.ok.includes(res!.status)) throw await this.httpError(res!, r);
      return res!;
    }
  }

  private async httpError(res: Response, r: Req): Promise<BerthError> {
    let code = '';
    let message = '';
    try {
      const j = JSON.parse((await readResponseCapped(res, MAX_SMALL, 'error body')).toString('utf8')) as { errors?: Array<{ code?: string; message?: string }> };
      code = j.errors?.[0]?.code ?? '';
      message = j.errors?.[0]?.message ?? '';
    } catch { /* not JSON */ }
    const what = `${r.method} ${r.url}`;
    if (res.status === 404) return new BerthError('NotFound', `${message || code || 'not found'} (${what})`);
    if (res.status === 401 || res.status === 403) return new BerthError('PermissionDenied', `${this.host}: ${message || 'denied'} (${what})`);
    if (res.status === 400 || res.status === 405 || res.status === 416) return new BerthError('InvalidArgument', `${this.host}: ${code || res.status} ${message} (${what})`);
    return new BerthError('Unavailable', `${this.host}: ${res.status} ${message || res.statusText} (${what})`);
  }

  /** Resolves a tag or digest to the top manifest, verifying a digest reference. */
  async getManifest(ref: Reference, accept = MANIFEST_TYPES): Promise<Fetched> {
    const tagOrDigest = ref.digest ?? ref.tag ?? 'latest';
    let res: Response;
    try {
      res = await this.request({ method: 'GET', url: `/v2/${ref.path}/manifests/${tagOrDigest}`, headers: { accept: accept.join(', ') }, scope: pullScope(ref.path), ok: [200] });
    } catch (e) {
      if (e instanceof BerthError && e.kind === 'NotFound') {
        throw new BerthError('NotFound', `manifest for ${familiarName(`${ref.domain}/${ref.path}`)}:${tagOrDigest} not found: manifest unknown`, { cause: e });
      }
      if (e instanceof BerthError && e.kind === 'PermissionDenied') {
        throw new BerthError('PermissionDenied', `pull access denied for ${familiarName(`${ref.domain}/${ref.path}`)}, repository does not exist or may require 'docker login': ${e.message}`, { cause: e });
      }
      throw e;
    }
    const bytes = await readResponseCapped(res, MAX_MANIFEST, `manifest ${tagOrDigest}`);
    const digest = 'sha256:' + createHash('sha256').update(bytes).digest('hex');
    if (ref.digest && ref.digest !== digest) throw new BerthError('InvalidArgument', `manifest digest mismatch: asked for ${ref.digest}, got ${digest}`);
    let mediaType = (res.headers.get('content-type') ?? '').split(';')[0]!.trim();
    try {
      const mt = (JSON.parse(bytes.toString('utf8')) as { mediaType?: string }).mediaType;
      if (mt) mediaType = mt;
    } catch { throw new BerthError('InvalidArgument', `manifest ${tagOrDigest}: not JSON`); }
    return { digest, mediaType, size: bytes.length, bytes };
  }

  /** GET a blob; the caller streams and verifies the body. */
  async getBlob(repo: string, digest: string): Promise<Response> {
    return this.request({ method: 'GET', url: `/v2/${repo}/blobs/${digest}`, scope: pullScope(repo), ok: [200] });
  }

  /**
   * A layer blob's body, for the big transfer: through node:http (registry/http-get), which costs half
   * fetch's CPU. Only a 200 answered with the token already held (the manifest's GET got it for this
   * scope) is taken from there; anything else (an auth round, an error status, a refused connection) is
   * asked again through getBlob, whose answers, retries and errors stay the ones of every other request.
   */
  async getBlobBody(repo: string, digest: string): Promise<AsyncIterable<Uint8Array>> {
    const headers: Record<string, string> = { 'user-agent': this.opts.userAgent ?? 'berth/0.1' };
    const tok = this.tokens.get(pullScope(repo));
    if (tok) headers.authorization = tok;
    const res = await httpGet(this.url(`/v2/${repo}/blobs/${digest}`), headers).catch(() => undefined);
    if (res?.statusCode === 200) return res;
    res?.destroy();
    const again = await this.getBlob(repo, digest);
    return again.body as unknown as AsyncIterable<Uint8Array>;
  }

  async hasBlob(repo: string, digest: string): Promise<boolean> {
    const res = await this.request({ method: 'HEAD', url: `/v2/${repo}/blobs/${digest}`, scope: pushScope(repo), ok: [200, 404] });
    return res.status === 200;
  }

  /** Cross-repository mount; true when the registry mounted it, false when it opened an upload instead. */
  async mountBlob(repo: string, digest: string, from: string): Promise<{ mounted: boolean; location?: string }> {
    const res = await this.request({ method: 'POST', url: `/v2/${repo}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`, scope: `${pushScope(repo)} ${pullScope(from)}`, ok: [201, 202] });
    await res.body?.cancel();
    return { mounted: res.status === 201, location: res.headers.get('location') ?? undefined };
  }

  async startUpload(repo: string): Promise<string> {
    const res = await this.request({ method: 'POST', url: `/v2/${repo}/blobs/uploads/`, scope: pushScope(repo), ok: [202] });
    await res.body?.cancel();
    const loc = res.headers.get('location');
    if (!loc) throw new BerthError('Unavailable', `${this.host}: upload started without a Location`);
    return new URL(loc, this.base + '/').toString();
  }

  /**
   * Uploads a blob: one PUT when size <= chunkSize, else PATCH chunks then a closing PUT
   * (distribution spec "Pushing a blob in chunks"). `open(start, end)` yields the bytes [start, end).
   */
  async pushBlob(repo: string, digest: string, size: number, open: (start: number, end: number) => AsyncIterable<Uint8Array>, opts: { location?: string; chunkSize?: number; onProgress?: (n: number) => void } = {}): Promise<void> {
    let loc = opts.location ?? (await this.startUpload(repo));
    const chunk = opts.chunkSize ?? 64 << 20;
    const scope = pushScope(repo);
    const counted = (start: number, end: number) => async function* (this: void) {
      for await (const c of open(start, end)) { opts.onProgress?.(c.length); yield c; }
    };
    if (size <= chunk) {
      const res = await this.request({ method: 'PUT', url: withQuery(loc, 'digest', digest), headers: { 'content-type': 'application/octet-stream' }, body: counted(0, size), scope, ok: [201] });
      await res.body?.cancel();
      return;
    }
    for (let start = 0; start < size; start += chunk) {
      const end = Math.min(size, start + chunk);
      const res = await this.request({ method: 'PATCH', url: loc, headers: { 'content-type': 'application/octet-stream', 'content-range': `${start}-${end - 1}`}, body: counted(start, end), scope, ok: [202] });
      await res.body?.cancel();
      loc = new URL(res.headers.get('location') ?? loc, this.base + '/').toString();
    }
    const res = await this.request({ method: 'PUT', url: withQuery(loc, 'digest', digest), scope, ok: [201] });
    await res.body?.cancel();
  }

  async putManifest(repo: string, tagOrDigest: string, mediaType: string, bytes: Buffer): Promise<string> {
    const res = await this.request({ method: 'PUT', url: `/v2/${repo}/manifests/${tagOrDigest}`, headers: { 'content-type': mediaType }, body: bytes, scope: pushScope(repo), ok: [201, 200] });
    await res.body?.cancel();
    return res.headers.get('docker-content-digest') ?? 'sha256:' + createHash('sha256').update(bytes).digest('hex');
  }
}

export function pullScope(repo: string): string { return `repository:${repo}:pull`; }
export function pushScope(repo: string): string { return `repository:${repo}:pull,push`; }

function withQuery(url: string, k: string, v: string): string {
  const u = new URL(url);
  u.searchParams.set(k, v);
  return u.toString();
}
