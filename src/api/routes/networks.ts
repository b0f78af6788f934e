// api/routes/networks: /networks over network/'s NetworkService (moby api/server/router/network), and
// connect/disconnect through the container service, which owns what a container is attached to.
// Publishes the network events create and destroy with moby's attributes (connect and disconnect come
// from the container service).
import { BerthError } from '../../errors.js';
import type { EndpointRequest, NetworkInfo, NetworkService } from '../../network/types.js';
import { isPredefined, toCreateSpec, toEndpointRequest, toNetworkWire } from '../network-wire.js';
import { readJson, sendEmpty, sendJson } from '../http.js';
import { checkFilters, matchLabels, parseFilters, type Filters } from '../query.js';
import type { Handler, Router } from '../router.js';
import type { ApiServices } from '../server.js';
import type { EndpointConfigWire, NetworkCreateRequest } from '../types.js';
import { containerService } from './containers.js';
import { timestampMs } from '../../util/timestamp.js';

/** What the container service offers for connect/disconnect (containers/ records the endpoints). */
export interface NetworkConnector {
  connect(container: string, network: string, req: EndpointRequest): Promise<void>;
  disconnect(container: string, network: string, force?: boolean): Promise<void>;
}

/** moby filters.Args.Match: an exact value, or a regular expression that matches. */
function match(want: Set<string>, value: string): boolean {
  for (const w of want) {
    if (w === value) return true;
    try { if (new RegExp(w).test(value)) return true; } catch { /* not a pattern */ }
  }
  return false;
}

/** moby daemon/network/filter.go newFilter: the values are checked before anything is matched. */
function parseNetworkFilters(raw: string | null, allowed: string[]): { f: Filters; dangling?: boolean; until?: number } {
  const f = parseFilters(raw);
  checkFilters(f, allowed);
  let dangling: boolean | undefined;
  const d = f.get('dangling');
  if (d && d.size > 0) {
    if (d.size > 1) throw new BerthError('InvalidArgument', 'got more than one value for filter key "dangling"');
    const v = [...d][0]!;
    if (v === '1' || v === 'true') dangling = true;
    else if (v === '0' || v === 'false') dangling = false;
    else throw new BerthError('InvalidArgument', `invalid value for filter 'dangling', must be "true" (or "1"), or "false" (or "0")`);
  }
  for (const t of f.get('type') ?? []) if (t !== 'builtin' && t !== 'custom') throw new BerthError('InvalidArgument', `invalid filter: 'type'='${t}'`);
  let until: number | undefined;
  const u = f.get('until');
  if (u && u.size > 0) {
    if (u.size > 1) throw new BerthError('InvalidArgument', 'more than one until filter specified');
    until = timestampMs([...u][0]!);
  }
  return { f, dangling, until };
}

