// compose/convert: one service replica → the POST /containers/create body docker compose v2 sends
// (its convert.go is the behaviour read), with the com.docker.compose.* labels and the config hash
// that reconciliation compares. Pure.
import { createHash } from 'node:crypto';
import type { ContainerCreateRequest } from '../api/types.js';
import { BerthError } from '../errors.js';
import { parseGoDuration } from '../util/go-duration.js';
import { ramInBytes } from '../cli/docker/containers.js';
import type { Project, Service } from './model.js';

/** The compose version berth's compose follows (docker compose v2's grammar); written into the version labels. */
export const COMPOSE_VERSION = '2.29.0';

export const L = {
  project: 'com.docker.compose.project', service: 'com.docker.compose.service', number: 'com.docker.compose.container-number',
  oneoff: 'com.docker.compose.oneoff', hash: 'com.docker.compose.config-hash', version: 'com.docker.compose.version',
  workingDir: 'com.docker.compose.project.working_dir', configFiles: 'com.docker.compose.project.config_files',
  dependsOn: 'com.docker.compose.depends_on', image: 'com.docker.compose.image', network: 'com.docker.compose.network', volume: 'com.docker.compose.volume',
} as const;

type Obj = Record<string, unknown>;

function stable(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stable);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, stable((v as Obj)[k])]));
  return v;
}

/** The service's resolved config as a hash; scale is not part of it (scaling never recreates). */
export function configHash(s: Service): string {
  const { scale: _scale, ...rest } = s;
  return createHash('sha256').update(JSON.stringify(stable(rest))).digest('hex');
}

export function containerName(project: string, service: string, n: number): string {
  return `${project}-${service}-${n}`;
}

/** The image a service runs: its `image`, else the one its build makes, named PROJECT-SERVICE as docker compose v2 names it. */
export function imageName(p: Project, s: Service): string {
  return s.image ?? `${p.name}-${s.name}`;
}

/** A file put into the container after create: secrets and configs whose value is not a host file. */
export interface InjectedFile { target: string; content: string; mode: number }

/**
 * Secrets and configs → read-only binds of their host files, and the files to copy in for the ones that
 * come from the environment or inline content (docker compose v2 copies those into the container too).
 */
export function fileMounts(p: Project, s: Service): { binds: string[]; inject: InjectedFile[] } {
  const binds: string[] = [], inject: InjectedFile[] = [];
  for (const [refs, defs] of [[s.secrets, p.secrets], [s.configs, p.configs]] as const) {
    for (const r of refs ?? []) {
      const d = defs[r.source]!;
      if (d.file) binds.push(`${d.file}:${r.target}:ro`);
      else inject.push({ target: r.target, content: d.content ?? '', mode: r.mode === undefined ? 0o444 : typeof r.mode === 'number' ? r.mode : parseInt(String(r.mode), 8) });
    }
  }
  return { binds, inject };
}

/** `service:NAME` (ipc, pid) → `container:` its first container, as docker compose does. */
function serviceRef(p: Project, v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  const m = /^service:(.+)$/.exec(String(v));
  return m ? `container:${(p.services[m[1]!]?.container_name as string | undefined) ?? containerName(p.name, m[1]!, 1)}` : String(v);
}

/** volumes_from entries → HostConfig.VolumesFrom: a service means its first container. */
function volumesFrom(p: Project, s: Service): string[] | undefined {
  if (!s.volumes_from?.length) return undefined;
  return s.volumes_from.map((v) => {
    if (v.startsWith('container:')) return v.slice('container:'.length);
    const [svc, mode] = v.replace(/^service:/, '').split(':') as [string, string | undefined];
    const target = p.services[svc];
    const name = (target?.container_name as string | undefined) ?? containerName(p.name, svc, 1);
    return mode ? `${name}:${mode}` : name;
  });
}

function durationNs(v: unknown, key: string): number | undefined {
  if (v === undefined) return undefined;
  const ns = parseGoDuration(String(v));
  if (ns === undefined) throw new BerthError('InvalidArgument', `${key}: invalid duration ${JSON.stringify(v)}`);
  return ns;
}

const bytes = (v: unknown): number | undefined => (v === undefined ? undefined : typeof v === 'number' ? v : ramInBytes(String(v)));
const list = (v: unknown): string[] | undefined => (v === undefined ? undefined : Array.isArray(v) ? v.map(String) : [String(v)]);

