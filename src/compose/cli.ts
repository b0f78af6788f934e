// compose/cli: `berth compose [-f FILE…] [-p NAME] [--project-directory DIR] [--env-file F] [--profile P] COMMAND`
// in docker compose v2's grammar and output. Translation only: flags → model (load.ts) → engine calls.
import { stringify } from 'yaml';
import { BerthError } from '../errors.js';
import { parseFlags, type FlagSpec } from '../cli/args.js';
import { connect, type Globals } from '../cli/docker/connect.js';
import { exec as dockerExec } from '../cli/docker/exec.js';
import { demux, type Client } from '../client/index.js';
import { COMPOSE_VERSION, L } from './convert.js';
import { Engine } from './engine.js';
import { progress } from './progress.js';
import { loadProject, type LoadOptions } from './load.js';
import { configView, startOrder, type Project } from './model.js';
import { randomBytes } from 'node:crypto';
import { authFor } from '../cli/docker/images.js';
import { humanSize } from '../cli/docker/output.js';
import { displayPorts } from '../cli/docker/containers.js';
import { parseReference, repoName } from '../registry/index.js';
import { imageName } from './convert.js';

type Sub = (ctx: Ctx, args: string[]) => Promise<number>;
interface Ctx { g: Globals; load: LoadOptions; project(extra?: { services?: string[] }): Project; client(): Client }

/** compose's own options before the subcommand. */
function parseComposeGlobals(args: string[]): { load: LoadOptions; rest: string[] } {
  const load: LoadOptions = { files: [], envFiles: [], profiles: [] };
  let i = 0;
  const val = (a: string, long: string): string | undefined => {
    if (a.startsWith(`${long}=`)) return a.slice(long.length + 1);
    if (i + 1 >= args.length) throw new BerthError('InvalidArgument', `flag needs an argument: ${long}`);
    return args[++i];
  };
  for (; i < args.length; i++) {
    const a = args[i]!;
    if (a === '-f' || a === '--file' || a.startsWith('--file=')) load.files!.push(val(a, '--file')!);
    else if (a.startsWith('-f') && a.length > 2) load.files!.push(a.slice(2));
    else if (a === '-p' || a === '--project-name' || a.startsWith('--project-name=')) load.projectName = val(a, '--project-name');
    else if (a === '--project-directory' || a.startsWith('--project-directory=')) load.projectDirectory = val(a, '--project-directory');
    else if (a === '--env-file' || a.startsWith('--env-file=')) load.envFiles!.push(val(a, '--env-file')!);
    else if (a === '--profile' || a.startsWith('--profile=')) load.profiles!.push(val(a, '--profile')!);
    else break;
  }
  return { load, rest: args.slice(i) };
}

const nameOf = (c: { Names: string[]; Id: string }) => c.Names[0]?.replace(/^\//, '') ?? c.Id.slice(0, 12);

/** docker's tabwriter output: columns padded to the widest cell plus three spaces. */
function table(rows: string[][]): string {
  const w = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(w[i]! + 3))).join('').trimEnd() + '\n').join('');
}

async function withEngine<T>(ctx: Ctx, f: (e: Engine) => Promise<T>, services?: string[]): Promise<T> {
  const c = ctx.client();
  try { return await f(new Engine(c, ctx.project({ services }), progress())); } finally { c.close(); }
}

function scaleFlags(v: string[] | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of v ?? []) {
    const m = /^([^=]+)=(\d+)$/.exec(s);
    if (!m) throw new BerthError('InvalidArgument', `invalid --scale ${JSON.stringify(s)}: expected SERVICE=NUM`);
    out[m[1]!] = Number(m[2]);
  }
  return out;
}

const F = (specs: Record<string, FlagSpec>) => specs;

