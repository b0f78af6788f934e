// compose/engine: a resolved project → Docker Engine API calls through client/ (as docker compose v2
// does): networks and volumes first, then services in dependency order, each reconciled by its
// config-hash label; depends_on conditions waited on; down removes what carries the project's label.
// Everything that can be refused (external networks and volumes that are missing) is checked before
// anything is created.
import type { ContainerInspect, ContainerSummary } from '../api/types.js';
import { ApiError, type Client } from '../client/index.js';
import { networkCreateBodyAt } from '../client/legacy.js';
import { BerthError } from '../errors.js';
import { TarWriter } from '../snapshots/tar-writer.js';
import { buildService, type BuildOptions } from './build.js';
import { configHash, containerName, createRequest, endpointFor, fileMounts, imageName, L, COMPOSE_VERSION, serviceNetworks, type InjectedFile, type ReplicaOptions } from './convert.js';
import { serviceDeps, startOrder, type Project, type Service } from './model.js';

export type Say = (line: string) => void;

export interface UpOptions {
  services?: string[]; forceRecreate?: boolean; noRecreate?: boolean; removeOrphans?: boolean;
  scale?: Record<string, number>; noDeps?: boolean; wait?: boolean; noStart?: boolean;
  /** build every service that has a build section first (--build); never build (--no-build) */
  build?: boolean; noBuild?: boolean;
}

const notFound = (e: unknown) => e instanceof ApiError && e.status === 404;

/** Every promise settled, then the first failure thrown: one failed replica does not leave the others half-done. */
async function settleAll(ps: Array<Promise<unknown>>): Promise<void> {
  const bad = (await Promise.allSettled(ps)).find((r) => r.status === 'rejected');
  if (bad) throw (bad as PromiseRejectedResult).reason;
}

/**
 * Runs `f` for each name as soon as it has finished for the names it waits on (`after`, among `names`),
 * so independent services proceed at the same time (docker compose v2's graph traversal). A name whose
 * prerequisite failed is not run; the first error is thrown once everything has settled.
 */