export function networkRoutes(r: Router, s: ApiServices): void {
  const svc = (): NetworkService => {
    if (!s.networks) throw new BerthError('NotImplemented', 'networks are not served by this daemon');
    return s.networks;
  };
  const connector = (): NetworkConnector => {
    const c = containerService(s) as unknown as Partial<NetworkConnector>;
    if (typeof c.connect !== 'function' || typeof c.disconnect !== 'function') throw new BerthError('NotImplemented', 'connecting containers to networks is not served by this daemon');
    return c as NetworkConnector;
  };
  const inUse = (n: NetworkInfo): boolean => svc().endpoints(n.id).length > 0;
  const matches = (q: ReturnType<typeof parseNetworkFilters>, n: NetworkInfo): boolean => {
    const { f } = q;
    if (f.has('driver') && !f.get('driver')!.has(n.driver)) return false;
    if (f.has('name') && !match(f.get('name')!, n.name)) return false;
    if (f.has('id') && !match(f.get('id')!, n.id)) return false;
    if (f.has('label') && !matchLabels(f.get('label'), n.labels)) return false;
    if (f.has('label!') && f.get('label!')!.size > 0 && matchLabels(f.get('label!'), n.labels)) return false;
    if (f.has('scope') && !f.get('scope')!.has('local')) return false;
    if (q.dangling !== undefined && (q.dangling ? isPredefined(n.name) || inUse(n) : !isPredefined(n.name) && !inUse(n))) return false;
    // moby matchesType looks at the first value only
    const type = [...(f.get('type') ?? [])][0];
    if (type !== undefined && (type === 'builtin') !== isPredefined(n.name)) return false;
    if (q.until !== undefined && Date.parse(n.created) > q.until) return false;
    return true;
  };
  const attrs = (n: NetworkInfo, extra: Record<string, string> = {}) => ({ ...extra, name: n.name, type: n.driver });

  r.post('/networks/create', async ({ req, res }) => {
    const b = await readJson<NetworkCreateRequest>(req, 'networkCreate', { required: true });
    if (!b) throw new BerthError('InvalidArgument', 'invalid JSON: request body is empty');
    const spec = toCreateSpec(b);
    // moby daemon/network.go: the predefined networks cannot be created again (403)
    if (isPredefined(spec.name)) throw new BerthError('PermissionDenied', `operation is not permitted on predefined ${spec.name} network `);
    const { id, warning } = await svc().create(spec);
    s.events.publish('network', 'create', id, attrs(svc().get(id)));
    sendJson(res, 201, { Id: id, Warning: warning });
  });

  const list: Handler = ({ res, query }) => {
    const q = parseNetworkFilters(query.get('filters'), ['dangling', 'driver', 'id', 'label', 'name', 'scope', 'type']);
    sendJson(res, 200, svc().list().filter((n) => matches(q, n)).map((n) => toNetworkWire(n)));
  };
  // moby's network router serves the list under both paths
  r.get('/networks', list);
  r.get('/networks/', list);

  r.post('/networks/prune', async ({ req, res, query }) => {
    req.resume();
    const q = parseNetworkFilters(query.get('filters'), ['label', 'label!', 'until']);
    q.dangling = true;
    const deleted: string[] = [];
    for (const n of svc().list().filter((x) => matches(q, x))) {
      try {
        await svc().remove(n.id);
      } catch (e) {
        // moby prunes what it can: a network that gained a container meanwhile stays
        if (e instanceof BerthError && (e.kind === 'Conflict' || e.kind === 'PermissionDenied' || e.kind === 'NotFound' || e.kind === 'FailedPrecondition')) continue;
        throw e;
      }
      deleted.push(n.name);
      s.events.publish('network', 'destroy', n.id, attrs(n));
    }
    sendJson(res, 200, { NetworksDeleted: deleted });
  });

  r.get('/networks/{id}', ({ res, params, query }) => {
    // `docker inspect X` asks here too: without networks, X is simply not one
    if (!s.networks) throw new BerthError('NotFound', `network ${params.id!} not found`);
    const n = svc().get(params.id!);
    // a scope other than local finds nothing here: this daemon has no swarm networks
    const scope = query.get('scope');
    if (scope && scope !== 'local') throw new BerthError('NotFound', `network ${params.id!} not found`);
    sendJson(res, 200, toNetworkWire(n, svc().endpoints(n.id)));
  });

  r.delete('/networks/{id}', async ({ res, params }) => {
    const n = svc().get(params.id!);
    if (isPredefined(n.name)) throw new BerthError('PermissionDenied', `${n.name} is a pre-defined network and cannot be removed`);
    await svc().remove(n.id);
    s.events.publish('network', 'destroy', n.id, attrs(n));
    sendEmpty(res, 204);
  });

  // moby passes both names on as given: the container service resolves them, checks the modes, and
  // publishes connect/disconnect (it also connects at create/start, where these routes are not involved)
  r.post('/networks/{id}/connect', async ({ req, res, params }) => {
    const b = await readJson<{ Container?: string | null; EndpointConfig?: EndpointConfigWire | null }>(req, 'networkConnect', { required: true });
    if (!b?.Container) throw new BerthError('InvalidArgument', 'no container specified to connect to the network');
    await connector().connect(b.Container, params.id!, toEndpointRequest(b.EndpointConfig));
    sendEmpty(res, 200);
  });

  r.post('/networks/{id}/disconnect', async ({ req, res, params }) => {
    const b = await readJson<{ Container?: string | null; Force?: boolean | null }>(req, 'networkDisconnect', { required: true });
    if (!b?.Container) throw new BerthError('InvalidArgument', 'no container specified to disconnect from the network');
    await connector().disconnect(b.Container, params.id!, !!b.Force);
    sendEmpty(res, 200);
  });
}
