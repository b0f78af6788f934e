// containers/top: `docker top` — the host's ps(1) (procps) over the container's processes, filtered
// to them by the PID column, as moby's daemon/top_unix.go does.
import { execFile } from 'node:child_process';
import { BerthError } from '../errors.js';

export interface TopResult { titles: string[]; processes: string[][] }

/** moby validatePSArgs: a ps format may rename only the pid column to PID…, or the filter could not find it. */
export function checkPsArgs(psArgs: string): void {
  for (const m of psArgs.matchAll(/\s+([^\s]*)=\s*(PID[^\s]*)/g)) {
    if (m[1] !== 'pid') throw new BerthError('InvalidArgument', `specifying "${m[1]}=${m[2]}" is not allowed`);
  }
}

const fields = (s: string) => s.split(/[\t\n\f\r ]+/).filter(Boolean);

/**
 * ps output -> the rows of `pids`. The last title takes the rest of a row (a command with spaces);
 * a row whose PID is "-" (a thread with -L/-T) belongs to the row above it (moby parsePSOutput).
 */
export function parsePsOutput(out: string, pids: number[]): TopResult {
  const lines = out.split('\n');
  const titles = fields(lines[0] ?? '');
  const pidIndex = titles.indexOf('PID');
  if (pidIndex < 0) throw new BerthError('Internal', "Couldn't find PID field in ps output");
  const want = new Set(pids);
  const processes: string[][] = [];
  const row = (f: string[]) => [...f.slice(0, titles.length - 1), f.slice(titles.length - 1).join(' ')];
  let keepThreads = false;
  for (const line of lines.slice(1)) {
    if (line === '') continue;
    const f = fields(line);
    const p = f[pidIndex];
    if (p === '-') { if (keepThreads) processes.push(row(f)); continue; }
    const n = Number(p);
    if (!Number.isInteger(n)) throw new BerthError('Internal', `Unexpected pid '${p}'`);
    keepThreads = want.has(n);
    if (keepThreads) processes.push(row(f));
  }
  return { titles, processes };
}

/** ok: ps's output; refused: ps ran and rejected the arguments (the user's ps_args); else ps could not run. */
type PsOutcome = { ok: true; out: string } | { ok: false; refused: boolean; err: string };

function ps(args: string[]): Promise<PsOutcome> {
  return new Promise((resolve) => {
    execFile('ps', args, { maxBuffer: 64 << 20, env: { ...process.env, LC_ALL: 'C' } }, (e, stdout, stderr) => {
      if (e) resolve({ ok: false, refused: typeof e.code === 'number', err: String(stderr).split('\n')[0] || e.message });
      else resolve({ ok: true, out: String(stdout) });
    });
  });
}

/** Runs ps with the user's arguments (default -ef), first narrowed to the pids with -q, as docker does; plain ps if -q is refused. */
export async function top(pids: number[], psArgs = ''): Promise<TopResult> {
  const argStr = psArgs || '-ef';
  checkPsArgs(argStr);
  const args = argStr.split(' ');
  let r: PsOutcome = pids.length ? await ps([...args, `-q${pids.join(',')}`]) : { ok: false, refused: false, err: '' };
  if (!r.ok) r = await ps(args);
  // docker answers 500 for both; arguments ps refuses are the client's to fix, so they are a 400 here
  if (!r.ok) throw new BerthError(r.refused ? 'InvalidArgument' : 'Internal', `ps: ${r.err}`);
  return parsePsOutput(r.out, pids);
}
