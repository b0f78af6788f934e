// compose/build: a service's `build:` section → POST /build on the daemon (the classic builder's
// protocol, as docker compose v2 speaks it without BuildKit): the context directory sent as a tar
// (.dockerignore applied, by the same code as `berth build`), tagged with the service's image name.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { tarContext } from '../cli/docker/build.js';
import type { Client } from '../client/index.js';
import { BerthError } from '../errors.js';
import { imageName } from './convert.js';
import type { Project, Service } from './model.js';

export interface BuildOptions { noCache?: boolean; pull?: boolean; quiet?: boolean; args?: Record<string, string> }

/** The Dockerfile's name inside the context tar, and the file to add when it lives outside the context. */
function dockerfileOf(s: Service): { name: string; extra?: { name: string; body: Buffer } } {
  const b = s.build!;
  if (b.dockerfile_inline !== undefined) return { name: '.dockerfile.inline', extra: { name: '.dockerfile.inline', body: Buffer.from(b.dockerfile_inline) } };
  const abs = path.resolve(b.context, b.dockerfile ?? 'Dockerfile');
  if (!fs.existsSync(abs)) throw new BerthError('InvalidArgument', `service "${s.name}": failed to read dockerfile: open ${abs}: no such file or directory`);
  const rel = path.relative(b.context, abs);
  if (rel.startsWith('..') || path.isAbsolute(rel)) return { name: '.dockerfile.berth', extra: { name: '.dockerfile.berth', body: fs.readFileSync(abs) } };
  return { name: rel };
}

/** Builds the image of one service; its output goes to `out` line by line (unless quiet). */
export async function buildService(c: Client, p: Project, s: Service, o: BuildOptions, out: (line: string) => void): Promise<string> {
  const b = s.build;
  if (!b) throw new BerthError('InvalidArgument', `service "${s.name}" has no build section`);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(b.context) || b.context.startsWith('git@')) throw new BerthError('NotImplemented', `service "${s.name}": a remote build context (${b.context}) is not supported; use a local directory`);
  const st = fs.statSync(b.context, { throwIfNoEntry: false });
  if (!st?.isDirectory()) throw new BerthError('InvalidArgument', `service "${s.name}": build context ${b.context} is not a directory`);
  const df = dockerfileOf(s);
  const args = Object.fromEntries(Object.entries({ ...b.args, ...o.args }).filter(([, v]) => v !== null));
  const hosts = b.extra_hosts === undefined ? undefined : Array.isArray(b.extra_hosts) ? b.extra_hosts.map((h) => String(h).replace('=', ':')) : Object.entries(b.extra_hosts as Record<string, unknown>).map(([h, ip]) => `${h}:${String(ip)}`);
  const tag = imageName(p, s);
  let id = '';
  let partial = '';
  await c.stream('POST', '/build', {
    query: {
      t: [tag, ...((b.tags as string[] | undefined) ?? [])], dockerfile: df.name, buildargs: JSON.stringify(args), labels: JSON.stringify(b.labels ?? {}),
      target: b.target, nocache: o.noCache || b.no_cache === true ? 1 : undefined, pull: o.pull || b.pull === true ? 1 : undefined, rm: 1,
      networkmode: b.network as string | undefined, extrahosts: hosts, cachefrom: b.cache_from === undefined ? undefined : JSON.stringify(b.cache_from),
      shmsize: b.shm_size === undefined ? undefined : String(b.shm_size),
    },
    raw: tarContext(b.context, df.name, df.extra), headers: { 'Content-Type': 'application/x-tar' },
  }, (m) => {
    const aux = (m as { aux?: { ID?: string } }).aux;
    if (aux?.ID) id = aux.ID;
    if (!m.stream || o.quiet) return;
    const lines = (partial + m.stream).split('\n');
    partial = lines.pop()!;
    for (const l of lines) if (l.trim()) out(l);
  });
  if (partial.trim() && !o.quiet) out(partial);
  return id;
}
