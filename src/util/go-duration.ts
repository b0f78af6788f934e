// util/go-duration: Go's time.Duration text, both ways ("1m30s", "500ms", "1.5h"), since docker's flags
// (--health-interval …) take it and its messages print it. Nanoseconds as numbers: exact below 2^53 ns (104 days).
const UNITS: Record<string, number> = { ns: 1, us: 1e3, 'µs': 1e3, 'μs': 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

/** time.ParseDuration; undefined when `text` is not a duration (the caller words the error). */
export function parseGoDuration(text: string): number | undefined {
  const m0 = /^([-+]?)(.*)$/.exec(text)!;
  let rest = m0[2]!;
  if (rest === '0') return 0;
  if (rest === '') return undefined;
  let total = 0;
  while (rest) {
    const m = /^(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/.exec(rest);
    if (!m) return undefined;
    total += Number(m[1]) * UNITS[m[2]!]!;
    rest = rest.slice(m[0].length);
  }
  return Math.round(m0[1] === '-' ? -total : total);
}

/** time.Duration.String() ("30s", "1.5s", "500ms", "1m0s", "1h0m0s"). */
export function formatGoDuration(ns: number): string {
  if (ns === 0) return '0s';
  const sign = ns < 0 ? '-' : '';
  ns = Math.abs(ns);
  if (ns < 1e3) return `${sign}${ns}ns`;
  if (ns < 1e6) return `${sign}${ns / 1e3}µs`;
  if (ns < 1e9) return `${sign}${ns / 1e6}ms`;
  const h = Math.floor(ns / 3600e9), m = Math.floor((ns % 3600e9) / 60e9), s = (ns % 60e9) / 1e9;
  return `${sign}${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${Number(s.toFixed(9))}s`;
}
