// network/links: docker's links as data. On the default bridge a legacy link gives the linking container
// environment variables naming the target's address and exposed ports (moby daemon/links); on a user
// network a link is an alias only the linking container resolves, through the embedded DNS server
// (libnetwork CreateOptionAlias). Pure: no fs, no child_process, no net.
import { BerthError } from '../errors.js';

export interface Link { name: string; alias: string }

/** moby opts.ParseLink: "name" or "name:alias", a leading "/" dropped from each; the alias defaults to the name. */
export function parseLink(s: string): Link {
  const i = s.indexOf(':');
  const name = (i < 0 ? s : s.slice(0, i)).replace(/^\//, '');
  const alias = (i < 0 ? name : s.slice(i + 1)).replace(/^\//, '');
  if (!name || !alias || alias.includes(':')) throw new BerthError('InvalidArgument', `invalid link: ${JSON.stringify(s)}: want name or name:alias`);
  return { name, alias };
}

/** What a legacy link exports of its target: `name` is the link's full name, "/<linker>/<alias>". */
export interface LinkTarget { name: string; ip: string; exposed: string[]; env: string[] }

/** "80/tcp" keys parsed; tcp before other protocols, then by port (moby withTCPPriority). */
function sortedPorts(exposed: string[]): Array<{ port: number; proto: string }> {
  const ports = exposed.map((k) => {
    const [p = '', proto = 'tcp'] = k.split('/');
    return { port: Number(p), proto: proto.toLowerCase() };
  }).filter((p) => Number.isInteger(p.port) && p.port > 0);
  return ports.sort((a, b) => {
    if (a.proto === b.proto) return a.port - b.port;
    if (a.proto === 'tcp') return -1;
    if (b.proto === 'tcp') return 1;
    return a.proto < b.proto ? -1 : 1;
  });
}

/**
 * moby links.ToEnv: <ALIAS>_PORT (the first port), <ALIAS>_PORT_<n>_<PROTO>{,_ADDR,_PORT,_PROTO} for every
 * port, _START/_END for runs of consecutive ports, <ALIAS>_NAME, and <ALIAS>_ENV_<K> for the target's
 * environment except HOME and PATH. ALIAS is the last part of the name, upper case, '-' as '_'.
 */
export function linkEnv(t: LinkTarget): string[] {
  const alias = t.name.slice(t.name.lastIndexOf('/') + 1).toUpperCase().replaceAll('-', '_');
  const ports = sortedPorts(t.exposed);
  const env: string[] = [];
  const url = (p: { port: number; proto: string }) => `${p.proto}://${t.ip}:${p.port}`;
  let start = ports[0];
  let end = ports[0];
  ports.forEach((p, i) => {
    if (i === 0) env.push(`${alias}_PORT=${url(p)}`);
    const pre = `${alias}_PORT_${p.port}_${p.proto.toUpperCase()}`;
    env.push(`${pre}=${url(p)}`, `${pre}_ADDR=${t.ip}`, `${pre}_PORT=${p.port}`, `${pre}_PROTO=${p.proto}`);
    if (p.port === end!.port + 1 && p.proto === end!.proto) {
      end = p;
      if (i < ports.length - 1) return;
    }
    if (end !== start) {
      const r = `${alias}_PORT_${start!.port}_${start!.proto.toUpperCase()}`;
      env.push(`${r}_START=${url(start!)}`, `${r}_PORT_START=${start!.port}`, `${r}_END=${url(end!)}`, `${r}_PORT_END=${end!.port}`);
    }
    start = p;
    end = p;
  });
  env.push(`${alias}_NAME=${t.name}`);
  for (const kv of t.env) {
    const i = kv.indexOf('=');
    if (i < 0) continue;
    const k = kv.slice(0, i);
    if (k === 'HOME' || k === 'PATH') continue; // set by builds, meaningless in another container (moby)
    env.push(`${alias}_ENV_${k}=${kv.slice(i + 1)}`);
  }
  return env;
}

/** A container's environment as docker stores it in Config.Env: the image's, then the container's over it (a key keeps its place). */
export function mergedEnv(image: string[], own: string[]): string[] {
  const out: string[] = [];
  for (const kv of [...image, ...own]) {
    const key = kv.includes('=') ? kv.slice(0, kv.indexOf('=') + 1) : `${kv}=`;
    const i = out.findIndex((e) => e.startsWith(key));
    if (i < 0) out.push(kv.includes('=') ? kv : key); else out[i] = kv.includes('=') ? kv : key;
  }
  return out;
}