const up: Sub = async (ctx, args) => {
  const p = parseFlags(args, F({
    detach: { short: 'd', type: 'bool' }, 'force-recreate': { type: 'bool' }, 'no-recreate': { type: 'bool' }, 'remove-orphans': { type: 'bool' },
    scale: { type: 'list' }, wait: { type: 'bool' }, 'no-deps': { type: 'bool' }, 'no-start': { type: 'bool' }, build: { type: 'bool' }, 'no-build': { type: 'bool' },
    'abort-on-container-exit': { type: 'bool' }, 'exit-code-from': { type: 'string' }, 'quiet-pull': { type: 'bool' },
  }));
  if (p.flags['force-recreate'] && p.flags['no-recreate']) throw new BerthError('InvalidArgument', '--force-recreate and --no-recreate are incompatible');
  if (p.flags.build && p.flags['no-build']) throw new BerthError('InvalidArgument', '--build and --no-build are incompatible');
  const exitCodeFrom = p.flags['exit-code-from'] as string | undefined;
  // docker compose: --exit-code-from implies --abort-on-container-exit; both need the attached mode
  const abort = !!p.flags['abort-on-container-exit'] || exitCodeFrom !== undefined;
  if (abort && (p.flags.detach || p.flags.wait)) throw new BerthError('InvalidArgument', `--abort-on-container-exit and --${p.flags.detach ? 'detach' : 'wait'} are incompatible`);
  return withEngine(ctx, async (e) => {
    if (exitCodeFrom !== undefined && !e.p.services[exitCodeFrom]) throw new BerthError('NotFound', `no such service: ${exitCodeFrom}`);
    await e.up({
      services: p.positionals, forceRecreate: !!p.flags['force-recreate'], noRecreate: !!p.flags['no-recreate'], removeOrphans: !!p.flags['remove-orphans'],
      scale: scaleFlags(p.flags.scale as string[] | undefined), noDeps: !!p.flags['no-deps'], wait: !!p.flags.wait, noStart: !!p.flags['no-start'],
      build: !!p.flags.build, noBuild: !!p.flags['no-build'],
    });
    if (p.flags.detach || p.flags.wait || p.flags['no-start']) return 0;
    // the logs take the terminal from here: status lines become plain ones again
    e.say = (l) => process.stderr.write(`${l}\n`);
    // attached: follow every service's output until all containers stop (or, with abort, the first one does)
    if (!abort) return printLogs(e, { follow: true, services: p.positionals });
    return abortOnExit(e, p.positionals, exitCodeFrom);
  }, p.positionals);
};

/**
 * `up --abort-on-container-exit`: logs followed until the first container stops; then every container is
 * stopped and the exit code is that first container's, or with --exit-code-from the named service's.
 */
async function abortOnExit(e: Engine, services: string[], exitCodeFrom?: string): Promise<number> {
  const list = await e.containers({ all: false, services: services.length ? services : undefined });
  const logs = printLogs(e, { follow: true, services });
  const waits = await Promise.all(list.map(async (c) => ({ c, w: await e.c.waitContainer(c.Id, 'not-running') })));
  const first = await Promise.race(waits.map(({ c, w }) => w.result.then((r) => ({ c, code: r.StatusCode }))));
  process.stdout.write(`Aborting on container exit...\n`);
  const order = startOrder(e.p.services);
  const rank = (c: { Labels: Record<string, string> }) => order.indexOf(c.Labels[L.service] ?? '');
  for (const c of [...list].sort((a, b) => rank(b) - rank(a))) {
    const name = nameOf(c);
    e.say(` Container ${name}  Stopping`);
    await e.c.stopContainer(c.Id).catch(() => undefined);
    e.say(` Container ${name}  Stopped`);
  }
  for (const { w } of waits) w.abort();
  await logs;
  if (exitCodeFrom === undefined) return first.code;
  const from = list.find((c) => c.Labels[L.service] === exitCodeFrom);
  return from ? (await e.c.inspectContainer(from.Id)).State.ExitCode : first.code;
}

