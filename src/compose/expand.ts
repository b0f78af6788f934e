// compose/expand: the two ways one compose file pulls in another, applied to each file before -f merging
// (compose-go's loader does the same): `include` (include.md: another project's resources, loaded with
// their own project directory, which may not redefine what the including file defines) and `extends`
// (services.md#extends: a service built on another one, from the same file or another file, by the merge
// rules). Relative paths of a file from another directory are made absolute against that directory
// first, so they keep meaning what they meant there. Pure: files come in through `ExpandIO`.
import { BerthError } from '../errors.js';
import type { Env } from './interpolate.js';
import { mergeModels, mergeService } from './merge.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);
const asList = (v: unknown): unknown[] => (v === undefined || v === null ? [] : Array.isArray(v) ? v : [v]);

export interface ExpandIO {
  readFile(path: string): string | undefined;
  /** parse + interpolate + validate one file, then apply include/extends inside it (recursion) */
  load(path: string, text: string, env: Env, chain: string[]): Obj;
  /** the dotenv format (.env, env_file) */
  parseEnv(text: string, env: Env): Record<string, string>;
  env: Env;
  home?: string;
}

export function dirname(p: string): string {
  const i = p.lastIndexOf('/');
  return i <= 0 ? '/' : p.slice(0, i);
}

export function resolvePath(dir: string, p: string, home?: string): string {
  if (p === '~' || p.startsWith('~/')) p = `${home ?? '/root'}${p.slice(1)}`;
  const out: string[] = [];
  for (const seg of (p.startsWith('/') ? p : `${dir}/${p}`).split('/')) { if (seg === '' || seg === '.') continue; if (seg === '..') out.pop(); else out.push(seg); }
  return `/${out.join('/')}`;
}

/** A build context that is a URL (git, http) is left as written: it is not a path. */
const isUrl = (s: string) => /^[a-z][a-z0-9+.-]*:\/\//i.test(s) || s.startsWith('git@');

/** Every relative path of a model (build contexts, env files, bind sources, secret/config files) made absolute against `dir`. */
export function absolutize(model: Obj, dir: string, home?: string): Obj {
  const abs = (p: unknown) => resolvePath(dir, String(p), home);
  const out: Obj = { ...model };
  if (isObj(model.services)) {
    const services: Obj = {};
    for (const [name, s0] of Object.entries(model.services)) {
      if (!isObj(s0)) { services[name] = s0; continue; }
      const s: Obj = { ...s0 };
      if (typeof s.build === 'string') s.build = isUrl(s.build) ? s.build : abs(s.build);
      else if (isObj(s.build)) { const ctx = String(s.build.context ?? '.'); s.build = { ...s.build, context: isUrl(ctx) ? ctx : abs(ctx) }; }
      if (s.env_file !== undefined) s.env_file = asList(s.env_file).map((f) => (isObj(f) ? { ...f, path: abs(f.path) } : abs(f)));
      if (Array.isArray(s.volumes)) s.volumes = s.volumes.map((v) => {
        if (isObj(v)) return v.type === 'bind' && v.source !== undefined ? { ...v, source: abs(v.source) } : v;
        const parts = String(v).split(':');
        if (parts.length > 1 && /^[.~]/.test(parts[0]!)) parts[0] = abs(parts[0]);
        return parts.join(':');
      });
      if (isObj(s.extends) && s.extends.file !== undefined) s.extends = { ...s.extends, file: abs(s.extends.file) };
      services[name] = s;
    }
    out.services = services;
  }
  for (const key of ['secrets', 'configs']) {
    if (!isObj(model[key])) continue;
    out[key] = Object.fromEntries(Object.entries(model[key] as Obj).map(([n, d]) => [n, isObj(d) && d.file !== undefined ? { ...d, file: abs(d.file) } : d]));
  }
  return out;
}

function readOrFail(io: ExpandIO, path: string, what: string): string {
  const text = io.readFile(path);
  if (text === undefined) throw new BerthError('InvalidArgument', `${what}: open ${path}: no such file or directory`);
  return text;
}

const RESOURCES = ['services', 'networks', 'volumes', 'secrets', 'configs'] as const;
const SINGULAR: Record<string, string> = { services: 'service', networks: 'network', volumes: 'volume', secrets: 'secret', configs: 'config' };

/**
 * `include:` of the file at `file` (its entries resolved against the file's directory): each included
 * project is loaded with its own project directory and .env (or the entry's env_file), and its resources
 * join the model; one the including file already defines is an error, as in docker compose.
 */
