// cli/docker/images: the docker CLI's image commands against the daemon (images, pull, push, tag, rmi,
// save, load, import, image inspect/history/prune). Flags become the same requests the docker CLI
// sends; output copies its format.
import * as fs from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { AuthConfig, ImageSummary } from '../../api/types.js';
import { ApiError } from '../../client/index.js';
import { BerthError } from '../../errors.js';
import { familiarString, formatReference, parseReference, repoName } from '../../registry/index.js';
import { checkArgCount, parseFlags } from '../args.js';
import { connect, report, type Globals } from './connect.js';
import { checkTemplate, formatRows, printInspect, type Inspected } from './format.js';
import { inspectEach } from './inspect.js';
import { ago, humanSize, humanSize3, progressPrinter } from './output.js';
import { authFor } from './credentials.js';

export { authFor };

export interface ImageRow {
  ID: string; Repository: string; Tag: string; Digest: string; CreatedSince: string; CreatedAt: string;
  Size: string; Containers: string; SharedSize: string; UniqueSize: string; VirtualSize: string;
}

/** One row per tag (docker cli/command/formatter/image.go), `<none>` for the rest. */
export function imageRows(list: ImageSummary[], o: { noTrunc?: boolean; all?: boolean } = {}): ImageRow[] {
  const rows: ImageRow[] = [];
  for (const i of list) {
    const id = o.noTrunc ? i.Id : i.Id.replace(/^sha256:/, '').slice(0, 12);
    const base = {
      ID: id, CreatedSince: ago(i.Created), CreatedAt: new Date(i.Created * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' +0000 UTC'),
      Size: humanSize3(i.Size), Containers: i.Containers < 0 ? 'N/A' : String(i.Containers),
      SharedSize: i.SharedSize < 0 ? 'N/A' : humanSize(i.SharedSize), UniqueSize: i.SharedSize < 0 ? 'N/A' : humanSize(i.Size - i.SharedSize), VirtualSize: humanSize(i.Size),
    };
    // dockerd before 25 (API < 1.44) sends null for none, and "<none>:<none>", "<none>@<none>" for a dangling image
    const tags = (i.RepoTags ?? []).filter((t) => t !== '<none>:<none>');
    const digests = (i.RepoDigests ?? []).filter((d) => d !== '<none>@<none>');
    const digestOf = (repo: string) => digests.find((d) => d.startsWith(`${repo}@`))?.split('@')[1] ?? '<none>';
    if (tags.length === 0) {
      const repos = [...new Set(digests.map((d) => d.split('@')[0]!))];
      if (repos.length === 0) rows.push({ ...base, Repository: '<none>', Tag: '<none>', Digest: '<none>' });
      for (const r of repos) rows.push({ ...base, Repository: r, Tag: '<none>', Digest: digestOf(r) });
      continue;
    }
    for (const t of tags) {
      const c = t.lastIndexOf(':');
      const repo = t.slice(0, c);
      rows.push({ ...base, Repository: repo, Tag: t.slice(c + 1), Digest: digestOf(repo) });
    }
  }
  return rows;
}

