// cli/docker/output: the docker CLI's human units, relative times, and its non-TTY progress display
// (cli/command/image: jsonmessage.DisplayJSONMessagesStream without a terminal).
import type { JSONMessage } from '../../api/types.js';

/** Go's fmt `%.<prec>g`: `prec` significant digits, trailing zeros dropped, an exponent from 10^prec ("1e+03"). */
export function goG(x: number, prec: number): string {
  if (x === 0 || !Number.isFinite(x)) return String(x);
  const [mant, e] = x.toExponential(prec - 1).split('e') as [string, string];
  const exp = Number(e);
  const trim = (t: string) => (t.includes('.') ? t.replace(/\.?0+$/, '') : t);
  if (exp < -4 || exp >= prec) return `${trim(mant)}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  return trim(x.toFixed(Math.max(0, prec - 1 - exp)));
}

// go-units getSizeAndUnit: divide by the base while it fits, then "%.<prec>g<unit>"
function unitSize(n: number, base: number, units: string[], prec: number): string {
  let i = 0;
  while (n >= base && i < units.length - 1) { n /= base; i++; }
  return `${goG(n, prec)}${units[i]}`;
}

/**
 * go-units HumanSizeWithPrecision: decimal units, `precision` significant digits. The docker CLI uses
 * HumanSize (4: "2.846MB") for totals (system df, reclaimed space, df -v's shared/unique and volume sizes)
 * and precision 3 ("2.85MB") for images, ps -s, history, df -v image/container/cache sizes, stats' I/O.
 */
export function humanSize(n: number, precision = 4): string {
  return unitSize(n, 1000, ['B', 'kB', 'MB', 'GB', 'TB', 'PB', 'EB', 'ZB', 'YB'], precision);
}

/** go-units BytesSize: binary units, 4 significant digits ("1.5GiB"; stats' memory, info's Total Memory). */
export function bytesSize(n: number): string {
  return unitSize(n, 1024, ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB', 'ZiB', 'YiB'], 4);
}

/** go-units HumanSizeWithPrecision(n, 3). */
export const humanSize3 = (n: number): string => humanSize(n, 3);

/** go-units HumanDuration + " ago". */
export function ago(unixSeconds: number, now = Date.now()): string {
  const s = Math.max(0, now / 1000 - unixSeconds);
  if (s < 1) return 'Less than a second ago';
  if (s < 2) return '1 second ago';
  if (s < 60) return `${Math.floor(s)} seconds ago`;
  const m = s / 60;
  if (m < 2) return 'About a minute ago';
  if (m < 60) return `${Math.floor(m)} minutes ago`;
  const h = m / 60;
  if (Math.round(h) === 1) return 'About an hour ago';
  if (h < 48) return `${Math.round(h)} hours ago`;
  if (h < 24 * 7 * 2) return `${Math.floor(h / 24)} days ago`;
  if (h < 24 * 30 * 2) return `${Math.floor(h / 24 / 7)} weeks ago`;
  if (h < 24 * 365 * 2) return `${Math.floor(h / 24 / 30)} months ago`;
  return `${Math.floor(h / 24 / 365)} years ago`;
}

/** Prints progress the way docker does: on a TTY one updating line per id; otherwise no byte progress. */
export function progressPrinter(out: NodeJS.WriteStream = process.stdout): (m: JSONMessage) => void {
  const tty = !!out.isTTY;
  const ids: string[] = [];
  return (m) => {
    if (m.stream !== undefined) { out.write(m.stream); return; }
    if (m.aux !== undefined || m.status === undefined) return;
    if (!tty) {
      if (m.progressDetail && (m.progressDetail.current !== undefined || m.progressDetail.total !== undefined)) return;
      out.write(`${m.id ? `${m.id}: ` : ''}${m.status}\n`);
      return;
    }
    if (!m.id) { out.write(`${m.status}\n`); return; }
    const i = ids.indexOf(m.id);
    if (i < 0) { ids.push(m.id); out.write(`${m.id}: ${m.status} ${m.progress ?? ''}\n`); return; }
    const up = ids.length - i;
    out.write(`\x1b[${up}A\r\x1b[2K${m.id}: ${m.status} ${m.progress ?? ''}\x1b[${up}B\r`);
  };
}
