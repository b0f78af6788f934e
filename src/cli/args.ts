// cli/args: docker/runc-style flag parsing: options before the positionals, `--x v`, `--x=v`, `-x v`,
// grouped short booleans (`-dit`), repeatable flags, and everything after the last positional kept as is.
import { BerthError } from '../errors.js';

export interface FlagSpec {
  short?: string;
  type: 'bool' | 'string' | 'list';
}

export interface Parsed {
  flags: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
  /** what followed the stop positional, untouched (the command of `exec` or `run`) */
  rest: string[];
}

/** Thrown by parseFlags on --help: the command's flag table reaches the help printer without moving it. */
export class HelpRequested extends Error {
  constructor(readonly specs: Record<string, FlagSpec>) { super('help requested'); }
}

/** `stopAfter`: after that many positionals, the remaining words are `rest` (flags included). */
export function parseFlags(argv: string[], specs: Record<string, FlagSpec>, stopAfter = Infinity): Parsed {
  const flags: Parsed['flags'] = {};
  const positionals: string[] = [];
  const byShort = new Map(Object.entries(specs).filter(([, s]) => s.short).map(([n, s]) => [s.short!, n]));
  const set = (name: string, value: string | boolean) => {
    const s = specs[name]!;
    if (s.type === 'list') flags[name] = [...((flags[name] as string[]) ?? []), String(value)];
    else flags[name] = value;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (positionals.length >= stopAfter) return { flags, positionals, rest: argv.slice(i) };
    if (a === '--help' && !specs.help) throw new HelpRequested(specs);
    if (a === '--') { positionals.push(...argv.slice(i + 1, i + 1 + (stopAfter - positionals.length))); return { flags, positionals, rest: argv.slice(i + 1 + positionals.length) }; }
    if (a.startsWith('--') && a.length > 2) {
      const eq = a.indexOf('=');
      const name = eq > 0 ? a.slice(2, eq) : a.slice(2);
      const s = specs[name];
      if (!s) throw new BerthError('InvalidArgument', `unknown flag: --${name}`);
      if (s.type === 'bool') set(name, eq > 0 ? a.slice(eq + 1) !== 'false' : true);
      else if (eq > 0) set(name, a.slice(eq + 1));
      else if (i + 1 < argv.length) set(name, argv[++i]!);
      else throw new BerthError('InvalidArgument', `flag needs an argument: --${name}`);
    } else if (a.startsWith('-') && a.length > 1) {
      for (let k = 1; k < a.length; k++) {
        const name = byShort.get(a[k]!);
        if (!name) throw new BerthError('InvalidArgument', `unknown shorthand flag: '${a[k]}' in ${a}`);
        if (specs[name]!.type === 'bool') { set(name, true); continue; }
        const value = k + 1 < a.length ? a.slice(k + 1) : argv[++i];
        if (value === undefined) throw new BerthError('InvalidArgument', `flag needs an argument: '${a[k]}' in -${a[k]}`);
        set(name, value.startsWith('=') ? value.slice(1) : value);
        break;
      }
    } else {
      positionals.push(a);
    }
  }
  return { flags, positionals, rest: [] };
}

/**
 * A command-line mistake found before anything ran, by its message: an unknown flag (cobra's words) or a
 * wrong number of arguments (`"rm" requires at least 1 argument`, `… at least 1 and at most 2 arguments`,
 * `"volume ls" accepts no arguments`). The dispatcher words these as docker (cli/required.go).
 */
export function usageMistake(message: string): { flag: string } | { args: string; see: boolean } | undefined {
  // pflag's errors, which cobra hands to docker's FlagErrorFunc: a flag unknown, without its value, or a bad value
  const flag = /^(?:unknown (?:shorthand )?flag: |flag needs an argument: |invalid argument ".*" for ".*" flag: ).*$/.exec(message);
  if (flag) return { flag: flag[0] };
  if (/^"(?:berth )?[^"]+" accepts no arguments/.test(message)) return { args: 'accepts no arguments', see: false };
  const m = /^"(?:berth )?[^"]+" requires (?:(at least (\d+) and at most )|(at least |exactly |at most ))?(\d+) arguments?/.exec(message);
  if (!m) return undefined;
  const n = Number(m[4]);
  const how = m[1] ?? (m[3] === 'exactly ' || !m[3] ? '' : m[3]);
  // docker's RequiresMinArgs alone says "See"; the others "Run"
  return { args: `requires ${how}${n} argument${n === 1 ? '' : 's'}`, see: how === 'at least ' };
}

/**
 * The positional count docker's command accepts (cli/required.go: NoArgs, ExactArgs, RequiresMinArgs,
 * RequiresMaxArgs, RequiresRangeArgs), as a message usageMistake reads back.
 */
export function checkArgCount(positionals: string[], name: string, min: number, max = min): void {
  const n = positionals.length;
  if (n >= min && n <= max) return;
  const s = (k: number) => `${k} argument${k === 1 ? '' : 's'}`;
  const what = max === 0 ? 'accepts no arguments'
    : min === max ? `requires exactly ${s(min)}`
    : max === Infinity ? `requires at least ${s(min)}`
    : min === 0 ? `requires at most ${s(max)}`
    : `requires at least ${min} and at most ${s(max)}`;
  throw new BerthError('InvalidArgument', `"${name}" ${what}`);
}
