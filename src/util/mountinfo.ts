// util/mountinfo: the mounts of this process's mount namespace, read from /proc/self/mountinfo.
import * as fs from 'node:fs';

export interface MountInfo { point: string; shared: boolean; slave: boolean }

const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

/** Every mount now: field 5 (octal escapes undone) and the optional fields' shared:/master: tags. */
export function mountInfo(text = fs.readFileSync('/proc/self/mountinfo', 'utf8')): MountInfo[] {
  const out: MountInfo[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(' ');
    if (!f[4]) continue;
    const optional = f.slice(6, f.indexOf('-'));
    out.push({ point: unescape(f[4]), shared: optional.some((o) => o.startsWith('shared:')), slave: optional.some((o) => o.startsWith('master:')) });
  }
  return out;
}

/** The mount points now. */
export function mountPoints(): Set<string> {
  return new Set(mountInfo().map((m) => m.point));
}

/** The mount a path lives on: the last-mounted one with the longest matching point. */
export function containingMount(p: string, mounts: MountInfo[]): MountInfo | undefined {
  let best: MountInfo | undefined;
  for (const m of mounts) {
    const inside = m.point === '/' || p === m.point || p.startsWith(`${m.point}/`);
    if (inside && (!best || m.point.length >= best.point.length)) best = m;
  }
  return best;
}
