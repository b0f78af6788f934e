// containers/etc-files: the text of a container's /etc/hosts and /etc/resolv.conf (docker's
// libnetwork/etchosts and resolvconf). Pure: the service reads the host's files and writes the results.
import { BerthError } from '../errors.js';

export interface Resolv { nameservers: string[]; search: string[]; options: string[] }

export function parseResolv(text: string): Resolv {
  const r: Resolv = { nameservers: [], search: [], options: [] };
  for (const raw of text.split('\n')) {
    const f = raw.replace(/[#;].*$/, '').trim().split(/\s+/);
    if (f[0] === 'nameserver' && f[1]) r.nameservers.push(f[1]);
    else if ((f[0] === 'search' || f[0] === 'domain') && f.length > 1) r.search = f.slice(1);
    else if (f[0] === 'options' && f.length > 1) r.options.push(...f.slice(1));
  }
  return r;
}

const isLoopback = (ip: string) => ip.startsWith('127.') || ip === '::1';

/** Docker's fallback when the host names no usable server (libnetwork resolvconf defaultIPv4Dns). */
const DEFAULT_DNS = ['8.8.8.8', '8.8.4.4'];

/**
 * The host's resolv.conf as a container can use it: a container cannot reach the host's loopback, so a
 * systemd-resolved stub (127.0.0.53) is replaced by resolved's upstream file when there is one, and any
 * loopback server left is dropped, like docker does.
 */
export function hostResolv(etc: string, systemdUpstream: string | undefined | (() => string | undefined)): Resolv {
  let r = parseResolv(etc);
  // a function: resolved's file is read only for a stub (a start read it, mostly to find it missing)
  const upstream = r.nameservers.length && r.nameservers.every(isLoopback) ? (typeof systemdUpstream === 'function' ? systemdUpstream() : systemdUpstream) : undefined;
  if (upstream) {
    const up = parseResolv(upstream);
    r = { ...up, search: r.search.length ? r.search : up.search, options: r.options };
  }
  const servers = r.nameservers.filter((s) => !isLoopback(s));
  return { ...r, nameservers: servers.length ? servers : DEFAULT_DNS };
}

/**
 * The container's resolv.conf: on a user network the one nameserver is the network's embedded DNS server
 * (its gateway), which forwards the rest to the host's; elsewhere the host's servers or --dns.
 */
export function resolvConf(host: Resolv, o: { embedded?: string; dns?: string[]; dnsSearch?: string[]; dnsOptions?: string[] }): string {
  const servers = o.embedded ? [o.embedded] : o.dns?.length ? o.dns : host.nameservers;
  const search = o.dnsSearch?.length ? o.dnsSearch.filter((s) => s !== '.') : host.search;
  const options = o.dnsOptions?.length ? o.dnsOptions : host.options;
  const lines = servers.map((s) => `nameserver ${s}`);
  if (search.length) lines.push(`search ${search.join(' ')}`);
  if (options.length) lines.push(`options ${options.join(' ')}`);
  return lines.join('\n') + '\n';
}

/** `--add-host name:ip` (docker also takes name=ip); `host-gateway` is the default bridge's gateway. */
export function parseExtraHost(s: string, hostGateway: string | undefined): { name: string; ip: string } {
  const i = s.includes('=') ? s.indexOf('=') : s.indexOf(':');
  const name = i < 0 ? '' : s.slice(0, i);
  let ip = i < 0 ? '' : s.slice(i + 1);
  if (ip.startsWith('[') && ip.endsWith(']')) ip = ip.slice(1, -1);
  if (!name || !ip || /\s/.test(name)) throw new BerthError('InvalidArgument', `bad format for add-host: "${s}"`);
  if (ip === 'host-gateway') {
    if (!hostGateway) throw new BerthError('InvalidArgument', 'unable to derive the IP value for host-gateway');
    ip = hostGateway;
  } else if (!/^(\d{1,3}\.){3}\d{1,3}$/.test(ip) && !/^[0-9a-fA-F:.]+$/.test(ip)) {
    throw new BerthError('InvalidArgument', `invalid IP address in add-host: "${ip}"`);
  }
  return { name, ip };
}

const HOSTS_HEAD = ['127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback', 'fe00::0\tip6-localnet',
  'ff00::0\tip6-mcastprefix', 'ff02::1\tip6-allnodes', 'ff02::2\tip6-allrouters'];

/**
 * docker's /etc/hosts: localhost lines, --add-host entries, then the container's own name on each of its
 * addresses (with its network-scoped aliases), or 127.0.1.1 when it has none (--network none).
 */
export function hostsFile(o: { hostname: string; domainname?: string; addresses: Array<{ ip: string; aliases?: string[] }>; extraHosts: Array<{ name: string; ip: string }> }): string {
  const names = o.domainname ? [`${o.hostname}.${o.domainname}`, o.hostname] : [o.hostname];
  const lines = [...HOSTS_HEAD, ...o.extraHosts.map((h) => `${h.ip}\t${h.name}`)];
  if (o.addresses.length === 0) lines.push(`127.0.1.1\t${names.join(' ')}`);
  for (const a of o.addresses) lines.push(`${a.ip}\t${[...new Set([...names, ...(a.aliases ?? [])])].join(' ')}`);
  return lines.join('\n') + '\n';
}
