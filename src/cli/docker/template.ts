// cli/docker/template: the part of Go's text/template the docker CLI's --format uses: fields (`{{.A.B}}`),
// variables, pipes, parenthesised sub-pipelines, if/else/with/range/end, Go's builtins (index, len, printf
// with fmt's verbs, eq, and, not …) and docker's (json, upper, lower, title, join, split, pad, truncate).
// Loaded only when a template needs it (format.ts): the CLI's fast path prints its default tables without it.
import { BerthError } from '../../errors.js';
import { GO_JSON, GO_TYPE, goString, isGoText, NO_VALUE } from './format.js';

/** An argument: a word (field, variable, literal, function name) or a parenthesised pipeline and the fields read off it. */
type Arg = string | { sub: Pipe; path: string[] };
/** A command: its words, and where each starts in the template (for Go's error positions). */
type Cmd = Arg[] & { at?: number[] };
type Pipe = Cmd[];
type Node =
  | { t: 'text'; s: string }
  | { t: 'act'; p: Pipe; decl?: string }
  | { t: 'if' | 'with'; p: Pipe; then: Node[]; else: Node[] }
  | { t: 'range'; vars: string[]; p: Pipe; then: Node[]; else: Node[] };
type Block = Extract<Node, { then: Node[] }>;

/**
 * Go's text/template errors, as the docker CLI prints them after its own words ("template parsing error: ",
 * "failed to parse template: "): a parse error `template: :LINE: msg`, an execution error
 * `template: :LINE:COL: executing "" at <node>: msg` (COL: bytes into the line, 0-based, as Go's ErrorContext).
 */
export class TemplateError extends BerthError {
  constructor(readonly goText: string, readonly parsing: boolean) { super('InvalidArgument', goText); this.name = 'TemplateError'; }
}
/** A parse error at an offset of the template. */
class ParseFail extends Error { constructor(m: string, readonly at: number) { super(m); } }
/** An execution error; the node (offset, text) is filled in by the command that was running. */
class ExecFail extends Error { constructor(m: string, public at?: number, public node?: string) { super(m); } }
let parseAt = 0; // the action being parsed, for parse errors raised below it
const fail = (m: string) => new ParseFail(m, parseAt);

