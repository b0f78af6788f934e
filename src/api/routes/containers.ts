// api/routes/containers: the container endpoints, translated to ContainerService calls; wire shapes
// come from api/container-wire.ts. Errors are thrown before any header goes out, so a missing container
// is always a clean 404 `No such container: x` — also on the streaming endpoints (wait, logs, attach).
import type * as net from 'node:net';
import type { Writable } from 'node:stream';
import { BerthError, isBerthError } from '../../errors.js';
import type { Container, ContainerService, WaitCondition } from '../../containers/types.js';
import { checkStopTimeout } from '../../containers/validate.js';
import { attachFrame } from '../../monitor/protocol.js';
import { checkReadable } from '../../containers/log-config.js';
import { mountPointsOf } from '../../volumes/users.js';
import { toContainerConfig, toInspect, toSummary } from '../container-wire.js';
import { killOfStoppedIsOk, legacyCreate, legacyInspect, legacyRemoveRunning } from '../legacy.js';
import { linkedNames, linkStrings, resolveLinks } from '../links.js';
import { formatPlatform, parsePlatform, platformMatches } from '../../images/manifest.js';
import type { Platform } from '../../content/store.js';
import { compareVersions } from '../version.js';
import { connectUnix, MULTIPLEXED, parseDetachKeys, RAW_STREAM, StreamBridge, type Hijack, type HijackRoutes } from '../hijack.js';
import { readBody, readJson, sendEmpty, sendJson, writeAll } from '../http.js';
import { boolValue, checkFilters, intValue, matchLabels, parseFilters, type Filters } from '../query.js';
import type { Router } from '../router.js';
import { containerSizes } from './disk-usage.js';
import type { ApiServices } from '../server.js';
import type { ContainerCreateRequest, ContainerCreateResponse, ContainerWaitResponse } from '../types.js';
import { timestampNs, unixText } from '../../util/timestamp.js';

/** The container service, or 501 when this daemon runs without one (api tests with counts only). */
export function containerService(s: ApiServices): ContainerService {
  const c = s.containers;
  if (!c || !('create' in c)) throw new BerthError('NotImplemented', 'containers are not served by this daemon');
  return c;
}

/** moby container list filters (daemon/list.go acceptedPsFilterTags) that Berth can answer. */
const PS_FILTERS = ['ancestor', 'before', 'exited', 'health', 'id', 'isolation', 'is-task', 'label', 'name', 'network', 'since', 'status', 'volume', 'publish', 'expose'];
const STATES = ['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead'];

function regexMatch(want: Set<string> | undefined, value: string): boolean {
  if (!want) return true;
  for (const w of want) {
    try { if (new RegExp(w).test(value)) return true; } catch { if (w === value) return true; }
  }
  return false;
}

/** The image filter `ancestor`: the reference as given, its id, or a name that resolves to the same id. */
function ancestorMatch(s: ApiServices, want: Set<string> | undefined, c: Container): boolean {
  if (!want) return true;
  for (const w of want) {
    if (w === c.image || w === c.imageId || c.imageId.replace(/^sha256:/, '').startsWith(w.replace(/^sha256:/, ''))) return true;
    try { if (s.images.resolveId(w) === c.imageId) return true; } catch { /* not an image here */ }
  }
  return false;
}

