// cli/docker/containers: the docker CLI's container commands against the daemon (run, create, start,
// stop, restart, kill, rm, ps, logs, attach, inspect, wait, rename). Flags become the requests the
// docker CLI sends (docs: shared/reference/docker-engine-api.md §3), output copies its format.
import { readFileSync } from 'node:fs';
import type * as net from 'node:net';
import type { ContainerCreateRequest, ContainerSummary, HostConfigWire } from '../../api/types.js';
import { ApiError, demux, type Client } from '../../client/index.js';
import { BerthError } from '../../errors.js';
import { familiarString, formatReference, parseReference, repoName } from '../../registry/reference.js';
import { HelpRequested, checkArgCount, parseFlags, usageMistake, type FlagSpec } from '../args.js';
import { connect, report, type Globals } from './connect.js';
import { checkTemplate, formatRows, printInspect, render, template, type Inspected } from './format.js';
import { checkInspectType, lookupAll } from './inspect.js';
import { ago, humanSize3, progressPrinter } from './output.js';
import { parseGoDuration } from '../../util/go-duration.js';
import { optTimestamp } from './timestamp.js';
import { compareVersions } from '../../api/version.js';
import { parseLogOpts, parseMountFlag, splitVolumeFlags } from './mount-flag.js';
import { mergeExposed, parseExpose, parsePortSpecs } from '../../network/ports.js';

// ---- flag values (go-units, docker opts) ----

/** go-units RAMInBytes: "32m" → 33554432 (binary units, optional "b"/"ib"); `flag` names it in pflag's words. */
export function ramInBytes(s: string, flag?: string): number {
  const m = /^(\d+(?:\.\d+)?) ?([kmgtp])?(i?b)?$/i.exec(s.trim());
  if (!m) throw new BerthError('InvalidArgument', `${flag ? `invalid argument "${s}" for "${flag}" flag: ` : ''}invalid size: '${s}'`);
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 }[(m[2] ?? '').toLowerCase()]!;
  return Math.floor(Number(m[1]) * mult);
}

/** --memory-swap: -1 means unlimited. */
function memSwap(s: string): number {
  return s.trim() === '-1' ? -1 : ramInBytes(s, '--memory-swap');
}

/** --cpus 1.5 → NanoCpus 1500000000 (opts.NanoCPUs). */
export function nanoCpus(s: string): number {
  const n = Number(s);
  if (!Number.isFinite(n) || n < 0) throw new BerthError('InvalidArgument', `invalid argument "${s}" for "--cpus" flag: failed to parse ${s} as a rational number`);
  return Math.round(n * 1e9);
}

/** --ulimit nofile=1024:2048 */
export function parseUlimit(s: string): { Name: string; Soft: number; Hard: number } {
  const m = /^([a-z]+)=(-?\d+)(?::(-?\d+))?$/.exec(s);
  if (!m) throw new BerthError('InvalidArgument', `invalid argument "${s}" for "--ulimit" flag: invalid ulimit argument: ${s}`);
  const soft = Number(m[2]);
  const hard = m[3] === undefined ? soft : Number(m[3]);
  if (soft > hard && hard !== -1) throw new BerthError('InvalidArgument', `invalid argument "${s}" for "--ulimit" flag: ulimit soft limit must be less than or equal to hard limit: ${soft} > ${hard}`);
  return { Name: m[1]!, Soft: soft, Hard: hard };
}

/** --device /dev/x[:/dev/y][:rwm] */
export function parseDevice(s: string): { PathOnHost: string; PathInContainer: string; CgroupPermissions: string } {
  const parts = s.split(':');
  let perms = 'rwm';
  if (parts.length > 1 && /^[rwm]+$/.test(parts[parts.length - 1]!)) perms = parts.pop()!;
  if (parts.length > 2 || !parts[0]) throw new BerthError('InvalidArgument', `invalid argument "${s}" for "--device" flag: bad format for path: ${s}`);
  return { PathOnHost: parts[0], PathInContainer: parts[1] ?? parts[0], CgroupPermissions: perms };
}

/** -e VAR takes VAR's value from this environment; left out when unset (opts.ValidateEnv). */
function envValue(v: string): string | undefined {
  if (v.includes('=')) return v;
  const x = process.env[v];
  return x === undefined ? undefined : `${v}=${x}`;
}

export function readEnvFile(file: string): string[] {
  let text: string;
  try { text = readFileSync(file, 'utf8'); } catch (e) { throw new BerthError('InvalidArgument', `open ${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`); }
  const out: string[] = [];
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.replace(/^\s+/, '');
    if (!line || line.startsWith('#')) continue;
    const v = envValue(line);
    if (v !== undefined) out.push(v);
  }
  return out;
}

/** --security-opt seccomp=FILE sends the profile's content, compacted (docker parseSecurityOpts). */
export function securityOpts(opts: string[]): string[] {
  return opts.map((o) => {
    const sep = o.indexOf('=') > 0 ? '=' : o.indexOf(':') > 0 ? ':' : '';
    if (!sep) return o === 'no-new-privileges' ? o : o;
    const k = o.slice(0, o.indexOf(sep));
    const v = o.slice(o.indexOf(sep) + 1);
    if (k !== 'seccomp' || v === 'unconfined' || v === 'builtin') return `${k}=${v}`;
    let f: string;
    try { f = readFileSync(v, 'utf8'); } catch (e) { throw new BerthError('InvalidArgument', `opening seccomp profile (${v}) failed: ${(e as Error).message}`); }
    try { return `seccomp=${JSON.stringify(JSON.parse(f))}`; } catch (e) { throw new BerthError('InvalidArgument', `compacting json for seccomp profile (${v}) failed: ${(e as Error).message}`); }
  });
}

function labelsOf(l: string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const x of l ?? []) { const i = x.indexOf('='); if (i < 0) out[x] = ''; else out[x.slice(0, i)] = x.slice(i + 1); }
  return out;
}

