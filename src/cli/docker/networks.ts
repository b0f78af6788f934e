// cli/docker/networks: `berth network create|ls|inspect|rm|prune|connect|disconnect` in the docker CLI's
// grammar and output (docker/cli cli/command/network). Translation only: flags -> /networks requests.
import type { NetworkWire } from '../../api/types.js';
import { ApiError } from '../../client/index.js';
import { BerthError } from '../../errors.js';
import { parseCidr, parseIp } from '../../network/plan.js';
import { checkArgCount, parseFlags } from '../args.js';
import { networkCreateBodyAt } from '../../client/legacy.js';
import { connect, type Globals } from './connect.js';
import { checkTemplate, formatRows, GoText, printInspect, type Inspected } from './format.js';
import { confirm } from './images.js';
import { inspectEach } from './inspect.js';

const enc = encodeURIComponent;

/** `--filter k=v` flags -> the filters map (docker's opts.FilterOpt). */
function filterMap(list: string[] | undefined): Record<string, string[]> | undefined {
  const out: Record<string, string[]> = {};
  for (const x of list ?? []) {
    const i = x.indexOf('=');
    if (i <= 0) throw new BerthError('InvalidArgument', `invalid argument "${x}" for "-f, --filter" flag: bad format of filter (expected name=value)`);
    (out[x.slice(0, i).trim()] ??= []).push(x.slice(i + 1).trim());
  }
  return Object.keys(out).length ? out : undefined;
}

/** `k=v` list flags (--label, --opt, --ipam-opt) -> a map. */
function kvMap(list: string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const x of list ?? []) {
    const i = x.indexOf('=');
    if (i < 0) out[x] = ''; else out[x.slice(0, i)] = x.slice(i + 1);
  }
  return out;
}

const within = (cidr: string, ip: string): boolean => {
  const c = parseCidr(cidr);
  const a = parseCidr(ip.includes('/') ? ip : `${ip}/32`);
  const mask = c.prefix === 0 ? 0 : (0xffffffff << (32 - c.prefix)) >>> 0;
  return ((a.base & mask) >>> 0) === c.base && a.prefix >= c.prefix;
};

/**
 * docker/cli network create consolidateIpam: each --gateway and --ip-range goes with the --subnet that
 * holds it; one that no subnet holds is an error before anything reaches the daemon.
 */
export function ipamConfig(subnets: string[], ranges: string[], gateways: string[]): Array<{ Subnet: string; IPRange?: string; Gateway?: string }> {
  if (subnets.length < ranges.length || subnets.length < gateways.length) throw new BerthError('InvalidArgument', 'every ip-range or gateway must have a corresponding subnet');
  const out = subnets.map((s) => { parseCidr(s); return { Subnet: s } as { Subnet: string; IPRange?: string; Gateway?: string }; });
  for (const r of ranges) {
    const hit = out.find((c) => within(c.Subnet, r));
    if (!hit) throw new BerthError('InvalidArgument', `no matching subnet for range ${r}`);
    if (hit.IPRange) throw new BerthError('InvalidArgument', `cannot configure multiple ranges (${hit.IPRange}, ${r}) on the same subnet (${hit.Subnet})`);
    hit.IPRange = r;
  }
  for (const g of gateways) {
    parseIp(g);
    const hit = out.find((c) => within(c.Subnet, g));
    if (!hit) throw new BerthError('InvalidArgument', `no matching subnet for gateway ${g}`);
    if (hit.Gateway) throw new BerthError('InvalidArgument', `cannot configure multiple gateways (${g}, ${hit.Gateway}) for the same subnet (${hit.Subnet})`);
    hit.Gateway = g;
  }
  return out;
}