/** moby daemon/list.go: filters, newest first, `all` implied by a status filter, then `limit`. */
export function filterContainers(s: ApiServices, list: Container[], q: URLSearchParams): Container[] {
  const f: Filters = parseFilters(q.get('filters'));
  checkFilters(f, PS_FILTERS);
  for (const v of f.get('status') ?? []) if (!STATES.includes(v)) throw new BerthError('InvalidArgument', `invalid filter 'status=${v}'`);
  for (const v of f.get('health') ?? []) if (!['none', 'starting', 'healthy', 'unhealthy'].includes(v)) throw new BerthError('InvalidArgument', `invalid filter 'health=${v}': invalid value for health (${v}): must be one of none, starting, healthy, unhealthy`);
  const exited = [...(f.get('exited') ?? [])].map((v) => {
    const n = Number(v);
    if (!Number.isInteger(n)) throw new BerthError('InvalidArgument', `invalid filter 'exited=${v}'`);
    return n;
  });
  const limit = intValue(q, 'limit', -1);
  const all = boolValue(q, 'all') || f.has('status') || limit > 0;
  const svc = containerService(s);
  const createdOf = (ref: string) => Date.parse(svc.get(ref).created);
  const before = f.has('before') ? Math.min(...[...f.get('before')!].map(createdOf)) : undefined;
  const since = f.has('since') ? Math.max(...[...f.get('since')!].map(createdOf)) : undefined;
  const sorted = [...list].sort((a, b) => Date.parse(b.created) - Date.parse(a.created) || (a.id < b.id ? -1 : 1));
  const out: Container[] = [];
  for (const c of sorted) {
    const st = c.state.status;
    if (!all && st !== 'running' && st !== 'paused' && st !== 'restarting') continue;
    if (f.has('status') && !f.get('status')!.has(st)) continue;
    if (!regexMatch(f.get('id'), c.id)) continue;
    if (!regexMatch(f.get('name'), `/${c.name}`)) continue;
    if (!matchLabels(f.get('label'), c.config.labels)) continue;
    if (!ancestorMatch(s, f.get('ancestor'), c)) continue;
    if (exited.length && !(st === 'exited' && exited.includes(c.state.exitCode))) continue;
    if (f.has('network')) {
      const net = !c.config.host.networkMode || c.config.host.networkMode === 'default' ? 'bridge' : c.config.host.networkMode;
      if (!f.get('network')!.has(net)) continue;
    }
    if (f.has('is-task') && f.get('is-task')!.has('true')) continue;
    if (f.has('health') && !f.get('health')!.has(c.state.health?.status ?? 'none')) continue;
    // moby daemon/list.go: a volume filter names a mount point's volume or its destination
    if (f.has('volume') && !mountPointsOf(c).some((m) => f.get('volume')!.has(m.name ?? '') || f.get('volume')!.has(m.destination))) continue;
    if (f.has('publish') || f.has('expose')) continue; // no published ports yet
    const t = Date.parse(c.created);
    if (before !== undefined && !(t < before)) continue;
    if (since !== undefined && !(t > since)) continue;
    out.push(c);
  }
  return limit > 0 ? out.slice(0, limit) : out;
}

function optInt(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  return v === null || v === '' ? undefined : intValue(q, name, 0);
}

/** stop/restart `t`: seconds, negative waits forever; beyond what docker can express is a 400. */
function stopTimeout(q: URLSearchParams): number | undefined {
  const t = optInt(q, 't');
  checkStopTimeout(t, 'stop timeout (t)');
  return t;
}

/** moby jsonmessage.RFC3339NanoFixed: always nine fractional digits. */
export function fixedNano(t: string): string {
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(t);
  return m ? `${m[1]}.${(m[2] ?? '').padEnd(9, '0').slice(0, 9)}${m[3]}` : t;
}

const WAIT_CONDITIONS = ['not-running', 'next-exit', 'removed'];

/** moby GetImage with a platform: the image must be made for it (404 otherwise, in moby's words). */
function checkImagePlatform(s: ApiServices, ref: string, want: Platform): void {
  const c = s.images.resolve(ref).config as { os?: string; architecture?: string; variant?: string };
  const have: Platform = { os: c.os ?? 'linux', architecture: c.architecture ?? '', ...(c.variant ? { variant: c.variant } : {}) };
  if (!platformMatches(have, want)) {
    throw new BerthError('NotFound', `image with reference ${ref} was found but does not match the specified platform: wanted ${formatPlatform(want)}, actual: ${formatPlatform(have)}`);
  }
}

const byId = (s: ApiServices) => (id: string): Container | undefined => { try { return containerService(s).get(id); } catch { return undefined; } };

