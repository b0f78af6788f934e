// build/dockerfile: Dockerfile text -> instructions (moby's buildkit frontend/dockerfile/parser, as the
// classic builder of 20.10 uses it). Pure: no expansion here (build/shell-words.ts), no execution.
// Written here rather than taken from `dockerfile-ast`: that package models the file for an editor
// (ranges, LSP types, its own dependencies) and leaves the builder's rules (flags, JSON forms, heredocs
// refused) to the caller anyway; the grammar itself is ~100 lines.
import { BerthError } from '../errors.js';

/** A heredoc after RUN, COPY or ADD (BuildKit's `<<EOF`): its name, its lines, and how to treat them. */
export interface Heredoc {
  name: string;
  /** the lines up to the terminator, each ending in a newline (leading tabs removed for `<<-`) */
  data: string;
  /** false when the name was quoted (`<<"EOF"`): the builder then does not expand variables in it */
  expand: boolean;
}

export interface Instruction {
  /** lower-case keyword (`run`, `copy`, …) */
  cmd: string;
  /** `--name=value` flags before the arguments (COPY --from, RUN --mount, HEALTHCHECK --interval …) */
  flags: Array<{ name: string; value: string }>;
  /** the arguments as written (continuations joined), after the flags */
  args: string;
  /** the JSON (exec) form, when the arguments are a JSON array of strings */
  json?: string[];
  /** heredocs named in the arguments, in order (RUN, COPY, ADD only) */
  heredocs?: Heredoc[];
  /** 1-based line the instruction starts on */
  line: number;
  /** the instruction as the step line shows it: `RUN echo hi` (keyword upper-case as written) */
  original: string;
}

export interface Dockerfile { escape: string; instructions: Instruction[] }

export const KNOWN = new Set(['from', 'run', 'cmd', 'entrypoint', 'env', 'label', 'expose', 'volume', 'user', 'workdir', 'shell',
  'healthcheck', 'stopsignal', 'onbuild', 'maintainer', 'arg', 'copy', 'add']);
/** instructions whose arguments may be a JSON array (moby parser.go dispatch table: parseMaybeJSON / parseJSON) */
const JSON_FORM = new Set(['run', 'cmd', 'entrypoint', 'shell', 'copy', 'add', 'volume']);
const FLAGGED = new Set(['from', 'run', 'copy', 'add', 'healthcheck']);
/** BuildKit's heredoc-capable instructions (frontend/dockerfile/parser heredocDirectives) */
const HEREDOC = new Set(['run', 'copy', 'add']);
/** `<<EOF`, `<<-EOF`, `<<"EOF"`, `<<'EOF'` as one word, never `<<<` (BuildKit parser reHeredoc) */
const HEREDOC_WORD = /(?:^|\s)\d*<<(-?)(["']?)([A-Za-z_][A-Za-z0-9_.-]*)\2(?=\s|$)/g;

const parseError = (line: number, msg: string) => new BerthError('InvalidArgument', `dockerfile parse error line ${line}: ${msg}`);

export function parseDockerfile(text: string): Dockerfile {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  let escape = '\\';
  let i = 0;
  // parser directives: only at the very top, before any instruction, comment or blank line
  for (; i < lines.length; i++) {
    const m = /^#\s*([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$/.exec(lines[i]!);
    if (!m) break;
    const key = m[1]!.toLowerCase();
    if (key === 'escape') {
      if (m[2] !== '\\' && m[2] !== '`') throw parseError(i + 1, `invalid ESCAPE '${m[2]}'. Must be \` or \\`);
      escape = m[2]!;
    } else if (key !== 'syntax') break;
  }
  const out: Instruction[] = [];
  while (i < lines.length) {
    const first = lines[i]!;
    if (/^\s*(#|$)/.test(first)) { i++; continue; }
    const start = i + 1;
    let text = '';
    let line = first;
    // continuations: a line ending in the escape character goes on; comments and blank lines in between are dropped
    for (;;) {
      const t = line.replace(/\s+$/, '');
      if (t.endsWith(escape) && i + 1 < lines.length) {
        text += t.slice(0, -1);
        i++;
        while (i < lines.length && /^\s*(#|$)/.test(lines[i]!)) i++;
        if (i >= lines.length) break;
        line = lines[i]!;
        continue;
      }
      text += t.endsWith(escape) ? t.slice(0, -1) : line;
      i++;
      break;
    }
    const ins = parseInstruction(text.trim(), start);
    if (HEREDOC.has(ins.cmd) && !ins.json) {
      // each heredoc's body follows the instruction's line, in the order the words name them
      for (const m of ins.args.matchAll(HEREDOC_WORD)) {
        const chomp = m[1] === '-';
        const name = m[3]!;
        const body: string[] = [];
        for (;;) {
          if (i >= lines.length) throw parseError(start, `unterminated heredoc ${name}`);
          const l = chomp ? lines[i]!.replace(/^\t+/, '') : lines[i]!;
          i++;
          if (l === name) break;
          body.push(l);
        }
        (ins.heredocs ??= []).push({ name, data: body.map((l) => `${l}\n`).join(''), expand: m[2] === '' });
      }
    }
    out.push(ins);
  }
  return { escape, instructions: out };
}

export function parseInstruction(text: string, line: number): Instruction {
  const m = /^(\S+)\s*([\s\S]*)$/.exec(text)!;
  const word = m[1]!;
  const cmd = word.toLowerCase();
  if (!KNOWN.has(cmd)) throw parseError(line, `unknown instruction: ${word.toUpperCase()}`);
  let rest = m[2]!;
  const flags: Instruction['flags'] = [];
  if (FLAGGED.has(cmd)) {
    for (;;) {
      const f = /^--([a-zA-Z][a-zA-Z0-9-]*)(?:=(\S*))?(?:\s+|$)/.exec(rest);
      if (!f) break;
      flags.push({ name: f[1]!, value: f[2] ?? '' });
      rest = rest.slice(f[0].length);
    }
  }
  const args = rest.trim();
  let json: string[] | undefined;
  if (JSON_FORM.has(cmd) && args.startsWith('[')) {
    try {
      const v = JSON.parse(args) as unknown;
      if (Array.isArray(v) && v.every((x) => typeof x === 'string')) json = v as string[];
    } catch { /* not JSON: the shell form, as moby's parseMaybeJSON */ }
  }
  if (args === '' && !['healthcheck', 'cmd', 'entrypoint', 'run'].includes(cmd)) throw parseError(line, `${word.toUpperCase()} requires at least one argument`);
  return { cmd, flags, args, json, line, original: text };
}

/** A flag's value, refusing flags the instruction does not know (moby BFlags: "Unknown flag: x"). */
export function flagsOf(ins: Instruction, allowed: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of ins.flags) {
    if (!allowed.includes(f.name)) throw new BerthError('InvalidArgument', `dockerfile parse error line ${ins.line}: Unknown flag: ${f.name}`);
    out.set(f.name, f.value);
  }
  return out;
}