const down: Sub = async (ctx, args) => {
  const p = parseFlags(args, F({ volumes: { short: 'v', type: 'bool' }, 'remove-orphans': { type: 'bool' }, timeout: { short: 't', type: 'string' }, rmi: { type: 'string' } }));
  const rmi = p.flags.rmi as string | undefined;
  if (rmi !== undefined && rmi !== 'local' && rmi !== 'all') throw new BerthError('InvalidArgument', `invalid --rmi option ${JSON.stringify(rmi)}: expected "local" or "all"`);
  await withEngine(ctx, (e) => e.down({ volumes: !!p.flags.volumes, removeOrphans: !!p.flags['remove-orphans'], rmi: rmi as 'local' | 'all' | undefined }));
  return 0;
};

function statusOf(c: { State: string; Status: string }): string { return c.Status; }

const ps: Sub = async (ctx, args) => {
  const p = parseFlags(args, F({ all: { short: 'a', type: 'bool' }, quiet: { short: 'q', type: 'bool' }, services: { type: 'bool' }, format: { type: 'string' } }));
  return withEngine(ctx, async (e) => {
    const list = await e.containers({ all: !!p.flags.all, oneoff: !!p.flags.all, services: p.positionals });
    if (p.flags.quiet) { process.stdout.write(list.map((c) => `${c.Id}\n`).join('')); return 0; }
    if (p.flags.services) { process.stdout.write([...new Set(list.map((c) => c.Labels[L.service]))].map((s) => `${s}\n`).join('')); return 0; }
    if (p.flags.format === 'json') { process.stdout.write(`${JSON.stringify(list.map((c) => ({ ID: c.Id, Name: nameOf(c), Image: c.Image, Command: c.Command, Project: c.Labels[L.project], Service: c.Labels[L.service], State: c.State, Status: c.Status })))}\n`); return 0; }
    const rows = [['NAME', 'IMAGE', 'COMMAND', 'SERVICE', 'CREATED', 'STATUS', 'PORTS']];
    const { ago } = await import('../cli/docker/output.js');
    for (const c of list) rows.push([nameOf(c), c.Image, JSON.stringify(c.Command.length > 20 ? `${c.Command.slice(0, 19)}…` : c.Command), c.Labels[L.service] ?? '', ago(c.Created), statusOf(c), displayPorts(c.Ports ?? [])]);
    process.stdout.write(table(rows));
    return 0;
  });
};

/** Prints each container's log lines prefixed "NAME  | " (docker compose's plain log format). */
async function printLogs(e: Engine, o: { follow?: boolean; tail?: string; timestamps?: boolean; services?: string[]; noPrefix?: boolean }): Promise<number> {
  const list = await e.containers({ all: true, services: o.services?.length ? o.services : undefined });
  const w = Math.max(0, ...list.map((c) => nameOf(c).length));
  await Promise.all(list.map(async (c) => {
    const prefix = o.noPrefix ? '' : `${nameOf(c).padEnd(w)}  | `;
    const info = await e.c.inspectContainer(c.Id);
    const res = await e.c.containerLogs(c.Id, { follow: o.follow, tail: o.tail, timestamps: o.timestamps });
    const partial = ['', ''];
    const emit = (stream: number, text: string) => {
      const out = stream === 2 ? process.stderr : process.stdout;
      const buf = partial[stream === 2 ? 1 : 0] + text;
      const lines = buf.split('\n');
      partial[stream === 2 ? 1 : 0] = lines.pop()!;
      for (const l of lines) out.write(`${prefix}${l}\n`);
    };
    if (info.Config.Tty) for await (const chunk of res) emit(1, Buffer.from(chunk as Buffer).toString('utf8'));
    else for await (const f of demux(res)) emit(f.stream, f.payload.toString('utf8'));
    for (const [i, rest] of partial.entries()) if (rest) (i ? process.stderr : process.stdout).write(`${prefix}${rest}\n`);
    // a followed stream ends when the container stops: docker compose says so, with the exit code
    if (o.follow) {
      const end = await e.c.inspectContainer(c.Id).catch(() => undefined);
      if (end && !end.State.Running) process.stdout.write(`${nameOf(c)} exited with code ${end.State.ExitCode}\n`);
    }
  }));
  return 0;
}