const CREATE_FLAGS: Record<string, FlagSpec> = {
  detach: { short: 'd', type: 'bool' }, interactive: { short: 'i', type: 'bool' }, tty: { short: 't', type: 'bool' }, rm: { type: 'bool' },
  name: { type: 'string' }, env: { short: 'e', type: 'list' }, 'env-file': { type: 'list' }, workdir: { short: 'w', type: 'string' },
  user: { short: 'u', type: 'string' }, entrypoint: { type: 'string' }, memory: { short: 'm', type: 'string' }, 'memory-swap': { type: 'string' },
  'memory-reservation': { type: 'string' }, cpus: { type: 'string' }, 'cpu-shares': { short: 'c', type: 'string' }, 'cpu-quota': { type: 'string' },
  'cpu-period': { type: 'string' }, 'cpuset-cpus': { type: 'string' }, 'cpuset-mems': { type: 'string' }, 'pids-limit': { type: 'string' },
  'cap-add': { type: 'list' }, 'cap-drop': { type: 'list' }, 'security-opt': { type: 'list' }, 'read-only': { type: 'bool' },
  tmpfs: { type: 'list' }, ulimit: { type: 'list' }, device: { type: 'list' }, privileged: { type: 'bool' }, network: { type: 'string' }, net: { type: 'string' },
  volume: { short: 'v', type: 'list' }, hostname: { short: 'h', type: 'string' }, domainname: { type: 'string' }, label: { short: 'l', type: 'list' },
  'stop-signal': { type: 'string' }, 'stop-timeout': { type: 'string' }, 'detach-keys': { type: 'string' }, 'sig-proxy': { type: 'bool' },
  attach: { short: 'a', type: 'list' }, pull: { type: 'string' }, platform: { type: 'string' }, init: { type: 'bool' }, 'shm-size': { type: 'string' },
  'oom-kill-disable': { type: 'bool' }, 'oom-score-adj': { type: 'string' }, quiet: { short: 'q', type: 'bool' }, 'cgroupns': { type: 'string' },
  ipc: { type: 'string' }, pid: { type: 'string' }, 'group-add': { type: 'list' }, uts: { type: 'string' }, sysctl: { type: 'list' }, 'cgroup-parent': { type: 'string' },
  restart: { type: 'string' }, 'health-cmd': { type: 'string' }, 'health-interval': { type: 'string' }, 'health-timeout': { type: 'string' },
  'health-retries': { type: 'string' }, 'health-start-period': { type: 'string' }, 'health-start-interval': { type: 'string' }, 'no-healthcheck': { type: 'bool' },
  mount: { type: 'list' }, 'volumes-from': { type: 'list' }, 'log-driver': { type: 'string' }, 'log-opt': { type: 'list' },
  ip: { type: 'string' }, 'network-alias': { type: 'list' }, 'mac-address': { type: 'string' }, 'add-host': { type: 'list' }, link: { type: 'list' },
  dns: { type: 'list' }, 'dns-search': { type: 'list' }, 'dns-option': { type: 'list' }, 'dns-opt': { type: 'list' },
  publish: { short: 'p', type: 'list' }, 'publish-all': { short: 'P', type: 'bool' }, expose: { type: 'list' },
};

/** docker opts.ParseRestartPolicy: "name[:count]"; the name itself is checked by the daemon. */
function restartPolicy(v: string | undefined): { Name: string; MaximumRetryCount: number } {
  if (!v) return { Name: 'no', MaximumRetryCount: 0 };
  const i = v.indexOf(':');
  const [name, count] = i < 0 ? [v, ''] : [v.slice(0, i), v.slice(i + 1)];
  if (i >= 0 && name === '') throw new BerthError('InvalidArgument', 'invalid restart policy format: no policy provided before colon');
  if (count !== '' && !/^[-+]?\d+$/.test(count)) throw new BerthError('InvalidArgument', 'invalid restart policy format: maximum retry count must be an integer');
  return { Name: name, MaximumRetryCount: count === '' ? 0 : Number(count) };
}

/** docker cli/command/container/opts.go: the --health-* flags and --no-healthcheck → Config.Healthcheck. */
function healthcheck(f: Record<string, unknown>): ContainerCreateRequest['Healthcheck'] {
  const dur = (flag: string): number => {
    const v = f[flag] as string | undefined;
    if (v === undefined) return 0;
    const ns = parseGoDuration(v);
    if (ns === undefined) throw new BerthError('InvalidArgument', `invalid argument "${v}" for "--${flag}" flag: time: invalid duration "${v}"`);
    if (ns < 0) throw new BerthError('InvalidArgument', `--${flag} cannot be negative`);
    return ns;
  };
  const retries = int(f['health-retries'], 'health-retries') ?? 0;
  const h = { Interval: dur('health-interval'), Timeout: dur('health-timeout'), StartPeriod: dur('health-start-period'), StartInterval: dur('health-start-interval'), Retries: retries };
  const cmd = (f['health-cmd'] as string | undefined) ?? '';
  const any = cmd !== '' || h.Interval || h.Timeout || h.StartPeriod || h.StartInterval || retries;
  if (f['no-healthcheck']) {
    if (any) throw new BerthError('InvalidArgument', '--no-healthcheck conflicts with --health-* options');
    return { Test: ['NONE'] };
  }
  if (!any) return undefined;
  if (retries < 0) throw new BerthError('InvalidArgument', '--health-retries cannot be negative');
  return { Test: cmd ? ['CMD-SHELL', cmd] : [], ...h };
}

/**
 * --ip, --network-alias, --mac-address go to the endpoint of the --network (docker CLI parseNetworkOpts);
 * so does --link on a user network, where it is an alias (it also stays in HostConfig.Links, as docker sends it).
 */
function endpointsOf(f: Record<string, unknown>, network: string | undefined): Record<string, unknown> {
  const ip = f.ip as string | undefined, aliases = f['network-alias'] as string[] | undefined, mac = f['mac-address'] as string | undefined;
  const name = !network || network === 'default' ? 'bridge' : network;
  const links = name === 'bridge' || name === 'none' ? undefined : f.link as string[] | undefined;
  if (!ip && !aliases?.length && !mac && !links?.length) return {};
  return { [name]: { ...(ip ? { IPAMConfig: { IPv4Address: ip } } : {}), ...(aliases?.length ? { Aliases: aliases } : {}), ...(mac ? { MacAddress: mac } : {}), ...(links?.length ? { Links: links } : {}) } };
}

/** -p and --expose → ExposedPorts and PortBindings, as the docker CLI sends them (nat.ParsePortSpecs). */
function portsOf(f: Record<string, unknown>): { ExposedPorts: Record<string, object>; PortBindings: Record<string, Array<{ HostIp: string; HostPort: string }>> } {
  const p = parsePortSpecs((f.publish as string[] | undefined) ?? []);
  const exposed = mergeExposed(p.exposed, parseExpose((f.expose as string[] | undefined) ?? [])) ?? [];
  return {
    ExposedPorts: Object.fromEntries(exposed.map((k) => [k, {}])),
    PortBindings: Object.fromEntries(Object.entries(p.bindings).map(([k, l]) => [k, l.map((b) => ({ HostIp: b.hostIp, HostPort: b.hostPort }))])),
  };
}

