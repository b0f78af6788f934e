// cli/docker/system: `version`, `info`, `login`, `logout`, `events`, `system df` against the daemon.
import { BerthError } from '../../errors.js';
import { dfSummary, dfVerboseFormat, systemPrune } from './filesystem.js';
import { credentialsFor, DEFAULT_DOMAIN, removeCredentials, saveCredentials } from '../../registry/index.js';
import { BERTH_VERSION, API_VERSION } from '../../api/version.js';
import { checkArgCount, parseFlags } from '../args.js';
import { connect, type Globals } from './connect.js';
import { GO_JSON, goTyped, render, template } from './format.js';
import { optTimestamp } from './timestamp.js';
import { bytesSize } from './output.js';
import { rfc3339NanoFixed } from '../../util/time.js';
import type { EventMessage, SystemInfo } from '../../api/types.js';

/** docker/cli version.go names its template "version": Go's errors say so (`template: version:1:2: executing "version" …`). */
const versionNamed = (e: unknown): unknown => {
  if (e instanceof Error) e.message = e.message.replace('template: :', 'template: version:').replace('executing ""', 'executing "version"');
  return e;
};

export async function version(g: Globals, args: string[]): Promise<number> {
  const p = parseFlags(args, { format: { short: 'f', type: 'string' } });
  checkArgCount(p.positionals, 'version', 0);
  const fmt = p.flags.format ? String(p.flags.format) : undefined;
  // parsed before the daemon is asked; one that does not parse exits 64
  const engine = fmt ? await template() : undefined;
  if (engine) try { engine.checkTemplate(fmt!); } catch (e) { throw versionNamed(e); }
  const c = connect(g);
  try {
    const server = await c.versionInfo();
    // as the docker CLI: the version this client speaks with this daemon (negotiated, or DOCKER_API_VERSION) and its own
    const client = { Version: BERTH_VERSION, ApiVersion: c.version, DefaultAPIVersion: API_VERSION, GoVersion: `node${process.versions.node}`, Os: 'linux', Arch: process.arch === 'x64' ? 'amd64' : process.arch, Platform: { Name: 'Berth' } };
    // the Go types a field missing in them names: system.versionInfo, its clientVersion and *types.Version
    const data = goTyped({ Client: goTyped({ ...client, APIVersion: client.ApiVersion }, 'system.clientVersion'), Server: goTyped({ ...server, APIVersion: server.ApiVersion }, '*types.Version') }, 'system.versionInfo');
    if (engine) {
      try { process.stdout.write(`${engine.render(fmt!, data, 'system.versionInfo')}\n`); } catch (e) {
        // prettyPrintVersion: what Execute wrote, a newline, then its error
        if (e instanceof engine.TemplateError) process.stdout.write(`${(e as { partial?: string }).partial ?? ''}\n`);
        throw versionNamed(e);
      }
      return 0;
    }
    const eng = server.Components?.find((x) => x.Name === 'Engine');
    const downgraded = client.ApiVersion !== client.DefaultAPIVersion ? ` (downgraded from ${client.DefaultAPIVersion})` : '';
    process.stdout.write(`Client: Berth\n Version:           ${client.Version}\n API version:       ${client.ApiVersion}${downgraded}\n Node version:      ${process.versions.node}\n OS/Arch:           linux/${client.Arch}\n\n`);
    process.stdout.write(`Server:${server.Platform?.Name ? ` ${server.Platform.Name}` : ''}\n Engine:\n  Version:          ${server.Version}\n  API version:      ${server.ApiVersion} (minimum version ${server.MinAPIVersion})\n  Go version:       ${server.GoVersion}\n  Git commit:       ${server.GitCommit}\n  OS/Arch:          ${server.Os}/${server.Arch}\n  Experimental:     ${eng?.Details?.Experimental ?? 'false'}\n`);
    for (const comp of (server.Components ?? []).filter((x) => x.Name !== 'Engine')) process.stdout.write(` ${comp.Name}:\n  Version:          ${comp.Version}\n`);
    return 0;
  } finally { c.close(); }
}

/**
 * docker/cli system/info.go prettyPrintServerInfo between Cgroup Version and Kernel Version: plugins, swarm,
 * runtimes (sorted), the versions of the helpers, and the security options (`name=seccomp,profile=builtin`
 * as "seccomp" with "Profile: builtin" under it).
 */
