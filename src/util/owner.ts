// util/owner: scratch files and directories named after the process that owns them ("<pid>-<start time>": a pid
// alone may be reused), so that a cleaner in any process removes only what no live process is using. Shared by the
// content store's ingest files, the image service's scratch (build contexts, loads) and the snapshotter's staging.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Field 22 of /proc/<pid>/stat (start time in ticks), or '' when the process is gone. */
export function pidStartTime(pid: number): string {
  if (!pid) return '';
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state); a zombie has exited already
    if (fields[0] === 'Z' || fields[0] === 'X') return '';
    return fields[19] ?? '';
  } catch {
    return '';
  }
}

/** This process, as it names what it owns. */
export const OWNER = `${process.pid}-${pidStartTime(process.pid)}`;

/** Whether a name made by OWNER (alone, or followed by '.') belongs to a live process; other names have no owner to ask. */
export function ownerAlive(name: string): boolean {
  const m = /^(\d+)-(\d+)(?:\.|$)/.exec(name);
  if (!m) return false;
  return pidStartTime(Number(m[1])) === m[2];
}

const ownDirs = new Set<string>();

/**
 * This process's directory under `parent` (made if missing): <parent>/<OWNER>. Removed when the process
 * exits if it is empty then (a `berth image` command leaves none behind); what is left in it, a cleaner
 * removes once the process is gone.
 */
export function ownDir(parent: string, mode = 0o700): string {
  const dir = path.join(parent, OWNER);
  fs.mkdirSync(dir, { recursive: true, mode });
  if (ownDirs.size === 0) process.once('exit', () => { for (const d of ownDirs) { try { fs.rmdirSync(d); } catch { /* not empty, or gone */ } } });
  ownDirs.add(dir);
  return dir;
}