function int(v: unknown, flag: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw new BerthError('InvalidArgument', `invalid argument "${String(v)}" for "--${flag}" flag: strconv.ParseInt: parsing "${String(v)}": invalid syntax`);
  return n;
}

export interface CreateOptions { body: ContainerCreateRequest; name?: string; platform?: string; pull: string; quiet: boolean; detach: boolean; detachKeys?: string; sigProxy: boolean }

/** `run`/`create` flags → the CreateRequest the docker CLI sends (cli/command/container/opts.go parse). */
export function createRequest(args: string[], run: boolean): CreateOptions {
  const p = parseFlags(args, CREATE_FLAGS, 1);
  const f = p.flags;
  const image = p.positionals[0];
  if (!image) throw new BerthError('InvalidArgument', `"${run ? 'run' : 'create'}" requires at least 1 argument.\nSee 'berth ${run ? 'run' : 'create'} --help'.\n\nUsage:  berth ${run ? 'run' : 'create'} [OPTIONS] IMAGE [COMMAND] [ARG...]`);
  const detach = run && !!f.detach;
  const attach = (f.attach as string[] | undefined)?.map((x) => x.toLowerCase());
  if (detach && attach?.length) throw new BerthError('InvalidArgument', 'Conflicting options: -a and -d');
  if (detach && f.rm === undefined) { /* fine: --rm with -d is allowed since API 1.25 */ }
  const interactive = !!f.interactive;
  const attachStdin = run ? (attach ? attach.includes('stdin') : interactive && !detach) : !!attach?.includes('stdin');
  const attachStdout = run ? (attach ? attach.includes('stdout') : !detach) : !!attach?.includes('stdout');
  const attachStderr = run ? (attach ? attach.includes('stderr') : !detach) : !!attach?.includes('stderr');
  const tty = !!f.tty;
  const env = [...((f['env-file'] as string[] | undefined) ?? []).flatMap(readEnvFile), ...((f.env as string[] | undefined) ?? []).map(envValue).filter((x): x is string => x !== undefined)];
  const tmpfs: Record<string, string> = {};
  for (const t of (f.tmpfs as string[] | undefined) ?? []) { const i = t.indexOf(':'); if (i < 0) tmpfs[t] = ''; else tmpfs[t.slice(0, i)] = t.slice(i + 1); }
  const sysctls: Record<string, string> = {};
  for (const s of (f.sysctl as string[] | undefined) ?? []) { const i = s.indexOf('='); if (i <= 0) throw new BerthError('InvalidArgument', `invalid argument "${s}" for "--sysctl" flag: sysctl '${s}' is not allowed`); sysctls[s.slice(0, i)] = s.slice(i + 1); }
  const network = (f.network ?? f.net) as string | undefined;
  const ports = portsOf(f);
  const vols = splitVolumeFlags((f.volume as string[] | undefined) ?? []);
  const mounts = ((f.mount as string[] | undefined) ?? []).map(parseMountFlag);
  // process.stdout is made on first use; only a TTY run needs its size
  const out = tty ? process.stdout : undefined;
  const host: HostConfigWire = {
    Binds: vols.binds.length ? vols.binds : null, NetworkMode: network || 'default', AutoRemove: !!f.rm,
    PortBindings: ports.PortBindings, PublishAllPorts: !!f['publish-all'],
    RestartPolicy: restartPolicy(f.restart as string | undefined),
    LogConfig: { Type: (f['log-driver'] as string | undefined) ?? '', Config: parseLogOpts((f['log-opt'] as string[] | undefined) ?? []) },
    ...(mounts.length ? { Mounts: mounts } : {}), VolumesFrom: (f['volumes-from'] as string[] | undefined) ?? null,
    ConsoleSize: out?.isTTY && out.rows && out.columns ? [out.rows, out.columns] : [0, 0],
    CapAdd: (f['cap-add'] as string[] | undefined) ?? null, GroupAdd: (f['group-add'] as string[] | undefined) ?? null, CapDrop: (f['cap-drop'] as string[] | undefined) ?? null,
    CgroupnsMode: (f.cgroupns as string | undefined) ?? '', IpcMode: (f.ipc as string | undefined) ?? '', PidMode: (f.pid as string | undefined) ?? '', UTSMode: (f.uts as string | undefined) ?? '',
    Privileged: !!f.privileged, ReadonlyRootfs: !!f['read-only'], SecurityOpt: f['security-opt'] ? securityOpts(f['security-opt'] as string[]) : null,
    Tmpfs: Object.keys(tmpfs).length ? tmpfs : undefined, Sysctls: Object.keys(sysctls).length ? sysctls : undefined,
    ShmSize: f['shm-size'] ? ramInBytes(String(f['shm-size']), '--shm-size') : 0,
    CpuShares: int(f['cpu-shares'], 'cpu-shares') ?? 0, Memory: f.memory ? ramInBytes(String(f.memory), '-m, --memory') : 0,
    NanoCpus: f.cpus ? nanoCpus(String(f.cpus)) : 0, CgroupParent: (f['cgroup-parent'] as string | undefined) ?? '',
    CpuPeriod: int(f['cpu-period'], 'cpu-period') ?? 0, CpuQuota: int(f['cpu-quota'], 'cpu-quota') ?? 0,
    CpusetCpus: (f['cpuset-cpus'] as string | undefined) ?? '', CpusetMems: (f['cpuset-mems'] as string | undefined) ?? '',
    Devices: ((f.device as string[] | undefined) ?? []).map(parseDevice),
    MemoryReservation: f['memory-reservation'] ? ramInBytes(String(f['memory-reservation']), '--memory-reservation') : 0,
    MemorySwap: f['memory-swap'] ? memSwap(String(f['memory-swap'])) : 0, MemorySwappiness: -1,
    OomKillDisable: !!f['oom-kill-disable'], OomScoreAdj: int(f['oom-score-adj'], 'oom-score-adj') ?? 0,
    PidsLimit: int(f['pids-limit'], 'pids-limit') ?? 0,
    Ulimits: ((f.ulimit as string[] | undefined) ?? []).map(parseUlimit),
    ...(f.init !== undefined ? { Init: !!f.init } : {}),
    Dns: (f.dns as string[] | undefined) ?? [], DnsSearch: (f['dns-search'] as string[] | undefined) ?? [],
    DnsOptions: [...((f['dns-option'] as string[] | undefined) ?? []), ...((f['dns-opt'] as string[] | undefined) ?? [])],
    ExtraHosts: (f['add-host'] as string[] | undefined) ?? null,
    ...((f.link as string[] | undefined)?.length ? { Links: f.link as string[] } : {}),
  };
  const entrypoint = f.entrypoint !== undefined ? [String(f.entrypoint)] : null;
  const health = healthcheck(f);
  if (f.rm && host.RestartPolicy!.Name !== 'no') throw new BerthError('InvalidArgument', 'conflicting options: cannot specify both --restart and --rm');
  const body: ContainerCreateRequest = {
    Hostname: (f.hostname as string | undefined) ?? '', Domainname: (f.domainname as string | undefined) ?? '', User: (f.user as string | undefined) ?? '',
    AttachStdin: attachStdin, AttachStdout: attachStdout, AttachStderr: attachStderr, ExposedPorts: ports.ExposedPorts,
    Tty: tty, OpenStdin: interactive, StdinOnce: interactive && attachStdin,
    Env: env, Cmd: p.rest.length ? p.rest : null, Image: image, Volumes: vols.volumes, WorkingDir: (f.workdir as string | undefined) ?? '',
    Entrypoint: entrypoint, OnBuild: null, Labels: labelsOf(f.label as string[] | undefined),
    ...(health ? { Healthcheck: health } : {}),
    ...(f['stop-signal'] ? { StopSignal: String(f['stop-signal']) } : {}),
    ...(f['stop-timeout'] !== undefined ? { StopTimeout: int(f['stop-timeout'], 'stop-timeout') } : {}),
    HostConfig: host,
    NetworkingConfig: { EndpointsConfig: endpointsOf(f, network) },
  };
  const pull = (f.pull as string | undefined) ?? 'missing';
  if (!['always', 'missing', 'never'].includes(pull)) throw new BerthError('InvalidArgument', `invalid pull option: '${pull}': must be one of "always", "missing" or "never"`);
  return {
    body, name: f.name as string | undefined, platform: f.platform as string | undefined, pull, quiet: !!f.quiet, detach,
    detachKeys: f['detach-keys'] as string | undefined, sigProxy: f['sig-proxy'] === undefined ? true : !!f['sig-proxy'],
  };
}

