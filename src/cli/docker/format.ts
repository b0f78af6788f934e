// cli/docker/format: the part of Go's text/template the docker CLI's --format uses: fields (`{{.A.B}}`),
// variables, pipes, if/else/with/range/end, Go's builtins (index, len, printf, eq, and, not …) and docker's
// (json, upper, lower, title, join, split, pad, truncate), and the `table` prefix (a header row, then
// tab-aligned columns). Pure.
import { BerthError } from '../../errors.js';


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

type Pipe = string[][];
type Node =
  | { t: 'text'; s: string }
  | { t: 'act'; p: Pipe; decl?: string }
  | { t: 'if' | 'with'; p: Pipe; then: Node[]; else: Node[] }
  | { t: 'range'; vars: string[]; p: Pipe; then: Node[]; else: Node[] };
type Block = Extract<Node, { then: Node[] }>;

const fail = (m: string) => new BerthError('InvalidArgument', `template: ${m}`);

function words(src: string): string[] {
  return src.match(/"(?:[^"\\]|\\.)*"|`[^`]*`|\||[^\s|]+/g) ?? [];
}
function pipe(ws: string[]): Pipe {
  const out: Pipe = [[]];
  for (const w of ws) if (w === '|') out.push([]); else out[out.length - 1]!.push(w);
  if (out.some((c) => c.length === 0)) throw fail('missing value for command');
  return out;
}

function parse(tpl: string): Node[] {
  const root: Node[] = [];
  // each open block, with where its nodes go now and how many `end`s it takes (an `else if` adds one block)
  const stack: Array<{ b: Block; into: Node[]; chained: boolean }> = [];
  const cur = () => (stack.length ? stack[stack.length - 1]!.into : root);
  let i = 0;
  while (i < tpl.length) {
    const open = tpl.indexOf('{{', i);
    if (open < 0) { cur().push({ t: 'text', s: tpl.slice(i) }); break; }
    let text = tpl.slice(i, open);
    const close = tpl.indexOf('}}', open);
    if (close < 0) throw fail(`unclosed action in ${JSON.stringify(tpl)}`);
    let inner = tpl.slice(open + 2, close);
    if (inner.startsWith('-')) { inner = inner.slice(1); text = text.trimEnd(); }
    let next = close + 2;
    if (inner.endsWith('-')) { inner = inner.slice(0, -1); const m = /^\s*/.exec(tpl.slice(next))!; next += m[0].length; }
    if (text) cur().push({ t: 'text', s: text });
    i = next;
    const ws = words(inner.trim());
    if (ws.length === 0) throw fail('missing value for command');
    const [kw, ...rest] = ws as [string, ...string[]];
    if (kw === 'if' || kw === 'with') {
      const b: Block = { t: kw, p: pipe(rest), then: [], else: [] };
      cur().push(b); stack.push({ b, into: b.then, chained: false });
    } else if (kw === 'range') {
      const at = rest.indexOf(':=');
      const vars = at < 0 ? [] : rest.slice(0, at).join(' ').split(',').map((v) => v.trim()).filter(Boolean);
      const b: Block = { t: 'range', vars, p: pipe(at < 0 ? rest : rest.slice(at + 1)), then: [], else: [] };
      cur().push(b); stack.push({ b, into: b.then, chained: false });
    } else if (kw === 'else') {
      const top = stack[stack.length - 1];
      if (!top) throw fail('unexpected {{else}}');
      top.into = top.b.else;
      if (rest[0] === 'if' || rest[0] === 'with') {
        const b: Block = { t: rest[0], p: pipe(rest.slice(1)), then: [], else: [] };
        top.b.else.push(b); stack.push({ b, into: b.then, chained: true });
      }
    } else if (kw === 'end') {
      if (!stack.length) throw fail('unexpected {{end}}');
      while (stack.pop()!.chained) { /* an `else if` ends with its if */ }
    } else if (ws.length > 2 && ws[1] === ':=' && kw.startsWith('$')) {
      cur().push({ t: 'act', p: pipe(ws.slice(2)), decl: kw });
    } else if (kw.startsWith('/*')) {
      continue;
    } else cur().push({ t: 'act', p: pipe(ws) });
  }
  if (stack.length) throw fail('unexpected EOF');
  return root;
}

function lookup(data: unknown, path: string[]): unknown {
  let v: unknown = data;
  for (const k of path) {
    if (v === null || typeof v !== 'object') throw fail(`can't evaluate field ${k}`);
    if (!(k in (v as object))) throw fail(`can't evaluate field ${k} in type`);
    v = (v as Record<string, unknown>)[k];
  }
  return v;
}

interface Scope { dot: unknown; vars: Map<string, unknown> }

function operand(w: string, sc: Scope): unknown {
  if (w.startsWith('"')) return JSON.parse(w) as string;
  if (w.startsWith('`')) return w.slice(1, -1);
  if (/^-?\d+(\.\d+)?$/.test(w)) return Number(w);
  if (w === 'true' || w === 'false') return w === 'true';
  if (w === 'nil') return null;
  if (w === '.') return sc.dot;
  if (w.startsWith('.')) return lookup(sc.dot, w.slice(1).split('.'));
  if (w.startsWith('$')) {
    const [name, ...path] = w.split('.');
    if (!sc.vars.has(name!)) throw fail(`undefined variable "${name}"`);
    return lookup(sc.vars.get(name!), path);
  }
  throw fail(`function "${w}" not defined`);
}

/** Go's truth: false, 0, nil, and an empty string, slice or map are false. */
function truth(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === 0 || v === '' || v === 0n) return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object' && !(v instanceof GoText) && v.constructor === Object) return Object.keys(v).length > 0;
  return true;
}

