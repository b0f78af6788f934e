// api/routes/system: /_ping, /version, /info, /events, /system/df, /auth — translation only.
import { eventJson, eventNs, type EventMessage } from '../../daemon/events.js';
import { BerthError } from '../../errors.js';
import { RegistryClient, DEFAULT_DOMAIN } from '../../registry/index.js';
import { toCredentials } from '../auth.js';
import { readJson, sendJson, JsonStream } from '../http.js';
import { legacyInfo } from '../legacy.js';
import { checkFilters, matchLabels, parseFilters, type Filters } from '../query.js';
import type { Router } from '../router.js';
import type { ApiServices } from '../server.js';
import type { AuthConfig, SystemInfo, SystemVersion } from '../types.js';
import { API_VERSION, BERTH_VERSION, ENGINE_VERSION, MIN_API_VERSION } from '../version.js';
import { isoTime } from '../../util/time.js';
import { timestampNs } from '../../util/timestamp.js';

const BUILD_TIME = '2026-01-01T00:00:00.000000000+00:00';

export function versionBody(s: ApiServices): SystemVersion {
  const h = s.host();
  const details = { ApiVersion: API_VERSION, MinAPIVersion: MIN_API_VERSION, Os: 'linux', Arch: h.goArch, GitCommit: 'berth', GoVersion: `node${process.versions.node}`, BuildTime: BUILD_TIME, Experimental: 'false', KernelVersion: h.kernel };
  return {
    Platform: { Name: `Berth ${BERTH_VERSION}` },
    Components: [
      { Name: 'Engine', Version: ENGINE_VERSION, Details: details },
      { Name: 'berth', Version: BERTH_VERSION, Details: { GitCommit: 'berth' } },
    ],
    Version: ENGINE_VERSION, ApiVersion: API_VERSION, MinAPIVersion: MIN_API_VERSION, GitCommit: 'berth', GoVersion: `node${process.versions.node}`,
    Os: 'linux', Arch: h.goArch, KernelVersion: h.kernel, BuildTime: BUILD_TIME,
  };
}

export function infoBody(s: ApiServices): SystemInfo {
  const h = s.host();
  const c = s.containers?.counts() ?? { running: 0, paused: 0, stopped: 0 };
  const v2 = h.cgroupMode === 'v2';
  const fw = s.networks?.firewallBackend?.();
  return {
    ID: h.engineId, Containers: c.running + c.paused + c.stopped, ContainersRunning: c.running, ContainersPaused: c.paused, ContainersStopped: c.stopped,
    Images: s.images.store.list().length,
    Driver: 'overlay2', DriverStatus: [['Backing Filesystem', h.backingFs], ['Supports d_type', 'true'], ['Using metacopy', 'false'], ['Native Overlay Diff', 'true'], ['userxattr', 'false']],
    Plugins: { Volume: ['local'], Network: ['bridge', 'host', 'null'], Authorization: null, Log: ['json-file'] },
    MemoryLimit: true, SwapLimit: true, CpuCfsPeriod: true, CpuCfsQuota: true, CPUShares: true, CPUSet: true, PidsLimit: true,
    OomKillDisable: !v2, IPv4Forwarding: true, Debug: !!s.debug, NFd: h.openFds, NGoroutines: process.getActiveResourcesInfo().length,
    SystemTime: isoTime(), LoggingDriver: 'json-file', CgroupDriver: 'cgroupfs',
    CgroupVersion: h.cgroupMode === 'unknown' ? '' : v2 ? '2' : '1', NEventsListener: s.events.listenerCount,
    KernelVersion: h.kernel, OperatingSystem: h.operatingSystem, OSVersion: h.osVersion, OSType: 'linux', Architecture: h.arch,
    IndexServerAddress: 'https://index.docker.io/v1/',
    RegistryConfig: { InsecureRegistryCIDRs: ['127.0.0.0/8', '::1/128'], IndexConfigs: {}, Mirrors: [] },
    NCPU: h.ncpu, MemTotal: h.memTotal, GenericResources: null, DockerRootDir: s.root,
    HttpProxy: process.env.HTTP_PROXY ?? process.env.http_proxy ?? '', HttpsProxy: process.env.HTTPS_PROXY ?? process.env.https_proxy ?? '', NoProxy: process.env.NO_PROXY ?? process.env.no_proxy ?? '',
    Name: h.hostname, Labels: [], ExperimentalBuild: false, ServerVersion: ENGINE_VERSION,
    Runtimes: { berth: { path: 'berth-helper' }, runc: { path: 'runc' } }, DefaultRuntime: 'berth',
    Swarm: { NodeID: '', NodeAddr: '', LocalNodeState: 'inactive', ControlAvailable: false, Error: '', RemoteManagers: null },
    LiveRestoreEnabled: true, Isolation: '', InitBinary: '',
    ContainerdCommit: { ID: '' }, RuncCommit: { ID: '' }, InitCommit: { ID: '' },
    SecurityOptions: ['name=seccomp,profile=builtin', ...(v2 ? ['name=cgroupns'] : [])], CDISpecDirs: [], Warnings: [],
    ...(fw ? { FirewallBackend: { Driver: fw.driver, Info: fw.driver === 'iptables' ? [['Chains', `${fw.table}-*`]] : [['Table', `ip ${fw.table}`]] } } : {}),
  };
}

