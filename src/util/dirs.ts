// util/dirs: state directories that no unprivileged host user may enter. Container roots, layers and
// sockets live below them; a path to them is in /proc/self/mountinfo for anyone to read.
import * as fs from 'node:fs';

/**
 * Makes dir (and missing parents) and sets its mode, also when it already existed with a looser one
 * (an older berthd made its roots 0711 and 0755). Docker keeps the same kind of roots 0710/0700.
 */
export function privateDir(dir: string, mode = 0o700): string {
  fs.mkdirSync(dir, { recursive: true, mode });
  fs.chmodSync(dir, mode);
  return dir;
}

/** Sets an existing dir's mode; a dir not made yet is left to whoever makes it. */
export function tightenDir(dir: string, mode = 0o700): void {
  try { fs.chmodSync(dir, mode); } catch (e) { if ((e as { code?: string }).code !== 'ENOENT') throw e; }
}
