// compose/merge: several compose files into one model, by the Compose Specification's merge rules
// (merge.md): mappings merge key by key; command, entrypoint and healthcheck.test are replaced;
// environment, labels and the other list-or-map keys merge by key; volumes merge by target, ports and
// the plain lists append without duplicates; depends_on and networks merge by name. Pure.

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);

/** "K=V" list or {K: V} map → map (a bare "K" is K: null: taken from the environment later). */
export function toMap(v: unknown, sep = '='): Record<string, unknown> {
  if (isObj(v)) return { ...v };
  const out: Record<string, unknown> = {};
  for (const item of (v as unknown[] | undefined) ?? []) {
    const s = String(item);
    const i = s.indexOf(sep);
    if (i < 0) out[s] = null; else out[s.slice(0, i)] = s.slice(i + 1);
  }
  return out;
}

const REPLACED = new Set(['command', 'entrypoint', 'image', 'build']);
const MAPS = new Set(['environment', 'labels', 'sysctls', 'annotations']);
const BY_NAME = new Set(['depends_on', 'networks']);
const APPEND = new Set(['ports', 'expose', 'dns', 'dns_search', 'dns_opt', 'cap_add', 'cap_drop', 'security_opt', 'profiles', 'tmpfs', 'env_file', 'devices', 'volumes_from', 'group_add', 'secrets', 'configs']);

const asList = (v: unknown): unknown[] => (v === undefined || v === null ? [] : Array.isArray(v) ? v : [v]);
const byName = (v: unknown): Obj => (Array.isArray(v) ? Object.fromEntries(v.map((n) => [String(n), null])) : isObj(v) ? v : {});

/** The target path of a short or long service volume, its identity for merging. */
export function volumeTarget(v: unknown): string {
  if (isObj(v)) return String(v.target ?? '');
  const parts = String(v).split(':');
  return parts.length === 1 ? parts[0]! : parts[1]!;
}

/** One service onto another (-f files, and `extends`). */
export function mergeService(base: Obj, over: Obj): Obj {
  const out: Obj = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = base[k];
    if (b === undefined || REPLACED.has(k)) out[k] = v;
    else if (MAPS.has(k)) out[k] = { ...toMap(b), ...toMap(v) };
    else if (k === 'extra_hosts') out[k] = { ...toMap(b, b && Array.isArray(b) && String(b[0] ?? '').includes('=') ? '=' : ':'), ...toMap(v, Array.isArray(v) && String(v[0] ?? '').includes('=') ? '=' : ':') };
    else if (BY_NAME.has(k)) {
      const bm = byName(b), om = byName(v);
      out[k] = Object.fromEntries([...new Set([...Object.keys(bm), ...Object.keys(om)])].map((n) => [n, isObj(bm[n]) && isObj(om[n]) ? { ...bm[n], ...om[n] } : om[n] ?? bm[n] ?? null]));
    } else if (k === 'volumes') {
      const m = new Map<string, unknown>();
      for (const x of [...asList(b), ...asList(v)]) m.set(volumeTarget(x), x);
      out[k] = [...m.values()];
    } else if (APPEND.has(k)) {
      const seen = new Set<string>();
      out[k] = [...asList(b), ...asList(v)].filter((x) => { const key = JSON.stringify(x); if (seen.has(key)) return false; seen.add(key); return true; });
    } else if (k === 'healthcheck' && isObj(b) && isObj(v)) out[k] = { ...b, ...v };
    else if (isObj(b) && isObj(v)) out[k] = deepMerge(b, v);
    else out[k] = v;
  }
  return out;
}

function deepMerge(a: Obj, b: Obj): Obj {
  const out: Obj = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = isObj(out[k]) && isObj(v) ? deepMerge(out[k] as Obj, v) : v;
  return out;
}

/** Merges `over` onto `base` (both already interpolated). */
export function mergeModels(base: Obj, over: Obj): Obj {
  const out: Obj = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (k === 'services' && isObj(base.services) && isObj(v)) {
      const s: Obj = { ...base.services };
      for (const [name, svc] of Object.entries(v)) s[name] = isObj(s[name]) && isObj(svc) ? mergeService(s[name] as Obj, svc) : svc;
      out.services = s;
    } else if (isObj(out[k]) && isObj(v)) out[k] = deepMerge(out[k] as Obj, v);
    else out[k] = v;
  }
  return out;
}
