// compose/model: compose files (text) → the resolved project: YAML parsed with anchors and merge keys,
// interpolated, each file validated against the schema, merged, then normalised (short syntax to long,
// defaults, names) with profiles applied and depends_on checked for unknown services and cycles.
// Pure: file contents, env files and the environment come in through `ModelInput`; no fs here.
import { LineCounter, parseDocument } from 'yaml';
import { BerthError } from '../errors.js';
import { applyExtends, applyInclude, resolvePath, type ExpandIO } from './expand.js';
import { interpolate, type Env } from './interpolate.js';
import { mergeModels, toMap } from './merge.js';
import { validateModel } from './schema.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);

export interface ModelInput {
  files: Array<{ path: string; text: string }>;
  /** the environment interpolation sees: the process's over .env's */
  env: Env;
  /** the project directory: relative paths (binds, env_file) resolve against it */
  workingDir: string;
  projectName?: string;
  profiles?: string[];
  /** reads an env_file, an included or extended file (path already absolute); undefined when it does not exist */
  readFile(path: string): string | undefined;
  /** whether a secret's or config's file exists (checked only when given) */
  exists?(path: string): boolean;
}

export interface PortSpec { target: number; published?: string; host_ip?: string; protocol: string }
export interface VolumeSpec { type: 'volume' | 'bind' | 'tmpfs'; source?: string; target: string; read_only?: boolean; tmpfs?: { size?: number | string }; volume?: { nocopy?: boolean } }
/** A service's build section, long form; the context is absolute (or a URL). */
export interface BuildSpec extends Obj { context: string; dockerfile?: string; dockerfile_inline?: string; args?: Record<string, string | null>; target?: string; labels?: Record<string, string> }
/** A secret or config as a service uses it: where it appears in the container. */
export interface FileRef { source: string; target: string; uid?: string; gid?: string; mode?: number | string }
/** A top-level secret or config: a host file, a variable of the environment or (configs) inline content. */
export interface FileObjectDef { name: string; file?: string; environment?: string; content?: string; external: boolean }
export interface DependsOn { condition: 'service_started' | 'service_healthy' | 'service_completed_successfully'; required: boolean; restart: boolean }

/** A service after normalisation: the long forms, with the raw keys the converter reads as they were. */
export interface Service extends Obj {
  name: string;
  image?: string;
  environment: Record<string, string | null>;
  labels: Record<string, string>;
  depends_on: Record<string, DependsOn>;
  networks?: Record<string, { aliases?: string[]; ipv4_address?: string } | null>;
  ports: PortSpec[];
  volumes: VolumeSpec[];
  profiles?: string[];
  scale: number;
  build?: BuildSpec;
  secrets?: FileRef[];
  configs?: FileRef[];
  volumes_from?: string[];
}
export interface NetworkDef { name: string; external: boolean; driver?: string; internal?: boolean; ipam?: Obj; labels: Record<string, string>; driver_opts?: Obj; attachable?: boolean }
export interface VolumeDef { name: string; external: boolean; driver?: string; driver_opts?: Obj; labels: Record<string, string> }

export interface Project {
  name: string;
  workingDir: string;
  configFiles: string[];
  services: Record<string, Service>;
  /** services switched off by profiles: known, so `compose up NAME` can name them */
  disabled: Record<string, Service>;
  networks: Record<string, NetworkDef>;
  volumes: Record<string, VolumeDef>;
  secrets: Record<string, FileObjectDef>;
  configs: Record<string, FileObjectDef>;
  /** the merged, interpolated model before normalisation (top-level x- keys included) */
  raw: Obj;
}

/** docker compose's project name rule (compose-go NormalizeProjectName): lower case, [a-z0-9_-]. */
export function normalizeProjectName(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9_-]/g, '').replace(/^[_-]+/, '');
}