export function serverPluginsAndRuntimes(i: SystemInfo): string[] {
  const out = [' Plugins:', `  Volume: ${(i.Plugins?.Volume ?? []).join(' ')}`, `  Network: ${(i.Plugins?.Network ?? []).join(' ')}`];
  if (i.Plugins?.Authorization?.length) out.push(`  Authorization: ${i.Plugins.Authorization.join(' ')}`);
  out.push(`  Log: ${(i.Plugins?.Log ?? []).join(' ')}`);
  if (i.CDISpecDirs?.length) out.push(' CDI spec directories:', ...i.CDISpecDirs.map((d) => `  ${d}`));
  out.push(` Swarm: ${i.Swarm?.LocalNodeState ?? 'inactive'}`);
  const runtimes = Object.keys(i.Runtimes ?? {}).sort();
  if (runtimes.length) out.push(` Runtimes: ${runtimes.join(' ')}`);
  out.push(` Default Runtime: ${i.DefaultRuntime}`, ` Init Binary: ${i.InitBinary ?? ''}`,
    ` containerd version: ${i.ContainerdCommit?.ID ?? ''}`, ` runc version: ${i.RuncCommit?.ID ?? ''}`, ` init version: ${i.InitCommit?.ID ?? ''}`);
  if (i.SecurityOptions?.length) {
    out.push(' Security Options:');
    for (const o of i.SecurityOptions) {
      const kv = Object.fromEntries(o.split(',').map((p) => { const j = p.indexOf('='); return j < 0 ? [p, ''] : [p.slice(0, j), p.slice(j + 1)]; }));
      out.push(`  ${kv.name ?? o}`);
      for (const [k, v] of Object.entries(kv)) if (k !== 'name') out.push(`   ${k.charAt(0).toUpperCase()}${k.slice(1)}: ${v}`);
    }
  }
  return out;
}