function healthcheck(h: Obj | undefined): Obj | undefined {
  if (!h) return undefined;
  if (h.disable === true || h.disable === 'true') return { Test: ['NONE'] };
  const t = h.test;
  const test = t === undefined ? [] : typeof t === 'string' ? ['CMD-SHELL', t] : (t as string[]);
  return {
    Test: test, Interval: durationNs(h.interval, 'healthcheck.interval') ?? 0, Timeout: durationNs(h.timeout, 'healthcheck.timeout') ?? 0,
    StartPeriod: durationNs(h.start_period, 'healthcheck.start_period') ?? 0, StartInterval: durationNs(h.start_interval, 'healthcheck.start_interval') ?? 0,
    Retries: h.retries === undefined ? 0 : Number(h.retries),
  };
}

function restartPolicy(r: unknown): { Name: string; MaximumRetryCount: number } {
  const s = String(r ?? 'no');
  const [name, count] = s.split(':');
  return { Name: name!, MaximumRetryCount: count ? Number(count) : 0 };
}

function ulimits(u: unknown): Array<{ Name: string; Soft: number; Hard: number }> | undefined {
  if (!u) return undefined;
  return Object.entries(u as Obj).map(([Name, v]) => typeof v === 'object' && v
    ? { Name, Soft: Number((v as Obj).soft), Hard: Number((v as Obj).hard) } : { Name, Soft: Number(v), Hard: Number(v) });
}

function extraHosts(v: unknown): string[] | undefined {
  if (!v) return undefined;
  if (Array.isArray(v)) return v.map((x) => String(x).replace('=', ':'));
  return Object.entries(v as Obj).flatMap(([h, ip]) => (Array.isArray(ip) ? ip : [ip]).map((i) => `${h}:${String(i)}`));
}

/** The network a container is created on (the rest are connected after); compose sorts by priority then name. */
export function serviceNetworks(s: Service): string[] {
  if (s.network_mode) return [];
  const nets = s.networks ?? { default: null };
  return Object.keys(nets).sort((a, b) => Number((nets[b] as Obj | null)?.priority ?? 0) - Number((nets[a] as Obj | null)?.priority ?? 0) || a.localeCompare(b));
}

export function endpointFor(p: Project, s: Service, net: string): Obj {
  const n = s.networks?.[net] ?? null;
  return {
    Aliases: [s.name, ...(n?.aliases ?? [])],
    ...(n?.ipv4_address ? { IPAMConfig: { IPv4Address: n.ipv4_address } } : {}),
  };
}

export interface ReplicaOptions { number: number; oneoff?: boolean; name?: string; command?: string[]; env?: string[]; entrypoint?: string[]; tty?: boolean; stdin?: boolean; noPorts?: boolean; user?: string; workdir?: string }