/** YAML text → plain data; a syntax error names the file, line and column. */
export function parseYaml(text: string, file: string): Obj {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { merge: true, uniqueKeys: true, prettyErrors: false, lineCounter });
  const err = doc.errors[0];
  if (err) {
    const { line, col } = lineCounter.linePos(err.pos[0]);
    throw new BerthError('InvalidArgument', `yaml: ${file}: line ${line}, column ${col}: ${err.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`);
  }
  const data = doc.toJS({ maxAliasCount: 10_000 }) as unknown;
  if (data === null || data === undefined) throw new BerthError('InvalidArgument', `${file}: empty compose file`);
  if (!isObj(data)) throw new BerthError('InvalidArgument', `${file}: top-level object must be a mapping`);
  return data;
}

/** "a b 'c d'" → [a, b, c d]: the POSIX shell words compose uses for string command/entrypoint. */
export function shellSplit(s: string): string[] {
  const out: string[] = [];
  let cur = '', inWord = false, q: string | null = null;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (q) {
      if (c === q) q = null;
      else if (c === '\\' && q === '"' && i + 1 < s.length && '"\\$`'.includes(s[i + 1]!)) cur += s[++i];
      else cur += c;
    } else if (c === "'" || c === '"') { q = c; inWord = true; }
    else if (c === '\\' && i + 1 < s.length) { cur += s[++i]; inWord = true; }
    else if (/\s/.test(c)) { if (inWord) out.push(cur); cur = ''; inWord = false; }
    else { cur += c; inWord = true; }
  }
  if (q) throw new BerthError('InvalidArgument', `invalid command line string: unterminated quote in ${JSON.stringify(s)}`);
  if (inWord) out.push(cur);
  return out;
}

/** The dotenv format compose reads (.env and env_file): KEY=VALUE, quotes, comments, `export `. */
export function parseEnvFile(text: string, env: Env = {}): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*(?:=\s*(.*))?$/.exec(line);
    if (!m) throw new BerthError('InvalidArgument', `unexpected character in variable name: ${JSON.stringify(raw)}`);
    const [, key, v0] = m;
    if (v0 === undefined) { const v = env[key!]; if (v !== undefined) out[key!] = v; continue; }
    let v = v0;
    if (/^'.*'$/.test(v)) v = v.slice(1, -1);
    else if (/^".*"$/.test(v)) v = v.slice(1, -1).replace(/\\n/g, '\n').replace(/\\"/g, '"');
    else v = v.replace(/\s+#.*$/, '');
    out[key!] = v;
  }
  return out;
}


function parsePort(v: unknown): PortSpec[] {
  if (isObj(v)) return [{ target: Number(v.target), published: v.published === undefined ? undefined : String(v.published), host_ip: v.host_ip as string | undefined, protocol: String(v.protocol ?? 'tcp') }];
  let s = String(v), protocol = 'tcp';
  const slash = s.lastIndexOf('/');
  if (slash >= 0) { protocol = s.slice(slash + 1); s = s.slice(0, slash); }
  const parts = s.split(':');
  const [hostIp, published, target] = parts.length === 3 ? parts : parts.length === 2 ? [undefined, parts[0], parts[1]] : [undefined, undefined, parts[0]];
  const range = (r: string | undefined) => { if (!r) return [undefined]; const [a, b] = r.split('-').map(Number); return b === undefined ? [a] : Array.from({ length: b - a! + 1 }, (_, i) => a! + i); };
  const targets = range(target) as number[], pubs = range(published);
  if (targets.some((t) => !Number.isInteger(t) || t < 1 || t > 65535)) throw new BerthError('InvalidArgument', `invalid port ${JSON.stringify(String(v))}`);
  if (pubs.length > 1 && pubs.length !== targets.length) throw new BerthError('InvalidArgument', `invalid port range ${JSON.stringify(String(v))}: published and target ranges differ in size`);
  return targets.map((t, i) => ({ target: t, published: pubs.length > 1 ? String(pubs[i]) : published || undefined, host_ip: hostIp || undefined, protocol }));
}