const logs: Sub = async (ctx, args) => {
  const p = parseFlags(args, F({ follow: { short: 'f', type: 'bool' }, tail: { short: 'n', type: 'string' }, timestamps: { short: 't', type: 'bool' }, 'no-prefix': { type: 'bool' }, 'no-color': { type: 'bool' } }));
  return withEngine(ctx, (e) => printLogs(e, { follow: !!p.flags.follow, tail: p.flags.tail as string | undefined, timestamps: !!p.flags.timestamps, services: p.positionals, noPrefix: !!p.flags['no-prefix'] }));
};

const config: Sub = async (ctx, args) => {
  const p = parseFlags(args, F({ services: { type: 'bool' }, volumes: { type: 'bool' }, quiet: { short: 'q', type: 'bool' }, format: { type: 'string' }, profiles: { type: 'bool' } }));
  const proj = ctx.project();
  if (p.flags.quiet) return 0;
  if (p.flags.services) { process.stdout.write(Object.keys(proj.services).map((s) => `${s}\n`).join('')); return 0; }
  if (p.flags.volumes) { process.stdout.write(Object.keys(proj.volumes).map((s) => `${s}\n`).join('')); return 0; }
  if (p.flags.profiles) { process.stdout.write([...new Set(Object.values({ ...proj.services, ...proj.disabled }).flatMap((s) => s.profiles ?? []))].sort().map((s) => `${s}\n`).join('')); return 0; }
  const view = configView(proj);
  process.stdout.write(p.flags.format === 'json' ? `${JSON.stringify(view, null, 2)}\n` : stringify(view, { aliasDuplicateObjects: false }));
  return 0;
};

async function serviceContainer(e: Engine, service: string, index = 1): Promise<string> {
  if (!e.p.services[service]) throw new BerthError('NotFound', `no such service: ${service}`);
  const c = (await e.containers({ all: false, services: [service] })).find((x) => Number(x.Labels[L.number]) === index);
  if (!c) throw new BerthError('NotFound', `service "${service}" is not running`);
  return c.Id;
}

const exec: Sub = async (ctx, args) => {
  const p = parseFlags(args, F({
    'no-TTY': { short: 'T', type: 'bool' }, user: { short: 'u', type: 'string' }, workdir: { short: 'w', type: 'string' }, env: { short: 'e', type: 'list' },
    index: { type: 'string' }, detach: { short: 'd', type: 'bool' }, privileged: { type: 'bool' },
  }), 1);
  const service = p.positionals[0];
  if (!service || !p.rest.length) throw new BerthError('InvalidArgument', 'exec requires at least 2 arguments: SERVICE COMMAND [ARGS...]');
  const id = await withEngine(ctx, (e) => serviceContainer(e, service, Number(p.flags.index ?? 1)));
  const tty = !p.flags['no-TTY'] && !!process.stdin.isTTY && !!process.stdout.isTTY;
  const flags = [
    ...(tty ? ['-i', '-t'] : []), ...(p.flags.detach ? ['-d'] : []), ...(p.flags.privileged ? ['--privileged'] : []),
    ...(p.flags.user ? ['-u', p.flags.user as string] : []), ...(p.flags.workdir ? ['-w', p.flags.workdir as string] : []),
    ...((p.flags.env as string[] | undefined) ?? []).flatMap((x) => ['-e', x]),
  ];
  return dockerExec(ctx.g, [...flags, id, ...p.rest]);
};

