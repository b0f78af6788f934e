// util/timestamp: docker's `since`/`until` text, one parser for the CLI and berthd (moby api/types/time).
// The docker CLI converts a flag's value with GetTimestamp (a Go duration is that long before now, an RFC 3339
// time or date its unix time, in local time when it names no zone) and sends unix `seconds[.nanoseconds]`, the
// only form dockerd's ParseTimestamps reads. berthd reads that form exactly and, more lenient than dockerd (as
// it always was), also a value the CLI would have converted, by the same GetTimestamp. Nanoseconds are bigints:
// a unix time in ns is past 2^53, where a number loses the last digits.
import { BerthError } from '../errors.js';
import { parseGoDuration } from './go-duration.js';

const DATE = /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2})(?::(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?)?([zZ]|[+-]\d{2}:\d{2})?$/;
const UNIX = /^(\d+)(?:\.(\d+))?$/;

/** GetTimestamp: the flag's value as the CLI sends it, unix `seconds[.nanoseconds]`. */
export function getTimestamp(value: string, now: number = Date.now()): string {
  if (value !== '0') {
    const ns = parseGoDuration(value);
    if (ns !== undefined) return String(Math.floor((now - ns / 1e6) / 1000));
  }
  if (UNIX.test(value)) return value;
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

/** ParseTimestamps: unix `seconds[.nanoseconds]` in nanoseconds ("1.5" is 1.5 s, as moby scales the fraction); undefined for any other text. */
export function unixTimestampNs(value: string): bigint | undefined {
  const m = UNIX.exec(value);
  if (!m) return undefined;
  // moby scales the fraction to 9 digits (float64, so digits past the ninth are dropped)
  return BigInt(m[1]!) * 1_000_000_000n + BigInt((m[2] ?? '').slice(0, 9).padEnd(9, '0'));
}

/** berthd's since/until (and prune filters' `until`, which moby reads with GetTimestamp too), in nanoseconds. */
export function timestampNs(value: string, now: number = Date.now()): bigint {
  const ns = unixTimestampNs(value);
  if (ns !== undefined) return ns;
  try { return unixTimestampNs(getTimestamp(value, now))!; } catch { throw new BerthError('InvalidArgument', `invalid timestamp: ${JSON.stringify(value)}`); }
}

/** The same in milliseconds, for comparisons with Date times. */
export function timestampMs(value: string, now: number = Date.now()): number {
  return Number(timestampNs(value, now)) / 1e6;
}

/** Nanoseconds as unix `seconds.nanoseconds` text (the form the API carries, exact). */
export function unixText(ns: bigint): string {
  return `${ns / 1_000_000_000n}.${String(ns % 1_000_000_000n).padStart(9, '0')}`;
}
