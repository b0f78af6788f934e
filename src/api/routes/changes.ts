// api/routes/changes: the Dockerfile instructions `docker import --change`/`commit --change` accept,
// applied to an image config (moby builder/dockerfile: the subset commit/import allow). Pure.
import { BerthError } from '../../errors.js';
import { keyValues } from '../../build/shell-words.js';

const ALLOWED = ['CMD', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'LABEL', 'ONBUILD', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR'];

function words(s: string): string[] | undefined {
  const t = s.trim();
  if (t.startsWith('[')) {
    try { const j = JSON.parse(t) as unknown; if (Array.isArray(j) && j.every((x) => typeof x === 'string')) return j as string[]; } catch { /* shell form */ }
  }
  return undefined;
}

/**
 * `env` is the config's environment the changes apply to: ENV and LABEL values expand $VAR against it
 * (and against the ENV changes before them), as moby's builder does for `commit --change "ENV PATH=/x:$PATH"`.
 */
export function parseChanges(changes: string[], env: string[] = []): Record<string, unknown> | undefined {
  if (changes.length === 0) return undefined;
  const c: Record<string, unknown> = {};
  const vars = new Map(env.map((e) => [e.slice(0, e.indexOf('=') < 0 ? e.length : e.indexOf('=')), e.slice(e.indexOf('=') + 1)] as [string, string]));
  const pairs = (rest: string, cmd: string) => keyValues(rest, vars, '\\', cmd).map(([k, v]) => [k, v ?? ''] as [string, string]);
  for (const line of changes.flatMap((x) => x.split('\n')).map((x) => x.trim()).filter(Boolean)) {
    const m = /^(\w+)\s*(.*)$/s.exec(line);
    if (!m) throw new BerthError('InvalidArgument', `${JSON.stringify(line)} is not a valid change command`);
    const op = m[1]!.toUpperCase();
    const rest = m[2]!;
    if (!ALLOWED.includes(op)) throw new BerthError('InvalidArgument', `${op} is not a valid change command`);
    switch (op) {
      case 'CMD': case 'ENTRYPOINT': c[op === 'CMD' ? 'Cmd' : 'Entrypoint'] = words(rest) ?? ['/bin/sh', '-c', rest]; break;
      case 'ENV': { const env = (c.Env as string[] | undefined) ?? []; for (const [k, v] of pairs(rest, 'env')) { env.push(`${k}=${v}`); vars.set(k, v); } c.Env = env; break; }
      case 'LABEL': { const l = (c.Labels as Record<string, string> | undefined) ?? {}; for (const [k, v] of pairs(rest, 'label')) l[k] = v; c.Labels = l; break; }
      case 'EXPOSE': { const e = (c.ExposedPorts as Record<string, object> | undefined) ?? {}; for (const p of rest.split(/\s+/).filter(Boolean)) e[p.includes('/') ? p : `${p}/tcp`] = {}; c.ExposedPorts = e; break; }
      case 'VOLUME': { const v = (c.Volumes as Record<string, object> | undefined) ?? {}; for (const p of words(rest) ?? rest.split(/\s+/).filter(Boolean)) v[p] = {}; c.Volumes = v; break; }
      case 'USER': c.User = rest; break;
      case 'WORKDIR': c.WorkingDir = rest; break;
      case 'STOPSIGNAL': c.StopSignal = rest; break;
      case 'ONBUILD': c.OnBuild = [...((c.OnBuild as string[] | undefined) ?? []), rest]; break;
    }
  }
  return c;
}