const EVENT_FILTERS = ['container', 'daemon', 'event', 'image', 'label', 'network', 'node', 'plugin', 'scope', 'service', 'type', 'volume', 'config', 'secret'];

/** moby daemon/events/filter.go: every given filter kind must match. */
export function eventMatches(e: EventMessage, f: Filters): boolean {
  const any = (k: string, vals: Array<string | undefined>) => { const w = f.get(k); return !w || vals.some((v) => v !== undefined && w.has(v)); };
  if (!any('type', [e.Type])) return false;
  if (!any('event', [e.Action, e.Action.split(':')[0]])) return false;
  if (!any('scope', [e.scope])) return false;
  const a = e.Actor.Attributes;
  const idAndName = (t: string) => (e.Type === t ? [e.Actor.ID, e.Actor.ID.slice(0, 12), a.name] : []);
  if (f.has('container') && !any('container', idAndName('container'))) return false;
  if (f.has('network') && !any('network', idAndName('network'))) return false;
  if (f.has('volume') && !any('volume', idAndName('volume'))) return false;
  if (f.has('image')) {
    const vals = e.Type === 'image' ? [e.Actor.ID, a.name, e.Actor.ID.replace(/^sha256:/, '').slice(0, 12)] : [a.image];
    // moby matchImage: exact, or with the tag stripped
    const stripTag = (v: string) => { const c = v.indexOf(':', v.lastIndexOf('/') + 1); return c >= 0 && !v.startsWith('sha256:') ? v.slice(0, c) : v; };
    const stripped = vals.filter((v): v is string => !!v).flatMap((v) => [v, stripTag(v)]);
    if (!any('image', stripped)) return false;
  }
  if (f.has('daemon') && e.Type !== 'daemon') return false;
  if (f.has('label') && !matchLabels(f.get('label'), a)) return false;
  return true;
}

export function systemRoutes(r: Router, s: ApiServices): void {
  const ping = (head: boolean) => ({ res }: { res: import('node:http').ServerResponse }) => {
    res.writeHead(200, {
      'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': head ? 0 : 2,
      'Cache-Control': 'no-cache, no-store, must-revalidate', 'Pragma': 'no-cache',
      'Builder-Version': '1', 'Swarm': 'inactive',
    });
    res.end(head ? undefined : 'OK');
  };
  r.get('/_ping', ping(false));
  r.head('/_ping', ping(true));

  r.get('/version', ({ res }) => sendJson(res, 200, versionBody(s)));
  r.get('/info', ({ res, version }) => sendJson(res, 200, legacyInfo(infoBody(s), version)));

  // GET /system/df: routes/disk-usage.ts

  r.get('/events', async ({ req, res, query }) => {
    const f = parseFilters(query.get('filters'));
    checkFilters(f, EVENT_FILTERS);
    const now = Date.now();
    const since = query.get('since') ? timestampNs(query.get('since')!, now) : undefined;
    const until = query.get('until') ? timestampNs(query.get('until')!, now) : undefined;
    if (since !== undefined && until !== undefined && until < since) throw new BerthError('InvalidArgument', 'since time must be before until time');
    const stream = new JsonStream(res, undefined, (m) => (m as { Type?: unknown }).Type ? eventJson(m as EventMessage) : JSON.stringify(m));
    // pitfall 2: the CLI blocks on the headers, so they go out before any event exists
    stream.start();
    // moby loadBufferedEvents: `until` alone replays the kept history up to it as well
    if (since !== undefined || until !== undefined) for (const e of s.events.replay(since ?? 0n, until)) if (eventMatches(e, f)) stream.write(e);
    const untilMs = until === undefined ? undefined : Number(until / 1_000_000n);
    if (untilMs !== undefined && untilMs <= Date.now()) { stream.end(); return; }
    await new Promise<void>((resolve) => {
      const unsubscribe = s.events.subscribe((e) => { if ((until === undefined || eventNs(e) <= until) && eventMatches(e, f)) stream.write(e); });
      const timer = untilMs !== undefined ? setTimeout(done, untilMs - Date.now()) : undefined;
      function done() { unsubscribe(); if (timer) clearTimeout(timer); resolve(); }
      req.on('close', done);
      res.on('close', done);
    });
    if (!res.destroyed) stream.end();
  });

  // docker login: the daemon checks the credentials against the registry (moby registry.Service.Auth)
  r.post('/auth', async ({ req, res }) => {
    const a = await readJson<AuthConfig>(req, 'authConfig');
    if (!a) throw new BerthError('InvalidArgument', 'invalid JSON: got EOF while reading request body');
    const server = (a.serveraddress ?? '').replace(/^https?:\/\//, '').replace(/\/.*$/, '') || DEFAULT_DOMAIN;
    const host = server === 'index.docker.io' || server === 'registry-1.docker.io' ? DEFAULT_DOMAIN : server;
    const creds = toCredentials(a);
    const client = new RegistryClient(host, { credentials: () => creds });
    try {
      await client.ping();
    } catch (e) {
      if (e instanceof BerthError && e.kind === 'PermissionDenied' && !e.message.startsWith('login attempt')) throw new BerthError('PermissionDenied', `login attempt to ${host} failed: unauthorized: incorrect username or password`);
      throw e;
    }
    sendJson(res, 200, { Status: 'Login Succeeded', IdentityToken: '' });
  });
}
