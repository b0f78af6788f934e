// cli/docker/build: `berth build` in docker's grammar (the classic builder's flags). The context — a
// directory (sent as a tar without what .dockerignore excludes, as the docker CLI sends it), a tar file,
// or `-` (a tar or a Dockerfile on stdin) — goes to POST /build; the step lines are printed as they come.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { once } from 'node:events';
import { BerthError } from '../../errors.js';
import { ignoreMatcher, ignorePatterns } from '../../build/context.js';
import { TarWriter } from '../../snapshots/tar-writer.js';
import { parseFlags } from '../args.js';
import { connect, type Globals } from './connect.js';
import { confirm } from './images.js';
import { humanSize } from './output.js';

/** A directory as a tar stream, .dockerignore applied (the Dockerfile and .dockerignore always go). */
export function tarContext(dir: string, dockerfile: string, extra?: { name: string; body: Buffer }): PassThrough {
  let text = '';
  try { text = fs.readFileSync(path.join(dir, '.dockerignore'), 'utf8'); } catch { /* none */ }
  const ignored = ignoreMatcher(ignorePatterns(text), [dockerfile]);
  const pipe = new PassThrough({ highWaterMark: 4 << 20 });
  const w = new TarWriter(async (c) => { if (!pipe.write(c)) await once(pipe, 'drain'); });
  const walk = async (rel: string): Promise<void> => {
    for (const name of fs.readdirSync(path.join(dir, rel)).sort()) {
      const r = rel ? `${rel}/${name}` : name;
      const full = path.join(dir, r);
      const st = fs.lstatSync(full);
      const skip = ignored(r);
      const base = { mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: Math.floor(st.mtimeMs / 1000) };
      if (st.isDirectory()) {
        // an excluded directory is still walked: an exception may bring something below it back
        if (!skip) await w.entry({ ...base, name: `${r}/`, type: 'dir' });
        await walk(r);
      } else if (skip) continue;
      else if (st.isSymbolicLink()) await w.entry({ ...base, name: r, type: 'symlink', linkname: fs.readlinkSync(full) });
      else if (st.isFile()) await w.entry({ ...base, name: r, type: 'file', size: st.size }, fs.createReadStream(full));
    }
  };
  void (async () => {
    await walk('');
    if (extra) await w.entry({ name: extra.name, type: 'file', mode: 0o644, size: extra.body.length }, extra.body);
    await w.finish();
    pipe.end();
  })().catch((e: unknown) => pipe.destroy(e as Error));
  return pipe;
}

