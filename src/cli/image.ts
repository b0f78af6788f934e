// cli/image: `berth store …`, the local image store without a daemon — flags to ImageService calls and docker-like output.
import * as fs from 'node:fs';
import { BerthError } from '../errors.js';
import { ImageService, parsePlatform, type ProgressMessage } from '../images/index.js';
import { RegistryClient, saveCredentials, removeCredentials, parseReference, DEFAULT_DOMAIN } from '../registry/index.js';
import { parseFlags } from './args.js';

const USAGE = `Usage: berth store COMMAND

Commands:
  pull [--platform P] NAME[:TAG|@DIGEST]   Download an image from a registry
  push [--chunk-size N] NAME[:TAG]         Upload an image to a registry
  ls [-a] [-q] [--digests] [-f dangling=true]  List images
  inspect IMAGE...                         Show image details as JSON
  history [--no-trunc] IMAGE               Show the layers' history
  tag SOURCE TARGET                        Add a reference to an image
  rm [-f] [--no-prune] IMAGE...            Remove images
  prune [-a]                               Remove dangling images
  import FILE|- [REF] [-m MSG] [-c JSON]   Create an image from a rootfs tarball
  save [-o FILE] [--format docker|oci] IMAGE...  Write images to an archive
  load [-i FILE] [-q]                      Load images from an archive
  login [-u USER] [-p PASS|--password-stdin] [SERVER]  Store registry credentials
  logout [SERVER]                          Remove registry credentials

Storage root: $BERTH_ROOT or /var/lib/berth. Insecure (plain HTTP) registries: $BERTH_INSECURE_REGISTRIES.
`;

function service(): ImageService { return new ImageService(); }

/** Non-TTY docker output: one line per status change, "id: status progress". */
function printer(quiet = false): (m: ProgressMessage) => void {
  return (m) => {
    if (quiet) return;
    if (m.status === 'Downloading' || m.status === 'Pushing') { if (process.stdout.isTTY) process.stdout.write(`\r${m.id}: ${m.status} ${m.progress ?? ''}\x1b[K`); return; }
    process.stdout.write(`${process.stdout.isTTY ? '\r\x1b[K' : ''}${m.id ? `${m.id}: ` : ''}${m.status}\n`);
  };
}

function human(n: number): string {
  const u = ['B', 'kB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < u.length - 1) { n /= 1000; i++; }
  return `${i ? n.toPrecision(3) : n}${u[i]}`;
}

function ago(unix: number): string {
  const s = Date.now() / 1000 - unix;
  const units: Array<[number, string]> = [[31536000, 'year'], [2592000, 'month'], [604800, 'week'], [86400, 'day'], [3600, 'hour'], [60, 'minute']];
  for (const [secs, name] of units) if (s >= secs) { const n = Math.floor(s / secs); return `${n} ${name}${n > 1 ? 's' : ''} ago`; }
  return 'Less than a minute ago';
}

function table(rows: string[][]): string {
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(w[i]! + 3))).join('').trimEnd()).join('\n') + '\n';
}

async function readStdin(): Promise<string> {
  const parts: Buffer[] = [];
  for await (const c of process.stdin) parts.push(c as Buffer);
  return Buffer.concat(parts).toString('utf8');
}