async function pullImage(c: Client, image: string, quiet: boolean): Promise<void> {
  const r = parseReference(image, false);
  const tag = r.digest ?? r.tag ?? 'latest';
  // the credential store (child_process, os) loads only when run has to pull
  const { authFor } = await import('./credentials.js');
  await c.pull(repoName(r), { tag, auth: authFor(image), onProgress: quiet ? undefined : progressPrinter(process.stderr) });
}

/** docker's createContainer: create, and on 404 "No such image" pull (progress on stderr) and create again. */
async function createWithPull(c: Client, o: CreateOptions): Promise<string> {
  const image = o.body.Image!;
  if (o.pull === 'always') await pullImage(c, image, o.quiet);
  try {
    const r = await c.createContainer(o.body, { name: o.name, platform: o.platform });
    for (const w of r.Warnings ?? []) process.stderr.write(`WARNING: ${w}\n`);
    return r.Id;
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 404 || !/No such image/i.test(e.message) || o.pull !== 'missing') throw e;
    const r = parseReference(image, false);
    const shown = familiarString(formatReference(r.tag || r.digest ? r : { ...r, tag: 'latest' }));
    process.stderr.write(`Unable to find image '${shown}' locally\n`);
    await pullImage(c, image, o.quiet);
    const again = await c.createContainer(o.body, { name: o.name, platform: o.platform });
    for (const w of again.Warnings ?? []) process.stderr.write(`WARNING: ${w}\n`);
    return again.Id;
  }
}

/** docker run's exit status for a daemon error (run.go toStatusError). */
export function runErrorCode(msg: string): number {
  if (/executable file not found|no such file or directory|not found in \$PATH/i.test(msg)) return 127;
  if (/permission denied/i.test(msg)) return 126;
  return 125;
}

function runError(e: unknown, cmd: string): number {
  if (e instanceof HelpRequested) throw e;
  // a wrong command line: the dispatcher prints it with the usage, as for any command
  if (e instanceof BerthError && e.kind === 'InvalidArgument' && usageMistake(e.message)) throw e;
  if (!(e instanceof ApiError)) {
    if (e instanceof BerthError && e.kind === 'Unavailable') return report(e) && 125;
    process.stderr.write(`berth: ${e instanceof Error ? e.message : String(e)}\n\nRun 'berth ${cmd} --help' for more information\n`);
    return 125;
  }
  process.stderr.write(`berth: Error response from daemon: ${e.message}\n\nRun 'berth ${cmd} --help' for more information\n`);
  return runErrorCode(e.message);
}

// ---- streams ----

/** Output of an attach/log stream to our stdout/stderr: raw with a TTY, demultiplexed without. */
async function copyOutput(src: AsyncIterable<Uint8Array>, tty: boolean): Promise<void> {
  const write = (out: NodeJS.WriteStream, b: Uint8Array) => (out.write(b) ? undefined : new Promise<void>((r) => out.once('drain', r)));
  if (tty) { for await (const b of src) await write(process.stdout, b); return; }
  for await (const f of demux(src)) await write(f.stream === 2 ? process.stderr : process.stdout, f.payload);
}

async function* withHead(head: Buffer, socket: net.Socket): AsyncGenerator<Uint8Array> {
  if (head.length) yield head;
  for await (const c of socket) yield c as Uint8Array;
}

export interface Session { output: Promise<void>; close(): void }