function parseVolume(v: unknown, dir: string, home?: string): VolumeSpec {
  if (isObj(v)) {
    const type = String(v.type) as VolumeSpec['type'];
    if (type !== 'volume' && type !== 'bind' && type !== 'tmpfs') throw new BerthError('NotImplemented', `volume type ${type} is not supported`);
    const source = v.source === undefined ? undefined : type === 'bind' ? resolvePath(dir, String(v.source), home) : String(v.source);
    return { ...(v as Obj), type, source, target: String(v.target), read_only: v.read_only === true || v.read_only === 'true' || undefined } as VolumeSpec;
  }
  const parts = String(v).split(':');
  if (parts.length === 1) return { type: 'volume', target: parts[0]! };
  const [src, target, mode] = parts as [string, string, string | undefined];
  const bind = src.startsWith('.') || src.startsWith('/') || src.startsWith('~');
  return { type: bind ? 'bind' : 'volume', source: bind ? resolvePath(dir, src, home) : src, target, read_only: mode?.split(',').includes('ro') || undefined };
}

function normalizeBuild(b: unknown, input: ModelInput): BuildSpec | undefined {
  if (b === undefined || b === null) return undefined;
  const o: Obj = isObj(b) ? { ...b } : { context: String(b) };
  const ctx = String(o.context ?? '.');
  o.context = /^[a-z][a-z0-9+.-]*:\/\//i.test(ctx) || ctx.startsWith('git@') ? ctx : resolvePath(input.workingDir, ctx, input.env.HOME);
  // args: a bare NAME takes its value from the environment (compose's build args, like docker build's)
  if (o.args !== undefined) o.args = Object.fromEntries(Object.entries(toMap(o.args)).map(([k, v]) => [k, v === null || v === undefined ? input.env[k] ?? null : String(v)]));
  if (o.labels !== undefined) o.labels = strMap(o.labels);
  return o as BuildSpec;
}

/** `secrets:`/`configs:` of a service → where each appears: /run/secrets/NAME for secrets, /NAME for configs. */
function fileRefs(v: unknown, kind: 'secrets' | 'configs'): FileRef[] | undefined {
  if (v === undefined) return undefined;
  return (v as unknown[]).map((x) => {
    const o: Obj = isObj(x) ? x : { source: String(x) };
    const source = String(o.source);
    let target = o.target === undefined ? source : String(o.target);
    if (!target.startsWith('/')) target = kind === 'secrets' ? `/run/secrets/${target}` : `/${target}`;
    return { ...(o as object), source, target } as FileRef;
  });
}

const strMap = (v: unknown): Record<string, string> => Object.fromEntries(Object.entries(toMap(v)).map(([k, x]) => [k, x === null || x === undefined ? '' : String(x)]));

function normalizeService(name: string, s: Obj, input: ModelInput): Service {
  const environment: Record<string, string | null> = {};
  for (const f of (s.env_file === undefined ? [] : Array.isArray(s.env_file) ? s.env_file : [s.env_file]) as unknown[]) {
    const path = resolvePath(input.workingDir, String(isObj(f) ? f.path : f), input.env.HOME);
    const required = isObj(f) ? f.required !== false : true;
    const text = input.readFile(path);
    if (text === undefined) { if (required) throw new BerthError('InvalidArgument', `env file ${path} not found: stat ${path}: no such file or directory`); continue; }
    Object.assign(environment, parseEnvFile(text, input.env));
  }
  for (const [k, v] of Object.entries(toMap(s.environment))) environment[k] = v === null || v === undefined ? input.env[k] ?? null : String(v);
  const depends: Record<string, DependsOn> = {};
  if (Array.isArray(s.depends_on)) for (const d of s.depends_on) depends[String(d)] = { condition: 'service_started', required: true, restart: false };
  else if (isObj(s.depends_on)) for (const [d, o] of Object.entries(s.depends_on)) {
    const x = o as Obj;
    depends[d] = { condition: x.condition as DependsOn['condition'], required: x.required !== false, restart: x.restart === true };
  }
  const networks = s.networks === undefined ? undefined : Array.isArray(s.networks) ? Object.fromEntries(s.networks.map((n) => [String(n), null])) : s.networks as Service['networks'];
  const deploy = s.deploy as { replicas?: unknown } | undefined;
  const scale = Number(s.scale ?? deploy?.replicas ?? 1);
  if (!Number.isInteger(scale) || scale < 0) throw new BerthError('InvalidArgument', `services.${name}.scale must be a non-negative integer`);
  if (s.scale !== undefined && deploy?.replicas !== undefined && Number(s.scale) !== Number(deploy.replicas)) throw new BerthError('InvalidArgument', `services.${name}: can't set distinct values on 'scale' and 'deploy.replicas'`);
  if (s.network_mode !== undefined && networks) throw new BerthError('InvalidArgument', `services.${name}: 'network_mode' and 'networks' cannot be combined`);
  if (!s.image && !s.build) throw new BerthError('InvalidArgument', `service "${name}" has neither an image nor a build context specified: invalid compose project`);
  const out: Service = {
    ...s, name,
    command: typeof s.command === 'string' ? shellSplit(s.command) : s.command,
    entrypoint: typeof s.entrypoint === 'string' ? shellSplit(s.entrypoint) : s.entrypoint,
    environment, labels: strMap(s.labels), depends_on: depends,
    ports: ((s.ports as unknown[] | undefined) ?? []).flatMap(parsePort),
    volumes: ((s.volumes as unknown[] | undefined) ?? []).map((v) => parseVolume(v, input.workingDir, input.env.HOME)),
    scale, build: normalizeBuild(s.build, input), secrets: fileRefs(s.secrets, 'secrets'), configs: fileRefs(s.configs, 'configs'),
    volumes_from: s.volumes_from === undefined ? undefined : (s.volumes_from as unknown[]).map(String),
  } as Service;
  if (networks) out.networks = networks; else delete out.networks;
  delete out.env_file;
  if (out.deploy && isObj(out.deploy)) { const d = { ...out.deploy }; delete d.replicas; if (Object.keys(d).length) out.deploy = d; else delete out.deploy; }
  for (const k of Object.keys(out)) if (out[k] === undefined || k.startsWith('x-')) delete out[k];
  return out;
}