export async function main(argv: string[]): Promise<number> {
  const [cmd, ...args] = argv;
  switch (cmd) {
    case undefined: case 'help': case '--help': case '-h':
      process.stdout.write(USAGE);
      return cmd === undefined ? 1 : 0;
    case 'pull': {
      const p = parseFlags(args, { platform: { type: 'string' }, quiet: { short: 'q', type: 'bool' } });
      if (p.positionals.length !== 1) throw new BerthError('InvalidArgument', '"berth store pull" requires exactly 1 argument');
      const r = await service().pull(p.positionals[0]!, { platform: p.flags.platform ? parsePlatform(String(p.flags.platform)) : undefined, onProgress: printer(!!p.flags.quiet) });
      if (p.flags.quiet) process.stdout.write(`${r.ref}\n`);
      else process.stdout.write(`${r.ref}\n`);
      return 0;
    }
    case 'push': {
      const p = parseFlags(args, { 'chunk-size': { type: 'string' }, quiet: { short: 'q', type: 'bool' } });
      if (p.positionals.length !== 1) throw new BerthError('InvalidArgument', '"berth store push" requires exactly 1 argument');
      await service().push(p.positionals[0]!, { onProgress: printer(!!p.flags.quiet), chunkSize: p.flags['chunk-size'] ? Number(p.flags['chunk-size']) : undefined });
      return 0;
    }
    case 'ls': case 'list': {
      const p = parseFlags(args, { all: { short: 'a', type: 'bool' }, quiet: { short: 'q', type: 'bool' }, digests: { type: 'bool' }, 'no-trunc': { type: 'bool' }, filter: { short: 'f', type: 'list' } });
      const filters = (p.flags.filter as string[] | undefined) ?? [];
      const dangling = filters.find((f) => f.startsWith('dangling='));
      const images = service().list({ dangling: dangling ? dangling.endsWith('true') : undefined, reference: p.positionals[0] });
      const id = (s: string) => (p.flags['no-trunc'] ? s : s.slice(7, 19));
      if (p.flags.quiet) { process.stdout.write([...new Set(images.map((i) => id(i.Id)))].map((s) => `${s}\n`).join('')); return 0; }
      const rows = [['REPOSITORY', 'TAG', ...(p.flags.digests ? ['DIGEST'] : []), 'IMAGE ID', 'CREATED', 'SIZE']];
      for (const i of images) {
        const tags = i.RepoTags.length ? i.RepoTags : ['<none>:<none>'];
        for (const t of tags) {
          const c = t.lastIndexOf(':');
          const repo = t.slice(0, c);
          const dig = i.RepoDigests.find((d) => d.startsWith(`${repo}@`))?.split('@')[1] ?? '<none>';
          rows.push([repo, t.slice(c + 1), ...(p.flags.digests ? [dig] : []), id(i.Id), ago(i.Created), human(i.Size)]);
        }
      }
      process.stdout.write(table(rows));
      return 0;
    }
    case 'inspect': {
      const p = parseFlags(args, { format: { short: 'f', type: 'string' } });
      const svc = service();
      const out = [];
      let rc = 0;
      for (const n of p.positionals) {
        try { out.push(svc.inspect(n)); } catch (e) { process.stderr.write(`Error: ${(e as Error).message}\n`); rc = 1; }
      }
      process.stdout.write(JSON.stringify(out, null, 4) + '\n');
      return rc;
    }
    case 'history': {
      const p = parseFlags(args, { 'no-trunc': { type: 'bool' }, quiet: { short: 'q', type: 'bool' } });
      const h = service().history(p.positionals[0] ?? '');
      if (p.flags.quiet) { process.stdout.write(h.map((x) => `${x.Id.startsWith('sha256:') && !p.flags['no-trunc'] ? x.Id.slice(7, 19) : x.Id}\n`).join('')); return 0; }
      const rows = [['IMAGE', 'CREATED', 'CREATED BY', 'SIZE', 'COMMENT']];
      for (const x of h) {
        const by = p.flags['no-trunc'] || x.CreatedBy.length <= 45 ? x.CreatedBy : `${x.CreatedBy.slice(0, 44)}…`;
        rows.push([x.Id.startsWith('sha256:') && !p.flags['no-trunc'] ? x.Id.slice(7, 19) : x.Id, x.Created ? ago(x.Created) : 'N/A', by, human(x.Size), x.Comment]);
      }
      process.stdout.write(table(rows));
      return 0;
    }
    case 'tag': {
      if (args.length !== 2) throw new BerthError('InvalidArgument', '"berth store tag" requires exactly 2 arguments');
      await service().tag(args[0]!, args[1]!);
      return 0;
    }
    case 'rm': case 'remove': {
      const p = parseFlags(args, { force: { short: 'f', type: 'bool' }, 'no-prune': { type: 'bool' } });
      const svc = service();
      let rc = 0;
      for (const n of p.positionals) {
        try {
          for (const d of await svc.remove(n, { force: !!p.flags.force, noPrune: !!p.flags['no-prune'] })) process.stdout.write(d.Untagged ? `Untagged: ${d.Untagged}\n` : `Deleted: ${d.Deleted}\n`);
        } catch (e) { process.stderr.write(`Error response from daemon: ${(e as Error).message}\n`); rc = 1; }
      }
      return rc;
    }
    case 'prune': {
      const p = parseFlags(args, { all: { short: 'a', type: 'bool' }, force: { short: 'f', type: 'bool' } });
      const r = await service().prune({ all: !!p.flags.all });
      if (r.ImagesDeleted.length) process.stdout.write('Deleted Images:\n' + r.ImagesDeleted.map((d) => (d.Untagged ? `untagged: ${d.Untagged}\n` : `deleted: ${d.Deleted}\n`)).join('') + '\n');
      process.stdout.write(`Total reclaimed space: ${human(r.SpaceReclaimed)}\n`);
      return 0;
    }
    case 'import': {
      const p = parseFlags(args, { message: { short: 'm', type: 'string' }, change: { short: 'c', type: 'list' }, platform: { type: 'string' } });
      const [src, ref] = p.positionals;
      if (!src) throw new BerthError('InvalidArgument', '"berth store import" requires at least 1 argument');
      const config: Record<string, unknown> = {};
      for (const c of (p.flags.change as string[] | undefined) ?? []) Object.assign(config, JSON.parse(c) as object);
      const id = await service().import(src === '-' ? process.stdin : fs.createReadStream(src, { highWaterMark: 1 << 20 }), { ref, message: p.flags.message as string | undefined, config, platform: p.flags.platform ? parsePlatform(String(p.flags.platform)) : undefined });
      process.stdout.write(`${id}\n`);
      return 0;
    }
    case 'save': {
      const p = parseFlags(args, { output: { short: 'o', type: 'string' }, format: { type: 'string' } });
      const fmt = (p.flags.format as string | undefined) ?? 'docker';
      if (fmt !== 'docker' && fmt !== 'oci') throw new BerthError('InvalidArgument', `unknown archive format ${fmt}: docker or oci`);
      const out = p.flags.output ? String(p.flags.output) : undefined;
      if (!out && process.stdout.isTTY) throw new BerthError('InvalidArgument', 'cowardly refusing to save to a terminal. Use the -o flag or redirect');
      const tmp = out ? `${out}.tmp-${process.pid}` : undefined;
      const ws = tmp ? fs.createWriteStream(tmp) : process.stdout;
      const sink = (c: Buffer) => new Promise<void>((res, rej) => { if (ws.write(c)) res(); else { ws.once('drain', res); ws.once('error', rej); } });
      try {
        await service().save(p.positionals, sink, { format: fmt });
        if (tmp) { await new Promise<void>((res, rej) => (ws as fs.WriteStream).end((e?: Error | null) => (e ? rej(e) : res()))); fs.renameSync(tmp, out!); }
      } catch (e) {
        if (tmp) { (ws as fs.WriteStream).destroy(); fs.rmSync(tmp, { force: true }); }
        throw e;
      }
      return 0;
    }
    case 'load': {
      const p = parseFlags(args, { input: { short: 'i', type: 'string' }, quiet: { short: 'q', type: 'bool' } });
      const src = p.flags.input ? fs.createReadStream(String(p.flags.input), { highWaterMark: 1 << 20 }) : process.stdin;
      const r = await service().load(src);
      for (const l of r.loaded) process.stdout.write(l.startsWith('sha256:') ? `Loaded image ID: ${l}\n` : `Loaded image: ${l}\n`);
      return 0;
    }
    case 'login': {
      const p = parseFlags(args, { username: { short: 'u', type: 'string' }, password: { short: 'p', type: 'string' }, 'password-stdin': { type: 'bool' } });
      const host = p.positionals[0] ? parseReference(`${p.positionals[0].replace(/^https?:\/\//, '').replace(/\/.*$/, '')}/x`).domain : DEFAULT_DOMAIN;
      const username = p.flags.username as string | undefined;
      let password = p.flags.password as string | undefined;
      if (p.flags['password-stdin']) password = (await readStdin()).replace(/\r?\n$/, '');
      if (!username || password === undefined) throw new BerthError('InvalidArgument', 'login needs --username and --password or --password-stdin');
      const client = new RegistryClient(host, { credentials: () => ({ username, password }) });
      await client.ping();
      saveCredentials(host, { username, password });
      process.stdout.write('Login Succeeded\n');
      return 0;
    }
    case 'logout': {
      const host = args[0] ? parseReference(`${args[0].replace(/^https?:\/\//, '').replace(/\/.*$/, '')}/x`).domain : DEFAULT_DOMAIN;
      process.stdout.write(removeCredentials(host) ? `Removing login credentials for ${host}\n` : `Not logged in to ${host}\n`);
      return 0;
    }
    default:
      process.stderr.write(`berth store: unknown command ${cmd}\n${USAGE}`);
      return 1;
  }
}