const run: Sub = async (ctx, args) => {
  const p = parseFlags(args, F({
    rm: { type: 'bool' }, env: { short: 'e', type: 'list' }, 'no-deps': { type: 'bool' }, 'no-TTY': { short: 'T', type: 'bool' }, user: { short: 'u', type: 'string' },
    workdir: { short: 'w', type: 'string' }, entrypoint: { type: 'string' }, name: { type: 'string' }, detach: { short: 'd', type: 'bool' }, 'service-ports': { type: 'bool' },
  }), 1);
  const service = p.positionals[0];
  if (!service) throw new BerthError('InvalidArgument', 'run requires at least 1 argument: SERVICE [COMMAND] [ARGS...]');
  return withEngine(ctx, async (e) => {
    const s = e.p.services[service];
    if (!s) throw new BerthError('NotFound', `no such service: ${service}`);
    const deps = p.flags['no-deps'] ? [] : startOrder(e.p.services, [service]).filter((n) => n !== service);
    await e.preflight([s, ...deps.map((n) => e.p.services[n]!)]);
    await e.ensureImages([s, ...deps.map((n) => e.p.services[n]!)]);
    if (deps.length) await e.up({ services: deps, noDeps: true });
    await e.ensureNetworks([s]);
    await e.ensureVolumes([s]);
    if (!p.flags['no-deps']) await e.waitDependencies(s);
    const name = (p.flags.name as string | undefined) ?? `${e.p.name}-${service}-run-${randomBytes(6).toString('hex')}`;
    const id = await e.create(s, {
      number: 1, oneoff: true, name, command: p.rest.length ? p.rest : undefined, env: p.flags.env as string[] | undefined, tty: false, stdin: false,
      entrypoint: p.flags.entrypoint === undefined ? undefined : [p.flags.entrypoint as string], user: p.flags.user as string | undefined,
      workdir: p.flags.workdir as string | undefined, noPorts: !p.flags['service-ports'],
    });
    await e.c.startContainer(id);
    if (p.flags.detach) { process.stdout.write(`${name}\n`); return 0; }
    const res = await e.c.containerLogs(id, { follow: true });
    for await (const f of demux(res)) (f.stream === 2 ? process.stderr : process.stdout).write(f.payload);
    let code = 0;
    for (;;) {
      const i = await e.c.inspectContainer(id);
      if (!i.State.Running && !i.State.Restarting) { code = i.State.ExitCode; break; }
      await new Promise((r) => setTimeout(r, 100));
    }
    if (p.flags.rm) await e.c.removeContainer(id, { force: true });
    return code;
  });
};

/** start/stop/restart/kill/rm over the selected services' containers. */
function each(verb: 'start' | 'stop' | 'restart' | 'kill' | 'rm'): Sub {
  return async (ctx, args) => {
    const specs: Record<string, FlagSpec> = verb === 'kill' ? { signal: { short: 's', type: 'string' }, 'remove-orphans': { type: 'bool' } }
      : verb === 'rm' ? { force: { short: 'f', type: 'bool' }, stop: { short: 's', type: 'bool' }, volumes: { short: 'v', type: 'bool' } }
      : verb === 'start' ? {} : { timeout: { short: 't', type: 'string' } };
    const p = parseFlags(args, specs);
    return withEngine(ctx, async (e) => {
      for (const n of p.positionals) if (!e.p.services[n]) throw new BerthError('NotFound', `no such service: ${n}`);
      const list = await e.containers({ all: true, services: p.positionals });
      const t = p.flags.timeout === undefined ? undefined : Number(p.flags.timeout);
      const order = startOrder(e.p.services);
      const rank = (c: { Labels: Record<string, string> }) => order.indexOf(c.Labels[L.service] ?? '');
      const sorted = [...list].sort((a, b) => (verb === 'start' ? rank(a) - rank(b) : rank(b) - rank(a)));
      for (const c of sorted) {
        const name = nameOf(c);
        if (verb === 'start') { if (c.State !== 'running') await e.start(c.Id, name); }
        else if (verb === 'stop') { e.say(` Container ${name}  Stopping`); await e.c.stopContainer(c.Id, { timeout: t }); e.say(` Container ${name}  Stopped`); }
        else if (verb === 'restart') { e.say(` Container ${name}  Restarting`); await e.c.restartContainer(c.Id, { timeout: t }); e.say(` Container ${name}  Started`); }
        else if (verb === 'kill') { if (c.State === 'running') { e.say(` Container ${name}  Killing`); await e.c.killContainer(c.Id, p.flags.signal as string | undefined); e.say(` Container ${name}  Killed`); } }
        else {
          if (c.State === 'running' && !p.flags.stop) continue;
          if (c.State === 'running') await e.c.stopContainer(c.Id);
          e.say(` Container ${name}  Removing`);
          await e.c.removeContainer(c.Id, { volumes: !!p.flags.volumes, force: true });
          e.say(` Container ${name}  Removed`);
        }
      }
      if (verb === 'rm' && !list.some((c) => c.State !== 'running' || p.flags.stop)) process.stderr.write('No stopped containers\n');
      return 0;
    });
  };
}