/**
 * The services `s` needs started first: depends_on, and the implicit ones docker compose adds for
 * volumes_from (a service's volumes) and network_mode/ipc/pid `service:NAME` (its namespaces).
 */
export function serviceDeps(s: Service): string[] {
  const out = new Set(Object.keys(s.depends_on));
  for (const v of s.volumes_from ?? []) {
    if (v.startsWith('container:')) continue;
    out.add(v.replace(/^service:/, '').split(':')[0]!);
  }
  for (const k of ['network_mode', 'ipc', 'pid']) {
    const m = /^service:(.+)$/.exec(String(s[k] ?? ''));
    if (m) out.add(m[1]!);
  }
  return [...out];
}

/** depends_on cycles, like compose's "dependency cycle detected: a -> b -> a". */
function checkCycles(services: Record<string, Service>): void {
  const state = new Map<string, 1 | 2>();
  const visit = (n: string, path: string[]): void => {
    if (state.get(n) === 2) return;
    if (state.get(n) === 1) throw new BerthError('InvalidArgument', `dependency cycle detected: ${[...path.slice(path.indexOf(n)), n].join(' -> ')}`);
    state.set(n, 1);
    for (const d of services[n] ? serviceDeps(services[n]!) : []) if (services[d]) visit(d, [...path, n]);
    state.set(n, 2);
  };
  for (const n of Object.keys(services).sort()) visit(n, []);
}

/** Service names in start order (dependencies first). */
export function startOrder(services: Record<string, Service>, only?: string[]): string[] {
  const out: string[] = [];
  const add = (n: string) => { if (out.includes(n) || !services[n]) return; for (const d of serviceDeps(services[n]!)) add(d); out.push(n); };
  for (const n of only ?? Object.keys(services).sort()) add(n);
  return out;
}