/** An action's words: quoted strings whole, `|`, `(` and `)` apart; `(…)` nests, `(…).A.B` reads fields off it. */
function tokens(src: string, base: number): { ws: Arg[]; at: number[] } {
  const re = /"(?:[^"\\]|\\.)*"|`[^`]*`|[|()]|[^\s|()]+/g;
  const stack: Array<{ ws: Arg[]; at: number[] }> = [{ ws: [], at: [] }];
  let m: RegExpExecArray | null;
  while ((m = re.exec(src))) {
    const w = m[0];
    if (w === '(') stack.push({ ws: [], at: [base + m.index] });
    else if (w === ')') {
      if (stack.length < 2) throw fail('unexpected right paren');
      const inner = stack.pop()!;
      let path: string[] = [];
      const after = /^\.[\w.]+/.exec(src.slice(re.lastIndex)); // (…).Field, no space between
      if (after) { path = after[0].slice(1).split('.').filter(Boolean); re.lastIndex += after[0].length; }
      const top = stack[stack.length - 1]!;
      top.ws.push({ sub: pipe(inner.ws, inner.at.slice(1)), path }); top.at.push(inner.at[0]!);
    } else { const top = stack[stack.length - 1]!; top.ws.push(w); top.at.push(base + m.index); }
  }
  if (stack.length > 1) throw fail('unclosed left paren');
  return stack[0]!;
}
function pipe(ws: Arg[], at: number[]): Pipe {
  const out: Pipe = [Object.assign([], { at: [] })];
  ws.forEach((w, i) => {
    if (w === '|') out.push(Object.assign([], { at: [] }));
    else { const c = out[out.length - 1]!; c.push(w); c.at!.push(at[i]!); }
  });
  if (out.some((c) => c.length === 0)) throw fail('missing value for command');
  // Go's parser knows its functions: an unknown name is a parse error wherever it stands
  for (const c of out) for (const w of c) if (typeof w === 'string' && /^[A-Za-z_]\w*$/.test(w) && !/^(true|false|nil)$/.test(w) && !Object.hasOwn(FUNCS, w)) throw fail(`function "${w}" not defined`);
  return out;
}
const word = (a: Arg | undefined): string | undefined => (typeof a === 'string' ? a : undefined);

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
    parseAt = open;
    if (close < 0) throw fail('unclosed action');
    let inner = tpl.slice(open + 2, close);
    let base = open + 2;
    if (inner.startsWith('-')) { inner = inner.slice(1); text = text.trimEnd(); base++; }
    base += inner.length - inner.trimStart().length;
    let next = close + 2;
    if (inner.endsWith('-')) { inner = inner.slice(0, -1); const m = /^\s*/.exec(tpl.slice(next))!; next += m[0].length; }
    if (text) cur().push({ t: 'text', s: text });
    i = next;
    if (inner.trim().startsWith('/*')) continue;
    const { ws, at } = tokens(inner.trim(), base);
    if (ws.length === 0) throw fail('missing value for command');
    const kw = word(ws[0]);
    const rest = ws.slice(1);
    if (kw === 'if' || kw === 'with') {
      const b: Block = { t: kw, p: pipe(rest, at.slice(1)), then: [], else: [] };
      cur().push(b); stack.push({ b, into: b.then, chained: false });
    } else if (kw === 'range') {
      const decl = rest.indexOf(':=');
      const vars = decl < 0 ? [] : rest.slice(0, decl).map(String).join(' ').split(',').map((v) => v.trim()).filter(Boolean);
      const b: Block = { t: 'range', vars, p: decl < 0 ? pipe(rest, at.slice(1)) : pipe(rest.slice(decl + 1), at.slice(decl + 2)), then: [], else: [] };
      cur().push(b); stack.push({ b, into: b.then, chained: false });
    } else if (kw === 'else') {
      const top = stack[stack.length - 1];
      if (!top) throw fail('unexpected {{else}}');
      top.into = top.b.else;
      const k = word(rest[0]);
      if (k === 'if' || k === 'with') {
        const b: Block = { t: k, p: pipe(rest.slice(1), at.slice(2)), then: [], else: [] };
        top.b.else.push(b); stack.push({ b, into: b.then, chained: true });
      }
    } else if (kw === 'end') {
      if (!stack.length) throw fail('unexpected {{end}}');
      while (stack.pop()!.chained) { /* an `else if` ends with its if */ }
    } else if (ws.length > 2 && ws[1] === ':=' && kw?.startsWith('$')) {
      cur().push({ t: 'act', p: pipe(ws.slice(2), at.slice(2)), decl: kw });
    } else cur().push({ t: 'act', p: pipe(ws, at) });
  }
  parseAt = tpl.length;
  if (stack.length) throw fail('unexpected EOF');
  return root;
}

/**
 * Map-typed fields of the values templates see (docker's types: Labels map[string]string …): a key missing
 * there prints "<no value>" as Go's map index does; a missing field of a struct is an error. A lower-case
 * key cannot be an exported struct field, so it reads as a map key too.
 */
const MAPS = new Set(['Labels', 'Options', 'Attributes', 'Ports', 'Networks', 'Volumes', 'ExposedPorts', 'DriverOpts', 'Sysctls',
  'Annotations', 'StorageOpt', 'Tmpfs', 'Data', 'Runtimes']);

/**
 * The Go type of the value being rendered when it is one of docker/cli's row contexts (`*formatter.ContainerContext`):
 * a field it lacks is "can't evaluate field X in type T". null: an inspect's JSON, which docker's fallback reads
 * as a map with missingkey=error ("map has no entry for key"). Undefined: unknown, Go's name of the JSON type.
 */
let rootType: string | null | undefined;
let root: unknown;

function lookup(data: unknown, path: string[], from = ''): unknown {
  let v: unknown = data;
  let parent = from;
  for (const k of path) {
    if (v === NO_VALUE) return NO_VALUE;
    const mapLike = MAPS.has(parent) || !/^[A-Z]/.test(k);
    if (v === null || typeof v !== 'object') {
      if (v == null && mapLike) return NO_VALUE;
      throw new ExecFail(`can't evaluate field ${k} in type ${rootType === null ? 'interface {}' : goType(v)}`);
    }
    if (!(k in (v as object))) {
      if (mapLike && !Array.isArray(v)) return NO_VALUE;
      if (rootType === null) throw new ExecFail(`map has no entry for key "${k}"`);
      throw new ExecFail(`can't evaluate field ${k} in type ${v === root && rootType ? rootType : goType(v)}`);
    }
    v = (v as Record<string, unknown>)[k];
    parent = k;
  }
  return v;
}