export function containerRoutes(r: Router, s: ApiServices, h?: HijackRoutes): void {
  const svc = () => containerService(s);

  r.post('/containers/create', async ({ req, res, query, version }) => {
    const body = await readJson<ContainerCreateRequest>(req, 'containerCreate');
    if (body) legacyCreate(body, version, s.host().cgroupMode === 'v2');
    const warnings: string[] = [];
    const config = toContainerConfig(body, { ncpu: s.host().ncpu, warnings });
    const links = resolveLinks(body?.HostConfig?.Links ?? undefined, config.host.networkMode ?? 'default', (ref) => svc().get(ref));
    if (links) config.host.links = links;
    const name = query.get('name') || undefined;
    const platform = query.get('platform');
    if (platform && compareVersions(version, '1.41') >= 0) checkImagePlatform(s, config.image, parsePlatform(platform));
    const out = await svc().create(name, config);
    const reply: ContainerCreateResponse = { Id: out.id, Warnings: [...warnings, ...(out.warnings ?? [])] };
    sendJson(res, 201, reply);
  });

  r.get('/containers/json', ({ res, query }) => {
    const list = filterContainers(s, svc().list({ all: true }), query);
    const size = boolValue(query, 'size');
    const now = Date.now();
    const linked = linkedNames(svc().list({ all: true }));
    sendJson(res, 200, list.map((c) => {
      const sum = toSummary(c, { size: size && containerSizes(s, c), now });
      sum.Names.push(...(linked.get(c.id) ?? []));
      return sum;
    }));
  });

  r.get('/containers/{id}/json', ({ res, params, query, version }) => {
    const c = svc().get(params.id!);
    const j = toInspect(c, { size: boolValue(query, 'size') && containerSizes(s, c) });
    j.HostConfig.Links = linkStrings(c, byId(s));
    sendJson(res, 200, legacyInspect(j, version));
  });

  r.post('/containers/{id}/start', async ({ req, res, params }) => {
    await readBody(req); // API < 1.24 sent a HostConfig here; moby ignores an empty one
    let started: boolean;
    try {
      started = await svc().start(params.id!);
    } catch (e) {
      // moby daemon/start.go: a --rm container whose start failed is removed; `docker run --rm` waits
      // for that removal (condition=removed) before it reports the error, and would hang otherwise
      const c = (() => { try { return svc().get(params.id!); } catch { return undefined; } })();
      if (c && c.config.host.autoRemove && c.state.status !== 'running' && c.state.status !== 'paused') await svc().remove(c.id, { force: true }).catch(() => undefined);
      throw e;
    }
    sendEmpty(res, started ? 204 : 304);
  });

  r.post('/containers/{id}/stop', async ({ res, params, query }) => {
    const done = await svc().stop(params.id!, stopTimeout(query), query.get('signal') || undefined);
    sendEmpty(res, done ? 204 : 304);
  });

  r.post('/containers/{id}/restart', async ({ res, params, query }) => {
    await svc().restart(params.id!, stopTimeout(query));
    sendEmpty(res, 204);
  });

  r.post('/containers/{id}/kill', async ({ res, params, query, version }) => {
    try {
      await svc().kill(params.id!, query.get('signal') || undefined);
    } catch (e) {
      // moby postContainersKill wraps every error with the name ("Cannot kill container: x: No such container: x")
      if (isBerthError(e, 'NotFound')) throw new BerthError('NotFound', `Cannot kill container: ${params.id!}: ${e.message}`, { cause: e });
      if (!(isBerthError(e) && e.kind === 'Conflict' && killOfStoppedIsOk(version))) throw e;
    }
    sendEmpty(res, 204);
  });

  r.post('/containers/{id}/rename', async ({ res, params, query }) => {
    const name = query.get('name') ?? '';
    if (!name) throw new BerthError('InvalidArgument', 'Neither old nor new names may be empty');
    await svc().rename(params.id!, name);
    sendEmpty(res, 204);
  });

  r.post('/containers/{id}/resize', async ({ res, params, query }) => {
    const height = Number(query.get('h') ?? 0);
    const width = Number(query.get('w') ?? 0);
    if (!Number.isInteger(height) || height < 0 || height > 65535) throw new BerthError('InvalidArgument', `invalid resize height ${JSON.stringify(query.get('h'))}`);
    if (!Number.isInteger(width) || width < 0 || width > 65535) throw new BerthError('InvalidArgument', `invalid resize width ${JSON.stringify(query.get('w'))}`);
    await svc().resize(params.id!, height, width);
    // moby answers 200 with an empty body
    sendEmpty(res, 200);
  });

  r.delete('/containers/{id}', async ({ res, params, query, version }) => {
    if (boolValue(query, 'link')) throw new BerthError('InvalidArgument', 'Conflict, cannot remove the default link name of the container');
    await svc().remove(params.id!, { force: boolValue(query, 'force'), volumes: boolValue(query, 'v') }).catch((e: unknown) => {
      const old = isBerthError(e) && e.kind === 'Conflict' && /container is running/.test(e.message) && legacyRemoveRunning(version, svc().get(params.id!).id);
      throw old ? new BerthError('Conflict', old) : e;
    });
    sendEmpty(res, 204);
  });

  // pitfall 1: the CLI waits for these headers before it calls start, so they go out at once
  r.post('/containers/{id}/wait', async ({ req, res, params, query }) => {
    const cond = query.get('condition') || 'not-running';
    if (!WAIT_CONDITIONS.includes(cond)) throw new BerthError('InvalidArgument', `invalid condition: "${cond}"`);
    const c = svc().get(params.id!);
    req.resume();
    const ac = new AbortController();
    res.on('close', () => { if (!res.writableFinished) ac.abort(); });
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.flushHeaders();
    let body: ContainerWaitResponse;
    try {
      const w = await svc().wait(c.id, cond as WaitCondition, ac.signal);
      body = { StatusCode: w.exitCode, Error: w.error ? { Message: w.error } : null };
    } catch (e) {
      if (ac.signal.aborted || res.destroyed) return; // docker run -d drops this connection
      body = { StatusCode: -1, Error: { Message: e instanceof Error ? e.message : String(e) } };
    }
    if (!res.destroyed) res.end(`${JSON.stringify(body)}\n`);
  });

  r.get('/containers/{id}/logs', async ({ res, params, query }) => {
    const stdout = boolValue(query, 'stdout');
    const stderr = boolValue(query, 'stderr');
    if (!stdout && !stderr) throw new BerthError('InvalidArgument', 'Bad parameters: you must choose at least one stream');
    // moby 28 (daemon/logs.go): a tail strconv.Atoi refuses ("all", "abc", "1e3", " 5") and a negative one mean every line
    const tailRaw = query.get('tail') ?? 'all';
    const tail = /^[-+]?\d{1,18}$/.test(tailRaw) && Number(tailRaw) >= 0 ? Number(tailRaw) : undefined;
    const now = Date.now();
    const sinceRaw = query.get('since');
    const untilRaw = query.get('until');
    // to the nanosecond, as moby's reader compares entries
    const exact = (v: string) => unixText(timestampNs(v, now));
    const since = sinceRaw && sinceRaw !== '0' ? exact(sinceRaw) : undefined;
    const until = untilRaw && untilRaw !== '0' ? exact(untilRaw) : undefined;
    const follow = boolValue(query, 'follow');
    const timestamps = boolValue(query, 'timestamps');
    const details = boolValue(query, 'details');
    const c = svc().get(params.id!);
    checkReadable(c.config.host.logConfig);
    const tty = !!c.config.tty;
    const ac = new AbortController();
    res.on('close', () => ac.abort());
    res.writeHead(200, { 'Content-Type': tty ? RAW_STREAM : MULTIPLEXED });
    res.flushHeaders();
    try {
      for await (const l of svc().logs(c.id, { follow, tail, since, until, stdout, stderr, signal: ac.signal })) {
        if (ac.signal.aborted) break;
        // moby httputils.WriteLogStream: --details puts the entry's attributes (none recorded here) and a space first
        const line = details ? ` ${l.line}` : l.line;
        const text = timestamps ? `${fixedNano(l.time)} ${line}` : line;
        const payload = Buffer.from(text);
        await writeAll(res, tty ? payload : attachFrame(l.stream === 'stderr' ? 2 : 1, payload));
      }
    } catch (e) {
      if (ac.signal.aborted) return;
      throw e; // headers are out: sendError closes the connection
    }
    if (!res.destroyed) res.end();
  });

  // Without `Upgrade:` moby still streams (200, raw-stream); stdin cannot come over a plain response.
  r.post('/containers/{id}/attach', async ({ req, res, params, query }) => {
    const c = svc().get(params.id!);
    req.resume();
    res.writeHead(200, { 'Content-Type': c.config.tty ? RAW_STREAM : MULTIPLEXED });
    res.flushHeaders();
    await attachStream(s, c, query, res, undefined, Buffer.alloc(0));
  });

  h?.add('/containers/{id}/attach', async (x: Hijack) => {
    const c = svc().get(x.params.id!);
    const keys = x.query.get('detachKeys');
    if (keys) parseDetachKeys(keys); // 400 before the 101
    x.accept(c.config.tty ? RAW_STREAM : MULTIPLEXED);
    await attachStream(s, c, x.query, x.socket, x.socket, x.early);
  });
}