export function createRequest(p: Project, s: Service, o: ReplicaOptions): { name: string; body: ContainerCreateRequest } {
  const name = o.name ?? (s.container_name as string | undefined) ?? containerName(p.name, s.name, o.number);
  const labels: Record<string, string> = {
    ...s.labels,
    [L.project]: p.name, [L.service]: s.name, [L.number]: String(o.number), [L.oneoff]: o.oneoff ? 'True' : 'False',
    [L.hash]: configHash(s), [L.version]: COMPOSE_VERSION, [L.workingDir]: p.workingDir, [L.configFiles]: p.configFiles.join(','),
    [L.dependsOn]: Object.entries(s.depends_on).map(([d, x]) => `${d}:${x.condition}:${x.restart}`).join(','),
    [L.image]: imageName(p, s),
  };
  const env = Object.entries(s.environment).filter(([, v]) => v !== null).map(([k, v]) => `${k}=${v}`);
  const exposed: Record<string, object> = {};
  const portBindings: Record<string, Array<{ HostIp: string; HostPort: string }>> = {};
  for (const e of (s.expose as unknown[] | undefined) ?? []) { const [port, proto = 'tcp'] = String(e).split('/'); exposed[`${port}/${proto}`] = {}; }
  if (!o.noPorts) for (const pt of s.ports) {
    const key = `${pt.target}/${pt.protocol}`;
    exposed[key] = {};
    (portBindings[key] ??= []).push({ HostIp: pt.host_ip ?? '', HostPort: pt.published ?? '' });
  }
  const binds: string[] = [], tmpfs: Record<string, string> = {}, anon: Record<string, object> = {};
  for (const v of s.volumes) {
    if (v.type === 'tmpfs') { tmpfs[v.target] = v.tmpfs?.size !== undefined ? `size=${bytes(v.tmpfs.size)}` : ''; continue; }
    const source = v.type === 'volume' ? (v.source ? p.volumes[v.source]!.name : undefined) : v.source;
    if (!source) { anon[v.target] = {}; continue; }
    const opts = [v.read_only ? 'ro' : '', v.volume?.nocopy ? 'nocopy' : ''].filter(Boolean);
    binds.push(`${source}:${v.target}${opts.length ? `:${opts.join(',')}` : ''}`);
  }
  binds.push(...fileMounts(p, s).binds);
  for (const t of list(s.tmpfs) ?? []) { const i = t.indexOf(':'); tmpfs[i < 0 ? t : t.slice(0, i)] = i < 0 ? '' : t.slice(i + 1); }
  const limits = ((s.deploy as Obj | undefined)?.resources as Obj | undefined)?.limits as Obj | undefined;
  const cpus = limits?.cpus ?? s.cpus;
  const nets = serviceNetworks(s);
  const networkMode = s.network_mode ? String(s.network_mode).replace(/^service:(.+)$/, (_m, svc: string) => `container:${containerName(p.name, svc, 1)}`) : nets[0] ? p.networks[nets[0]]!.name : 'default';
  const grace = durationNs(s.stop_grace_period, `services.${s.name}.stop_grace_period`);
  const body: Obj = {
    Image: imageName(p, s), Labels: labels, Env: [...env, ...(o.env ?? [])],
    Cmd: o.command ?? (s.command as string[] | undefined) ?? undefined, Entrypoint: o.entrypoint ?? (s.entrypoint as string[] | undefined) ?? undefined,
    User: o.user ?? s.user, WorkingDir: o.workdir ?? s.working_dir, Hostname: s.hostname, Domainname: s.domainname,
    Tty: o.tty ?? s.tty === true, OpenStdin: o.stdin ?? s.stdin_open === true, AttachStdout: !!o.oneoff, AttachStderr: !!o.oneoff,
    StopSignal: s.stop_signal, StopTimeout: grace === undefined ? undefined : Math.round(grace / 1e9),
    ExposedPorts: Object.keys(exposed).length ? exposed : undefined, Volumes: Object.keys(anon).length ? anon : undefined,
    Healthcheck: healthcheck(s.healthcheck as Obj | undefined),
    HostConfig: {
      NetworkMode: networkMode, VolumesFrom: volumesFrom(p, s), Binds: binds.length ? binds : undefined, Tmpfs: Object.keys(tmpfs).length ? tmpfs : undefined,
      PortBindings: Object.keys(portBindings).length ? portBindings : undefined,
      RestartPolicy: o.oneoff ? { Name: 'no', MaximumRetryCount: 0 } : restartPolicy(s.restart),
      Memory: bytes(limits?.memory ?? s.mem_limit), NanoCpus: cpus === undefined ? undefined : Math.round(Number(cpus) * 1e9),
      PidsLimit: limits?.pids !== undefined ? Number(limits.pids) : s.pids_limit !== undefined ? Number(s.pids_limit) : undefined,
      Init: s.init === undefined ? undefined : s.init === true, Privileged: s.privileged === true || undefined, ReadonlyRootfs: s.read_only === true || undefined,
      CapAdd: list(s.cap_add), CapDrop: list(s.cap_drop), SecurityOpt: list(s.security_opt), Ulimits: ulimits(s.ulimits),
      Sysctls: s.sysctls ? Object.fromEntries(Object.entries(s.sysctls as Obj).map(([k, v]) => [k, String(v)])) : undefined,
      ExtraHosts: extraHosts(s.extra_hosts), Dns: list(s.dns), DnsSearch: list(s.dns_search), DnsOptions: list(s.dns_opt),
      ShmSize: bytes(s.shm_size), GroupAdd: list(s.group_add), IpcMode: serviceRef(p, s.ipc), PidMode: serviceRef(p, s.pid ?? undefined), CgroupParent: s.cgroup_parent,
      OomScoreAdj: s.oom_score_adj === undefined ? undefined : Number(s.oom_score_adj),
    },
    NetworkingConfig: nets.length ? { EndpointsConfig: { [p.networks[nets[0]!]!.name]: endpointFor(p, s, nets[0]!) } } : undefined,
  };
  if (Array.isArray(s.sysctls)) (body.HostConfig as Obj).Sysctls = Object.fromEntries((s.sysctls as string[]).map((x) => x.split('=') as [string, string]));
  prune(body);
  return { name, body: body as unknown as ContainerCreateRequest };
}

function prune(o: Obj): void {
  for (const [k, v] of Object.entries(o)) {
    if (v === undefined) delete o[k];
    else if (v && typeof v === 'object' && !Array.isArray(v) && k === 'HostConfig') prune(v as Obj);
  }
}
