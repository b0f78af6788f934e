// api/schema/dsl: builders for the JSON Schemas of the Engine API's request bodies, so the schemas read
// like moby's Go types. Go's decoder semantics decide the details, since dockerd is what clients were
// tested against:
// - every struct field accepts null (Go leaves the zero value), so each field here allows null;
// - elements of lists and values of maps do not (Go would store ""/0; no client sends them, and the
//   services downstream would have to guard against them);
// - unknown fields are ignored (no additionalProperties: false anywhere);
// - integers carry the range of their Go type: a number that does not fit (`Memory: 1e30`) is refused,
//   as Go's "cannot unmarshal number 1e30 into … of type int64".

/** A JSON Schema (the subset ajv compiles here). */
export type Schema = { [k: string]: unknown };

type JsonType = 'string' | 'boolean' | 'integer' | 'number' | 'array' | 'object';

const nullable = (...t: JsonType[]) => ({ type: [...t, 'null'] });

// 2^63 is the double nearest to int64's bounds: JSON numbers reach us as doubles, so max int64 sent
// as text (9223372036854775807) arrives as exactly this value and must still pass.
const INT64 = 2 ** 63;

export const str: Schema = nullable('string');
export const bool: Schema = nullable('boolean');
/** int64, and Go's int on 64-bit hosts */
export const int64: Schema = { ...nullable('integer'), minimum: -INT64, maximum: INT64 };
export const int = int64;
export const uint16: Schema = { ...nullable('integer'), minimum: 0, maximum: 65535 };
/** uint64, and Go's uint on 64-bit hosts */
export const uint64: Schema = { ...nullable('integer'), minimum: 0, maximum: 2 ** 64 };
/** []string */
export const strs: Schema = { ...nullable('array'), items: { type: 'string' } };
/** map[string]string */
export const strMap: Schema = { ...nullable('object'), additionalProperties: { type: 'string' } };
/** map[string]struct{} (Volumes, ExposedPorts): only the keys count */
export const keySet: Schema = { ...nullable('object'), additionalProperties: { type: ['object', 'null'] } };
/** strslice.StrSlice (Cmd, Entrypoint): a string or a list of strings */
export const strSlice: Schema = { ...nullable('string', 'array'), items: { type: 'string' } };

/** A struct: named fields, the rest ignored. */
export function obj(properties: { [field: string]: Schema }): Schema {
  return { ...nullable('object'), properties };
}

/** []T; the elements themselves are not null. */
export function list(items: Schema, o: { minItems?: number; maxItems?: number } = {}): Schema {
  return { ...nullable('array'), items: notNull(items), ...o };
}

/** map[string]T */
export function mapOf(values: Schema): Schema {
  return { ...nullable('object'), additionalProperties: notNull(values) };
}

/** The same schema without null (list elements, map values, the body of a route that needs one). */
export function notNull(s: Schema): Schema {
  const t = s.type;
  return Array.isArray(t) ? { ...s, type: t.filter((x) => x !== 'null') } : s;
}