export async function build(g: Globals, args: string[]): Promise<number> {
  const p = parseFlags(args, {
    tag: { short: 't', type: 'list' }, file: { short: 'f', type: 'string' }, 'build-arg': { type: 'list' }, target: { type: 'string' },
    'no-cache': { type: 'bool' }, quiet: { short: 'q', type: 'bool' }, label: { type: 'list' }, iidfile: { type: 'string' },
    pull: { type: 'bool' }, rm: { type: 'bool' }, 'force-rm': { type: 'bool' }, network: { type: 'string' }, 'cache-from': { type: 'list' },
  });
  if (p.positionals.length !== 1) throw new BerthError('InvalidArgument', '"build" requires exactly 1 argument');
  const where = p.positionals[0]!;
  const file = p.flags.file as string | undefined;
  let body: NodeJS.ReadableStream;
  let dockerfile = file;
  if (where === '-') body = process.stdin;
  else {
    const st = fs.statSync(where, { throwIfNoEntry: false });
    if (!st) throw new BerthError('InvalidArgument', `unable to prepare context: path ${JSON.stringify(where)} not found`);
    if (st.isDirectory()) {
      let extra: { name: string; body: Buffer } | undefined;
      if (file) {
        const abs = path.resolve(file);
        const rel = path.relative(path.resolve(where), abs);
        if (!fs.existsSync(abs)) throw new BerthError('InvalidArgument', `unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat ${abs}: no such file or directory`);
        if (rel.startsWith('..')) { dockerfile = '.dockerfile.berth'; extra = { name: dockerfile, body: fs.readFileSync(abs) }; } else dockerfile = rel;
      } else if (!fs.existsSync(path.join(where, 'Dockerfile'))) {
        throw new BerthError('InvalidArgument', `unable to prepare context: unable to evaluate symlinks in Dockerfile path: lstat ${path.resolve(where, 'Dockerfile')}: no such file or directory`);
      }
      body = tarContext(where, dockerfile ?? 'Dockerfile', extra);
    } else body = fs.createReadStream(where);
  }
  const kv = (list: unknown, what: string): Record<string, string | null> => Object.fromEntries(((list as string[] | undefined) ?? []).map((a) => {
    const eq = a.indexOf('=');
    // docker: --build-arg NAME alone takes NAME's value from the environment
    if (eq < 0) return [a, what === 'build-arg' ? process.env[a] ?? null : ''];
    return [a.slice(0, eq), a.slice(eq + 1)];
  }));
  const quiet = !!p.flags.quiet;
  const c = connect(g);
  let id = '';
  try {
    await c.stream('POST', '/build', {
      query: {
        t: (p.flags.tag as string[] | undefined) ?? undefined, dockerfile, target: p.flags.target as string | undefined,
        buildargs: JSON.stringify(kv(p.flags['build-arg'], 'build-arg')), labels: JSON.stringify(kv(p.flags.label, 'label')),
        nocache: p.flags['no-cache'] ? 1 : undefined, q: quiet ? 1 : undefined, pull: p.flags.pull ? 1 : undefined,
        rm: p.flags.rm === false ? 0 : 1, forcerm: p.flags['force-rm'] ? 1 : undefined, networkmode: p.flags.network as string | undefined,
        cachefrom: (p.flags['cache-from'] as string[] | undefined)?.length ? JSON.stringify(p.flags['cache-from']) : undefined,
      },
      raw: body, headers: { 'Content-Type': 'application/x-tar' },
    }, (m) => {
      const aux = (m as { aux?: { ID?: string } }).aux;
      if (aux?.ID) id = aux.ID;
      else if (m.stream && !quiet) process.stdout.write(m.stream);
    });
  } finally { c.close(); }
  if (quiet) process.stdout.write(`${id}\n`);
  if (p.flags.iidfile) fs.writeFileSync(String(p.flags.iidfile), id);
  return 0;
}

/** `berth builder prune` (docker/cli builder/prune.go): POST /build/prune, then what went and what it freed. */
export async function builderPrune(g: Globals, args: string[]): Promise<number> {
  const p = parseFlags(args, { all: { short: 'a', type: 'bool' }, force: { short: 'f', type: 'bool' }, filter: { type: 'list' }, 'keep-storage': { type: 'string' } });
  if (!p.flags.force && !(await confirm('WARNING! This will remove all dangling build cache.\nAre you sure you want to continue?'))) return 0;
  const filters: Record<string, Record<string, boolean>> = {};
  for (const f of (p.flags.filter as string[] | undefined) ?? []) {
    const eq = f.indexOf('=');
    if (eq < 0) throw new BerthError('InvalidArgument', `bad format of filter (expected name=value): ${f}`);
    (filters[f.slice(0, eq)] ??= {})[f.slice(eq + 1)] = true;
  }
  const c = connect(g);
  try {
    const r = await c.json<{ CachesDeleted: string[] | null; SpaceReclaimed: number }>('POST', '/build/prune', {
      query: { all: p.flags.all ? '1' : undefined, filters: Object.keys(filters).length ? JSON.stringify(filters) : undefined },
    });
    if (r.CachesDeleted?.length) process.stdout.write(`Deleted build cache objects:\n${r.CachesDeleted.join('\n')}\n\n`);
    process.stdout.write(`Total reclaimed space: ${humanSize(r.SpaceReclaimed)}\n`);
    return 0;
  } finally { c.close(); }
}