export function applyInclude(model: Obj, file: string, io: ExpandIO, chain: string[]): Obj {
  if (model.include === undefined) return model;
  const dir = dirname(file);
  const out: Obj = { ...model };
  delete out.include;
  for (const entry of asList(model.include)) {
    const e = isObj(entry) ? entry : { path: entry };
    const paths = asList(e.path).map((p) => resolvePath(dir, String(p), io.home));
    if (!paths.length) throw new BerthError('InvalidArgument', `include: ${file}: an include entry needs a path`);
    const projectDir = e.project_directory !== undefined ? resolvePath(dir, String(e.project_directory), io.home) : dirname(paths[0]!);
    // the included project's own variables: its env_file(s), else its .env; the process environment wins
    let env: Env = {};
    const envFiles = e.env_file !== undefined ? asList(e.env_file).map((f) => resolvePath(dir, String(f), io.home)) : [`${projectDir}/.env`];
    for (const f of envFiles) {
      const text = io.readFile(f);
      if (text === undefined) { if (e.env_file !== undefined) throw new BerthError('InvalidArgument', `include: couldn't find env file: ${f}`); continue; }
      env = { ...env, ...io.parseEnv(text, { ...env, ...io.env }) };
    }
    env = { ...env, ...io.env };
    let included: Obj | undefined;
    for (const p of paths) {
      if (chain.includes(p)) throw new BerthError('InvalidArgument', `include cycle detected: ${[...chain, p].join(' -> ')}`);
      const loaded = absolutize(io.load(p, readOrFail(io, p, 'include'), env, [...chain, p]), projectDir, io.home);
      included = included ? mergeModels(included, loaded) : loaded;
    }
    for (const kind of RESOURCES) {
      const inc = included![kind];
      if (!isObj(inc)) continue;
      const mine: Obj = isObj(out[kind]) ? { ...(out[kind] as Obj) } : {};
      for (const [n, v] of Object.entries(inc)) {
        if (n in mine) throw new BerthError('InvalidArgument', `imported compose file ${paths.join(', ')} defines conflicting ${SINGULAR[kind]} ${n}`);
        mine[n] = v;
      }
      out[kind] = mine;
    }
  }
  return out;
}

/**
 * `extends:` of every service of the file at `file`: the base (same file, or `file:` relative to this
 * file's directory) is resolved first, then this service is merged onto it; chains and cycles are followed.
 */
export function applyExtends(model: Obj, file: string, env: Env, io: ExpandIO, chain: string[]): Obj {
  if (!isObj(model.services)) return model;
  const services = model.services;
  if (!Object.values(services).some((s) => isObj(s) && s.extends !== undefined)) return model;
  const dir = dirname(file);
  const done: Obj = {};
  const resolve = (name: string, stack: string[]): Obj => {
    if (isObj(done[name])) return done[name] as Obj;
    const s = services[name];
    if (s === undefined) throw new BerthError('InvalidArgument', `cannot extend service "${stack.at(-1)}" in ${file}: service "${name}" not found`);
    const svc: Obj = isObj(s) ? s : {};
    if (svc.extends === undefined) return (done[name] = svc);
    if (stack.includes(name)) throw new BerthError('InvalidArgument', `circular reference with extends: ${[...stack, name].join(' -> ')}`);
    const ext: Obj = isObj(svc.extends) ? svc.extends : { service: svc.extends };
    const baseName = String(ext.service);
    let base: Obj;
    if (ext.file === undefined) base = resolve(baseName, [...stack, name]);
    else {
      const other = resolvePath(dir, String(ext.file), io.home);
      const key = `${other}#${baseName}`;
      if (chain.includes(key)) throw new BerthError('InvalidArgument', `circular reference with extends: ${[...chain, key].join(' -> ')}`);
      const loaded = absolutize(io.load(other, readOrFail(io, other, `extends ${name}`), env, [...chain, `${file}#${name}`, key]), dirname(other), io.home);
      const b = (loaded.services as Obj | undefined)?.[baseName];
      if (b === undefined) throw new BerthError('InvalidArgument', `cannot extend service "${name}" in ${file}: service "${baseName}" not found in ${other}`);
      base = isObj(b) ? b : {};
    }
    const own = { ...svc };
    delete own.extends;
    return (done[name] = mergeService(base, own));
  };
  const out: Obj = {};
  for (const n of Object.keys(services)) out[n] = resolve(n, []);
  return { ...model, services: out };
}
