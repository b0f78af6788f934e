// api/schema/routes: what each route berthd serves accepts — its query parameters (typed as moby's
// swagger types them) and the schema of its JSON body. Keys are `METHOD pattern` exactly as the routes
// register them; a unit test checks that every served route has an entry here, and the API fuzz test
// generates its malformed requests from this table.
import { containerCreate, containerUpdate } from './container.js';
import { execCreate, execStart } from './exec.js';
import { authConfig } from './system.js';
import { networkConnect, networkCreate, networkDisconnect } from './network.js';
import { volumeCreate } from './volume.js';

/**
 * A query parameter's type. `bool`: moby's boolean words (1/0, true/false, yes/no, …); `int`: a decimal
 * int64; `filters`: the JSON filter map; `timestamp`: unix seconds, RFC 3339 or a duration ago; a list: one of these words; `string`: anything (the service judges it).
 */
export type QueryKind = 'bool' | 'int' | 'string' | 'filters' | 'timestamp' | readonly string[];

export const BODIES = { containerCreate, containerUpdate, execCreate, execStart, authConfig, volumeCreate, networkCreate, networkConnect, networkDisconnect } as const;
export type BodyName = keyof typeof BODIES;

export interface RouteSpec {
  query?: { [param: string]: QueryKind };
  /** a JSON body and its schema */
  body?: BodyName;
  /** a body that is not JSON (a tar stream) */
  raw?: true;
}

const NAME = '{name:.+}';
const logsQuery = { follow: 'bool', stdout: 'bool', stderr: 'bool', since: 'timestamp', until: 'timestamp', timestamps: 'bool', tail: 'string' } as const;
const attachQuery = { detachKeys: 'string', logs: 'bool', stream: 'bool', stdin: 'bool', stdout: 'bool', stderr: 'bool' } as const;
const resizeQuery = { h: 'int', w: 'int' } as const;