const pull: Sub = async (ctx, args) => {
  const p = parseFlags(args, F({ quiet: { short: 'q', type: 'bool' }, 'ignore-pull-failures': { type: 'bool' } }));
  return withEngine(ctx, async (e) => {
    let code = 0;
    for (const s of Object.values(e.p.services)) {
      if (p.positionals.length && !p.positionals.includes(s.name)) continue;
      if (!s.image) continue;
      e.say(` ${s.name} Pulling`);
      try { await e.c.pull(s.image); e.say(` ${s.name} Pulled`); } catch (err) {
        if (!p.flags['ignore-pull-failures']) throw err;
        e.say(` ${s.name} Error ${(err as Error).message}`); code = 1;
      }
    }
    return p.flags['ignore-pull-failures'] ? 0 : code;
  });
};

const buildCmd: Sub = async (ctx, args) => {
  const p = parseFlags(args, F({ 'no-cache': { type: 'bool' }, pull: { type: 'bool' }, quiet: { short: 'q', type: 'bool' }, 'build-arg': { type: 'list' } }));
  return withEngine(ctx, async (e) => {
    for (const n of p.positionals) if (!e.p.services[n]) throw new BerthError('NotFound', `no such service: ${n}`);
    const args = Object.fromEntries(((p.flags['build-arg'] as string[] | undefined) ?? []).map((a) => { const i = a.indexOf('='); return i < 0 ? [a, process.env[a] ?? ''] : [a.slice(0, i), a.slice(i + 1)]; }));
    const services = (p.positionals.length ? p.positionals : Object.keys(e.p.services)).map((n) => e.p.services[n]!);
    await e.build(services, { noCache: !!p.flags['no-cache'], pull: !!p.flags.pull, quiet: !!p.flags.quiet, args });
    return 0;
  });
};

/** pause/unpause over the selected services' running containers. */
function pauseVerb(verb: 'pause' | 'unpause'): Sub {
  return async (ctx, args) => {
    const p = parseFlags(args, {});
    return withEngine(ctx, async (e) => {
      for (const n of p.positionals) if (!e.p.services[n]) throw new BerthError('NotFound', `no such service: ${n}`);
      for (const c of await e.containers({ all: false, services: p.positionals })) {
        const name = nameOf(c);
        e.say(` Container ${name}  ${verb === 'pause' ? 'Pausing' : 'Unpausing'}`);
        await e.c.drain('POST', `/containers/${encodeURIComponent(c.Id)}/${verb}`);
        e.say(` Container ${name}  ${verb === 'pause' ? 'Paused' : 'Unpaused'}`);
      }
      return 0;
    });
  };
}

/** `top`: each running container's processes (GET /containers/{id}/top), headed by its name. */
const top: Sub = async (ctx, args) => {
  const p = parseFlags(args, {});
  return withEngine(ctx, async (e) => {
    for (const n of p.positionals) if (!e.p.services[n]) throw new BerthError('NotFound', `no such service: ${n}`);
    const list = await e.containers({ all: false, services: p.positionals });
    const out: string[] = [];
    for (const c of list) {
      const t = await e.c.json<{ Titles: string[]; Processes: string[][] }>('GET', `/containers/${encodeURIComponent(c.Id)}/top`);
      out.push(`${nameOf(c)}\n${table([t.Titles, ...t.Processes])}`);
    }
    process.stdout.write(out.join('\n'));
    return 0;
  });
};

