// build/shell-words: the builder's own word expansion (moby's shell/lex.go ProcessWord(s)) for the
// instructions it expands itself (ENV, ARG, LABEL, COPY, ADD, WORKDIR, USER, FROM, EXPOSE, VOLUME,
// STOPSIGNAL): quotes, the escape character, $VAR, ${VAR}, ${VAR:-word}, ${VAR:+word}. RUN is not
// expanded here: its shell does that. Pure.
import { BerthError } from '../errors.js';

export type Vars = Map<string, string>;

/** Expands one word; with split, unquoted whitespace separates words (ProcessWords). */
function lex(src: string, vars: Vars, escape: string, split: boolean, literalQuotes = false): string[] {
  const words: string[] = [];
  let cur = '';
  let any = false;
  let i = 0;
  const varName = (): string => {
    const m = /^[a-zA-Z_][a-zA-Z0-9_]*|^[0-9*#?@$!-]/.exec(src.slice(i));
    if (!m) return '';
    i += m[0].length;
    return m[0];
  };
  const dollar = (): string => {
    i++; // $
    if (src[i] === '{') {
      i++;
      const name = varName();
      if (!name) throw new BerthError('InvalidArgument', `failed to process "${src}": missing ':' in substitution`);
      if (src[i] === '}') { i++; return vars.get(name) ?? ''; }
      let op = '';
      if (src[i] === ':') { op = ':'; i++; }
      const kind = src[i];
      if (kind !== '-' && kind !== '+' && kind !== '?') throw new BerthError('InvalidArgument', `failed to process "${src}": unsupported modifier (${kind ?? ''}) in substitution`);
      i++;
      // the word runs to the matching brace, itself expanded
      let depth = 1;
      const startW = i;
      while (i < src.length && depth > 0) {
        if (src[i] === escape) i++;
        else if (src[i] === '{') depth++;
        else if (src[i] === '}') depth--;
        if (depth > 0) i++;
      }
      if (depth > 0) throw new BerthError('InvalidArgument', `failed to process "${src}": missing '}' in substitution`);
      const wordSrc = src.slice(startW, i);
      i++; // }
      const v = vars.get(name);
      const set = op ? v !== undefined && v !== '' : v !== undefined;
      const word = () => lex(wordSrc, vars, escape, false)[0] ?? '';
      if (kind === '-') return set ? v! : word();
      if (kind === '+') return set ? word() : '';
      if (!set) throw new BerthError('InvalidArgument', `failed to process "${src}": ${name}: ${word() || 'is not allowed to be unset'}`);
      return v!;
    }
    const name = varName();
    if (!name) return '$';
    return vars.get(name) ?? '';
  };
  while (i < src.length) {
    const c = src[i]!;
    if (split && /\s/.test(c)) {
      if (any) words.push(cur);
      cur = '';
      any = false;
      i++;
      continue;
    }
    any = true;
    if (literalQuotes) {
      // a heredoc's text: only variables expand; quotes stay, and the escape character keeps what it escapes
      // except a `$` (BuildKit's lexer with SkipProcessQuotes)
      if (c === escape && src[i + 1] === '$') { cur += '$'; i += 2; } else if (c === '$') cur += dollar(); else { cur += c; i++; }
    } else if (c === escape) {
      i++;
      if (i < src.length) cur += src[i++];
      else cur += escape;
    } else if (c === "'") {
      const end = src.indexOf("'", i + 1);
      if (end < 0) throw new BerthError('InvalidArgument', `failed to process "${src}": unexpected end of statement while looking for matching single-quote`);
      cur += src.slice(i + 1, end);
      i = end + 1;
    } else if (c === '"') {
      i++;
      while (i < src.length && src[i] !== '"') {
        if (src[i] === escape && i + 1 < src.length && ['"', '$', escape].includes(src[i + 1]!)) { cur += src[i + 1]; i += 2; } else if (src[i] === '$') cur += dollar();
        else cur += src[i++];
      }
      if (i >= src.length) throw new BerthError('InvalidArgument', `failed to process "${src}": unexpected end of statement while looking for matching double-quote`);
      i++;
    } else if (c === '$') cur += dollar();
    else { cur += c; i++; }
  }
  if (any || !split) words.push(cur);
  return words;
}

export const expandWord = (s: string, vars: Vars, escape = '\\'): string => lex(s, vars, escape, false)[0] ?? '';
export const expandWords = (s: string, vars: Vars, escape = '\\'): string[] => lex(s, vars, escape, true);
/** A heredoc body for COPY/ADD: variables expand, quotes and other text stay as written. */
export const expandText = (s: string, vars: Vars, escape = '\\'): string => lex(s, vars, escape, false, true)[0] ?? '';

/**
 * ENV/LABEL/ARG arguments as key/value pairs: `k=v k2="v 2"`, or the legacy `ENV k rest of line`
 * (moby parseNameVal). Values are expanded; keys are not.
 */
export function keyValues(args: string, vars: Vars, escape: string, cmd: string, legacy = true): Array<[string, string | undefined]> {
  const raw = lex(args, new Map(), escape, true).length ? splitRaw(args) : [];
  if (raw.length === 0) throw new BerthError('InvalidArgument', `${cmd.toUpperCase()} requires at least one argument`);
  if (!raw[0]!.includes('=')) {
    if (cmd === 'arg') return raw.map((w) => [w, undefined]);
    if (!legacy || raw.length < 2) throw new BerthError('InvalidArgument', `${cmd.toUpperCase()} names can not be blank`);
    const rest = args.trim().slice(raw[0]!.length).trim();
    return [[raw[0]!, expandWord(rest, vars, escape)]];
  }
  return raw.map((w) => {
    const eq = w.indexOf('=');
    if (eq < 0) {
      if (cmd === 'arg') return [w, undefined];
      throw new BerthError('InvalidArgument', `Syntax error - can't find = in "${w}". Must be of the form: name=value`);
    }
    if (eq === 0) throw new BerthError('InvalidArgument', `${cmd.toUpperCase()} names can not be blank`);
    return [w.slice(0, eq), expandWord(w.slice(eq + 1), vars, escape)];
  });

  /** whitespace-separated words with their quotes kept (values are expanded one by one afterwards) */
  function splitRaw(s: string): string[] {
    const out: string[] = [];
    let cur = '';
    let q = '';
    for (let k = 0; k < s.length; k++) {
      const ch = s[k]!;
      if (!q && /\s/.test(ch)) { if (cur) out.push(cur); cur = ''; continue; }
      if (ch === escape && k + 1 < s.length && q !== "'") { cur += ch + s[++k]; continue; }
      if (!q && (ch === '"' || ch === "'")) q = ch;
      else if (q === ch) q = '';
      cur += ch;
    }
    if (cur) out.push(cur);
    return out;
  }
}