interface Scope { dot: unknown; vars: Map<string, unknown> }

function operand(a: Arg, sc: Scope): unknown {
  if (typeof a !== 'string') return lookup(evalPipe(a.sub, sc), a.path);
  const w = a;
  if (w.startsWith('"')) return JSON.parse(w) as string;
  if (w.startsWith('`')) return w.slice(1, -1);
  if (/^-?\d+(\.\d+)?$/.test(w)) return Number(w);
  if (w === 'true' || w === 'false') return w === 'true';
  if (w === 'nil') return null;
  if (w === '.') return sc.dot;
  if (w.startsWith('.')) return lookup(sc.dot, w.slice(1).split('.'));
  if (w.startsWith('$')) {
    const [name, ...path] = w.split('.');
    if (!sc.vars.has(name!)) throw new ExecFail(`undefined variable "${name}"`);
    return lookup(sc.vars.get(name!), path);
  }
  throw new ExecFail(`function "${w}" not defined`);
}

/** Go's truth: false, 0, nil, and an empty string, slice or map are false. */
function truth(v: unknown): boolean {
  if (v === null || v === undefined || v === NO_VALUE || v === false || v === 0 || v === '' || v === 0n) return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object' && !isGoText(v) && v.constructor === Object) return Object.keys(v).length > 0;
  return true;
}

/** The Go type a value of docker's structs has, as %T and fmt's bad-verb notes name it. */
function goType(v: unknown): string {
  if (v === null || v === undefined || v === NO_VALUE) return '<nil>';
  if (typeof v === 'string' || isGoText(v)) return 'string';
  if (typeof v === 'object' && GO_TYPE in v) return (v as { [GO_TYPE]: string })[GO_TYPE];
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'bigint') return 'int64';
  if (typeof v === 'number') return Number.isInteger(v) ? 'int' : 'float64';
  if (Array.isArray(v)) return v.every((x) => typeof x === 'string') ? '[]string' : '[]interface {}';
  return Object.values(v as object).every((x) => typeof x === 'string') ? 'map[string]string' : 'map[string]interface {}';
}

const runes = (s: string) => [...s].length;
const isInt = (a: unknown): a is number | bigint => typeof a === 'bigint' || (typeof a === 'number' && Number.isInteger(a));

/** Go's %e: at least two exponent digits. */
const goExp = (s: string) => s.replace(/e([+-])(\d)$/, 'e$10$2');
/** Go's %g (strconv 'g'): %e from the precision's digits on (shortest: 6) or below 1e-4, else plain. */
function goG(x: number, prec: number | undefined): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'NaN' : x > 0 ? '+Inf' : '-Inf';
  if (x === 0) return '0';
  const e = prec === undefined ? x.toExponential() : x.toExponential(Math.max(prec, 1) - 1);
  const [mant, ex] = e.split('e') as [string, string];
  const exp = Number(ex);
  const digits = mant.replace(/[-.]/g, '').replace(/0+$/, '').length || 1;
  const eprec = prec === undefined ? 6 : Math.min(Math.max(prec, 1), Math.max(digits, exp + 1));
  if (exp < -4 || exp >= eprec) return goExp(`${mant.includes('.') ? mant.replace(/\.?0+$/, '') : mant}e${exp < 0 ? '-' : '+'}${Math.abs(exp)}`);
  return String(prec === undefined ? x : Number(x.toPrecision(Math.max(prec, 1))));
}

