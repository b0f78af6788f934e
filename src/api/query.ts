// api/query: query-string helpers with moby's semantics (api/server/httputils/form.go, api/types/filters).
import { BerthError } from '../errors.js';

/** moby BoolValue: "", 0, no, false, none (any case) are false; anything else present is true. */
export function boolValue(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  if (v === null) return false;
  return !['', '0', 'no', 'false', 'none'].includes(v.trim().toLowerCase());
}

/** BoolValueOrDefault: the default when the parameter is absent or empty. */
export function boolOr(q: URLSearchParams, name: string, def: boolean): boolean {
  const v = q.get(name);
  return v === null || v === '' ? def : boolValue(q, name);
}

export function intValue(q: URLSearchParams, name: string, def: number): number {
  const v = q.get(name);
  if (v === null || v === '') return def;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new BerthError('InvalidArgument', `invalid value for ${name}: ${JSON.stringify(v)}`);
  return n;
}

/** Filters: key → set of values. */
export type Filters = Map<string, Set<string>>;

/**
 * Parses `filters` in both wire forms (filters.FromJSON): the CLI's {"label":{"a=b":true}} and
 * docker-py's {"label":["a=b"]}. Empty or absent means no filters.
 */
export function parseFilters(raw: string | null): Filters {
  const out: Filters = new Map();
  if (raw === null || raw === '') return out;
  let j: unknown;
  try { j = JSON.parse(raw); } catch (e) {
    throw new BerthError('InvalidArgument', `invalid filter: ${(e as Error).message}`);
  }
  if (j === null) return out;
  if (typeof j !== 'object' || Array.isArray(j)) throw new BerthError('InvalidArgument', 'invalid filter: expected a JSON object');
  for (const [k, v] of Object.entries(j as Record<string, unknown>)) {
    const set = new Set<string>();
    if (Array.isArray(v)) for (const x of v) set.add(String(x));
    else if (v && typeof v === 'object') { for (const [x, on] of Object.entries(v)) if (on) set.add(x); }
    else if (typeof v === 'string') set.add(v);
    else throw new BerthError('InvalidArgument', `invalid filter '${k}'`);
    out.set(k, set);
  }
  return out;
}

/** Rejects filter keys outside `allowed` with moby's wording. */
export function checkFilters(f: Filters, allowed: string[]): void {
  for (const k of f.keys()) if (!allowed.includes(k)) throw new BerthError('InvalidArgument', `invalid filter '${k}'`);
}

/** The one boolean value of a filter like dangling=true; undefined when absent. */
export function filterBool(f: Filters, key: string): boolean | undefined {
  const v = f.get(key);
  if (!v || v.size === 0) return undefined;
  if (v.size > 1 && v.has('true') && v.has('false')) return undefined;
  const s = [...v][0]!.toLowerCase();
  if (s === 'true' || s === '1') return true;
  if (s === 'false' || s === '0') return false;
  throw new BerthError('InvalidArgument', `invalid filter '${key}=${s}'`);
}

/** label filters: "k" (present) or "k=v" (equal); all must match. `!=` negates. */
export function matchLabels(want: Set<string> | undefined, labels: Record<string, string> | null | undefined): boolean {
  if (!want) return true;
  const l = labels ?? {};
  for (const w of want) {
    const ne = w.indexOf('!=');
    if (ne > 0) { if (l[w.slice(0, ne)] === w.slice(ne + 2)) return false; continue; }
    const eq = w.indexOf('=');
    if (eq < 0) { if (!(w in l)) return false; continue; }
    if (l[w.slice(0, eq)] !== w.slice(eq + 1)) return false;
  }
  return true;
}

/** Go's path.Match for the patterns reference filters use (`*`, `?`, `[...]`). */
export function globMatch(pattern: string, s: string): boolean {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') { const end = pattern.indexOf(']', i); if (end < 0) return false; re += `[${pattern.slice(i + 1, end).replace(/^\^/, '^').replace(/\\/g, '\\\\')}]`; i = end; }
    else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`${re}$`).test(s);
}