export function loadModel(input: ModelInput): Project {
  if (!input.files.length) throw new BerthError('InvalidArgument', 'no configuration file provided: not found');
  const io: ExpandIO = {
    readFile: input.readFile, parseEnv: parseEnvFile, env: input.env, home: input.env.HOME,
    load: (path, text, env, chain) => loadFile(path, text, env, io, chain),
  };
  let merged: Obj | undefined;
  for (const f of input.files) {
    const data = loadFile(f.path, f.text, input.env, io, [f.path]);
    merged = merged ? mergeModels(merged, data) : data;
  }
  const raw = merged!;
  validateModel(raw, input.files.map((f) => f.path).join(', '));
  const dirName = input.workingDir.split('/').filter(Boolean).at(-1) ?? 'default';
  const name = normalizeProjectName(input.projectName || (raw.name as string | undefined) || dirName);
  if (!name) throw new BerthError('InvalidArgument', `project name ${JSON.stringify(input.projectName ?? raw.name ?? dirName)} must contain at least one letter or digit`);
  const all: Record<string, Service> = {};
  for (const [n, s] of Object.entries((raw.services as Obj | undefined) ?? {})) all[n] = normalizeService(n, (s ?? {}) as Obj, input);
  const profiles = new Set(input.profiles ?? []);
  const services: Record<string, Service> = {}, disabled: Record<string, Service> = {};
  for (const [n, s] of Object.entries(all)) {
    if (!s.profiles?.length || profiles.has('*') || s.profiles.some((p) => profiles.has(p))) services[n] = s; else disabled[n] = s;
  }
  for (const s of Object.values(services)) for (const [d, o] of [...Object.entries(s.depends_on), ...serviceDeps(s).filter((x) => !(x in s.depends_on)).map((x) => [x, { required: true }] as const)]) {
    if (services[d]) continue;
    if (disabled[d]) { if (o.required) throw new BerthError('InvalidArgument', `service "${s.name}" depends on service "${d}" which is disabled by profiles`); continue; }
    throw new BerthError('InvalidArgument', `service "${s.name}" depends on undefined service "${d}": invalid compose project`);
  }
  checkCycles(all);
  const networks: Record<string, NetworkDef> = {};
  for (const [k, v] of Object.entries((raw.networks as Obj | undefined) ?? {})) {
    const o = (v ?? {}) as Obj;
    const ext = o.external;
    const external = ext === true || ext === 'true' || isObj(ext);
    networks[k] = { ...(o as object), name: String((isObj(ext) && ext.name) || o.name || (external ? k : `${name}_${k}`)), external, labels: strMap(o.labels) } as NetworkDef;
  }
  const usesDefault = Object.values(services).some((s) => !s.network_mode && (!s.networks || 'default' in s.networks));
  if (usesDefault && !networks.default) networks.default = { name: `${name}_default`, external: false, labels: {} };
  for (const s of Object.values(services)) for (const n of Object.keys(s.networks ?? {})) if (!networks[n]) throw new BerthError('InvalidArgument', `service "${s.name}" refers to undefined network ${n}: invalid compose project`);
  const volumes: Record<string, VolumeDef> = {};
  for (const [k, v] of Object.entries((raw.volumes as Obj | undefined) ?? {})) {
    const o = (v ?? {}) as Obj;
    const ext = o.external;
    const external = ext === true || ext === 'true' || isObj(ext);
    volumes[k] = { ...(o as object), name: String((isObj(ext) && ext.name) || o.name || (external ? k : `${name}_${k}`)), external, labels: strMap(o.labels) } as VolumeDef;
  }
  for (const s of Object.values(services)) for (const v of s.volumes) {
    if (v.type === 'volume' && v.source && !volumes[v.source]) throw new BerthError('InvalidArgument', `service "${s.name}" refers to undefined volume ${v.source}: invalid compose project`);
  }
  const secrets = fileObjects(raw.secrets, 'secret', name, input), configs = fileObjects(raw.configs, 'config', name, input);
  for (const s of Object.values(services)) for (const [kind, defs] of [['secret', secrets], ['config', configs]] as const) {
    for (const r of (kind === 'secret' ? s.secrets : s.configs) ?? []) {
      const d = defs[r.source];
      if (!d) throw new BerthError('InvalidArgument', `service "${s.name}" refers to undefined ${kind} ${r.source}: invalid compose project`);
      if (d.external) throw new BerthError('NotImplemented', `service "${s.name}": external ${kind} ${r.source} is a swarm object; only file, environment${kind === 'config' ? ' and content' : ''} ${kind}s are supported`);
      if (d.file && input.exists && !input.exists(d.file)) throw new BerthError('InvalidArgument', `${kind} "${r.source}": file ${d.file} does not exist`);
      if (d.environment !== undefined && input.env[d.environment] === undefined) throw new BerthError('InvalidArgument', `${kind} "${r.source}": environment variable ${d.environment} is not set`);
    }
  }
  return { name, workingDir: input.workingDir, configFiles: input.files.map((f) => f.path), services, disabled, networks, volumes, secrets, configs, raw };
}

