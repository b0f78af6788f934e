// compose/interpolate: the Compose Specification's variable interpolation (interpolation.md) over a
// parsed model: ${VAR}, $VAR, ${VAR:-default}, ${VAR-default}, ${VAR:?err}, ${VAR?err}, ${VAR:+alt},
// ${VAR+alt}, and $$ for a literal $. Pure: the environment comes in as a map.
import { BerthError } from '../errors.js';

export type Env = Record<string, string | undefined>;

const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;

/** One string; `where` names the key for errors. Defaults may themselves hold ${…} (nested). */
export function interpolateString(s: string, env: Env, where = ''): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== '$') { out += c; continue; }
    const next = s[i + 1];
    if (next === '$') { out += '$'; i++; continue; }
    if (next === '{') {
      const end = closing(s, i + 2);
      if (end < 0) throw new BerthError('InvalidArgument', `invalid interpolation format for ${where}: "${s}"; you may need to escape any $ with another $`);
      out += braced(s.slice(i + 2, end), env, where, s);
      i = end;
      continue;
    }
    const m = NAME.exec(s.slice(i + 1));
    if (!m) { out += c; continue; } // a lone $ stays (docker compose does the same)
    out += env[m[0]] ?? '';
    i += m[0].length;
  }
  return out;
}

/** Index of the } closing a ${ opened before `from`, counting nested ${…}. */
function closing(s: string, from: number): number {
  let depth = 1;
  for (let i = from; i < s.length; i++) {
    if (s[i] === '$' && s[i + 1] === '{') { depth++; i++; }
    else if (s[i] === '}' && --depth === 0) return i;
  }
  return -1;
}

function braced(body: string, env: Env, where: string, whole: string): string {
  const m = NAME.exec(body);
  if (!m) throw new BerthError('InvalidArgument', `invalid interpolation format for ${where}: "${whole}"; you may need to escape any $ with another $`);
  const name = m[0];
  const rest = body.slice(name.length);
  const v = env[name];
  if (rest === '') return v ?? '';
  const op = /^(:?[-?+])/.exec(rest);
  if (!op) throw new BerthError('InvalidArgument', `invalid interpolation format for ${where}: "${whole}"; you may need to escape any $ with another $`);
  const arg = rest.slice(op[1]!.length);
  const colon = op[1]!.startsWith(':');
  const unset = colon ? v === undefined || v === '' : v === undefined;
  switch (op[1]!.at(-1)) {
    case '-': return unset ? interpolateString(arg, env, where) : v!;
    case '+': return unset ? '' : interpolateString(arg, env, where);
    default: // '?'
      if (unset) throw new BerthError('InvalidArgument', `required variable ${name} is missing a value: ${interpolateString(arg, env, where)}`);
      return v!;
  }
}

/** Every string value of a parsed model (keys stay as written, like compose-go), with its path for errors. */
export function interpolate(value: unknown, env: Env, path: string[] = []): unknown {
  if (typeof value === 'string') return interpolateString(value, env, path.join('.'));
  if (Array.isArray(value)) return value.map((v, i) => interpolate(v, env, [...path, `[${i}]`]));
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = interpolate(v, env, [...path, k]);
    return out;
  }
  return value;
}