/** Attach: optional log replay (logs=1), then the live stream once the container runs (stream=1). */
async function attachStream(s: ApiServices, c: Container, q: URLSearchParams, out: Writable, input: net.Socket | undefined, early: Buffer): Promise<void> {
  const svc = containerService(s);
  const stdin = boolValue(q, 'stdin') && !!c.config.openStdin;
  const stdout = boolValue(q, 'stdout');
  const stderr = boolValue(q, 'stderr');
  const keys = q.get('detachKeys');
  const stdinOnce = (c.config as { stdinOnce?: boolean }).stdinOnce ?? true;
  const bridge = new StreamBridge(out, input, { tty: !!c.config.tty, stdin, stdout, stderr, stdinOnce, detachKeys: parseDetachKeys(keys || 'ctrl-p,ctrl-q'), early });
  s.events.publish('container', 'attach', c.id, { ...(c.config.labels ?? {}), image: c.image, name: c.name });
  if (boolValue(q, 'logs')) {
    for await (const l of svc.logs(c.id, { stdout, stderr, signal: bridge.gone.signal })) await bridge.output(l.stream === 'stderr' ? 2 : 1, Buffer.from(l.line));
  }
  if (!boolValue(q, 'stream')) { bridge.end(); return; }
  const live = await connectWhenLive(s, svc, c, bridge.gone.signal);
  if (live.socket) bridge.connect(live.socket);
  else {
    // the whole run happened between two looks: its output is in the log
    if (live.missedSince !== undefined && !bridge.closed) {
      try {
        for await (const l of svc.logs(c.id, { stdout, stderr, since: live.missedSince, signal: bridge.gone.signal })) await bridge.output(l.stream === 'stderr' ? 2 : 1, Buffer.from(l.line));
      } catch { /* removed meanwhile */ }
    }
    bridge.end();
  }
  await bridge.done;
}