function printf(fmt: string, args: unknown[]): string {
  let k = 0;
  return fmt.replace(/%([-+ 0#]*)(\d*)(?:\.(\d+))?([svdqtfx%])/g, (_m, _f: string, w: string, prec: string, verb: string) => {
    if (verb === '%') return '%';
    const a = args[k++];
    let out = verb === 'q' ? JSON.stringify(goString(a)) : verb === 'f' ? Number(a).toFixed(prec ? Number(prec) : 6)
      : verb === 'x' ? (typeof a === 'number' ? a.toString(16) : Buffer.from(goString(a)).toString('hex')) : goString(a);
    if (verb === 's' && prec) out = out.slice(0, Number(prec));
    return w ? (_f.includes('-') ? out.padEnd(Number(w)) : out.padStart(Number(w))) : out;
  });
}

const cmp = (a: unknown, b: unknown) => (typeof a === 'number' && typeof b === 'number' ? a - b : String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0);

const FUNCS: Record<string, (...a: unknown[]) => unknown> = {
  json: (v) => {
    const x = v as { [GO_JSON]?: () => string } | null | undefined;
    return typeof x?.[GO_JSON] === 'function' ? x[GO_JSON]() : JSON.stringify(v ?? null);
  },
  upper: (v) => goString(v).toUpperCase(),
  lower: (v) => goString(v).toLowerCase(),
  title: (v) => goString(v).replace(/\b\w/g, (c) => c.toUpperCase()),
  join: (l, sep) => ((l as unknown[] | null) ?? []).map(goString).join(String(sep ?? '')),
  split: (s, sep) => goString(s).split(String(sep)),
  pad: (s, l, r) => `${' '.repeat(Number(l))}${goString(s)}${' '.repeat(Number(r))}`,
  truncate: (s, n) => [...goString(s)].slice(0, Number(n)).join(''),
  println: (...a) => `${a.map(goString).join(' ')}\n`,
  print: (...a) => a.map(goString).join(''),
  printf: (f, ...a) => printf(String(f), a),
  len: (v) => (typeof v === 'string' || Array.isArray(v) ? v.length : Object.keys((v as object) ?? {}).length),
  index: (v, ...keys) => keys.reduce<unknown>((x, k) => (x == null ? null : (x as Record<string, unknown>)[String(k)] ?? null), v),
  eq: (a, ...b) => b.some((x) => x === a || (x != null && a != null && goString(x) === goString(a) && typeof x === typeof a)),
  ne: (a, b) => a !== b,
  lt: (a, b) => cmp(a, b) < 0, le: (a, b) => cmp(a, b) <= 0, gt: (a, b) => cmp(a, b) > 0, ge: (a, b) => cmp(a, b) >= 0,
  not: (v) => !truth(v),
  and: (...a) => a.find((x) => !truth(x)) ?? a[a.length - 1],
  or: (...a) => a.find((x) => truth(x)) ?? a[a.length - 1],
};

function evalPipe(p: Pipe, sc: Scope): unknown {
  let piped: unknown[] = [];
  for (const [head, ...args] of p) {
    const f = FUNCS[head!];
    if (f) piped = [f(...args.map((a) => operand(a, sc)), ...piped)];
    else {
      if (!/^[.$"`\d-]|^(true|false|nil)$/.test(head!)) throw fail(`function "${head}" not defined`);
      if (args.length || piped.length) throw fail(`can't give argument to non-function ${head}`);
      piped = [operand(head!, sc)];
    }
  }
  return piped[0];
}

function exec(nodes: Node[], sc: Scope, out: string[]): void {
  for (const n of nodes) {
    if (n.t === 'text') out.push(n.s);
    else if (n.t === 'act') {
      const v = evalPipe(n.p, sc);
      if (n.decl) sc.vars.set(n.decl, v); else out.push(goString(v));
    } else if (n.t === 'if') exec(truth(evalPipe(n.p, sc)) ? n.then : n.else, sc, out);
    else if (n.t === 'with') {
      const v = evalPipe(n.p, sc);
      if (truth(v)) exec(n.then, { dot: v, vars: sc.vars }, out); else exec(n.else, sc, out);
    } else if (n.t === 'range') {
      const v = evalPipe(n.p, sc);
      const items: Array<[unknown, unknown]> = Array.isArray(v) ? v.map((x, k) => [k, x])
        : v && typeof v === 'object' ? Object.keys(v).sort().map((k) => [k, (v as Record<string, unknown>)[k]]) : [];
      if (!items.length) { exec(n.else, sc, out); continue; }
      for (const [k, x] of items) {
        const vars = new Map(sc.vars);
        if (n.vars.length === 1) vars.set(n.vars[0]!, x);
        if (n.vars.length === 2) { vars.set(n.vars[0]!, k); vars.set(n.vars[1]!, x); }
        exec(n.then, { dot: x, vars }, out);
      }
    }
  }
}

export function render(tpl: string, data: unknown): string {
  const out: string[] = [];
  exec(parse(tpl.replace(/\\t/g, '\t').replace(/\\n/g, '\n')), { dot: data, vars: new Map([['$', data]]) }, out);
  return out.join('');
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
    // the header row renders over the column names (docker/cli's header context), so `if`/`eq` on a field see its name
    const names = new Proxy({}, { has: () => true, get: (_, k) => (typeof k === 'string' ? headers[k] ?? k.toUpperCase() : undefined) });
    const head = render(body.replace(/\{\{\s*(?:json\s+)?\.(\w+)\s*\}\}/g, (_, f: string) => headers[f] ?? f.toUpperCase()), names);
    // docker/cli formatter.Context: tabwriter.NewWriter(out, 10, 1, 3, ' ', 0)
    return tabulate([head, ...rows.map((r) => render(body, r))], 10);
  }
  return rows.map((r) => `${render(tpl, r)}\n`).join('');
}
