// cli/docker/output: the docker CLI's human units, relative times, and its non-TTY progress display
// (cli/command/image: jsonmessage.DisplayJSONMessagesStream without a terminal).
import type { JSONMessage } from '../../api/types.js';

/** go-units HumanSizeWithPrecision(n, 3): decimal units, 3 significant digits. */
export function humanSize(n: number): string {
  const u = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];
  let i = 0;
  while (n >= 1000 && i < u.length - 1) { n /= 1000; i++; }
  return `${Number(n.toPrecision(3))}${u[i]}`;
}

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
