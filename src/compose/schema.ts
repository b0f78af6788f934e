// compose/schema: the JSON schema of the Compose model, written from the Compose Specification
// (spec.md, compose-spec.json is the reference it was read against), and its ajv validator. Errors
// name the offending key's path the way `docker compose config` does: "services.web Additional property foo is not allowed".
// The validator runs as ajv standalone code generated from COMPOSE_SCHEMA (schema-check.gen.ts, kept in
// step by test/unit/compose-schema-gen): compiling the schema at each start cost ~130 ms.
import type { ErrorObject } from 'ajv';
import checkGenerated from './schema-check.gen.js';
import { BerthError } from '../errors.js';

type S = Record<string, unknown>;
const str: S = { type: 'string' };
const num: S = { type: ['number', 'string'] };
const int: S = { type: ['integer', 'string'] };
const bool: S = { type: ['boolean', 'string'] };
const strs: S = { type: 'array', items: str };
const strOrList: S = { type: ['string', 'array'], items: str };
/** "KEY=v" list or {KEY: v} map (environment, labels, sysctls, extra_hosts …) */
const listOrDict: S = { oneOf: [{ type: 'object', additionalProperties: { type: ['string', 'number', 'boolean', 'null'] } }, { type: 'array', items: str, uniqueItems: true }] };
const ext = { '^x-': {} };
const closed = (properties: S, required: string[] = []): S => ({ type: 'object', properties, patternProperties: ext, additionalProperties: false, ...(required.length ? { required } : {}) });

const healthcheck = closed({
  disable: bool, interval: str, retries: num, test: strOrList, timeout: str, start_period: str, start_interval: str,
});
const resource = closed({ cpus: num, memory: { type: ['string', 'integer'] }, pids: int });
const deploy = closed({
  mode: str, replicas: int, labels: listOrDict, endpoint_mode: str,
  resources: closed({ limits: resource, reservations: { type: 'object' } }),
  restart_policy: closed({ condition: str, delay: str, max_attempts: int, window: str }),
  placement: { type: 'object' }, update_config: { type: 'object' }, rollback_config: { type: 'object' },
});
const serviceVolume = { oneOf: [str, closed({
  type: { enum: ['bind', 'volume', 'tmpfs', 'npipe', 'cluster', 'image'] }, source: str, target: str, read_only: bool, consistency: str,
  bind: closed({ propagation: str, create_host_path: bool, selinux: { enum: ['z', 'Z'] } }),
  volume: closed({ nocopy: bool, subpath: str }), tmpfs: closed({ size: { type: ['integer', 'string'] }, mode: num }),
}, ['type'])] };
const port = { oneOf: [{ type: ['string', 'number'] }, closed({
  name: str, mode: str, host_ip: str, target: int, published: { type: ['string', 'integer'] }, protocol: str, app_protocol: str,
})] };
const dependsOn = { oneOf: [{ type: 'array', items: str, uniqueItems: true }, { type: 'object', additionalProperties: closed({
  condition: { enum: ['service_started', 'service_healthy', 'service_completed_successfully'] }, restart: bool, required: bool,
}, ['condition']) }] };
const serviceNetworks = { oneOf: [{ type: 'array', items: str, uniqueItems: true }, { type: 'object', additionalProperties: { oneOf: [closed({
  aliases: strs, ipv4_address: str, ipv6_address: str, link_local_ips: strs, mac_address: str, priority: num, driver_opts: { type: 'object' },
}), { type: 'null' }] } }] };
const ulimits = { type: 'object', additionalProperties: { oneOf: [int, closed({ soft: int, hard: int }, ['soft', 'hard'])] } };

