// api/schema: request validation — every query and JSON body checked against the route's schema
// (api/schema/routes.ts) before a handler acts, so a wrong type is a 400 naming the field and nothing
// is stored. It judges types and shapes only; ranges and relations are containers/validate.ts.
//
// Compiled lazily, once per body schema, with ajv. Measured on the 2-core test box: berthd's start-up
// is unchanged (ajv is a chunk of its own in the bundle, not loaded until a JSON body arrives); the first
// create after a start pays ~170 ms once (loading ajv, compiling the big create schema), the first exec
// create ~5 ms, every later request well under 1 ms. ajv's standalone code generated at build time
// would save that one-off cost, but needs generated sources in both the tsc tree and the bundle.
import { BerthError } from '../../errors.js';
import { parseFilters } from '../query.js';
import { BODIES, ROUTES, type BodyName, type QueryKind, type RouteSpec } from './routes.js';
import { timestampMs } from '../../util/timestamp.js';

export { BODIES, HIJACK_ROUTES, ROUTES, type BodyName, type QueryKind, type RouteSpec } from './routes.js';

interface AjvError { instancePath: string; keyword: string; params: Record<string, unknown> }
type Validate = ((v: unknown) => boolean) & { errors?: AjvError[] | null };

let ajv: Promise<{ compile(s: object): Validate }> | undefined;
const compiled = new Map<BodyName, Promise<Validate>>();

function validator(name: BodyName): Promise<Validate> {
  let v = compiled.get(name);
  if (!v) {
    // ajv is CommonJS: its module.exports (the default export, in Node and in the esbuild chunk alike) carries .Ajv
    ajv ??= import('ajv').then((m) => new (m.default as unknown as { Ajv: new (o: object) => { compile(s: object): Validate } }).Ajv({ allErrors: false, allowUnionTypes: true, strictTypes: false }));
    v = ajv.then((a) => a.compile(BODIES[name]));
    compiled.set(name, v);
  }
  return v;
}

/** The route's spec, by the pattern it registered. */
export function routeSpec(method: string, pattern: string): RouteSpec | undefined {
  return ROUTES[`${method} ${pattern}`];
}

/** Throws InvalidArgument (400) naming the first field of `value` that does not fit the body schema. */
export async function checkBody(name: BodyName, value: unknown): Promise<void> {
  const v = await validator(name);
  if (v(value)) return;
  const e = v.errors?.[0];
  throw new BerthError('InvalidArgument', e ? describe(e, at(value, e.instancePath)) : 'invalid request body');
}

/** `/HostConfig/Ulimits/0/Soft` → `HostConfig.Ulimits[0].Soft` */
export function fieldPath(pointer: string): string {
  if (pointer === '') return 'request body';
  let out = '';
  for (const raw of pointer.slice(1).split('/')) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    out += /^\d+$/.test(seg) ? `[${seg}]` : /^[A-Za-z_][\w-]*$/.test(seg) ? `${out ? '.' : ''}${seg}` : `[${JSON.stringify(seg)}]`;
  }
  return out;
}

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

/** The Go bound a double limit stands for (dsl.ts: 2^63 is int64's maximum as a double). */
function limitText(n: number): string {
  if (n === 2 ** 63) return '9223372036854775807';
  if (n === 2 ** 64) return '18446744073709551615';
  if (n === -(2 ** 63)) return '-9223372036854775808';
  return String(n);
}

/** The value at a JSON pointer (ajv's `verbose` would carry it, at twice the compile time). */
function at(value: unknown, pointer: string): unknown {
  let v = value;
  for (const raw of pointer === '' ? [] : pointer.slice(1).split('/')) v = (v as Record<string, unknown>)[raw.replace(/~1/g, '/').replace(/~0/g, '~')];
  return v;
}

function describe(e: AjvError, data: unknown): string {
  const field = fieldPath(e.instancePath);
  switch (e.keyword) {
    case 'type': {
      const want = String(e.params.type).split(',').filter((t) => t !== 'null').join(' or ');
      return `invalid type for ${field}: expected ${want}, got ${jsonType(data)}`;
    }
    case 'minimum': case 'maximum':
      return `invalid value for ${field}: ${String(data)} is out of range (must be ${String(e.params.comparison)} ${limitText(e.params.limit as number)})`;
    case 'minItems': case 'maxItems':
      return `invalid value for ${field}: expected ${e.keyword === 'minItems' ? 'at least' : 'at most'} ${String(e.params.limit)} items`;
    case 'maxLength':
      return `invalid value for ${field}: longer than ${String(e.params.limit)} characters`;
    default:
      return `invalid value for ${field}`;
  }
}

const BOOL_WORDS = new Set(['', '0', '1', 't', 'f', 'true', 'false', 'y', 'n', 'yes', 'no', 'on', 'off', 'none']);
const INT = /^[-+]?\d{1,19}$/;

function queryProblem(kind: QueryKind, v: string): string | undefined {
  // an empty value is the default, as Go's r.FormValue reads it (moby's build client sends `version=`)
  if (typeof kind !== 'string') return v === '' || kind.includes(v) ? undefined : `must be one of ${kind.filter(Boolean).map((x) => JSON.stringify(x)).join(', ')}`;
  switch (kind) {
    case 'bool': return BOOL_WORDS.has(v.trim().toLowerCase()) ? undefined : 'expected a boolean (1/0, true/false)';
    case 'int': return v === '' || (INT.test(v) && Math.abs(Number(v)) < 2 ** 63) ? undefined : 'expected an integer';
    case 'filters': parseFilters(v); return undefined; // its own 400 "invalid filter …"
    case 'timestamp': if (v !== '' && v !== '0') timestampMs(v); return undefined;
    default: return undefined;
  }
}

/** Throws InvalidArgument for the first query parameter of a known name whose value has the wrong type. */
export function checkQuery(spec: RouteSpec | undefined, q: URLSearchParams): void {
  if (!spec?.query) return;
  for (const [k, v] of q) {
    const kind = Object.hasOwn(spec.query, k) ? spec.query[k] : undefined;
    if (kind === undefined) continue; // docker ignores parameters it does not know
    const why = queryProblem(kind, v);
    if (why) throw new BerthError('InvalidArgument', `invalid value for query parameter ${k}: ${JSON.stringify(v.length > 100 ? `${v.slice(0, 100)}…` : v)}: ${why}`);
  }
}
