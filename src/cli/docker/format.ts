// cli/docker/format: the part of Go's text/template the docker CLI's --format uses: `{{.Field}}`,
// `{{.A.B}}`, `{{json .}}`, `{{json .Field}}`, `{{upper .X}}`, `{{lower .X}}`, `{{join .List ", "}}`,
// `{{println …}}`, and the `table` prefix (a header row, then tab-aligned columns). Pure.
import { BerthError } from '../../errors.js';

type Part = { text: string } | { fn: string; args: string[] };

/**
 * On a value whose `{{json}}` is not JSON.stringify's: the CLI's row contexts (their MarshalJSON), events
 * (timeNano exact past 2^53). A symbol, so neither JSON.stringify nor a template field sees it.
 */
export const GO_JSON = Symbol('go-json');

/**
 * Go's json.Marshal of a map[string]any, as docker/cli formatter.MarshalJSON does for a row: keys in byte
 * order, and <, >, &, U+2028, U+2029 escaped (Marshal's HTML escaping; the template's json func has none).
 */
export function goMarshalMap(v: Record<string, unknown>): string {
  const sorted = Object.fromEntries(Object.keys(v).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map((k) => [k, v[k]]));
  return JSON.stringify(sorted).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A row for formatRows/render whose `{{json .}}` and `--format json` print as the docker CLI's context does. */
export function rowContext<T extends object>(row: T): T {
  return Object.defineProperty({ ...row }, GO_JSON, { value: () => goMarshalMap(row as Record<string, unknown>), enumerable: false });
}

function parse(tpl: string): Part[] {
  const parts: Part[] = [];
  let i = 0;
  while (i < tpl.length) {
    const open = tpl.indexOf('{{', i);
    if (open < 0) { parts.push({ text: tpl.slice(i) }); break; }
    if (open > i) parts.push({ text: tpl.slice(i, open) });
    const close = tpl.indexOf('}}', open);
    if (close < 0) throw new BerthError('InvalidArgument', `template: unclosed action in ${JSON.stringify(tpl)}`);
    const words = tpl.slice(open + 2, close).replace(/^-\s*|\s*-$/g, '').trim().match(/"(?:[^"\\]|\\.)*"|\S+/g) ?? [];
    if (words.length === 0) throw new BerthError('InvalidArgument', 'template: empty action');
    if (words[0]!.startsWith('.')) parts.push({ fn: '', args: words });
    else parts.push({ fn: words[0]!, args: words.slice(1) });
    i = close + 2;
  }
  return parts;
}

function lookup(data: unknown, p: string): unknown {
  if (p === '.') return data;
  let v: unknown = data;
  for (const k of p.slice(1).split('.')) {
    if (v === null || typeof v !== 'object') throw new BerthError('InvalidArgument', `template: can't evaluate field ${k}`);
    if (!(k in (v as object))) throw new BerthError('InvalidArgument', `template: can't evaluate field ${k} in type`);
    v = (v as Record<string, unknown>)[k];
  }
  return v;
}

function arg(data: unknown, a: string): unknown {
  if (a.startsWith('"')) return JSON.parse(a) as string;
  return lookup(data, a);
}

/**
 * A value whose Go type prints otherwise than its JSON: a time.Time field (network Created) is RFC 3339 in
 * `{{json}}` but time.String() in `{{.Created}}`.
 */
export class GoText {
  constructor(readonly text: string, readonly wire: unknown) {}
  toJSON(): unknown { return this.wire; }
}

/** Go's default formatting of a value (%v): maps as map[k:v], slices as [a b], nil as <nil>. */
export function goString(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  if (v instanceof GoText) return v.text;
  if (Array.isArray(v)) return `[${v.map(goString).join(' ')}]`;
  if (typeof v === 'object') return `map[${Object.entries(v as object).sort(([a], [b]) => a.localeCompare(b)).map(([k, x]) => `${k}:${goString(x)}`).join(' ')}]`;
  return String(v);
}

function evalPart(p: Part, data: unknown): string {
  if ('text' in p) return p.text;
  const vals = p.args.map((a) => arg(data, a));
  switch (p.fn) {
    case '': return goString(vals[0]);
    case 'json': {
      const v = vals[0] as { [GO_JSON]?: () => string } | null | undefined;
      return typeof v?.[GO_JSON] === 'function' ? v[GO_JSON]() : JSON.stringify(v ?? null);
    }
    case 'upper': return goString(vals[0]).toUpperCase();
    case 'lower': return goString(vals[0]).toLowerCase();
    case 'title': return goString(vals[0]).replace(/\b\w/g, (c) => c.toUpperCase());
    case 'join': return ((vals[0] as unknown[] | null) ?? []).map(goString).join(String(vals[1] ?? ''));
    case 'println': return `${vals.map(goString).join(' ')}\n`;
    case 'print': return vals.map(goString).join('');
    case 'len': return String(Array.isArray(vals[0]) ? vals[0].length : Object.keys((vals[0] as object) ?? {}).length);
    default: throw new BerthError('InvalidArgument', `template: function "${p.fn}" not defined`);
  }
}

export function render(tpl: string, data: unknown): string {
  return parse(tpl.replace(/\\t/g, '\t').replace(/\\n/g, '\n')).map((p) => evalPart(p, data)).join('');
}

/** Aligns tab-separated lines as Go's tabwriter with padding 3 and a minimum cell width (the docker CLI's tables use 10). */
export function tabulate(lines: string[], minWidth = 0): string {
  const rows = lines.map((l) => l.split('\t'));
  const w: number[] = [];
  for (const r of rows) r.forEach((c, i) => { if (i < r.length - 1) w[i] = Math.max(w[i] ?? 0, c.length); });
  return rows.map((r) => r.map((c, i) => (i < r.length - 1 ? c.padEnd(Math.max(w[i]! + 3, minWidth)) : c)).join('').trimEnd()).join('\n') + (rows.length ? '\n' : '');
}

/**
 * Formats rows as the docker CLI does: `table …` adds a header (field names through `headers`) and
 * aligns columns; any other template prints one line per row; undefined uses `def` (a table).
 */
export function formatRows(rows: object[], format: string | undefined, def: string, headers: Record<string, string>): string {
  let tpl = format ?? def;
  if (tpl === 'json') tpl = '{{json .}}';
  rows = rows.map((r) => (GO_JSON in r ? r : rowContext(r)));
  if (tpl.startsWith('table')) {
    const body = tpl.slice(5).trim() || def.slice(5).trim();
    const head = render(body.replace(/\{\{\s*(?:json\s+)?\.(\w+)\s*\}\}/g, (_, f: string) => headers[f] ?? f.toUpperCase()), {});
    // docker/cli formatter.Context: tabwriter.NewWriter(out, 10, 1, 3, ' ', 0)
    return tabulate([head, ...rows.map((r) => render(body, r))], 10);
  }
  return rows.map((r) => `${render(tpl, r)}\n`).join('');
}