/** The hijacked stream: stdin (raw mode on a terminal) to the socket, output to ours; half-close at stdin EOF. */
export function stream(c: Client, id: string, sock: { socket: net.Socket; head: Buffer }, o: { tty: boolean; stdin: boolean }, resize?: (h: number, w: number) => Promise<unknown>): Session {
  const { socket, head } = sock;
  socket.on('error', () => { /* ends the output loop */ });
  // process.stdin is made on first use (a ReadStream and fs/promises for a file): only when it is attached
  const stdin = o.stdin ? process.stdin : undefined;
  let raw = false;
  const restore = () => { if (raw) { try { stdin!.setRawMode(false); } catch { /* gone */ } raw = false; } };
  if (stdin) {
    if (o.tty && stdin.isTTY) { stdin.setRawMode(true); raw = true; }
    stdin.on('data', (d: Buffer) => { if (!socket.destroyed) socket.write(d); });
    stdin.once('end', () => { if (!socket.destroyed) socket.end(); });
    stdin.resume();
  } else {
    socket.end(); // the CLI half-closes at once when stdin is not attached
  }
  let onResize: (() => void) | undefined;
  if (o.tty && process.stdout.isTTY) {
    onResize = () => { void (resize ?? ((h, w) => c.resizeContainer(id, h, w)))(process.stdout.rows, process.stdout.columns).catch(() => {}); };
    process.stdout.on('resize', onResize);
  }
  const output = copyOutput(withHead(head, socket), o.tty).catch(() => {}).finally(restore);
  return {
    output,
    close() {
      restore();
      if (onResize) process.stdout.off('resize', onResize);
      if (stdin) { stdin.pause(); stdin.removeAllListeners('data'); }
      socket.destroy();
    },
  };
}

const PROXIED: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2'];

function proxySignals(c: Client, id: string): () => void {
  const handlers = PROXIED.map((sig) => {
    const h = () => { void c.killContainer(id, sig.slice(3)).catch(() => {}); };
    process.on(sig, h);
    return [sig, h] as const;
  });
  return () => { for (const [s, h] of handlers) process.off(s, h); };
}

function resizeOnce(c: Client, id: string): void {
  if (!process.stdout.isTTY) return;
  void (async () => {
    // docker retries the first resize up to 10 times (tty.go initTtySize)
    for (let i = 0; i < 10; i++) {
      try { await c.resizeContainer(id, process.stdout.rows, process.stdout.columns); return; } catch { await new Promise((r) => setTimeout(r, 10 * (i + 1))); }
    }
  })();
}

// ---- commands ----

export async function run(g: Globals, args: string[]): Promise<number> {
  let o: CreateOptions;
  try { o = createRequest(args, true); } catch (e) { return runError(e, 'run'); }
  const c = connect(g);
  try {
    let id: string;
    try { id = await createWithPull(c, o); } catch (e) { return runError(e, 'run'); }
    const b = o.body;
    if (o.detach) {
      try { await c.startContainer(id); } catch (e) { return runError(e, 'run'); }
      process.stdout.write(`${id}\n`);
      return 0;
    }
    const tty = !!b.Tty;
    if (tty && b.AttachStdin && !process.stdin.isTTY) { process.stderr.write('the input device is not a TTY\n'); await c.removeContainer(id, { force: true }).catch(() => {}); return 1; }
    const attached = b.AttachStdin || b.AttachStdout || b.AttachStderr;
    // attach and wait are both in place before start, as docker run has them; they go out together (one
    // round trip, not two), and whichever of them failed takes the other one down with it
    const attaching = attached ? c.attachContainer(id, { stdin: b.AttachStdin, stdout: b.AttachStdout, stderr: b.AttachStderr, stream: true, detachKeys: o.detachKeys }) : undefined;
    // below API 1.25 the daemon ignores AutoRemove and the client removes the container itself (docker's
    // legacyWaitExitOrRemoved): with DOCKER_API_VERSION=1.24 a wait for 'removed' would never end
    const clientRemoves = !!b.HostConfig?.AutoRemove && compareVersions(c.version, '1.25') < 0;
    const waiting = c.waitContainer(id, b.HostConfig?.AutoRemove && !clientRemoves ? 'removed' : 'next-exit');
    const [sock, waited] = await Promise.allSettled([attaching, waiting]);
    if (sock.status === 'rejected' || waited.status === 'rejected') {
      if (sock.status === 'fulfilled') sock.value?.socket.destroy();
      if (waited.status === 'fulfilled') waited.value.abort();
      throw sock.status === 'rejected' ? sock.reason : (waited as PromiseRejectedResult).reason;
    }
    const session = sock.value ? stream(c, id, sock.value, { tty, stdin: !!b.AttachStdin }) : undefined;
    const wait = waited.value;
    const unproxy = o.sigProxy && !tty ? proxySignals(c, id) : () => {};
    try {
      try {
        await c.startContainer(id);
      } catch (e) {
        session?.close();
        if (b.HostConfig?.AutoRemove) await Promise.race([wait.result, new Promise((r) => setTimeout(r, 2000))]).catch(() => {});
        wait.abort();
        if (clientRemoves) await c.removeContainer(id, { force: true, volumes: true }).catch(() => {});
        return runError(e, 'run');
      }
      if (tty) resizeOnce(c, id);
      if (session) await session.output;
      const st = await wait.result.catch((e: unknown) => ({ StatusCode: 125, Error: { Message: e instanceof Error ? e.message : String(e) } }));
      session?.close();
      if (clientRemoves) await c.removeContainer(id, { volumes: true }).catch((e: unknown) => { process.stderr.write(`error removing container: ${e instanceof Error ? e.message : String(e)}\n`); });
      if (st.Error?.Message) { process.stderr.write(`berth: Error response from daemon: ${st.Error.Message}\n`); return 125; }
      return st.StatusCode;
    } finally {
      unproxy();
      if (b.AttachStdin) process.stdin.destroy();
    }
  } finally { c.close(); }
}

export async function create(g: Globals, args: string[]): Promise<number> {
  let o: CreateOptions;
  try { o = createRequest(args, false); } catch (e) { return runError(e, 'create'); }
  const c = connect(g);
  try {
    const id = await createWithPull(c, o);
    process.stdout.write(`${id}\n`);
    return 0;
  } catch (e) { return runError(e, 'create'); } finally { c.close(); }
}

/**
 * docker/cli parallelOperation (container/utils.go): `f` runs on every name at once (or one after another),
 * and each name is printed in argument order as its turn comes ("make sure result is printed in correct
 * order"), whatever finishes first; the errors follow, in that order too (errors.Join). `f` may answer a
 * line for stderr instead of the name (rm -f of a missing container: reported, no failure).
 */
