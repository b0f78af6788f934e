// cli/docker/timestamp: `--since`/`--until` of logs and events as the docker CLI sends them (moby
// api/types/time GetTimestamp): the daemon takes unix seconds[.nanoseconds] only (dockerd's ParseTimestamps
// answers "1m" with `strconv.ParseInt: parsing "1m": invalid syntax`), so a Go duration ("10m", "1h30m")
// becomes that long before now, an RFC 3339 time or date (local time when it names no zone) its unix
// seconds.nanoseconds, and a unix timestamp goes as it is.
import { BerthError } from '../../errors.js';
import { parseGoDuration } from '../../util/go-duration.js';

const DATE = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2})(?::(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?)?([zZ]|[+-]\d{2}:\d{2})?$/;

export function getTimestamp(value: string, now: number = Date.now()): string {
  if (value !== '0') {
    const ns = parseGoDuration(value);
    if (ns !== undefined) return String(Math.floor((now - ns / 1e6) / 1000));
  }
  if (/^\d+(\.\d+)?$/.test(value)) return value;
  const m = DATE.exec(value);
  if (m) {
    const [y, mo, d, h, mi, s] = m.slice(1, 7).map((x) => Number(x ?? 0)) as [number, number, number, number, number, number];
    const zone = m[8];
    let ms: number;
    if (zone === undefined) ms = new Date(y, mo - 1, d, h, mi, s).getTime();
    else {
      const off = /^[zZ]$/.test(zone) ? 0 : (zone[0] === '-' ? -1 : 1) * (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)));
      ms = Date.UTC(y, mo - 1, d, h, mi, s) - off * 60_000;
    }
    const valid = mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h < 24 && mi < 60 && s < 60 && !Number.isNaN(ms);
    if (valid) return `${Math.floor(ms / 1000)}.${(m[7] ?? '').padEnd(9, '0')}`;
  }
  throw new BerthError('InvalidArgument', `failed to parse value as time or duration: ${JSON.stringify(value)}`);
}

/** A flag's value, converted when given (an empty one is no value, as docker's). */
export function optTimestamp(v: unknown): string | undefined {
  return v === undefined || v === '' ? undefined : getTimestamp(String(v));
}
