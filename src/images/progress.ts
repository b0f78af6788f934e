// images/progress: docker's JSON progress messages (moby pkg/jsonmessage), so the daemon can stream them as is.
export interface ProgressMessage {
  status: string;
  id?: string;
  progressDetail?: { current?: number; total?: number };
  progress?: string;
}
export type ProgressFn = (m: ProgressMessage) => void;

export const noProgress: ProgressFn = () => {};

/** Rate-limits byte progress per id: one message per 512 KiB or at the end. */
export function byteReporter(report: ProgressFn, id: string, status: string, total: number): (n: number) => void {
  let current = 0;
  let last = 0;
  return (n: number) => {
    current += n;
    if (current - last >= 512 << 10 || current === total) {
      last = current;
      report({ status, id, progressDetail: { current, total }, progress: bar(current, total) });
    }
  };
}

function human(n: number): string {
  const u = ['B', 'kB', 'MB', 'GB'];
  let i = 0;
  while (n >= 1000 && i < u.length - 1) { n /= 1000; i++; }
  return `${n.toFixed(i ? 2 : 0).replace(/\.?0+$/, '')}${u[i]}`;
}

/** The "[=====>     ]  1.2MB/3.4MB" string docker prints. */
export function bar(current: number, total: number): string {
  if (!(total > 0)) return human(current);
  const w = 50;
  const filled = Math.min(w, Math.floor((current / total) * w));
  return `[${'='.repeat(Math.max(0, filled - 1))}${filled ? '>' : ''}${' '.repeat(w - filled)}] ${human(current).padStart(8)}/${human(total)}`;
}