export async function info(g: Globals, args: string[]): Promise<number> {
  const p = parseFlags(args, { format: { short: 'f', type: 'string' } });
  checkArgCount(p.positionals, 'info', 0);
  const c = connect(g);
  try {
    const i = await c.info();
    if (p.flags.format) {
      // docker/cli system/info.go formatInfo: a parse error is its own (exit 64), Execute's is returned as it is
      const f = String(p.flags.format);
      // formatInfo parses the template as typed (no \t, \n turned into tabs and newlines)
      try { process.stdout.write(`${await render(f === 'json' ? '{{json .}}' : f, i, 'system.dockerInfo', true)}\n`); } catch (e) {
        if ((e as { parsing?: boolean }).parsing) throw (await template()).templateError(e, 'template parsing error: ', 64);
        process.stdout.write(`${(e as { partial?: string }).partial ?? ''}\n`);
        throw e;
      }
      return 0;
    }
    // docker/cli system/info.go: the client's section first, then the server's
    const lines = [
      'Client:', ` Version:    ${BERTH_VERSION}`, ' Context:    default', ' Debug Mode: false', '',
      'Server:',
      ` Containers: ${i.Containers}`, `  Running: ${i.ContainersRunning}`, `  Paused: ${i.ContainersPaused}`, `  Stopped: ${i.ContainersStopped}`,
      ` Images: ${i.Images}`, ` Server Version: ${i.ServerVersion}`, ` Storage Driver: ${i.Driver}`,
      ...(i.DriverStatus ?? []).map(([k, v]) => `  ${k}: ${v}`),
      ` Logging Driver: ${i.LoggingDriver}`, ` Cgroup Driver: ${i.CgroupDriver}`, ` Cgroup Version: ${i.CgroupVersion}`,
      ...serverPluginsAndRuntimes(i),
      ` Kernel Version: ${i.KernelVersion}`, ` Operating System: ${i.OperatingSystem}`,
      ` OSType: ${i.OSType}`, ` Architecture: ${i.Architecture}`, ` CPUs: ${i.NCPU}`, ` Total Memory: ${bytesSize(i.MemTotal)}`,
      ` Name: ${i.Name}`, ` ID: ${i.ID}`, ` Docker Root Dir: ${i.DockerRootDir}`, ` Debug Mode: ${i.Debug}`,
      ...(i.HttpProxy ? [` HTTP Proxy: ${i.HttpProxy}`] : []), ...(i.HttpsProxy ? [` HTTPS Proxy: ${i.HttpsProxy}`] : []), ...(i.NoProxy ? [` No Proxy: ${i.NoProxy}`] : []),
      ...(i.Labels?.length ? [' Labels:', ...i.Labels.map((l) => `  ${l}`)] : []),
      ` Experimental: ${!!i.ExperimentalBuild}`,
      ' Insecure Registries:', ...(i.RegistryConfig?.InsecureRegistryCIDRs ?? []).map((c) => `  ${c}`),
      ...(i.RegistryConfig?.Mirrors?.length ? [' Registry Mirrors:', ...i.RegistryConfig.Mirrors.map((m) => `  ${m}`)] : []),
      ` Live Restore Enabled: ${i.LiveRestoreEnabled}`,
      // docker/cli ends the server's section with an empty line
      '',
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    for (const w of i.Warnings ?? []) process.stderr.write(`${w}\n`);
    return 0;
  } finally { c.close(); }
}

async function readStdin(): Promise<string> {
  const parts: Buffer[] = [];
  for await (const x of process.stdin) parts.push(x as Buffer);
  return Buffer.concat(parts).toString('utf8').replace(/\r?\n$/, '');
}

function serverHost(s: string | undefined): string {
  if (!s) return DEFAULT_DOMAIN;
  const h = s.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  return h === 'index.docker.io' || h === 'registry-1.docker.io' ? DEFAULT_DOMAIN : h;
}

/** docker login: the daemon checks the credentials (POST /auth); the CLI stores them in $DOCKER_CONFIG/config.json. */
export async function login(g: Globals, args: string[]): Promise<number> {
  const p = parseFlags(args, { username: { short: 'u', type: 'string' }, password: { short: 'p', type: 'string' }, 'password-stdin': { type: 'bool' } });
  checkArgCount(p.positionals, 'login', 0, 1);
  const host = serverHost(p.positionals[0]);
  const username = p.flags.username as string | undefined;
  let password = p.flags.password as string | undefined;
  if (p.flags['password-stdin']) {
    if (password) throw new BerthError('InvalidArgument', '--password and --password-stdin are mutually exclusive');
    if (!username) throw new BerthError('InvalidArgument', 'Must provide --username with --password-stdin');
    password = await readStdin();
  }
  if (password && !p.flags['password-stdin']) process.stderr.write('WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n');
  if (!username || !password) {
    const saved = credentialsFor(host);
    if (!saved?.username) throw new BerthError('InvalidArgument', 'berth login needs --username and --password-stdin (no interactive prompt)');
  }
  const c = connect(g);
  try {
    const creds = username && password ? { username, password } : credentialsFor(host)!;
    const r = await c.auth({ username: creds.username, password: creds.password, serveraddress: host });
    if (username && password) saveCredentials(host, { username, password });
    process.stdout.write(`${r.Status}\n`);
    return 0;
  } finally { c.close(); }
}

export async function logout(_g: Globals, args: string[]): Promise<number> {
  const p = parseFlags(args, {});
  checkArgCount(p.positionals, 'logout', 0, 1);
  const host = serverHost(p.positionals[0]);
  if (removeCredentials(host)) process.stdout.write(`Removing login credentials for ${host === DEFAULT_DOMAIN ? 'https://index.docker.io/v1/' : host}\n`);
  else process.stdout.write(`Not logged in to ${host}\n`);
  return 0;
}

/**
 * docker/cli events.go prettyPrintEvent: the time in the local zone with nine fraction digits, then type,
 * action, actor and its attributes sorted by key (Go's sort.Strings: by bytes, not by locale).
 */
export function eventLine(e: EventMessage, ns: bigint, offsetMin = -new Date(Number(ns / 1_000_000n)).getTimezoneOffset()): string {
  const attrs = Object.keys(e.Actor?.Attributes ?? {}).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map((k) => `${k}=${e.Actor.Attributes[k]}`).join(', ');
  const t = ns !== 0n ? `${rfc3339NanoFixed(ns, offsetMin)} ` : '';
  return `${t}${e.Type} ${e.Action} ${e.Actor?.ID ?? ''}${attrs ? ` (${attrs})` : ''}\n`;
}

/**
 * An event as the docker CLI's --format sees it: events.Message's Go field names (Status, ID, From, Scope,
 * Time, TimeNano beside the wire's Type, Action, Actor), and `{{json .}}` the wire's object with timeNano
 * exact (a JS number rounds past 2^53).
 */
export function eventContext(e: EventMessage, ns: bigint): object {
  const go = { Status: e.status ?? '', ID: e.id ?? '', From: e.from ?? '', Scope: e.scope ?? '', Time: e.time ?? 0, TimeNano: ns };
  const view = { ...e, ...(e.Actor ? { Actor: goTyped({ ...e.Actor }, 'events.Actor') } : {}) };
  for (const [k, v] of Object.entries(go)) Object.defineProperty(view, k, { value: v, enumerable: false });
  const json = () => JSON.stringify(e).replace(/"timeNano":[0-9.e+]+/, `"timeNano":${ns}`);
  return Object.defineProperty(view, GO_JSON, { value: json, enumerable: false });
}

/** `events [--since --until --filter k=v --format]`: docker's one line per event, until interrupted or --until. */
export async function events(g: Globals, args: string[]): Promise<number> {
  const p = parseFlags(args, { since: { type: 'string' }, until: { type: 'string' }, filter: { short: 'f', type: 'list' }, format: { type: 'string' } });
  checkArgCount(p.positionals, 'events', 0);
  const filters: Record<string, string[]> = {};
  for (const f of (p.flags.filter as string[] | undefined) ?? []) {
    const i = f.indexOf('=');
    if (i <= 0) throw new BerthError('InvalidArgument', `bad format of filter (expected name=value): ${f}`);
    (filters[f.slice(0, i)] ??= []).push(f.slice(i + 1));
  }
  const since = optTimestamp(p.flags.since);
  const until = optTimestamp(p.flags.until);
  const fmt = p.flags.format === 'json' ? '{{json .}}' : (p.flags.format as string | undefined);
  const engine = fmt ? await template() : undefined; // the callback writes each event as it comes
  // docker/cli events.go makeTemplate: parsed, then run over an empty events.Message, so a field it lacks
  // fails before any event; either error is "Error parsing format: …", exit 64
  if (engine) {
    try { engine.render(fmt!, eventContext({ Type: '', Action: '', Actor: { ID: '', Attributes: {} }, scope: '', time: 0, timeNano: 0 } as unknown as EventMessage, 0n), '*events.Message'); } catch (e) {
      if (!(e instanceof engine.TemplateError)) throw e;
      throw Object.assign(new BerthError('InvalidArgument', `Error parsing format: ${e.message}`), { exitCode: 64 });
    }
  }
  const c = connect(g);
  const stop = new AbortController();
  const onInt = () => stop.abort();
  process.once('SIGINT', onInt);
  try {
    await c.events({ since, until, filters: Object.keys(filters).length ? filters : undefined, signal: stop.signal }, (e, ns) => {
      if (engine) { process.stdout.write(`${engine.render(fmt!, eventContext(e, ns), '*events.Message')}\n`); return; }
      process.stdout.write(eventLine(e, ns));
    });
    return 0;
  } finally { process.off('SIGINT', onInt); c.close(); }
}

/** `system df`: what images and containers take. */
export async function system(g: Globals, args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === 'info') return info(g, rest);
  if (sub === 'events') return events(g, rest);
  if (sub === 'prune') return systemPrune(g, rest);
  if (sub !== 'df') throw new BerthError('InvalidArgument', `unknown system command ${JSON.stringify(sub ?? '')}; one of: df, info, events, prune`);
  const df = parseFlags(rest, { verbose: { short: 'v', type: 'bool' }, format: { type: 'string' } });
  checkArgCount(df.positionals, 'system df', 0);
  const c = connect(g);
  try {
    const answer = await c.df();
    // dockerd before 25 (API < 1.44) sends null for an empty list
    const d = { ...answer, Images: answer.Images ?? [], Containers: answer.Containers ?? [], Volumes: answer.Volumes ?? [], BuildCache: answer.BuildCache ?? [] };
    const format = df.flags.format as string | undefined;
    process.stdout.write(df.flags.verbose ? await dfVerboseFormat(d, format || 'table') : await dfSummary(d, format));
    return 0;
  } finally { c.close(); }
}