export async function create(g: Globals, args: string[]): Promise<number> {
  const p = parseFlags(args, {
    driver: { short: 'd', type: 'string' }, internal: { type: 'bool' }, attachable: { type: 'bool' }, label: { type: 'list' },
    opt: { short: 'o', type: 'list' }, subnet: { type: 'list' }, gateway: { type: 'list' }, 'ip-range': { type: 'list' },
    'ipam-driver': { type: 'string' }, 'ipam-opt': { type: 'list' }, ipv6: { type: 'bool' }, scope: { type: 'string' },
  });
  if (p.positionals.length !== 1) throw new BerthError('InvalidArgument', '"network create" requires exactly 1 argument.');
  const f = p.flags;
  const body = {
    Name: p.positionals[0], Driver: (f.driver as string | undefined) ?? 'bridge', Internal: !!f.internal, Attachable: !!f.attachable,
    EnableIPv6: !!f.ipv6, Scope: (f.scope as string | undefined) ?? '',
    IPAM: { Driver: (f['ipam-driver'] as string | undefined) ?? 'default', Config: ipamConfig((f.subnet as string[]) ?? [], (f['ip-range'] as string[]) ?? [], (f.gateway as string[]) ?? []), Options: kvMap(f['ipam-opt'] as string[]) },
    Options: kvMap(f.opt as string[]), Labels: kvMap(f.label as string[]),
  };
  const c = connect(g);
  try {
    const r = await c.json<{ Id: string; Warning?: string }>('POST', '/networks/create', { bodyAt: (v) => networkCreateBodyAt(body, v) });
    if (r.Warning) process.stderr.write(`${r.Warning}\n`);
    process.stdout.write(`${r.Id}\n`);
    return 0;
  } finally { c.close(); }
}

const LS_HEADERS = { ID: 'NETWORK ID', Name: 'NAME', Driver: 'DRIVER', Scope: 'SCOPE', IPv4: 'IPV4', IPv6: 'IPV6', Internal: 'INTERNAL', Labels: 'LABELS', CreatedAt: 'CREATED AT' };

/**
 * Go's time.Time.String() of an RFC 3339 time from the wire, as docker/cli networkContext.CreatedAt prints it
 * ("2006-01-02 15:04:05.999999999 -0700 MST"); in UTC, as the CLI's other times here.
 */
