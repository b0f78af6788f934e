// registry/http-get: one GET through node:http/https, redirects followed, for a layer blob's body. fetch's
// web stream cost twice the CPU per byte: 93 MB from a local registry read in a bare loop took 680-790 ms
// of user+sys through fetch against 340-360 ms through node:http (1,430 chunks of 64 KB either way).
import * as http from 'node:http';
import { createRequire } from 'node:module';

/** node:https at the first https GET: with its TLS stack, ~1.5 MB of berthd's idle RSS when loaded at start (issue 13). */
let httpsModule: typeof import('node:https') | undefined;
const https = () => (httpsModule ??= createRequire(import.meta.url)('node:https') as typeof import('node:https'));

/** fetch's own limit */
const MAX_REDIRECTS = 20;
/** A response that sends nothing for this long is given up: undici's headersTimeout and bodyTimeout, which fetch had. */
const IDLE_MS = 300_000;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * The final response of a GET of url. As fetch does, a redirect to another origin drops the Authorization
 * header (a registry's redirect to its CDN must not hand the token on). A connection that breaks off
 * mid-body errors the stream (ECONNRESET, as for fetch's 'terminated'); a silent one after IDLE_MS.
 */
export function httpGet(url: string, headers: Record<string, string>, hops = 0): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    let u: URL;
    try { u = new URL(url); } catch (e) { reject(e); return; }
    const mod = u.protocol === 'https:' ? https() : u.protocol === 'http:' ? http : undefined;
    if (!mod) { reject(new Error(`unsupported protocol ${u.protocol}`)); return; }
    const req = mod.get(u, { headers }, (res) => {
      const loc = res.headers.location;
      if (!REDIRECTS.has(res.statusCode ?? 0) || !loc) { resolve(res); return; }
      res.resume();
      if (hops >= MAX_REDIRECTS) { reject(new Error('too many redirects')); return; }
      let next: URL;
      try { next = new URL(loc, u); } catch (e) { reject(e); return; }
      const h = { ...headers };
      if (next.origin !== u.origin) delete h.authorization;
      resolve(httpGet(next.href, h, hops + 1));
    });
    req.setTimeout(IDLE_MS, () => req.destroy(Object.assign(new Error(`${u.host}: no answer for ${IDLE_MS / 1000} s`), { code: 'ETIMEDOUT' })));
    req.on('error', reject);
  });
}