/** One verb of Go's fmt: the text, or undefined when the value's type does not take the verb (%!v(T=x)). */
function verb(v: string, a: unknown, flags: string, prec: number | undefined): string | undefined {
  const plus = flags.includes('+'), sharp = flags.includes('#'), space = flags.includes(' ');
  const sign = (n: number | bigint, s: string) => (n >= 0 && plus ? `+${s}` : n >= 0 && space ? ` ${s}` : s);
  switch (v) {
    case 'v': return typeof a === 'number' && !Number.isInteger(a) ? goG(a, prec) : goString(a);
    case 's': {
      if (typeof a === 'number' || typeof a === 'boolean' || typeof a === 'bigint' || a == null || a === NO_VALUE) return undefined;
      const s = goString(a);
      return prec === undefined ? s : [...s].slice(0, prec).join('');
    }
    case 'q': if (typeof a === 'string' || isGoText(a)) return JSON.stringify(goString(a)); return isInt(a) ? `'${String.fromCodePoint(Number(a))}'` : undefined;
    case 't': return typeof a === 'boolean' ? String(a) : undefined;
    case 'T': return goType(a);
    case 'd': case 'b': case 'o': case 'x': case 'X': case 'c': case 'U': {
      if (!isInt(a)) {
        if ((v === 'x' || v === 'X') && (typeof a === 'string' || isGoText(a))) {
          const h = Buffer.from(goString(a)).toString('hex');
          return v === 'X' ? h.toUpperCase() : h;
        }
        return undefined;
      }
      if (v === 'c') return String.fromCodePoint(Number(a));
      if (v === 'U') return `U+${a.toString(16).toUpperCase().padStart(4, '0')}`;
      const neg = a < 0;
      let digits = (neg ? -a : a).toString(v === 'd' ? 10 : v === 'b' ? 2 : v === 'o' ? 8 : 16);
      if (v === 'X') digits = digits.toUpperCase();
      if (prec !== undefined) digits = digits.padStart(prec, '0');
      if (sharp) digits = (v === 'x' ? '0x' : v === 'X' ? '0X' : v === 'o' ? '0' : '') + digits;
      return neg ? `-${digits}` : sign(a, digits);
    }
    case 'f': case 'F': case 'e': case 'E': case 'g': case 'G': {
      if (typeof a !== 'number') return undefined;
      const s = v === 'f' || v === 'F' ? a.toFixed(prec ?? 6) : v === 'e' || v === 'E' ? goExp(a.toExponential(prec ?? 6)) : goG(a, prec);
      return sign(a, /[EG]/.test(v) ? s.toUpperCase() : s);
    }
    default: return undefined;
  }
}