export function goTimeString(rfc3339: string): string {
  const m = /^(\d{4}-\d\d-\d\d)T(\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(rfc3339);
  if (!m) return Number.isNaN(Date.parse(rfc3339)) ? rfc3339 : goTimeString(new Date(rfc3339).toISOString());
  const frac = (m[3] ?? '').replace(/0+$/, '');
  return `${m[1]} ${m[2]}${frac ? `.${frac}` : ''} +0000 UTC`;
}

export async function ls(g: Globals, args: string[]): Promise<number> {
  const p = parseFlags(args, { filter: { short: 'f', type: 'list' }, format: { type: 'string' }, 'no-trunc': { type: 'bool' }, quiet: { short: 'q', type: 'bool' } });
  checkArgCount(p.positionals, 'network ls', 0);
  const filters = filterMap(p.flags.filter as string[] | undefined);
  const c = connect(g);
  let list: NetworkWire[];
  try {
    list = await c.json<NetworkWire[]>('GET', '/networks', { query: { filters: filters && JSON.stringify(filters) } });
  } finally { c.close(); }
  // docker/cli sorts by name
  list.sort((a, b) => a.Name.localeCompare(b.Name));
  const rows = list.map((n) => networkRow(n, !p.flags['no-trunc']));
  if (p.flags.quiet) { process.stdout.write(rows.map((r) => `${r.ID}\n`).join('')); return 0; }
  process.stdout.write(await formatRows(rows, p.flags.format as string | undefined, 'table {{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}', LS_HEADERS, '*network.networkContext'));
  return 0;
}

/** docker/cli network/formatter.go networkContext: its fields, and its Label method. */
export function networkRow(n: NetworkWire, trunc: boolean) {
  return {
    ID: trunc ? n.Id.slice(0, 12) : n.Id, Name: n.Name, Driver: n.Driver, Scope: n.Scope, IPv4: String(!!n.EnableIPv4), IPv6: String(n.EnableIPv6), Internal: String(n.Internal),
    Labels: Object.entries(n.Labels ?? {}).map(([k, v]) => `${k}=${v}`).join(','), CreatedAt: goTimeString(n.Created),
    // docker/cli networkContext.Label: `{{.Label "k"}}` (JSON leaves a function out)
    Label: (k: unknown) => n.Labels?.[String(k)] ?? '',
  };
}

export async function inspect(g: Globals, args: string[]): Promise<number> {
  const p = parseFlags(args, { format: { short: 'f', type: 'string' }, verbose: { short: 'v', type: 'bool' } });
  if (p.positionals.length === 0) throw new BerthError('InvalidArgument', '"network inspect" requires at least 1 argument.');
  await checkTemplate(p.flags.format as string | undefined);
  const c = connect(g);
  let items: Inspected[];
  try {
    items = await inspectEach(p.positionals, (n) => c.json('GET', `/networks/${enc(n)}`, { query: { verbose: p.flags.verbose ? true : undefined } }));
  } finally { c.close(); }
  // network.Inspect's Created is a time.Time: the template prints its String()
  const typed = (x: unknown) => ({ ...(x as NetworkWire), Created: new GoText(goTimeString((x as NetworkWire).Created), (x as NetworkWire).Created) });
  return printInspect(items, p.flags.format as string | undefined, null, typed);
}

export async function rm(g: Globals, args: string[]): Promise<number> {
  const p = parseFlags(args, { force: { short: 'f', type: 'bool' } });
  if (p.positionals.length === 0) throw new BerthError('InvalidArgument', '"network rm" requires at least 1 argument.');
  const c = connect(g);
  let rc = 0;
  try {
    for (const n of p.positionals) {
      try {
        await c.drain('DELETE', `/networks/${enc(n)}`);
        process.stdout.write(`${n}\n`);
      } catch (e) {
        if (!(e instanceof ApiError)) throw e;
        // --force: a network that is not there is not an error (docker/cli network rm)
        if (p.flags.force && e.status === 404) continue;
        process.stderr.write(`Error response from daemon: ${e.message}\n`);
        rc = 1;
      }
    }
  } finally { c.close(); }
  return rc;
}

export async function prune(g: Globals, args: string[]): Promise<number> {
  const p = parseFlags(args, { force: { short: 'f', type: 'bool' }, filter: { type: 'list' } });
  checkArgCount(p.positionals, 'network prune', 0);
  const filters = filterMap(p.flags.filter as string[] | undefined);
  if (!p.flags.force && !(await confirm('WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue?'))) return 0;
  const c = connect(g);
  try {
    const r = await c.json<{ NetworksDeleted: string[] | null }>('POST', '/networks/prune', { query: { filters: filters && JSON.stringify(filters) } });
    if (r.NetworksDeleted?.length) process.stdout.write(`Deleted Networks:\n${r.NetworksDeleted.map((n) => `${n}\n`).join('')}\n`);
    return 0;
  } finally { c.close(); }
}

export async function connectCmd(g: Globals, args: string[]): Promise<number> {
  const p = parseFlags(args, { alias: { type: 'list' }, ip: { type: 'string' }, ip6: { type: 'string' }, 'driver-opt': { type: 'list' }, link: { type: 'list' }, 'link-local-ip': { type: 'list' } });
  if (p.positionals.length !== 2) throw new BerthError('InvalidArgument', '"network connect" requires exactly 2 arguments.');
  const [net, container] = p.positionals as [string, string];
  const f = p.flags;
  const EndpointConfig = {
    Aliases: (f.alias as string[] | undefined) ?? [], Links: (f.link as string[] | undefined) ?? [], DriverOpts: kvMap(f['driver-opt'] as string[]),
    IPAMConfig: { IPv4Address: (f.ip as string | undefined) ?? '', IPv6Address: (f.ip6 as string | undefined) ?? '', LinkLocalIPs: (f['link-local-ip'] as string[] | undefined) ?? [] },
  };
  const c = connect(g);
  try { await c.drain('POST', `/networks/${enc(net)}/connect`, { body: { Container: container, EndpointConfig } }); } finally { c.close(); }
  return 0;
}

export async function disconnect(g: Globals, args: string[]): Promise<number> {
  const p = parseFlags(args, { force: { short: 'f', type: 'bool' } });
  if (p.positionals.length !== 2) throw new BerthError('InvalidArgument', '"network disconnect" requires exactly 2 arguments.');
  const [net, container] = p.positionals as [string, string];
  const c = connect(g);
  try { await c.drain('POST', `/networks/${enc(net)}/disconnect`, { body: { Container: container, Force: !!p.flags.force } }); } finally { c.close(); }
  return 0;
}