/** `port SERVICE PRIVATE_PORT`: the public address a container port is published on. */
const port: Sub = async (ctx, args) => {
  const p = parseFlags(args, F({ index: { type: 'string' }, protocol: { type: 'string' } }));
  const [service, priv] = p.positionals;
  if (!service || !priv || p.positionals.length !== 2) throw new BerthError('InvalidArgument', 'port requires exactly 2 arguments: SERVICE PRIVATE_PORT');
  if (!/^\d+$/.test(priv)) throw new BerthError('InvalidArgument', `invalid port ${JSON.stringify(priv)}`);
  const proto = (p.flags.protocol as string | undefined) ?? 'tcp';
  return withEngine(ctx, async (e) => {
    const id = await serviceContainer(e, service, Number(p.flags.index ?? 1));
    const i = await e.c.inspectContainer(id);
    const b = (i.NetworkSettings.Ports as Record<string, Array<{ HostIp: string; HostPort: string }> | null> | undefined)?.[`${priv}/${proto}`]?.[0];
    if (!b) throw new BerthError('NotFound', `no port ${priv}/${proto} for container ${i.Name.replace(/^\//, '')}`);
    process.stdout.write(`${b.HostIp || '0.0.0.0'}:${b.HostPort}\n`);
    return 0;
  });
};

/** `images`: the image each of the project's containers uses. */
const images: Sub = async (ctx, args) => {
  const p = parseFlags(args, F({ quiet: { short: 'q', type: 'bool' }, format: { type: 'string' } }));
  return withEngine(ctx, async (e) => {
    for (const n of p.positionals) if (!e.p.services[n]) throw new BerthError('NotFound', `no such service: ${n}`);
    const list = await e.containers({ all: true, services: p.positionals });
    const rows: Array<{ ContainerName: string; Repository: string; Tag: string; ID: string; Size: number }> = [];
    for (const c of list) {
      const img = await e.c.inspectImage(c.ImageID).catch(() => undefined);
      const ref = img?.RepoTags?.find((t) => t === c.Image || t === `${c.Image}:latest`) ?? img?.RepoTags?.[0];
      const at = ref ? ref.lastIndexOf(':') : -1;
      rows.push({ ContainerName: nameOf(c), Repository: ref && at > 0 ? ref.slice(0, at) : '<none>', Tag: ref && at > 0 ? ref.slice(at + 1) : '<none>', ID: c.ImageID, Size: img?.Size ?? 0 });
    }
    if (p.flags.quiet) { process.stdout.write([...new Set(rows.map((r) => r.ID))].map((id) => `${id}\n`).join('')); return 0; }
    if (p.flags.format === 'json') { process.stdout.write(`${JSON.stringify(rows)}\n`); return 0; }
    process.stdout.write(table([['CONTAINER', 'REPOSITORY', 'TAG', 'IMAGE ID', 'SIZE'], ...rows.map((r) => [r.ContainerName, r.Repository, r.Tag, r.ID.replace(/^sha256:/, '').slice(0, 12), humanSize(r.Size)])]));
    return 0;
  });
};

/** `push`: the images of services that have both a build section and an image name (docker compose skips the rest). */
const push: Sub = async (ctx, args) => {
  const p = parseFlags(args, F({ 'ignore-push-failures': { type: 'bool' }, quiet: { short: 'q', type: 'bool' }, 'include-deps': { type: 'bool' } }));
  return withEngine(ctx, async (e) => {
    for (const n of p.positionals) if (!e.p.services[n]) throw new BerthError('NotFound', `no such service: ${n}`);
    const names = p.positionals.length ? (p.flags['include-deps'] ? startOrder(e.p.services, p.positionals) : p.positionals) : Object.keys(e.p.services);
    for (const n of names) {
      const s = e.p.services[n]!;
      if (!s.build || !s.image) { e.say(` ${n} Skipped`); continue; }
      const ref = parseReference(imageName(e.p, s), false);
      e.say(` ${n} Pushing`);
      try { await e.c.push(repoName(ref), { tag: ref.tag ?? 'latest', auth: authFor(s.image) }); e.say(` ${n} Pushed`); } catch (err) {
        if (!p.flags['ignore-push-failures']) throw err;
        e.say(` ${n} Error ${(err as Error).message}`);
      }
    }
    return 0;
  });
};