const IMAGE_HEADERS: Record<string, string> = { ID: 'IMAGE ID', Repository: 'REPOSITORY', Tag: 'TAG', Digest: 'DIGEST', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT', Size: 'SIZE', Containers: 'CONTAINERS', SharedSize: 'SHARED SIZE', UniqueSize: 'UNIQUE SIZE', VirtualSize: 'VIRTUAL SIZE' };

/** -f k=v flags → the filters JSON map form. */
export function filterMap(f: string[] | undefined, extra: Record<string, string[]> = {}): Record<string, string[]> | undefined {
  const out: Record<string, string[]> = { ...extra };
  for (const x of f ?? []) {
    const i = x.indexOf('=');
    if (i <= 0) throw new BerthError('InvalidArgument', `bad format of filter (expected name=value): ${x}`);
    (out[x.slice(0, i)] ??= []).push(x.slice(i + 1));
  }
  return Object.keys(out).length ? out : undefined;
}

export async function images(g: Globals, args: string[]): Promise<number> {
  const p = parseFlags(args, { all: { short: 'a', type: 'bool' }, quiet: { short: 'q', type: 'bool' }, digests: { type: 'bool' }, 'no-trunc': { type: 'bool' }, filter: { short: 'f', type: 'list' }, format: { type: 'string' } });
  if (p.positionals.length > 1) throw new BerthError('InvalidArgument', '"images" requires at most 1 argument');
  const c = connect(g);
  try {
    const list = await c.listImages({ all: !!p.flags.all, filters: filterMap(p.flags.filter as string[] | undefined, p.positionals[0] ? { reference: [p.positionals[0]] } : {}) });
    const rows = imageRows(list, { noTrunc: !!p.flags['no-trunc'] });
    if (p.flags.quiet) { process.stdout.write([...new Set(rows.map((r) => r.ID))].map((s) => `${s}\n`).join('')); return 0; }
    const def = `table {{.Repository}}\t{{.Tag}}${p.flags.digests ? '\t{{.Digest}}' : ''}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}`;
    process.stdout.write(await formatRows(rows, p.flags.format as string | undefined, def, IMAGE_HEADERS, '*formatter.imageContext'));
    return 0;
  } finally { c.close(); }
}

export async function pull(g: Globals, args: string[]): Promise<number> {
  const p = parseFlags(args, { quiet: { short: 'q', type: 'bool' }, platform: { type: 'string' }, 'all-tags': { short: 'a', type: 'bool' } });
  if (p.positionals.length !== 1) throw new BerthError('InvalidArgument', '"pull" requires exactly 1 argument');
  const r = parseReference(p.positionals[0]!, false);
  if (!r.tag && !r.digest && !p.flags['all-tags']) process.stdout.write('Using default tag: latest\n');
  const tag = r.digest ?? r.tag ?? (p.flags['all-tags'] ? undefined : 'latest');
  const c = connect(g);
  try {
    await c.pull(repoName(r), { tag, platform: p.flags.platform as string | undefined, auth: authFor(p.positionals[0]!), onProgress: p.flags.quiet ? undefined : progressPrinter() });
    process.stdout.write(`${formatReference({ ...r, tag: r.digest ? undefined : tag })}\n`);
    return 0;
  } finally { c.close(); }
}

export async function push(g: Globals, args: string[]): Promise<number> {
  const p = parseFlags(args, { quiet: { short: 'q', type: 'bool' }, 'all-tags': { short: 'a', type: 'bool' } });
  if (p.positionals.length !== 1) throw new BerthError('InvalidArgument', '"push" requires exactly 1 argument');
  const r = parseReference(p.positionals[0]!, false);
  if (!r.tag && !p.flags['all-tags']) process.stdout.write('Using default tag: latest\n');
  const c = connect(g);
  try {
    await c.push(repoName(r), { tag: p.flags['all-tags'] ? undefined : r.tag ?? 'latest', auth: authFor(p.positionals[0]!), onProgress: p.flags.quiet ? undefined : progressPrinter() });
    if (p.flags.quiet) process.stdout.write(`${familiarString(formatReference({ ...r, tag: r.tag ?? 'latest' }))}\n`);
    return 0;
  } finally { c.close(); }
}

export async function tag(g: Globals, argv: string[]): Promise<number> {
  const args = parseFlags(argv, {}).positionals;
  if (args.length !== 2) throw new BerthError('InvalidArgument', '"tag" requires exactly 2 arguments');
  const t = parseReference(args[1]!, false);
  if (t.digest) throw new BerthError('InvalidArgument', 'refusing to create a tag with a digest reference');
  const c = connect(g);
  try { await c.tag(args[0]!, repoName(t), t.tag ?? 'latest'); return 0; } finally { c.close(); }
}

export async function rmi(g: Globals, args: string[]): Promise<number> {
  const p = parseFlags(args, { force: { short: 'f', type: 'bool' }, 'no-prune': { type: 'bool' } });
  if (p.positionals.length === 0) throw new BerthError('InvalidArgument', '"rmi" requires at least 1 argument');
  const c = connect(g);
  // docker/cli image/remove.go: the errors after all, and with -f only a missing image is no failure
  const errs: ApiError[] = [];
  try {
    for (const n of p.positionals) {
      try {
        for (const d of await c.removeImage(n, { force: !!p.flags.force, noprune: !!p.flags['no-prune'] })) process.stdout.write(d.Untagged ? `Untagged: ${d.Untagged}\n` : `Deleted: ${d.Deleted}\n`);
      } catch (e) { if (!(e instanceof ApiError)) throw e; errs.push(e); }
    }
    for (const e of errs) report(e);
    return errs.length && (!p.flags.force || errs.some((e) => e.status !== 404)) ? 1 : 0;
  } finally { c.close(); }
}

export async function save(g: Globals, args: string[]): Promise<number> {
  const p = parseFlags(args, { output: { short: 'o', type: 'string' } });
  if (p.positionals.length === 0) throw new BerthError('InvalidArgument', '"save" requires at least 1 argument');
  if (!p.flags.output && process.stdout.isTTY) throw new BerthError('InvalidArgument', 'cowardly refusing to save to a terminal. Use the -o flag or redirect');
  const c = connect(g);
  try {
    const body = await c.save(p.positionals);
    if (p.flags.output) {
      const file = String(p.flags.output);
      const tmp = `${file}.tmp-${process.pid}`;
      try { await pipeline(body, fs.createWriteStream(tmp)); fs.renameSync(tmp, file); } catch (e) { fs.rmSync(tmp, { force: true }); throw e; }
    } else await pipeline(body, process.stdout);
    return 0;
  } finally { c.close(); }
}

export async function load(g: Globals, args: string[]): Promise<number> {
  const p = parseFlags(args, { input: { short: 'i', type: 'string' }, quiet: { short: 'q', type: 'bool' } });
  checkArgCount(p.positionals, 'load', 0);
  if (!p.flags.input && process.stdin.isTTY) throw new BerthError('InvalidArgument', 'requested load from stdin, but stdin is empty');
  const src = p.flags.input ? fs.createReadStream(String(p.flags.input)) : process.stdin;
  const c = connect(g);
  try {
    await c.load(src, { quiet: !!p.flags.quiet || !process.stdout.isTTY, onProgress: progressPrinter() });
    return 0;
  } finally { c.close(); }
}

export async function importImage(g: Globals, args: string[]): Promise<number> {
  const p = parseFlags(args, { message: { short: 'm', type: 'string' }, change: { short: 'c', type: 'list' }, platform: { type: 'string' } });
  // docker 28's import is RequiresMinArgs(1) and ignores a third word
  checkArgCount(p.positionals, 'import', 1, Infinity);
  const [file, ref] = p.positionals;
  const r = ref ? parseReference(ref, false) : undefined;
  const c = connect(g);
  try {
    const msgs = await c.importImage(file === '-' ? process.stdin : fs.createReadStream(file!), { repo: r ? repoName(r) : undefined, tag: r?.tag, message: p.flags.message as string | undefined, changes: p.flags.change as string[] | undefined });
    for (const m of msgs) if (m.status) process.stdout.write(`${m.status}\n`);
    return 0;
  } finally { c.close(); }
}

export async function inspect(g: Globals, args: string[]): Promise<number> {
  const p = parseFlags(args, { format: { short: 'f', type: 'string' } });
  if (p.positionals.length === 0) throw new BerthError('InvalidArgument', '"image inspect" requires at least 1 argument');
  await checkTemplate(p.flags.format as string | undefined);
  const c = connect(g);
  let items: Inspected[];
  try { items = await inspectEach(p.positionals, (n) => c.inspectImage(n)); } finally { c.close(); }
  return printInspect(items, p.flags.format as string | undefined);
}

export async function history(g: Globals, args: string[]): Promise<number> {
  const p = parseFlags(args, { 'no-trunc': { type: 'bool' }, quiet: { short: 'q', type: 'bool' }, human: { short: 'H', type: 'string' }, format: { type: 'string' } });
  if (p.positionals.length !== 1) throw new BerthError('InvalidArgument', '"history" requires exactly 1 argument');
  const c = connect(g);
  try {
    const h = await c.history(p.positionals[0]!);
    const trunc = !p.flags['no-trunc'];
    const rows = h.map((x) => ({
      ID: x.Id.startsWith('sha256:') && trunc ? x.Id.slice(7, 19) : x.Id,
      CreatedSince: x.Created ? ago(x.Created) : 'N/A', CreatedAt: x.Created ? new Date(x.Created * 1000).toISOString().replace(/\.\d+Z$/, 'Z') : 'N/A',
      CreatedBy: trunc && x.CreatedBy.length > 45 ? `${x.CreatedBy.slice(0, 44)}…` : x.CreatedBy,
      Size: humanSize3(x.Size), Comment: x.Comment,
    }));
    if (p.flags.quiet) { process.stdout.write(rows.map((r) => `${r.ID}\n`).join('')); return 0; }
    process.stdout.write(await formatRows(rows, p.flags.format as string | undefined, 'table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}', { ID: 'IMAGE', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT', CreatedBy: 'CREATED BY', Size: 'SIZE', Comment: 'COMMENT' }, '*image.historyContext'));
    return 0;
  } finally { c.close(); }
}

export async function confirm(q: string): Promise<boolean> {
  process.stdout.write(`${q} [y/N] `);
  const line = await new Promise<string>((resolve) => {
    let buf = '';
    const on = (d: Buffer) => { buf += d.toString(); if (buf.includes('\n')) { process.stdin.off('data', on); process.stdin.pause(); resolve(buf); } };
    process.stdin.on('data', on);
    process.stdin.once('end', () => resolve(buf));
  });
  return /^y(es)?$/i.test(line.trim());
}

export async function prune(g: Globals, args: string[]): Promise<number> {
  const p = parseFlags(args, { all: { short: 'a', type: 'bool' }, force: { short: 'f', type: 'bool' }, filter: { type: 'list' } });
  checkArgCount(p.positionals, 'image prune', 0);
  if (!p.flags.force) {
    const what = p.flags.all ? 'all images without at least one container associated to them' : 'all dangling images';
    if (!(await confirm(`WARNING! This will remove ${what}.\nAre you sure you want to continue?`))) return 0;
  }
  const c = connect(g);
  try {
    const r = await c.pruneImages({ all: !!p.flags.all });
    if (r.ImagesDeleted?.length) {
      process.stdout.write('Deleted Images:\n');
      for (const d of r.ImagesDeleted) process.stdout.write(d.Untagged ? `untagged: ${d.Untagged}\n` : `deleted: ${d.Deleted}\n`);
      process.stdout.write('\n');
    }
    process.stdout.write(`Total reclaimed space: ${humanSize(r.SpaceReclaimed)}\n`);
    return 0;
  } finally { c.close(); }
}

