// util/in-root: reads a file of a container's rootfs from the host, resolving symlinks as the
// container would see them, so `/etc/passwd -> /host/secret` can never reach outside the rootfs.
import * as fs from 'node:fs';
import * as path from 'node:path';

/** The host path `p` names inside `root`, with every symlink resolved within root; undefined if missing. */
export function resolveInRoot(root: string, p: string): string | undefined {
  const parts = p.split('/').filter(Boolean);
  const done: string[] = [];
  for (let hops = 0; parts.length > 0; ) {
    const name = parts.shift()!;
    if (name === '.') continue;
    if (name === '..') { done.pop(); continue; }
    const host = path.join(root, ...done, name);
    let st: fs.Stats;
    try { st = fs.lstatSync(host); } catch { return undefined; }
    if (!st.isSymbolicLink()) { done.push(name); continue; }
    if (++hops > 40) return undefined;
    const target = fs.readlinkSync(host);
    if (target.startsWith('/')) done.length = 0;
    parts.unshift(...target.split('/').filter(Boolean));
  }
  return path.join(root, ...done);
}

export function readInRoot(root: string, p: string): string | undefined {
  const host = resolveInRoot(root, p);
  if (!host) return undefined;
  try { return fs.readFileSync(host, 'utf8'); } catch { return undefined; }
}

export interface PasswdEntry { name: string; uid: number; gid: number; home: string }

export function parsePasswd(text: string): PasswdEntry[] {
  return text.split('\n').flatMap((line) => {
    const f = line.split(':');
    if (f.length < 7 || line.startsWith('#')) return [];
    return [{ name: f[0]!, uid: Number(f[2]), gid: Number(f[3]), home: f[5]! }];
  });
}

/** The home directory of `uid` in the rootfs's /etc/passwd. */
export function homeOf(rootfs: string, uid: number): string | undefined {
  const text = readInRoot(rootfs, '/etc/passwd');
  return text ? parsePasswd(text).find((e) => e.uid === uid)?.home : undefined;
}