/** `ls` needs no compose file: it groups every container by its project label. */
async function ls(ctx: Ctx, args: string[]): Promise<number> {
  const p = parseFlags(args, F({ all: { short: 'a', type: 'bool' }, quiet: { short: 'q', type: 'bool' }, format: { type: 'string' } }));
  const c = ctx.client();
  try {
    const list = await c.listContainers({ all: true, filters: { label: [L.project] } });
    const projects = new Map<string, { states: Map<string, number>; files: string }>();
    for (const x of list) {
      const name = x.Labels[L.project]!;
      const e = projects.get(name) ?? { states: new Map(), files: x.Labels[L.configFiles] ?? '' };
      e.states.set(x.State, (e.states.get(x.State) ?? 0) + 1);
      projects.set(name, e);
    }
    const rows = [...projects.entries()].filter(([, v]) => p.flags.all || v.states.has('running')).sort(([a], [b]) => a.localeCompare(b));
    const status = (m: Map<string, number>) => [...m.entries()].sort().map(([s, n]) => `${s}(${n})`).join(', ');
    if (p.flags.quiet) { process.stdout.write(rows.map(([n]) => `${n}\n`).join('')); return 0; }
    if (p.flags.format === 'json') { process.stdout.write(`${JSON.stringify(rows.map(([n, v]) => ({ Name: n, Status: status(v.states), ConfigFiles: v.files })))}\n`); return 0; }
    process.stdout.write(table([['NAME', 'STATUS', 'CONFIG FILES'], ...rows.map(([n, v]) => [n, status(v.states), v.files])]));
    return 0;
  } finally { c.close(); }
}

async function version(_ctx: Ctx, args: string[]): Promise<number> {
  const p = parseFlags(args, F({ short: { type: 'bool' }, format: { short: 'f', type: 'string' } }));
  if (p.flags.short) process.stdout.write(`${COMPOSE_VERSION}\n`);
  else if (p.flags.format === 'json') process.stdout.write(`${JSON.stringify({ version: `v${COMPOSE_VERSION}` })}\n`);
  else process.stdout.write(`Berth Compose version v${COMPOSE_VERSION}\n`);
  return 0;
}

export const COMPOSE_SUBCOMMANDS: Record<string, Sub> = {
  up, down, ps, logs, config, exec, run, start: each('start'), stop: each('stop'), restart: each('restart'), kill: each('kill'), rm: each('rm'), pull, ls, version,
  build: buildCmd, pause: pauseVerb('pause'), unpause: pauseVerb('unpause'), top, port, images, push,
};

/** `berth compose …`: HelpRequested from a subcommand's flags reaches the dispatcher's help printer. */
export async function compose(g: Globals, args: string[]): Promise<number> {
  const { load, rest } = parseComposeGlobals(args);
  const [sub, ...subArgs] = rest;
  const f = sub ? COMPOSE_SUBCOMMANDS[sub] : undefined;
  if (!f) throw new BerthError('InvalidArgument', `unknown compose command ${JSON.stringify(sub ?? '')}; one of: ${Object.keys(COMPOSE_SUBCOMMANDS).join(', ')}`);
  let project: Project | undefined;
  const ctx: Ctx = { g, load, client: () => connect(g), project: () => (project ??= loadProject(load)) };
  return f(ctx, subArgs);
}

/** For the dispatcher's GROUPS table: each subcommand under its own name. */
export const COMPOSE_GROUP: Record<string, (g: Globals, args: string[]) => Promise<number>> = Object.fromEntries(
  Object.keys(COMPOSE_SUBCOMMANDS).map((n) => [n, (g: Globals, a: string[]) => compose(g, [n, ...a])]),
);