const service = closed({
  image: str, build: { oneOf: [str, { type: 'object' }] }, command: { oneOf: [str, strs, { type: 'null' }] }, entrypoint: { oneOf: [str, strs, { type: 'null' }] },
  environment: listOrDict, env_file: { oneOf: [str, { type: 'array', items: { oneOf: [str, closed({ path: str, required: bool, format: str }, ['path'])] } }] },
  ports: { type: 'array', items: port }, expose: { type: 'array', items: { type: ['string', 'number'] } },
  volumes: { type: 'array', items: serviceVolume }, volumes_from: strs, tmpfs: strOrList,
  networks: serviceNetworks, network_mode: str, depends_on: dependsOn, healthcheck, restart: str, deploy, scale: int,
  user: str, working_dir: str, hostname: str, domainname: str, labels: listOrDict, container_name: str,
  stop_signal: str, stop_grace_period: str, init: bool, tty: bool, stdin_open: bool, privileged: bool,
  cap_add: strs, cap_drop: strs, security_opt: strs, read_only: bool, ulimits, sysctls: listOrDict,
  extra_hosts: listOrDict, dns: strOrList, dns_search: strOrList, dns_opt: strs, devices: { type: 'array' }, shm_size: { type: ['string', 'number'] },
  logging: closed({ driver: str, options: { type: ['object', 'null'] } }), profiles: strs, pull_policy: str, platform: str,
  mem_limit: { type: ['string', 'number'] }, cpus: num, pids_limit: num, secrets: { type: 'array' }, configs: { type: 'array' },
  extends: { oneOf: [str, closed({ service: str, file: str }, ['service'])] }, ipc: str, pid: { type: ['string', 'null'] }, group_add: { type: 'array' },
  attach: bool, oom_score_adj: int, userns_mode: str, cgroup_parent: str, mac_address: str, labels_file: strOrList, annotations: listOrDict,
});
const network = { oneOf: [{ type: 'null' }, closed({
  name: str, driver: str, driver_opts: { type: 'object' }, internal: bool, attachable: bool, enable_ipv6: bool, enable_ipv4: bool, labels: listOrDict,
  external: { oneOf: [bool, closed({ name: str })] },
  ipam: closed({ driver: str, config: { type: 'array', items: closed({ subnet: str, ip_range: str, gateway: str, aux_addresses: { type: 'object' } }) }, options: { type: 'object' } }),
})] };
const volume = { oneOf: [{ type: 'null' }, closed({
  name: str, driver: str, driver_opts: { type: 'object' }, labels: listOrDict, external: { oneOf: [bool, closed({ name: str })] },
})] };
const fileObject = { oneOf: [{ type: 'null' }, closed({ name: str, file: str, environment: str, content: str, external: bool, labels: listOrDict })] };

export const COMPOSE_SCHEMA: S = {
  type: 'object',
  properties: {
    version: str, name: { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]*$' }, include: { type: 'array' },
    services: { type: 'object', propertyNames: { pattern: '^[a-zA-Z0-9._-]+$' }, additionalProperties: service },
    networks: { type: 'object', additionalProperties: network },
    volumes: { type: 'object', additionalProperties: volume },
    secrets: { type: 'object', additionalProperties: fileObject },
    configs: { type: 'object', additionalProperties: fileObject },
  },
  patternProperties: ext,
  additionalProperties: false,
};

/** The ajv options the generated validator was made with. */
export const AJV_OPTIONS = { allErrors: true, strict: false, allowUnionTypes: true } as const;
const check = checkGenerated as unknown as { (data: unknown): boolean; errors?: ErrorObject[] | null };

/** "/services/web/ports/0" → "services.web.ports.0" */
function dotted(p: string): string {
  return p.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~')).join('.');
}

/** The one error message for the first problem, in docker compose's wording. */
function describe(e: ErrorObject): string {
  const at = dotted(e.instancePath);
  const where = at || '(root)';
  switch (e.keyword) {
    case 'additionalProperties': return `${where} additional properties '${(e.params as { additionalProperty: string }).additionalProperty}' not allowed`;
    case 'type': return `${where} must be ${String((e.params as { type: string | string[] }).type).split(',').map((t) => (/^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`)).join(' or ')}`;
    case 'required': return `${where} missing property '${(e.params as { missingProperty: string }).missingProperty}'`;
    case 'enum': return `${where} must be one of ${((e.params as { allowedValues: unknown[] }).allowedValues).map(String).join(', ')}`;
    case 'pattern': return `${where} does not match ${(e.params as { pattern: string }).pattern}`;
    case 'propertyNames': return `${where} has an invalid key ${JSON.stringify((e.params as { propertyName: string }).propertyName)}`;
    default: return `${where} ${e.message ?? 'is invalid'}`;
  }
}

/**
 * Validates a merged model. A oneOf failure is reported with the deepest error under it: the branch
 * that got furthest names the bad key (ajv reports the oneOf itself at the parent's path).
 */
export function validateModel(model: unknown, file = 'compose file'): void {
  if (check(model)) return;
  const errs = check.errors ?? [];
  const pool = errs.filter((e) => e.keyword !== 'oneOf' && e.keyword !== 'if');
  pool.sort((a, b) => b.instancePath.split('/').length - a.instancePath.split('/').length || rank(a) - rank(b));
  const e = pool[0] ?? errs[0]!;
  throw new BerthError('InvalidArgument', `validating ${file}: ${describe(e)}`);
}

/** Prefers "unknown key" over "wrong type" at the same depth: the type error is usually another oneOf branch. */
function rank(e: ErrorObject): number {
  return e.keyword === 'additionalProperties' ? 0 : e.keyword === 'required' || e.keyword === 'enum' ? 1 : 2;
}