function fileObjects(v: unknown, kind: string, project: string, input: ModelInput): Record<string, FileObjectDef> {
  const out: Record<string, FileObjectDef> = {};
  for (const [k, o0] of Object.entries(isObj(v) ? v : {})) {
    const o = (o0 ?? {}) as Obj;
    const external = o.external === true || o.external === 'true';
    const sources = (kind === 'config' ? ['file', 'environment', 'content'] : ['file', 'environment']).filter((x) => o[x] !== undefined);
    if (!external && sources.length !== 1) throw new BerthError('InvalidArgument', `${kind}s.${k}: exactly one of file, environment${kind === 'config' ? ', content' : ''} must be set`);
    out[k] = {
      name: String(o.name ?? (external ? k : `${project}_${k}`)), external,
      file: o.file === undefined ? undefined : resolvePath(input.workingDir, String(o.file), input.env.HOME),
      // an environment-based one carries its value in content (from the same environment interpolation sees)
      environment: o.environment === undefined ? undefined : String(o.environment),
      content: o.content !== undefined ? String(o.content) : o.environment !== undefined ? input.env[String(o.environment)] : undefined,
    };
  }
  return out;
}

/** One file: parsed, interpolated, validated as written, then its include and extends applied. */
function loadFile(path: string, text: string, env: Env, io: ExpandIO, chain: string[]): Obj {
  const data = interpolate(parseYaml(text, path), env) as Obj;
  validateModel(data, path);
  return applyExtends(applyInclude(data, path, io, chain), path, env, io, chain);
}

/** The resolved model as `docker compose config` prints it (a plain object, for YAML output). */
export function configView(p: Project): Obj {
  const services: Obj = {};
  for (const n of Object.keys(p.services).sort()) {
    const s = { ...p.services[n]! } as Obj;
    delete s.name;
    if (!Object.keys(s.labels as Obj).length) delete s.labels;
    if (!Object.keys(s.depends_on as Obj).length) delete s.depends_on;
    if (!(s.ports as unknown[]).length) delete s.ports;
    if (!(s.volumes as unknown[]).length) delete s.volumes;
    if (s.scale === 1) delete s.scale;
    if (!s.networks && !s.network_mode) s.networks = { default: null };
    services[n] = s;
  }
  const out: Obj = { name: p.name, services };
  if (Object.keys(p.networks).length) out.networks = Object.fromEntries(Object.entries(p.networks).map(([k, v]) => [k, stripEmpty(v as unknown as Obj)]));
  if (Object.keys(p.volumes).length) out.volumes = Object.fromEntries(Object.entries(p.volumes).map(([k, v]) => [k, stripEmpty(v as unknown as Obj)]));
  for (const [k, defs] of [['secrets', p.secrets], ['configs', p.configs]] as const) {
    if (Object.keys(defs).length) out[k] = Object.fromEntries(Object.entries(defs).map(([n, d]) => [n, Object.fromEntries(Object.entries(d).filter(([k, x]) => x !== undefined && x !== false && !(k === 'content' && d.environment !== undefined)))]));
  }
  for (const [k, v] of Object.entries(p.raw)) if (k.startsWith('x-')) out[k] = v;
  return escapeDollars(out) as Obj;
}

/** A literal $ prints as $$, as docker compose config does, so the output reads back as the same model. */
function escapeDollars(v: unknown): unknown {
  if (typeof v === 'string') return v.replaceAll('$', '$$$$');
  if (Array.isArray(v)) return v.map(escapeDollars);
  if (isObj(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, escapeDollars(x)]));
  return v;
}

function stripEmpty(o: Obj): Obj {
  const out = { ...o };
  if (isObj(out.labels) && !Object.keys(out.labels).length) delete out.labels;
  if (out.external === false) delete out.external;
  return out;
}
