// cli/docker/format: how the docker CLI's --format prints rows: the `table` prefix (a header row, then
// tab-aligned columns), `json`, Go's printing of values (%v), and row contexts' MarshalJSON. The template
// engine itself (cli/docker/template) loads only for a template that is more than `{{.Field}}`s: `berth ps`
// and its default table never load it (bench/cli.sh, the CLI's own start).

/**
 * On a value whose `{{json}}` is not JSON.stringify's: the CLI's row contexts (their MarshalJSON), events
 * (timeNano exact past 2^53). A symbol, so neither JSON.stringify nor a template field sees it; a registered
 * one, as the fast CLI bundle and the template's own bundle each hold a copy of this file.
 */
export const GO_JSON = Symbol.for('berth.go-json');
/** What Go's template prints for a key a map lacks (an invalid reflect.Value). */
export const NO_VALUE = Symbol.for('berth.go-no-value');
const GO_TEXT = Symbol.for('berth.go-text');

/**
 * Go's json.Marshal of a map[string]any, as docker/cli formatter.MarshalJSON does for a row: keys in byte
 * order, and <, >, &, U+2028, U+2029 escaped (Marshal's HTML escaping; the template's json func has none).
 */
export function goMarshalMap(v: Record<string, unknown>): string {
  const sorted = Object.fromEntries(Object.keys(v).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map((k) => [k, v[k]]));
  return JSON.stringify(sorted).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * On a value that stands for a Go struct: its type as a template's errors name it ("can't evaluate field X in
 * type *formatter.imageContext"), where the value is not the template's root (rows in a range, version's parts).
 */
export const GO_TYPE = Symbol.for('berth.go-type');
export function goTyped<T extends object>(o: T, type: string): T {
  return Object.defineProperty(o, GO_TYPE, { value: type, enumerable: false });
}

/** A row for formatRows/render whose `{{json .}}` and `--format json` print as the docker CLI's context does; `type`: its Go type. */
export function rowContext<T extends object>(row: T, type?: string): T {
  const r = Object.defineProperty({ ...row }, GO_JSON, { value: () => goMarshalMap(row as Record<string, unknown>), enumerable: false });
  return type ? goTyped(r, type) : r;
}

/**
 * A value whose Go type prints otherwise than its JSON: a time.Time field (network Created) is RFC 3339 in
 * `{{json}}` but time.String() in `{{.Created}}`.
 */
export class GoText {
  readonly [GO_TEXT] = true;
  constructor(readonly text: string, readonly wire: unknown) {}
  toJSON(): unknown { return this.wire; }
}
export const isGoText = (v: unknown): v is GoText => typeof v === 'object' && v !== null && GO_TEXT in v;

/** Go's default formatting of a value (%v): maps as map[k:v], slices as [a b], nil as <nil>. */
export function goString(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  if (v === NO_VALUE) return '<no value>';
  if (isGoText(v)) return v.text;
  if (Array.isArray(v)) return `[${v.map(goString).join(' ')}]`;
  if (typeof v === 'object') return `map[${Object.entries(v as object).sort(([a], [b]) => a.localeCompare(b)).map(([k, x]) => `${k}:${goString(x)}`).join(' ')}]`;
  return String(v);
}

/** The template engine, loaded when a template needs it. */
export const template = (): Promise<typeof import('./template.js')> => import('./template.js');

/** Renders a --format template over one value (cli/docker/template); `type` as template.render's. */
export async function render(tpl: string, data: unknown, type?: string | null, asTyped = false): Promise<string> {
  return (await template()).render(tpl, data, type, asTyped);
}

/** One name of an inspect: the object found, or the error line docker prints for it. */
export type Inspected = { value: unknown } | { error: string };

/**
 * Prints an inspect as docker/cli inspect.Inspect: the objects (indented JSON, or each through --format,
 * cli/docker/template), then every error line in argument order, a lookup's and a template's alike; the exit
 * code. `type` as template.render's; `forTemplate`: the value a template sees (network's Created as Go prints it).
 */
export async function printInspect(items: Inspected[], format: string | undefined, type: string | null = null, forTemplate = (v: unknown) => v): Promise<number> {
  let errors: string[];
  if (format) errors = (await template()).inspectFormatted(format, items.map((i) => ('value' in i ? { value: forTemplate(i.value) } : i)), type);
  else {
    process.stdout.write(`${JSON.stringify(items.flatMap((i) => ('value' in i ? [i.value] : [])), null, 4)}\n`);
    errors = items.flatMap((i) => ('error' in i ? [i.error] : []));
  }
  for (const e of errors) process.stderr.write(`${e}\n`);
  return errors.length ? 1 : 0;
}

/** Parses a --format before anything is fetched, as docker/cli inspect and ps do (template.ts checkTemplate); fields only cannot fail. */
export async function checkTemplate(tpl: string | undefined, prefix?: string, code?: number, asTyped?: boolean): Promise<void> {
  if (!tpl || tpl === 'json' || /^[^{]*(\{\{\s*\.\w+\s*\}\}[^{]*)*$/.test(tpl)) return;
  (await template()).checkTemplate(tpl, prefix, code, asTyped);
}

/**
 * A template of text and `{{.Field}}`s only (every default table, most --format lines people type) over
 * rows that have those fields: a renderer that needs no template engine. Undefined for anything else.
 */
function plain(tpl: string, rows: object[]): ((row: object) => string) | undefined {
  const t = tpl.replace(/\\t/g, '\t').replace(/\\n/g, '\n');
  const fields = [...t.matchAll(/\{\{\s*\.(\w+)\s*\}\}/g)].map((m) => m[1]!);
  if (t.replace(/\{\{\s*\.(\w+)\s*\}\}/g, '').includes('{{')) return undefined;
  if (!rows.every((r) => fields.every((f) => f in r && typeof (r as Record<string, unknown>)[f] !== 'function'))) return undefined;
  return (r) => t.replace(/\{\{\s*\.(\w+)\s*\}\}/g, (_, f: string) => goString((r as Record<string, unknown>)[f]));
}

/** Aligns tab-separated lines as Go's tabwriter with padding 3 and a minimum cell width (the docker CLI's tables use 10); a line whose last cell is empty keeps its padding, as there. */
export function tabulate(lines: string[], minWidth = 0): string {
  const rows = lines.map((l) => l.split('\t'));
  const w: number[] = [];
  for (const r of rows) r.forEach((c, i) => { if (i < r.length - 1) w[i] = Math.max(w[i] ?? 0, c.length); });
  return rows.map((r) => r.map((c, i) => (i < r.length - 1 ? c.padEnd(Math.max(w[i]! + 3, minWidth)) : c)).join('')).join('\n') + (rows.length ? '\n' : '');
}

/** docker/cli SubHeaderContext.Label: `{{.Label "com.example.the-key"}}` heads its column "the key". */
const headerLabel = (name: unknown) => String(name).split('.').pop()!.replace(/[-_]/g, ' ');

/**
 * Formats rows as the docker CLI does: `table …` adds a header (field names through `headers`) and
 * aligns columns; any other template prints one line per row; undefined uses `def` (a table).
 */
export async function formatRows(rows: object[], format: string | undefined, def: string, headers: Record<string, string>, type?: string): Promise<string> {
  let tpl = format ?? def;
  if (tpl === 'json') tpl = '{{json .}}';
  rows = rows.map((r) => (GO_JSON in r ? r : rowContext(r)));
  const table = tpl.startsWith('table');
  const body = table ? tpl.slice(5).trim() || def.slice(5).trim() : tpl;
  const fast = plain(body, rows);
  const engine = fast ? undefined : await template();
  const eng = (r: object) => { try { return engine!.render(body, r, type); } catch (e) { throw engine!.templateError(e, 'template parsing error: '); } };
  const line = fast ?? eng;
  if (!table) return rows.map((r) => `${line(r)}\n`).join('');
  // the header row renders over the column names (docker/cli's header context), so `if`/`eq` on a field see its name
  const named = body.replace(/\{\{\s*(?:json\s+)?\.(\w+)\s*\}\}/g, (_, f: string) => headers[f] ?? f.toUpperCase());
  const names = new Proxy({}, { has: () => true, get: (_, k) => (k === 'Label' ? headerLabel : typeof k === 'string' ? headers[k] ?? k.toUpperCase() : undefined) });
  const head = engine ? engine.render(named, names) : named.replace(/\\t/g, '\t').replace(/\\n/g, '\n');
  // docker/cli formatter.Context: tabwriter.NewWriter(out, 10, 1, 3, ' ', 0)
  return tabulate([head, ...rows.map(line)], 10);
}
