// api/routes/stats: stats, top, pause/unpause and update of a container — translation to the
// container service (containers/stats.ts, top.ts, pause.ts, update.ts) and docker's wire shapes.
import * as fs from 'node:fs';
import { BerthError } from '../../errors.js';
import { JsonStream, readJson, sendEmpty, sendJson } from '../http.js';
import { boolOr, boolValue } from '../query.js';
import type { Router } from '../router.js';
import type { ApiServices } from '../server.js';
import { statsWire } from '../stats-wire.js';
import type { ContainerTopResponse, ContainerUpdateRequest, ContainerUpdateResponse } from '../types.js';
import { containerService } from './containers.js';
import { compareVersions } from '../version.js';
import type { ResourceUpdate } from '../../containers/update.js';

/** The host's CPUs and memory nodes, as cpuset lists (what `--cpuset-cpus/--cpuset-mems` may name). */
function cpusetHost(ncpu: number): { ncpu: number; cpus: string; mems: string } {
  const read = (p: string, def: string) => { try { return fs.readFileSync(p, 'utf8').trim() || def; } catch { return def; } };
  return { ncpu, cpus: read('/sys/devices/system/cpu/online', `0-${ncpu - 1}`), mems: read('/sys/devices/system/node/online', '0') };
}

/** UpdateConfig → the service's terms; 0 and absent both mean "unchanged", as in moby. */
function toUpdate(b: ContainerUpdateRequest, version: string): ResourceUpdate {
  const n = (v: number | null | undefined) => (typeof v === 'number' && v !== 0 ? v : undefined);
  return {
    memory: n(b.Memory), memorySwap: n(b.MemorySwap), memoryReservation: n(b.MemoryReservation), nanoCpus: n(b.NanoCpus),
    cpuShares: n(b.CpuShares), cpuQuota: n(b.CpuQuota), cpuPeriod: n(b.CpuPeriod),
    cpusetCpus: b.CpusetCpus || undefined, cpusetMems: b.CpusetMems || undefined,
    // moby: PidsLimit null = unchanged, 0 or negative = unlimited; clients before 1.40 cannot update it (the value is ignored)
    pidsLimit: typeof b.PidsLimit === 'number' && compareVersions(version, '1.40') >= 0 ? b.PidsLimit : undefined,
    blkioWeight: n(b.BlkioWeight),
    ...(b.RestartPolicy ? { restartPolicy: b.RestartPolicy } : {}),
  };
}

export function statsRoutes(r: Router, s: ApiServices): void {
  const svc = () => containerService(s);

  r.get('/containers/{id}/stats', async ({ req, res, params, query }) => {
    const stream = boolOr(query, 'stream', true);
    const oneShot = boolValue(query, 'one-shot');
    if (stream && oneShot) throw new BerthError('InvalidArgument', 'cannot have stream=true and one-shot=true');
    const { container, target } = svc().statsTarget(params.id!);
    const memTotal = s.host().memTotal;
    req.resume();
    if (!stream) {
      const p = target ? await svc().sampler.pair(target, !oneShot) : undefined;
      // moby: one-shot answers a single sample, its precpu_stats empty even when a previous one is at hand
      sendJson(res, 200, statsWire(container, p && oneShot ? { cur: p.cur } : p, memTotal));
      return;
    }
    const out = new JsonStream(res);
    out.start();
    const ac = new AbortController();
    res.on('close', () => ac.abort());
    const alive = () => { try { const st = svc().get(container.id).state.status; return st === 'running' || st === 'paused'; } catch { return false; } };
    if (target) for await (const p of svc().sampler.stream(target, alive, ac.signal)) out.write(statsWire(container, p, memTotal));
    // not running (or no longer): moby streams zeros until the client leaves; one answer and the end serves the CLI as well
    if (!ac.signal.aborted && !res.destroyed) { out.write(statsWire(container, undefined, memTotal)); res.end(); }
  });

  r.get('/containers/{id}/top', async ({ res, params, query }) => {
    const t = await svc().top(params.id!, query.get('ps_args') ?? '');
    const body: ContainerTopResponse = { Titles: t.titles, Processes: t.processes };
    sendJson(res, 200, body);
  });

  r.post('/containers/{id}/pause', async ({ res, params }) => {
    await svc().pause(params.id!);
    sendEmpty(res, 204);
  });

  r.post('/containers/{id}/unpause', async ({ res, params }) => {
    await svc().unpause(params.id!);
    sendEmpty(res, 204);
  });

  r.post('/containers/{id}/update', async ({ req, res, params, version }) => {
    const body = await readJson<ContainerUpdateRequest>(req, 'containerUpdate');
    const out = await svc().update(params.id!, toUpdate(body ?? {}, version), cpusetHost(s.host().ncpu));
    const reply: ContainerUpdateResponse = { Warnings: out.warnings };
    sendJson(res, 200, reply);
  });
}
