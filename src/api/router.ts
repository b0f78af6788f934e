// api/router: moby's routing (api/server/server.go CreateMux): every route is served bare and under
// /v{X.Y}; path variables may be greedy (`{name:.*}`, image references hold `/` and `:`).
import type * as http from 'node:http';
import { BerthError } from '../errors.js';

export interface Context {
  req: http.IncomingMessage;
  res: http.ServerResponse;
  params: Record<string, string>;
  query: URLSearchParams;
  /** the API version the client asked for (the /vX.Y prefix), or the server's when bare */
  version: string;
  path: string;
}

export type Handler = (ctx: Context) => Promise<void> | void;

interface Route { method: string; pattern: string; re: RegExp; keys: string[]; handler: Handler }

export class Router {
  private readonly routes: Route[] = [];

  /** `pattern` like `/images/{name:.*}/json`; a bare `{x}` matches one segment. */
  add(method: string, pattern: string, handler: Handler): this {
    const keys: string[] = [];
    const src = pattern.replace(/[.+?^$()|[\]\\]/g, '\\$&').replace(/\{(\w+)(?::([^}]+))?\}/g, (_, k: string, re?: string) => {
      keys.push(k);
      return `(${re ? re.replace(/\\/g, '') : '[^/]+'})`;
    });
    this.routes.push({ method, pattern, re: new RegExp(`^${src}$`), keys, handler });
    return this;
  }

  get(p: string, h: Handler) { return this.add('GET', p, h); }
  post(p: string, h: Handler) { return this.add('POST', p, h); }
  delete(p: string, h: Handler) { return this.add('DELETE', p, h); }
  head(p: string, h: Handler) { return this.add('HEAD', p, h); }

  /** Every route as `METHOD pattern` (a test checks each has a schema entry). */
  list(): string[] { return this.routes.map((r) => `${r.method} ${r.pattern}`); }

  /** The handler, path variables and route (`METHOD pattern`, api/schema's key) for a request path (already stripped of /vX.Y). */
  match(method: string, path: string): { handler: Handler; params: Record<string, string>; route: string } | undefined {
    for (const r of this.routes) {
      if (r.method !== method) continue;
      const m = r.re.exec(path);
      if (!m) continue;
      const params: Record<string, string> = {};
      r.keys.forEach((k, i) => {
        const raw = m[i + 1] ?? '';
        try { params[k] = decodeURIComponent(raw); } catch { throw new BerthError('InvalidArgument', `invalid path escape in ${JSON.stringify(raw)}`); }
      });
      return { handler: r.handler, params, route: `${r.method} ${r.pattern}` };
    }
    return undefined;
  }
}

/** Splits `/v1.50/images/json` into version and path; a bare path has no version. */
export function splitVersion(p: string): { version?: string; path: string } {
  const m = /^\/v([0-9.]+)(\/.*)$/.exec(p);
  return m ? { version: m[1]!, path: m[2]! } : { path: p };
}