export async function each(names: string[], f: (n: string) => Promise<string | void>, parallel = true): Promise<number> {
  type Result = { note?: string | void; err?: unknown; failed: boolean };
  const settle = (n: string): Promise<Result> => f(n).then((note) => ({ note, failed: false }), (err: unknown) => ({ err, failed: true }));
  const runs = parallel ? names.map(settle) : [];
  const errs: unknown[] = [];
  for (let i = 0; i < names.length; i++) {
    const r = parallel ? await runs[i]! : await settle(names[i]!);
    if (r.failed) errs.push(r.err);
    else if (typeof r.note === 'string') process.stderr.write(r.note);
    else process.stdout.write(`${names[i]}\n`);
  }
  for (const e of errs) {
    if (e instanceof ApiError) process.stderr.write(`Error response from daemon: ${e.message}\n`);
    else return report(e);
  }
  return errs.length ? 1 : 0;
}

function needArgs(p: { positionals: string[] }, cmd: string, n = 1): void {
  if (p.positionals.length < n) throw new BerthError('InvalidArgument', `"${cmd}" requires at least ${n} argument${n > 1 ? 's' : ''}.\nSee 'berth ${cmd} --help'.`);
}

export async function start(g: Globals, args: string[]): Promise<number> {
  const p = parseFlags(args, { attach: { short: 'a', type: 'bool' }, interactive: { short: 'i', type: 'bool' }, 'detach-keys': { type: 'string' } });
  needArgs(p, 'start');
  const c = connect(g);
  try {
    if (!p.flags.attach && !p.flags.interactive) return await startEach(c, p.positionals);
    if (p.positionals.length > 1) throw new BerthError('InvalidArgument', 'you cannot start and attach multiple containers at once');
    const info = await c.inspectContainer(p.positionals[0]!);
    const tty = !!info.Config.Tty;
    const withStdin = !!p.flags.interactive && !!info.Config.OpenStdin;
    const sock = await c.attachContainer(info.Id, { stdin: withStdin, stdout: true, stderr: true, stream: true, detachKeys: p.flags['detach-keys'] as string | undefined });
    const session = stream(c, info.Id, sock, { tty, stdin: withStdin });
    const wait = await c.waitContainer(info.Id, info.HostConfig.AutoRemove ? 'removed' : 'next-exit');
    try {
      await c.startContainer(info.Id);
    } catch (e) { session.close(); wait.abort(); throw e; }
    if (tty) resizeOnce(c, info.Id);
    await session.output;
    const st = await wait.result;
    session.close();
    if (withStdin) process.stdin.destroy();
    return st.StatusCode;
  } finally { c.close(); }
}

/** docker/cli startContainersWithoutAttachments: one after another, each error at once, then the names that failed. */
async function startEach(c: Client, names: string[]): Promise<number> {
  const failed: string[] = [];
  for (const n of names) {
    try { await c.startContainer(n); process.stdout.write(`${n}\n`); } catch (e) {
      if (!(e instanceof ApiError)) throw e;
      report(e);
      failed.push(n);
    }
  }
  if (failed.length) process.stderr.write(`Error: failed to start containers: ${failed.join(', ')}\n`);
  return failed.length ? 1 : 0;
}

/** stop and restart share their grammar: -t/--time, -s/--signal, several containers. */
function stopLike(verb: 'stop' | 'restart'): (g: Globals, args: string[]) => Promise<number> {
  return async (g, args) => {
    const p = parseFlags(args, { time: { short: 't', type: 'string' }, timeout: { type: 'string' }, signal: { short: 's', type: 'string' } });
    needArgs(p, verb);
    const o = { timeout: int(p.flags.time ?? p.flags.timeout, 'time'), signal: p.flags.signal as string | undefined };
    const c = connect(g);
    try {
      return await each(p.positionals, async (n) => {
        await (verb === 'stop' ? c.stopContainer(n, o) : c.restartContainer(n, o));
      }, verb === 'stop'); // docker/cli restarts one after another
    } finally { c.close(); }
  };
}

export const stop = stopLike('stop');
export const restart = stopLike('restart');

export async function kill(g: Globals, args: string[]): Promise<number> {
  const p = parseFlags(args, { signal: { short: 's', type: 'string' } });
  needArgs(p, 'kill');
  const c = connect(g);
  try {
    return await each(p.positionals, async (n) => { await c.killContainer(n, p.flags.signal as string | undefined); });
  } finally { c.close(); }
}

export async function rm(g: Globals, args: string[]): Promise<number> {
  const p = parseFlags(args, { force: { short: 'f', type: 'bool' }, volumes: { short: 'v', type: 'bool' }, link: { short: 'l', type: 'bool' } });
  needArgs(p, 'rm');
  const c = connect(g);
  const force = !!p.flags.force;
  try {
    return await each(p.positionals, async (n) => {
      try {
        await c.removeContainer(n, { force, volumes: !!p.flags.volumes });
      } catch (e) {
        // docker rm -f (CLI 28): a missing container is reported but is no failure
        if (force && e instanceof ApiError && e.status === 404) return `Error response from daemon: ${e.message}\n`;
        throw e;
      }
    });
  } finally { c.close(); }
}

/** docker's formatter.Ellipsis */
function ellipsis(s: string, n: number): string {
  const r = [...s];
  return r.length <= n ? s : `${r.slice(0, n - 1).join('')}…`;
}

/**
 * ps's PORTS column like docker's DisplayablePorts: "0.0.0.0:8080->80/tcp"; ports exposed or published
 * to the same number run together as ranges ("8000-8002/tcp", "0.0.0.0:7000-7001->7000-7001/tcp").
 */
export function displayPorts(ports: ContainerSummary['Ports']): string {
  const sorted = [...ports].sort((a, b) => a.PrivatePort - b.PrivatePort || (a.IP ?? '').localeCompare(b.IP ?? '') || (a.PublicPort ?? 0) - (b.PublicPort ?? 0) || a.Type.localeCompare(b.Type));
  const groups: Array<{ key: string; ip?: string; type: string; first: number; last: number }> = [];
  const mapped: string[] = [];
  for (const p of sorted) {
    if (p.IP && p.PublicPort !== p.PrivatePort) { mapped.push(`${p.IP.includes(':') ? `[${p.IP}]` : p.IP}:${p.PublicPort}->${p.PrivatePort}/${p.Type}`); continue; }
    const key = `${p.IP ?? ''}/${p.Type}`;
    const g = groups.findLast((x) => x.key === key);
    if (g && g.last + 1 === p.PrivatePort) { g.last = p.PrivatePort; continue; }
    groups.push({ key, ip: p.IP, type: p.Type, first: p.PrivatePort, last: p.PrivatePort });
  }
  const shown = groups.map((g) => {
    const r = g.first === g.last ? String(g.first) : `${g.first}-${g.last}`;
    return g.ip ? `${g.ip}:${r}->${r}/${g.type}` : `${r}/${g.type}`;
  });
  return [...shown, ...mapped].join(', ');
}

