// build/run-mounts: `RUN --mount=…` as BuildKit writes it (frontend/dockerfile/instructions/commands_runmount.go):
// the CSV value -> a typed mount. Pure: where a cache lives or which root a bind comes from is the
// builder's business (build/builder.ts).
import { BerthError } from '../errors.js';

export type RunMount =
  | { type: 'bind'; target: string; source: string; from?: string; readonly: boolean }
  | { type: 'cache'; target: string; id: string; source: string; from?: string; readonly: boolean; mode: number; uid: number; gid: number; sharing: string }
  | { type: 'tmpfs'; target: string; size?: number }
  | { type: 'secret'; target: string; id: string; required: boolean };

const bad = (msg: string) => new BerthError('InvalidArgument', `failed to parse --mount: ${msg}`);

const bool = (k: string, v: string | undefined): boolean => {
  if (v === undefined || v === '' || v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw bad(`invalid value for ${k}: ${v}`);
};

const num = (k: string, v: string, base = 10): number => {
  const n = parseInt(v, base);
  if (!/^[0-9]+$/.test(v) || !Number.isSafeInteger(n)) throw bad(`invalid value for ${k}: ${v}`);
  return n;
};

/** One --mount value (variables already expanded); targets relative to workdir are made absolute. */
export function parseRunMount(value: string, workdir: string): RunMount {
  const kv = new Map<string, string | undefined>();
  for (const field of value.split(',')) {
    if (!field) continue;
    const eq = field.indexOf('=');
    kv.set((eq < 0 ? field : field.slice(0, eq)).toLowerCase(), eq < 0 ? undefined : field.slice(eq + 1));
  }
  const get = (...keys: string[]) => { for (const k of keys) if (kv.has(k)) return kv.get(k) ?? ''; return undefined; };
  const type = get('type') || 'bind';
  let target = get('target', 'dst', 'destination');
  // `ro`/`readonly` or `rw`/`readwrite`, bare or `=true|false`; undefined when neither is given
  const ro = (): boolean | undefined => {
    for (const k of ['ro', 'readonly']) if (kv.has(k)) return bool(k, kv.get(k));
    for (const k of ['rw', 'readwrite']) if (kv.has(k)) return !bool(k, kv.get(k));
    return undefined;
  };
  const abs = (t: string) => (t.startsWith('/') ? t : `${workdir.replace(/\/$/, '')}/${t}`);
  switch (type) {
    case 'bind': {
      if (!target) throw bad('mount target must be specified');
      return { type, target: abs(target), source: get('source', 'src') ?? '', from: get('from') || undefined, readonly: ro() ?? true };
    }
    case 'cache': {
      if (!target) throw bad('mount target must be specified');
      const sharing = get('sharing') || 'shared';
      if (!['shared', 'private', 'locked'].includes(sharing)) throw bad(`unrecognized sharing parameter: ${sharing}`);
      return {
        type, target: abs(target), id: get('id') || abs(target), source: get('source', 'src') ?? '', from: get('from') || undefined,
        readonly: ro() ?? false, sharing,
        mode: get('mode') !== undefined ? num('mode', get('mode')!, 8) : 0o755,
        uid: get('uid') !== undefined ? num('uid', get('uid')!) : 0, gid: get('gid') !== undefined ? num('gid', get('gid')!) : 0,
      };
    }
    case 'tmpfs': {
      if (!target) throw bad('mount target must be specified');
      const size = get('size');
      return { type, target: abs(target), ...(size ? { size: num('size', size) } : {}) };
    }
    case 'secret': {
      const id = get('id') || (target ? target.split('/').pop()! : '');
      if (!id) throw bad('secret ID or target must be specified');
      return { type, id, target: abs(target || `/run/secrets/${id}`), required: get('required') !== undefined ? bool('required', get('required')) : false };
    }
    default:
      throw bad(`unsupported mount type "${type}"`);
  }
}
