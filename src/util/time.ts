// util/time: timestamps as text without Date's string methods. V8's toISOString, toUTCString and
// JSON.stringify(date) open ICU's time-zone data (~0.9 MB of node's pages, resident for the daemon's
// life, measured with /proc/PID/pagemap); the getUTC* fields do not. Same output as those methods.

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const p2 = (n: number) => (n < 10 ? `0${n}` : String(n));

/** Date.prototype.toISOString of `ms` (default now), for years 0 to 9999: 2026-12-06T19:42:56.123Z. */
export function isoTime(ms: number = Date.now()): string {
  const d = new Date(ms);
  const y = d.getUTCFullYear();
  if (!(y >= 0 && y <= 9999)) return d.toISOString(); // expanded years (and the RangeError of an invalid time)
  const f = d.getUTCMilliseconds();
  return `${String(y).padStart(4, '0')}-${p2(d.getUTCMonth() + 1)}-${p2(d.getUTCDate())}T${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}.${f < 100 ? (f < 10 ? '00' : '0') : ''}${f}Z`;
}

/** An HTTP Date header (RFC 9110 IMF-fixdate, as Date.prototype.toUTCString): Sun, 06 Dec 2026 19:42:56 GMT. */
export function httpDate(ms: number = Date.now()): string {
  const d = new Date(ms);
  return `${DAYS[d.getUTCDay()]}, ${p2(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${String(d.getUTCFullYear()).padStart(4, '0')} ${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} GMT`;
}

/**
 * Go's time.Unix(0, ns).Format(RFC3339NanoFixed) ("2006-01-02T15:04:05.000000000Z07:00"), as the docker CLI
 * prints an event's time: nine fraction digits, in the zone `offsetMin` minutes east of UTC ("Z" for 0).
 */
export function rfc3339NanoFixed(ns: bigint, offsetMin = 0): string {
  const sec = ns / 1_000_000_000n - (ns < 0n && ns % 1_000_000_000n !== 0n ? 1n : 0n);
  const frac = ns - sec * 1_000_000_000n;
  const d = new Date(Number(sec) * 1000 + offsetMin * 60_000);
  const zone = offsetMin === 0 ? 'Z' : `${offsetMin < 0 ? '-' : '+'}${p2(Math.floor(Math.abs(offsetMin) / 60))}:${p2(Math.abs(offsetMin) % 60)}`;
  return `${String(d.getUTCFullYear()).padStart(4, '0')}-${p2(d.getUTCMonth() + 1)}-${p2(d.getUTCDate())}T${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}.${String(frac).padStart(9, '0')}${zone}`;
}

// a wall clock in ns: hrtime's steady ns from the wall time at load (Date.now() alone has ms)
const hrBase = process.hrtime.bigint();
const wallBase = BigInt(Date.now()) * 1_000_000n;

/** The wall time in ns (event times, network Created): distinct and ordered within this process. */
export function nowNs(): bigint { return process.hrtime.bigint() - hrBase + wallBase; }

/** Now as Go's time.Now() marshals it (RFC3339Nano, UTC): up to nine fraction digits, trailing zeros cut. */
export function isoTimeNs(ns: bigint = nowNs()): string {
  const frac = String(ns % 1_000_000_000n).padStart(9, '0').replace(/0+$/, '');
  return `${isoTime(Number(ns / 1_000_000n)).slice(0, 19)}${frac ? `.${frac}` : ''}Z`;
}