/**
 * The monitor's attach socket, as soon as it answers. Docker attaches before `start`, so a created (or
 * exited, for `start -a`) container is watched until it runs; the 'start' event wakes the watch early.
 * The start connects an attach that waits for it before the process is let go, so none of its output is missed.
 */
async function connectWhenLive(s: ApiServices, svc: ContainerService, first: Container, signal: AbortSignal): Promise<{ socket?: net.Socket; missedSince?: number }> {
  const startedAt0 = first.state.startedAt;
  let wake: (() => void) | undefined;
  const unsubscribe = s.events.subscribe((e) => { if (e.Type === 'container' && e.Actor.ID === first.id) wake?.(); });
  const onAbort = () => wake?.();
  signal.addEventListener('abort', onAbort);
  // the next start connects us before its process runs: a short run's output is all there
  let early: net.Socket | undefined;
  const unhook = svc.onNextStart(first.id, async (sock) => { early = await connectUnix(sock); wake?.(); });
  try {
    // docker run calls start within milliseconds of attaching: look often at first, then back off
    const t0 = Date.now();
    for (;;) {
      const delay = Date.now() - t0 < 10_000 ? 5 : 50;
      if (signal.aborted) return {};
      if (early) { const socket = early; early = undefined; return { socket }; }
      let c: Container;
      try { c = svc.get(first.id); } catch { return {}; }
      const st = c.state.status;
      const started = c.state.startedAt !== startedAt0;
      if (st === 'running' || st === 'paused' || st === 'restarting') {
        try { return { socket: await connectUnix(c.attachSocket) }; } catch { /* not listening yet */ }
      } else if (started && st !== 'removing') {
        const t = Date.parse(c.state.startedAt);
        return { missedSince: Number.isNaN(t) ? undefined : t / 1000 };
      } else if (st === 'removing' || st === 'dead') return {};
      await new Promise<void>((r) => { const t = setTimeout(r, delay); wake = () => { clearTimeout(t); r(); }; });
      wake = undefined;
    }
  } finally {
    unhook();
    early?.destroy(); // connected, but this attach ended another way
    unsubscribe();
    signal.removeEventListener('abort', onAbort);
  }
}