export const ROUTES: { [route: string]: RouteSpec } = {
  // system
  'GET /_ping': {},
  'HEAD /_ping': {},
  'GET /version': {},
  'GET /info': {},
  'GET /system/df': { query: { verbose: 'bool' } },
  'GET /events': { query: { since: 'timestamp', until: 'timestamp', filters: 'filters' } },
  'POST /auth': { body: 'authConfig' },

  // images
  'POST /images/create': { query: { fromImage: 'string', fromSrc: 'string', repo: 'string', tag: 'string', message: 'string', changes: 'string', platform: 'string' }, raw: true },
  'GET /images/json': { query: { all: 'bool', filters: 'filters', 'shared-size': 'bool', digests: 'bool', manifests: 'bool', identity: 'bool', filter: 'string' } },
  'GET /images/get': { query: { names: 'string', platform: 'string' } },
  'GET /images/search': { query: { term: 'string', limit: 'int', filters: 'filters' } },
  [`GET /distribution/${NAME}/json`]: {},
  'POST /images/load': { query: { quiet: 'bool', platform: 'string' }, raw: true },
  'POST /images/prune': { query: { filters: 'filters' } },
  [`GET /images/${NAME}/json`]: { query: { manifests: 'bool', platform: 'string' } },
  [`GET /images/${NAME}/history`]: { query: { platform: 'string' } },
  [`GET /images/${NAME}/get`]: { query: { platform: 'string' } },
  [`POST /images/${NAME}/tag`]: { query: { repo: 'string', tag: 'string' } },
  [`POST /images/${NAME}/push`]: { query: { tag: 'string', platform: 'string' } },
  [`DELETE /images/${NAME}`]: { query: { force: 'bool', noprune: 'bool', platforms: 'string' } },

  // containers
  'POST /containers/create': { query: { name: 'string', platform: 'string' }, body: 'containerCreate' },
  'GET /containers/json': { query: { all: 'bool', limit: 'int', size: 'bool', filters: 'filters' } },
  'GET /containers/{id}/json': { query: { size: 'bool' } },
  'POST /containers/{id}/start': { query: { detachKeys: 'string' } },
  'POST /containers/{id}/stop': { query: { signal: 'string', t: 'int' } },
  'POST /containers/{id}/restart': { query: { signal: 'string', t: 'int' } },
  'POST /containers/{id}/kill': { query: { signal: 'string' } },
  'POST /containers/{id}/rename': { query: { name: 'string' } },
  'POST /containers/{id}/resize': { query: resizeQuery },
  'DELETE /containers/{id}': { query: { v: 'bool', force: 'bool', link: 'bool' } },
  'POST /containers/{id}/wait': { query: { condition: ['', 'not-running', 'next-exit', 'removed'] } },
  'GET /containers/{id}/logs': { query: logsQuery },
  'POST /containers/{id}/attach': { query: attachQuery },
  'GET /containers/{id}/stats': { query: { stream: 'bool', 'one-shot': 'bool' } },
  'GET /containers/{id}/top': { query: { ps_args: 'string' } },
  'POST /containers/{id}/pause': {},
  'POST /containers/{id}/unpause': {},
  'POST /containers/{id}/update': { body: 'containerUpdate' },
  'GET /containers/{id}/archive': { query: { path: 'string' } },
  'HEAD /containers/{id}/archive': { query: { path: 'string' } },
  'PUT /containers/{id}/archive': { query: { path: 'string', noOverwriteDirNonDir: 'bool', copyUIDGID: 'bool' }, raw: true },
  'GET /containers/{id}/changes': {},
  'GET /containers/{id}/export': {},
  'POST /commit': { query: { container: 'string', repo: 'string', tag: 'string', comment: 'string', author: 'string', pause: 'bool', changes: 'string' }, raw: true },
  'POST /containers/prune': { query: { filters: 'filters' } },
  'POST /build': {
    query: {
      dockerfile: 'string', t: 'string', extrahosts: 'string', remote: 'string', q: 'bool', nocache: 'bool', cachefrom: 'string', pull: 'string',
      rm: 'bool', forcerm: 'bool', memory: 'int', memswap: 'int', cpushares: 'int', cpusetcpus: 'string', cpuperiod: 'int', cpuquota: 'int',
      buildargs: 'string', shmsize: 'int', squash: 'bool', labels: 'string', networkmode: 'string', platform: 'string', target: 'string', outputs: 'string', version: ['', '1', '2'],
    },
    raw: true,
  },
  'POST /build/cancel': { query: { id: 'string' } },
  'POST /build/prune': { query: { 'keep-storage': 'int', 'reserved-space': 'int', 'max-used-space': 'int', 'min-free-space': 'int', all: 'bool', filters: 'filters' } },

  // exec
  'POST /containers/{id}/exec': { body: 'execCreate' },
  'POST /exec/{id}/start': { body: 'execStart' },
  'GET /exec/{id}/json': {},
  'POST /exec/{id}/resize': { query: resizeQuery },

  // absent features (routes/absent.ts): answered without reading the body
  ...Object.fromEntries([
    'POST /swarm/init', 'POST /swarm/join', 'POST /swarm/leave', 'GET /swarm', 'GET /swarm/unlockkey', 'POST /swarm/update', 'POST /swarm/unlock',
    ...['services', 'nodes', 'tasks', 'secrets', 'configs'].flatMap((k) => [`GET /${k}`, `GET /${k}/{id}`, `DELETE /${k}/{id}`, `POST /${k}/{id}/update`]),
    ...['services', 'secrets', 'configs'].map((k) => `POST /${k}/create`), 'GET /services/{id}/logs', 'GET /tasks/{id}/logs',
    'GET /plugins/privileges', 'POST /plugins/pull', 'POST /plugins/create', 'GET /plugins/{name:.*}/json', 'DELETE /plugins/{name:.*}',
    ...['enable', 'disable', 'push', 'upgrade', 'set'].map((v) => `POST /plugins/{name:.*}/${v}`),
  ].map((r) => [r, { raw: true } as RouteSpec])),
  'GET /plugins': { query: { filters: 'filters' } },

  // volumes
  'POST /volumes/create': { body: 'volumeCreate' },
  'GET /volumes': { query: { filters: 'filters' } },
  'POST /volumes/prune': { query: { filters: 'filters' } },
  [`GET /volumes/${NAME}`]: {},
  [`DELETE /volumes/${NAME}`]: { query: { force: 'bool' } },

  // networks
  'POST /networks/create': { body: 'networkCreate' },
  'GET /networks': { query: { filters: 'filters' } },
  'GET /networks/': { query: { filters: 'filters' } },
  'POST /networks/prune': { query: { filters: 'filters' } },
  'GET /networks/{id}': { query: { verbose: 'bool', scope: 'string' } },
  'DELETE /networks/{id}': {},
  'POST /networks/{id}/connect': { body: 'networkConnect' },
  'POST /networks/{id}/disconnect': { body: 'networkDisconnect' },
};

/** The hijacked (Upgrade: tcp) routes: same tables, served on the 'upgrade' event. */
export const HIJACK_ROUTES = ['POST /containers/{id}/attach', 'POST /exec/{id}/start'];