export async function inGraph(names: string[], after: (n: string) => string[], f: (n: string) => Promise<void>): Promise<void> {
  const runs = new Map<string, Promise<void>>();
  const run = (n: string): Promise<void> => {
    let p = runs.get(n);
    if (!p) {
      p = Promise.all(after(n).filter((d) => d !== n && names.includes(d)).map(run)).then(() => f(n));
      runs.set(n, p);
    }
    return p;
  };
  await settleAll(names.map(run));
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Engine {
  constructor(readonly c: Client, readonly p: Project, public say: Say = (l) => process.stderr.write(`${l}\n`)) {}

  /** The project's containers (one-off ones only if asked), sorted by service then number. */
  async containers(o: { all?: boolean; oneoff?: boolean; services?: string[] } = {}): Promise<ContainerSummary[]> {
    const label = [`${L.project}=${this.p.name}`];
    if (!o.oneoff) label.push(`${L.oneoff}=False`);
    const list = await this.c.listContainers({ all: o.all ?? true, filters: { label } });
    return list.filter((c) => !o.services?.length || o.services.includes(c.Labels?.[L.service] ?? ''))
      .sort((a, b) => (a.Labels[L.service] ?? '').localeCompare(b.Labels[L.service] ?? '') || Number(a.Labels[L.number]) - Number(b.Labels[L.number]));
  }

  private async networkExists(name: string): Promise<boolean> {
    try { await this.c.json('GET', `/networks/${encodeURIComponent(name)}`); return true; } catch (e) { if (notFound(e)) return false; throw e; }
  }
  private async volumeExists(name: string): Promise<boolean> {
    try { await this.c.json('GET', `/volumes/${encodeURIComponent(name)}`); return true; } catch (e) { if (notFound(e)) return false; throw e; }
  }

  /** What `up` would need that cannot be made: missing external networks and volumes. */
  async preflight(services: Service[]): Promise<void> {
    const nets = new Set(services.flatMap(serviceNetworks));
    for (const n of nets) {
      const d = this.p.networks[n]!;
      if (d.external && !(await this.networkExists(d.name))) throw new BerthError('NotFound', `network ${d.name} declared as external, but could not be found`);
    }
    const vols = new Set(services.flatMap((s) => s.volumes.filter((v) => v.type === 'volume' && v.source).map((v) => v.source!)));
    for (const v of vols) {
      const d = this.p.volumes[v]!;
      if (d.external && !(await this.volumeExists(d.name))) throw new BerthError('NotFound', `external volume "${d.name}" not found`);
    }
  }

  async ensureNetworks(services: Service[]): Promise<void> {
    for (const key of new Set(services.flatMap(serviceNetworks))) {
      const d = this.p.networks[key]!;
      if (d.external || await this.networkExists(d.name)) continue;
      this.say(` Network ${d.name}  Creating`);
      const ipam = d.ipam as { driver?: string; config?: Array<Record<string, string>> } | undefined;
      await this.c.json('POST', '/networks/create', { bodyAt: (v) => networkCreateBodyAt({
        Name: d.name, Driver: d.driver ?? 'bridge', Internal: d.internal === true, Attachable: d.attachable === true, Options: d.driver_opts ?? {},
        Labels: { ...d.labels, [L.project]: this.p.name, [L.network]: key, [L.version]: COMPOSE_VERSION },
        ...(ipam ? { IPAM: { Driver: ipam.driver ?? 'default', Config: (ipam.config ?? []).map((c) => ({ Subnet: c.subnet, IPRange: c.ip_range, Gateway: c.gateway })) } } : {}),
      }, v) });
      this.say(` Network ${d.name}  Created`);
    }
  }

  async ensureVolumes(services: Service[]): Promise<void> {
    for (const key of new Set(services.flatMap((s) => s.volumes.filter((v) => v.type === 'volume' && v.source).map((v) => v.source!)))) {
      const d = this.p.volumes[key]!;
      if (d.external || await this.volumeExists(d.name)) continue;
      this.say(` Volume "${d.name}"  Creating`);
      await this.c.json('POST', '/volumes/create', { body: {
        Name: d.name, Driver: d.driver ?? 'local', DriverOpts: d.driver_opts ?? {},
        Labels: { ...d.labels, [L.project]: this.p.name, [L.volume]: key, [L.version]: COMPOSE_VERSION },
      } });
      this.say(` Volume "${d.name}"  Created`);
    }
  }

  private async imageExists(ref: string): Promise<boolean> {
    try { await this.c.inspectImage(ref); return true; } catch (e) { if (notFound(e)) return false; throw e; }
  }

  /** Builds the services that have a build section (all of them, or those whose image is missing), as `compose build` does. */
  async build(services: Service[], o: BuildOptions & { onlyMissing?: boolean } = {}): Promise<void> {
    for (const s of services) {
      if (!s.build) continue;
      const image = imageName(this.p, s);
      if (o.onlyMissing && await this.imageExists(image)) continue;
      this.say(` Service ${s.name}  Building`);
      await buildService(this.c, this.p, s, o, (l) => this.say(`${s.name}  | ${l}`));
      this.say(` Service ${s.name}  Built`);
    }
  }

  /** Every image `services` run is there: built (build sections) or pulled (missing images), as compose v2's up. */
  async ensureImages(services: Service[], o: { build?: boolean; noBuild?: boolean } = {}): Promise<void> {
    if (!o.noBuild) await this.build(services, { onlyMissing: !o.build });
    for (const s of services) {
      if (s.build || !s.image || s.pull_policy === 'never' || await this.imageExists(s.image)) continue;
      this.say(` ${s.name} Pulling`);
      await this.c.pull(s.image);
      this.say(` ${s.name} Pulled`);
    }
  }

  /** Secrets and configs that are not host files: copied in as one tar at / (their directories made on the way). */
  private async inject(id: string, files: InjectedFile[]): Promise<void> {
    if (!files.length) return;
    const parts: Buffer[] = [];
    const w = new TarWriter((c) => { parts.push(Buffer.from(c)); });
    const dirs = new Set<string>();
    for (const f of files) {
      const segs = f.target.split('/').filter(Boolean);
      for (let i = 1; i < segs.length; i++) {
        const d = segs.slice(0, i).join('/');
        if (!dirs.has(d)) { dirs.add(d); await w.entry({ name: `${d}/`, type: 'dir', mode: 0o755 }); }
      }
      await w.entry({ name: segs.join('/'), type: 'file', mode: f.mode }, Buffer.from(f.content));
    }
    await w.finish();
    await this.c.drain('PUT', `/containers/${encodeURIComponent(id)}/archive`, { query: { path: '/' }, raw: Buffer.concat(parts), headers: { 'Content-Type': 'application/x-tar' } });
  }

  /** Creates one container and connects it to the service's other networks. */
  async create(s: Service, o: ReplicaOptions): Promise<string> {
    const { name, body } = createRequest(this.p, s, o);
    this.say(` Container ${name}  Creating`);
    const { Id } = await this.c.createContainer(body, { name });
    await this.inject(Id, fileMounts(this.p, s).inject);
    for (const n of serviceNetworks(s).slice(1)) {
      await this.c.json('POST', `/networks/${encodeURIComponent(this.p.networks[n]!.name)}/connect`, { body: { Container: Id, EndpointConfig: endpointFor(this.p, s, n) } });
    }
    this.say(` Container ${name}  Created`);
    return Id;
  }

  async start(id: string, name: string): Promise<void> {
    this.say(` Container ${name}  Starting`);
    await this.c.startContainer(id);
    this.say(` Container ${name}  Started`);
  }

  async remove(c: { Id: string; Names: string[] }, o: { volumes?: boolean } = {}): Promise<void> {
    const name = c.Names[0]?.replace(/^\//, '') ?? c.Id;
    this.say(` Container ${name}  Stopping`);
    await this.c.stopContainer(c.Id).catch((e) => { if (!notFound(e)) throw e; });
    this.say(` Container ${name}  Stopped`);
    this.say(` Container ${name}  Removing`);
    await this.c.removeContainer(c.Id, { force: true, volumes: o.volumes }).catch((e) => { if (!notFound(e)) throw e; });
    this.say(` Container ${name}  Removed`);
  }

  /** Waits for what `dependent` asks of each dependency (docker compose's waitDependencies). */
  async waitDependencies(s: Service): Promise<void> {
    for (const [dep, o] of Object.entries(s.depends_on)) {
      if (!this.p.services[dep] || o.condition === 'service_started') continue;
      const ctrs = await this.containers({ services: [dep] });
      for (const c of ctrs) await this.waitCondition(c.Id, c.Names[0]?.replace(/^\//, '') ?? c.Id, dep, o.condition);
    }
  }

  async waitCondition(id: string, name: string, service: string, cond: 'service_healthy' | 'service_completed_successfully' | 'running'): Promise<void> {
    if (cond !== 'running') this.say(` Container ${name}  Waiting`);
    for (;;) {
      const i: ContainerInspect = await this.c.inspectContainer(id);
      if (cond === 'service_completed_successfully') {
        if (!i.State.Running && !i.State.Restarting) {
          if (i.State.ExitCode !== 0) throw new BerthError('FailedPrecondition', `service "${service}" didn't complete successfully: exit ${i.State.ExitCode}`);
          break;
        }
      } else if (cond === 'service_healthy') {
        const h = i.State.Health;
        if (!h) throw new BerthError('FailedPrecondition', `container ${name} has no healthcheck configured`);
        if (h.Status === 'healthy') { this.say(` Container ${name}  Healthy`); break; }
        if (h.Status === 'unhealthy') throw new BerthError('FailedPrecondition', `dependency failed to start: container ${name} is unhealthy`);
        if (!i.State.Running) throw new BerthError('FailedPrecondition', `dependency failed to start: container ${name} exited (${i.State.ExitCode})`);
      } else {
        if (i.State.Health ? i.State.Health.Status === 'healthy' : i.State.Running) break;
        if (i.State.Health?.Status === 'unhealthy') throw new BerthError('FailedPrecondition', `container ${name} is unhealthy`);
        if (!i.State.Running && !i.State.Restarting) throw new BerthError('FailedPrecondition', `container ${name} exited (${i.State.ExitCode})`);
      }
      await sleep(200);
    }
    if (cond === 'service_completed_successfully') this.say(` Container ${name}  Exited`);
  }

  /** `up`: reconcile every selected service (and its dependencies unless noDeps) with the model. */
  async up(o: UpOptions = {}): Promise<void> {
    for (const n of o.services ?? []) if (!this.p.services[n]) throw new BerthError('NotFound', `no such service: ${n}`);
    const names = o.noDeps && o.services?.length ? o.services : startOrder(this.p.services, o.services?.length ? o.services : undefined);
    const services = names.map((n) => this.p.services[n]!);
    for (const [n, k] of Object.entries(o.scale ?? {})) if (!this.p.services[n]) throw new BerthError('NotFound', `no such service: ${n}`); else if (!Number.isInteger(k) || k < 0) throw new BerthError('InvalidArgument', `invalid scale for ${n}: ${k}`);
    await this.preflight(services);
    await this.ensureImages(services, { build: o.build, noBuild: o.noBuild });
    const existing = await this.containers();
    const orphans = existing.filter((c) => !this.p.services[c.Labels[L.service] ?? ''] && !this.p.disabled[c.Labels[L.service] ?? '']);
    if (orphans.length) {
      if (o.removeOrphans) for (const c of orphans) await this.remove(c);
      else this.say(`WARN[0000] Found orphan containers ([${orphans.map((c) => c.Names[0]?.replace(/^\//, '')).join(' ')}]) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.`);
    }
    await settleAll([this.ensureNetworks(services), this.ensureVolumes(services)]);
    const started: Array<{ id: string; name: string; service: string }> = [];
    await inGraph(names, (n) => serviceDeps(this.p.services[n]!), async (sname) => {
      const s = this.p.services[sname]!;
      await this.waitDependencies(s);
      const scale = o.scale?.[s.name] ?? s.scale;
      const mine = existing.filter((c) => c.Labels[L.service] === s.name);
      const hash = configHash(s);
      const byNumber = new Map(mine.map((c) => [Number(c.Labels[L.number]), c]));
      // surplus replicas go first, highest numbers first (compose v2 scales down the same way)
      await settleAll(mine.filter((x) => Number(x.Labels[L.number]) > scale).map((c) => this.remove(c)));
      // the replicas of one service are independent of each other too
      await settleAll(Array.from({ length: scale }, (_, i) => i + 1).map(async (n) => {
        const c = byNumber.get(n);
        const name = s.container_name as string | undefined ?? containerName(this.p.name, s.name, n);
        let id: string;
        if (c && !o.forceRecreate && (o.noRecreate || c.Labels[L.hash] === hash)) {
          id = c.Id;
          if (c.State === 'running') { this.say(` Container ${name}  Running`); started.push({ id, name, service: s.name }); return; }
        } else {
          if (c) { this.say(` Container ${name}  Recreate`); await this.remove(c); }
          id = await this.create(s, { number: n });
          if (c) this.say(` Container ${name}  Recreated`);
        }
        if (!o.noStart) { await this.start(id, name); started.push({ id, name, service: s.name }); }
      }));
    });
    if (o.wait) await settleAll(started.map((x) => this.waitCondition(x.id, x.name, x.service, 'running')));
  }

  /** `down`: the project's containers, then its networks, and with `volumes` its volumes. */
  async down(o: { volumes?: boolean; removeOrphans?: boolean; rmi?: 'local' | 'all' } = {}): Promise<void> {
    const all = await this.containers({ oneoff: true });
    const known = { ...this.p.disabled, ...this.p.services };
    const gone = all.filter((c) => c.Labels[L.oneoff] === 'True' || (!known[c.Labels[L.service] ?? ''] && o.removeOrphans));
    // one-off and orphan containers first, then the services' in reverse dependency order (dependents first)
    await settleAll(gone.map((c) => this.remove(c, { volumes: o.volumes })));
    const owned = all.filter((c) => c.Labels[L.oneoff] !== 'True' && known[c.Labels[L.service] ?? '']);
    const names = Object.keys(known);
    const dependents = (n: string) => names.filter((m) => serviceDeps(known[m]!).includes(n));
    await inGraph(names, dependents, (n) => settleAll(owned.filter((c) => c.Labels[L.service] === n).map((c) => this.remove(c, { volumes: o.volumes }))));
    const nets = await this.c.json<Array<{ Name: string; Id: string }>>('GET', '/networks', { query: { filters: JSON.stringify({ label: [`${L.project}=${this.p.name}`] }) } });
    await settleAll(nets.map(async (n) => {
      this.say(` Network ${n.Name}  Removing`);
      await this.c.drain('DELETE', `/networks/${encodeURIComponent(n.Id)}`).catch((e) => { if (!notFound(e)) throw e; });
      this.say(` Network ${n.Name}  Removed`);
    }));
    if (o.rmi) {
      // local: the images compose named itself (services without an image key); all: every service's image
      const refs = new Set(Object.values({ ...this.p.services, ...this.p.disabled }).filter((s) => o.rmi === 'all' || !s.image).map((s) => imageName(this.p, s)));
      for (const ref of refs) {
        this.say(` Image ${ref}  Removing`);
        try { await this.c.removeImage(ref); this.say(` Image ${ref}  Removed`); } catch (e) { if (!notFound(e)) throw e; }
      }
    }
    if (o.volumes) {
      const vols = await this.c.json<{ Volumes: Array<{ Name: string }> | null }>('GET', '/volumes', { query: { filters: JSON.stringify({ label: [`${L.project}=${this.p.name}`] }) } });
      await settleAll((vols.Volumes ?? []).map(async (v) => {
        this.say(` Volume ${v.Name}  Removing`);
        await this.c.drain('DELETE', `/volumes/${encodeURIComponent(v.Name)}`).catch((e) => { if (!notFound(e)) throw e; });
        this.say(` Volume ${v.Name}  Removed`);
      }));
    }
  }
}