/** Go's fmt.Sprintf for the verbs templates use: flags, width, precision, %!v(T=x) for a wrong type, MISSING/EXTRA. */
function printf(fmt: string, args: unknown[]): string {
  let k = 0;
  let out = fmt.replace(/%([-+ 0#]*)(\d*)(?:\.(\d*))?(.|$)/gs, (_m, flags: string, w: string, p: string | undefined, v: string) => {
    if (v === '%') return '%';
    if (v === '') return '%!(NOVERB)';
    if (k >= args.length) return `%!${v}(MISSING)`;
    const a = args[k++];
    const prec = p === undefined ? undefined : Number(p || 0);
    let s = verb(v, a, flags, prec);
    if (s === undefined) s = `%!${v}(${a == null || a === NO_VALUE ? '<nil>' : `${goType(a)}=${goString(a)}`})`;
    const width = Number(w || 0);
    if (runes(s) >= width) return s;
    if (flags.includes('-')) return s + ' '.repeat(width - runes(s));
    // zero padding goes after the sign, for numbers only
    if (flags.includes('0') && typeof a === 'number') { const m = /^[+\- ]?/.exec(s)![0]; return m + '0'.repeat(width - runes(s)) + s.slice(m.length); }
    return ' '.repeat(width - runes(s)) + s;
  });
  if (k < args.length) out += `%!(EXTRA ${args.slice(k).map((a) => `${goType(a)}=${goString(a)}`).join(', ')})`;
  return out;
}

const cmp = (a: unknown, b: unknown) => (typeof a === 'number' && typeof b === 'number' ? a - b : String(a) < String(b) ? -1 : String(a) > String(b) ? 1 : 0);

/** `{{json v}}`: a row context (or a list of them, `system df -v`'s .Images) marshals itself as docker/cli's does. */
function goJson(v: unknown): string {
  const x = v as { [GO_JSON]?: () => string } | null | undefined;
  if (typeof x?.[GO_JSON] === 'function') return x[GO_JSON]();
  if (Array.isArray(v) && v.some((e) => typeof (e as { [GO_JSON]?: unknown } | null)?.[GO_JSON] === 'function')) return `[${v.map(goJson).join(',')}]`;
  return JSON.stringify(v === NO_VALUE ? null : v ?? null);
}

const FUNCS: Record<string, (...a: unknown[]) => unknown> = {
  json: (v) => goJson(v),
  upper: (v) => goString(v).toUpperCase(),
  lower: (v) => goString(v).toLowerCase(),
  title: (v) => goString(v).replace(/\b\w/g, (c) => c.toUpperCase()),
  join: (l, sep) => ((l as unknown[] | null) ?? []).map(goString).join(String(sep ?? '')),
  split: (s, sep) => goString(s).split(String(sep)),
  // docker/cli templates padWithSpace: an empty string stays empty
  pad: (s, l, r) => (goString(s) === '' ? '' : `${' '.repeat(Number(l))}${goString(s)}${' '.repeat(Number(r))}`),
  truncate: (s, n) => [...goString(s)].slice(0, Number(n)).join(''),
  println: (...a) => `${a.map(goString).join(' ')}\n`,
  print: (...a) => a.map(goString).join(''),
  printf: (f, ...a) => printf(String(f), a),
  len: (v) => (typeof v === 'string' || Array.isArray(v) ? v.length : Object.keys((v as object) ?? {}).length),
  // a missing key of a map gives its element's zero value (docker's maps hold strings: ""); past a slice's end is an error
  index: (v, ...keys) => keys.reduce<unknown>((x, k) => {
    if (Array.isArray(x)) { if (!isInt(k) || Number(k) < 0 || Number(k) >= x.length) throw new Error(`index out of range: ${String(k)}`); return x[Number(k)]; }
    if (x == null || x === NO_VALUE || typeof x !== 'object') return null;
    const m = x as Record<string, unknown>;
    return String(k) in m ? m[String(k)] : Object.values(m).every((y) => typeof y === 'string') ? '' : null;
  }, v),
  eq: (a, ...b) => b.some((x) => x === a || (x != null && a != null && goString(x) === goString(a) && typeof x === typeof a)),
  ne: (a, b) => a !== b,
  lt: (a, b) => cmp(a, b) < 0, le: (a, b) => cmp(a, b) <= 0, gt: (a, b) => cmp(a, b) > 0, ge: (a, b) => cmp(a, b) >= 0,
  not: (v) => !truth(v),
  and: (...a) => a.find((x) => !truth(x)) ?? a[a.length - 1],
  or: (...a) => a.find((x) => truth(x)) ?? a[a.length - 1],
};

const argText = (a: Arg): string => (typeof a === 'string' ? a : `(${pipeText(a.sub)})${a.path.map((k) => `.${k}`).join('')}`);
const pipeText = (p: Pipe): string => p.map((c) => c.map(argText).join(' ')).join(' | ');

/** A word's value; a field's error names the field as Go does (at its second part when it has several: its chain's place). */
function argValue(c: Cmd, i: number, sc: Scope): unknown {
  const a = c[i]!;
  try { return operand(a, sc); } catch (e) {
    if (!(e instanceof ExecFail) || e.at !== undefined) throw e;
    const at = c.at?.[i] ?? 0;
    const second = typeof a === 'string' && /^[.$]/.test(a) ? a.indexOf('.', 1) : -1;
    e.at = typeof a === 'string' && second > 0 ? at + second : at;
    e.node = argText(a);
    throw e;
  }
}

function evalPipe(p: Pipe, sc: Scope): unknown {
  let piped: unknown[] = [];
  for (const c of p) {
    const head = c[0];
    const args = () => c.slice(1).map((_, i) => argValue(c, i + 1, sc));
    const call = (name: string, f: (...a: unknown[]) => unknown, a: unknown[]) => {
      try { return f(...a); } catch (e) {
        if (e instanceof ExecFail || e instanceof TemplateError) throw e;
        throw new ExecFail(`error calling ${name}: ${(e as Error).message}`, c.at?.[0], c.map(argText).join(' '));
      }
    };
    const f = typeof head === 'string' ? FUNCS[head] : undefined;
    if (f) piped = [call(head as string, f, [...args(), ...piped])];
    else if (typeof head === 'string' && head.startsWith('.') && typeof argValue(c, 0, sc) === 'function') {
      // a method of docker's context (ContainerContext.Label): called with its arguments
      piped = [call(head.slice(head.lastIndexOf('.') + 1), argValue(c, 0, sc) as (...a: unknown[]) => unknown, [...args(), ...piped])];
    } else {
      if (c.length > 1 || piped.length) throw new ExecFail(`can't give argument to non-function ${argText(head!)}`, c.at?.[0], c.map(argText).join(' '));
      piped = [argValue(c, 0, sc)];
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
        : v && v !== NO_VALUE && typeof v === 'object' ? Object.keys(v).sort().map((k) => [k, (v as Record<string, unknown>)[k]]) : [];
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

/** Go's "LINE" and "LINE:COL" of an offset (COL in bytes from the line's start). */
function place(text: string, at: number): { line: number; col: number } {
  const before = text.slice(0, at);
  const nl = before.lastIndexOf('\n');
  return { line: before.split('\n').length, col: Buffer.byteLength(before.slice(nl + 1)) };
}

/** Parses a template only (docker/cli checks a --format before it asks the daemon anything). */
export function parseOnly(tpl: string, asTyped = false): void {
  const text = asTyped ? tpl : tpl.replace(/\\t/g, '\t').replace(/\\n/g, '\n');
  try { parse(text); } catch (e) {
    if (!(e instanceof ParseFail)) throw e;
    throw new TemplateError(`template: :${place(text, e.at).line}: ${e.message}`, true);
  }
}

/**
 * Renders a template over data. `type`: the Go type docker's template would see (a row context's, as
 * `*formatter.imageContext`), for its error texts; none for an inspect's JSON.
 */
export function render(tpl: string, data: unknown, type?: string | null, asTyped = false): string {
  // docker/cli's formatter turns \t and \n into tabs and newlines first; ps checks its template as typed (asTyped)
  const text = asTyped ? tpl : tpl.replace(/\\t/g, '\t').replace(/\\n/g, '\n');
  let nodes: Node[];
  try { nodes = parse(text); } catch (e) {
    if (!(e instanceof ParseFail)) throw e;
    throw new TemplateError(`template: :${place(text, e.at).line}: ${e.message}`, true);
  }
  const out: string[] = [];
  [rootType, root] = [type, data];
  try { exec(nodes, { dot: data, vars: new Map([['$', data]]) }, out); } catch (e) {
    if (!(e instanceof ExecFail)) throw e;
    const { line, col } = place(text, e.at ?? 0);
    // what Execute wrote before it failed (info prints it)
    throw Object.assign(new TemplateError(`template: :${line}:${col}: executing "" at <${e.node ?? ''}>: ${e.message}`, false), { partial: out.join('') });
  } finally { [rootType, root] = [undefined, undefined]; }
  return out.join('');
}


/**
 * A template's error in the words of the docker/cli code that ran it: `prefix` before Go's text ("template
 * parsing error: " for formatter.Context and inspect, "failed to parse template: " for ps …), and the exit
 * code docker gives a template that does not parse (inspect, info: 64).
 */
export function templateError(e: unknown, prefix: string, parseCode = 1): unknown {
  if (!(e instanceof TemplateError)) return e;
  return Object.assign(new BerthError('InvalidArgument', `${prefix}${e.message}`), { exitCode: e.parsing ? parseCode : 1 });
}

/** Parses a --format template before anything is fetched, as docker/cli inspect and ps do (a bad one: `prefix`, exit `code`). */
export function checkTemplate(tpl: string, prefix = 'template parsing error: ', code = 64, asTyped = false): void {
  try { parseOnly(tpl, asTyped); } catch (e) { throw templateError(e, prefix, code); }
}

/**
 * `inspect --format` (docker/cli inspect.Inspect): each object rendered; an execution error takes its place
 * among the lookup errors, in argument order; the output prints whole, a lone newline when nothing rendered.
 * Returns the error lines. `type`: the Go type docker's template sees (null: the JSON, as its raw fallback).
 */
export function inspectFormatted(tpl: string, items: Array<{ value: unknown } | { error: string }>, type: string | null = null): string[] {
  const lines: string[] = [];
  const errs: string[] = [];
  for (const x of items) {
    if (!('value' in x)) { errs.push(x.error); continue; }
    try { lines.push(render(tpl === 'json' ? '{{json .}}' : tpl, x.value, type)); } catch (e) {
      if (!(e instanceof TemplateError)) throw e;
      errs.push(`template parsing error: ${e.message}`);
    }
  }
  process.stdout.write(lines.length ? lines.map((l) => `${l}\n`).join('') : '\n');
  return errs;
}