export interface PsRow {
  ID: string; Image: string; Command: string; CreatedAt: string; RunningFor: string; Ports: string; State: string; Status: string;
  Size: string; Names: string; Labels: string; Mounts: string; Networks: string; LocalVolumes: string; Label: (k: unknown) => string;
  /** docker 28's ContainerContext.Platform: the image manifest's platform, nil when the daemon sends none (berthd, dockerd 20.10) */
  Platform: null;
}

export function psRows(list: ContainerSummary[], o: { noTrunc?: boolean; now?: number } = {}): PsRow[] {
  const trunc = !o.noTrunc;
  return list.map((x) => ({
    ID: trunc ? x.Id.slice(0, 12) : x.Id,
    Image: trunc && x.Image.startsWith('sha256:') ? x.Image.slice(7, 19) : x.Image,
    Command: JSON.stringify(trunc ? ellipsis(x.Command, 20) : x.Command),
    CreatedAt: new Date(x.Created * 1000).toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' +0000 UTC'),
    RunningFor: ago(x.Created, o.now),
    Ports: displayPorts(x.Ports ?? []), State: x.State, Status: x.Status,
    // docker/cli ContainerContext.Size: HumanSizeWithPrecision(…, 3), the virtual size only when known
    Size: x.SizeRw !== undefined ? `${humanSize3(x.SizeRw)}${(x.SizeRootFs ?? 0) > 0 ? ` (virtual ${humanSize3(x.SizeRootFs!)})` : ''}` : '0B',
    Names: x.Names.map((n) => n.replace(/^\//, '')).join(','),
    Labels: Object.entries(x.Labels ?? {}).map(([k, v]) => `${k}=${v}`).join(','),
    Mounts: (x.Mounts ?? []).map((m) => (m.Name ?? m.Source)).join(','),
    Networks: Object.keys(x.NetworkSettings?.Networks ?? {}).join(','),
    LocalVolumes: String((x.Mounts ?? []).filter((m) => m.Type === 'volume').length),
    Platform: null,
    // docker/cli ContainerContext.Label: `{{.Label "com.example"}}` (JSON leaves a function out)
    Label: (k: unknown) => x.Labels?.[String(k)] ?? '',
  }));
}

const PS_HEADERS: Record<string, string> = {
  ID: 'CONTAINER ID', Image: 'IMAGE', Command: 'COMMAND', CreatedAt: 'CREATED AT', RunningFor: 'CREATED', Ports: 'PORTS', State: 'STATE',
  Status: 'STATUS', Size: 'SIZE', Names: 'NAMES', Labels: 'LABELS', Mounts: 'MOUNTS', Networks: 'NETWORKS', LocalVolumes: 'LOCAL VOLUMES', Platform: 'PLATFORM',
};

/**
 * docker/cli container/list.go: a --format is parsed and run over an empty ContainerContext before the list is
 * asked for, so a bad one fails with no containers too. Fields it has need no engine for that.
 */
async function checkPsTemplate(format: string): Promise<void> {
  const empty = psRows([{ Id: '', Image: '', Command: '', Created: 0, Names: [], State: '', Status: '' } as unknown as ContainerSummary])[0]!;
  const fields = /\{\{\s*\.(\w+)\s*\}\}/g;
  if (!format.replace(fields, '').includes('{{') && [...format.matchAll(fields)].every((m) => m[1]! in empty)) return;
  await checkTemplate(format, 'failed to parse template: ', 1, true);
  try { await render(format, empty, '*formatter.ContainerContext', true); } catch (e) { throw (await template()).templateError(e, 'failed to execute template: '); }
}

/** docker/cli container/list.go: size is asked for when the template uses Size; `{{json .}}` uses every field, `--format json` none. */
const sizeInFormat = (format: string | undefined) => !!format && /\.Size\b|\{\{-?\s*json\s+\.\s*-?\}\}/.test(format);

export async function ps(g: Globals, args: string[]): Promise<number> {
  const p = parseFlags(args, {
    all: { short: 'a', type: 'bool' }, quiet: { short: 'q', type: 'bool' }, filter: { short: 'f', type: 'list' }, format: { type: 'string' },
    last: { short: 'n', type: 'string' }, latest: { short: 'l', type: 'bool' }, size: { short: 's', type: 'bool' }, 'no-trunc': { type: 'bool' },
  });
  checkArgCount(p.positionals, 'ps', 0);
  const filters: Record<string, string[]> = {};
  for (const x of (p.flags.filter as string[] | undefined) ?? []) {
    const i = x.indexOf('=');
    if (i <= 0) throw new BerthError('InvalidArgument', `invalid argument "${x}" for "-f, --filter" flag: bad format of filter (expected name=value)`);
    (filters[x.slice(0, i)] ??= []).push(x.slice(i + 1));
  }
  const limit = p.flags.latest ? 1 : int(p.flags.last, 'last');
  const format = p.flags.format as string | undefined;
  if (format && p.flags.quiet) process.stderr.write('WARNING: Ignoring custom format, because both --format and --quiet are set.\n');
  if (format) await checkPsTemplate(format);
  const c = connect(g);
  try {
    const list = await c.listContainers({ all: !!p.flags.all, limit: limit && limit > 0 ? limit : undefined, size: !!p.flags.size || sizeInFormat(format), filters: Object.keys(filters).length ? filters : undefined });
    const rows = psRows(list, { noTrunc: !!p.flags['no-trunc'] });
    if (p.flags.quiet) { process.stdout.write(rows.map((r) => `${r.ID}\n`).join('')); return 0; }
    const def = `table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}${p.flags.size ? '\t{{.Size}}' : ''}`;
    process.stdout.write(await formatRows(rows, format, def, PS_HEADERS, '*formatter.ContainerContext'));
    return 0;
  } finally { c.close(); }
}

export async function logs(g: Globals, args: string[]): Promise<number> {
  const p = parseFlags(args, { follow: { short: 'f', type: 'bool' }, tail: { short: 'n', type: 'string' }, timestamps: { short: 't', type: 'bool' }, since: { type: 'string' }, until: { type: 'string' }, details: { type: 'bool' } });
  checkArgCount(p.positionals, 'logs', 1);
  // docker/cli container/logs.go hands these to the client, whose error names the option
  const stamp = (name: 'since' | 'until') => {
    try { return optTimestamp(p.flags[name]); } catch (e) { throw new BerthError('InvalidArgument', `invalid value for "${name}": ${(e as Error).message}`); }
  };
  const since = stamp('since');
  const until = stamp('until');
  const c = connect(g);
  try {
    const info = await c.inspectContainer(p.positionals[0]!);
    const res = await c.containerLogs(info.Id, { follow: !!p.flags.follow, tail: (p.flags.tail as string | undefined) ?? 'all', timestamps: !!p.flags.timestamps, since, until, details: !!p.flags.details });
    await copyOutput(res, !!info.Config.Tty);
    return 0;
  } finally { c.close(); }
}

export async function attach(g: Globals, args: string[]): Promise<number> {
  const p = parseFlags(args, { 'no-stdin': { type: 'bool' }, 'sig-proxy': { type: 'bool' }, 'detach-keys': { type: 'string' } });
  if (p.positionals.length !== 1) throw new BerthError('InvalidArgument', `"attach" requires exactly 1 argument.\nSee 'berth attach --help'.`);
  const c = connect(g);
  try {
    const info = await c.inspectContainer(p.positionals[0]!);
    if (!info.State.Running) throw new BerthError('FailedPrecondition', 'You cannot attach to a stopped container, start it first');
    if (info.State.Paused) throw new BerthError('FailedPrecondition', 'You cannot attach to a paused container, unpause it first');
    const tty = !!info.Config.Tty;
    const withStdin = !p.flags['no-stdin'] && !!info.Config.OpenStdin;
    if (withStdin && tty && !process.stdin.isTTY) throw new BerthError('InvalidArgument', 'the input device is not a TTY');
    const sock = await c.attachContainer(info.Id, { stdin: withStdin, stdout: true, stderr: true, stream: true, detachKeys: p.flags['detach-keys'] as string | undefined });
    const session = stream(c, info.Id, sock, { tty, stdin: withStdin });
    const unproxy = p.flags['sig-proxy'] !== false && !tty ? proxySignals(c, info.Id) : () => {};
    if (tty) resizeOnce(c, info.Id);
    await session.output;
    session.close();
    unproxy();
    if (withStdin) process.stdin.destroy();
    const after = await c.inspectContainer(info.Id).catch(() => undefined);
    if (!after || after.State.Running) return 0;
    return after.State.ExitCode;
  } finally { c.close(); }
}

export async function inspect(g: Globals, args: string[]): Promise<number> {
  const p = parseFlags(args, { format: { short: 'f', type: 'string' }, type: { type: 'string' }, size: { short: 's', type: 'bool' } });
  needArgs(p, 'inspect');
  const type = (p.flags.type as string | undefined) || undefined;
  checkInspectType(type);
  await checkTemplate(p.flags.format as string | undefined);
  const c = connect(g);
  let items: Inspected[];
  try { items = await lookupAll(c, p.positionals, type); } finally { c.close(); }
  return printInspect(items, p.flags.format as string | undefined);
}

export async function wait(g: Globals, args: string[]): Promise<number> {
  const p = parseFlags(args, {});
  needArgs(p, 'wait');
  const c = connect(g);
  try {
    return await each(p.positionals, async (n) => {
      const w = await c.waitContainer(n);
      const st = await w.result;
      if (st.Error?.Message) throw new ApiError(500, st.Error.Message);
      process.stdout.write(`${st.StatusCode}\n`);
    }, false);
  } finally { c.close(); }
}

export async function rename(g: Globals, args: string[]): Promise<number> {
  const p = parseFlags(args, {});
  checkArgCount(p.positionals, 'rename', 2);
  const [oldName, newName] = p.positionals as [string, string];
  if (!oldName.trim() || !newName.trim()) throw new BerthError('InvalidArgument', 'Error: Neither old nor new names may be empty');
  const c = connect(g);
  try { await c.renameContainer(oldName, newName); return 0; } catch (e) {
    // docker/cli container/rename.go: the daemon's error, then its own
    if (!(e instanceof ApiError)) throw e;
    report(e);
    throw new BerthError('FailedPrecondition', `Error: failed to rename container named ${oldName}`);
  } finally { c.close(); }
}

/** `port CONTAINER [PRIVATE_PORT[/PROTO]]`: from inspect's NetworkSettings.Ports, like docker's. */
export async function port(g: Globals, args: string[]): Promise<number> {
  const p = parseFlags(args, {});
  checkArgCount(p.positionals, 'port', 1, 2);
  const [name, want] = p.positionals as [string, string | undefined];
  const c = connect(g);
  let info;
  try { info = await c.inspectContainer(name); } finally { c.close(); }
  const map = (info.NetworkSettings.Ports ?? {}) as Record<string, Array<{ HostIp: string; HostPort: string }> | null>;
  const hostPort = (b: { HostIp: string; HostPort: string }) => `${b.HostIp.includes(':') ? `[${b.HostIp}]` : b.HostIp}:${b.HostPort}`;
  if (want) {
    // docker's port command: the number must parse as Go's ParseUint(s, 10, 16); the error names what was typed
    const [num = '', proto] = want.split('/');
    if (!/^\d+$/.test(num)) throw new BerthError('InvalidArgument', `Error: invalid port (${num}): strconv.ParseUint: parsing ${JSON.stringify(num)}: invalid syntax`);
    if (Number(num) > 65535) throw new BerthError('InvalidArgument', `Error: invalid port (${num}): strconv.ParseUint: parsing ${JSON.stringify(num)}: value out of range`);
    const list = map[`${num}/${proto || 'tcp'}`];
    if (!list?.length) throw new BerthError('NotFound', `Error: No public port '${want}' published for ${name}`);
    process.stdout.write(list.map((b) => `${hostPort(b)}\n`).join(''));
    return 0;
  }
  const keys = Object.keys(map).sort((a, b) => parseInt(a, 10) - parseInt(b, 10) || a.localeCompare(b));
  for (const k of keys) for (const b of map[k] ?? []) process.stdout.write(`${k} -> ${hostPort(b)}\n`);
  return 0;
}
