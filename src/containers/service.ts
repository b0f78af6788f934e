// containers/service: the one owner of container records. create = record + writable snapshot;
// start = mount, spec, a monitor (which outlives the daemon) running the runtime's helper, release;
// the monitor's exit status ends a run. Records live in <root>/containers/<id>/config.v2.json.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BerthError } from '../errors.js';
import type { EventBus } from '../daemon/events.js';
import type { ImageService, ResolvedImage } from '../images/index.js';
import { attach, readExitFile, readLog, runningMonitors, startMonitor, type ExitStatus, type Monitor } from '../monitor/index.js';
import { Container as RuntimeContainer } from '../runtime/container.js';
import { create as runtimeCreate, type Created } from '../runtime/create.js';
import { kill as runtimeKill, remove as runtimeRemove } from '../runtime/delete.js';
import { detectCgroupMode } from '../runtime/cgroups/mode.js';
import { parseSignal } from '../runtime/linux.js';
import { checkConfig, hostSets } from './check.js';
import { MSG } from '../runtime/plan/tags.js';
import { startWith } from '../runtime/start.js';
import { pidStartTime, StateStore } from '../runtime/state.js';
import { HELPER_PATH } from '../runtime/sync.js';
import { mountAll, unmount } from '../snapshots/mount.js';
import { replaceFileSync, unlinkIfThere, writeFileAtomic, writesDone } from '../util/fs.js';
import { eagerBaseline } from '../util/tiering.js';
import { sleep } from '../util/timer.js';
import { mkdirAllInRoot, readInRoot } from '../util/in-root.js';
import { isProcfs, ownCapabilities } from '../runtime/host-facts.js';
import { checkMounts } from './spec/index.js';
import type { VolumeStore } from '../volumes/store.js';
import { createMounts, mountPointsOf, prepareMounts, releaseMounts, removeAnonymous, removeVolumes, resolvedMountPoints, volumeNamesOf } from '../volumes/users.js';
import { mountPoints } from '../util/mountinfo.js';
import { imageRunConfig, type ContainerConfig, type ImageRunConfig } from './config.js';
import { Execs, monitoredHelper, type ExecConfig, type ExecInstance } from './exec.js';
import { checkName, newId, randomName, resolveRef } from './names.js';
import { bindSources, type ContainerRoot } from './root.js';
import { buildContainerSpec, commandOf, type HostDevice } from './spec/index.js';
import { recordProblem } from './validate.js';
import { Restarts, restartsAtDaemonStart } from './restart.js';
import { HealthChecks, imageHealthConfig, mergeHealthConfig } from './health.js';
import { initBinary } from './init.js';
import { monitorLogOptions } from './log-config.js';
import type { Container, ContainerService, ListOptions, LogLine, LogOptions, WaitCondition } from './types.js';
import { privateDir } from '../util/dirs.js';
import type { ContainerNetworks, EndpointRequest } from '../network/types.js';
import { hostResolv, hostsFile, parseExtraHost, resolvConf } from './etc-files.js';
import { mergeExposed, portRequests } from '../network/ports.js';
import { linkEnv, mergedEnv } from '../network/links.js';
import type { PortPublisher } from '../network/ports-publisher.js';
import { checkPause, checkUnpause, thawsAfterSignal } from './pause.js';
import { StatsSampler, type StatsTarget } from './stats.js';
import { top, type TopResult } from './top.js';
import { planUpdate, resourcesOf, type ResourceUpdate } from './update.js';
import { trace } from '../util/trace.js';
import { isoTime } from '../util/time.js';

const NEVER = '0001-01-01T00:00:00Z';
/** an image's mount destinations kept resolved (ImageFacts.targets): past it, a start resolves its own */
const TARGETS_MAX = 256;
/** an image's passwd and group kept (ImageFacts.etc) only while together this small */
const ETC_KEPT_MAX = 64 << 10;

/**
 * What berthd keeps of an image by its ID, which never changes under it: the ID is the digest of the
 * config, its layers are content-addressed, and an image a container uses is never deleted (rmi -f only
 * untags it). `run`: its run config, for creates and starts (a start resolved the image again: its record,
 * tag-time file and two blob checks, ~10 syscalls and a parse: issue 13). `targets` and `etc`: what a
 * container's first start finds in the image's root, which the next one would find the same: where mount
 * destinations resolve (runtime create's symlink check, ~10 walks beneath the root) and /etc/passwd and
 * /etc/group (see `untouched`).
 */
interface ImageFacts { run: ImageRunConfig; targets: Map<string, string>; etc?: [string | undefined, string | undefined] }
/** images kept (factsOf): a daemon runs containers of a handful of images */
const IMAGE_FACTS_MAX = 64;
/** the kernel's release (the default seccomp profile and checkConfig depend on it): a uname per call, fixed until a reboot */
let kernelRelease: string | undefined;
const kernel = () => (kernelRelease ??= os.release());

/** buildStep: a build's step container; it lives only as long as its build, so a daemon start removes it (restore). */
interface Record extends Container { mounts: Array<{ type: string; source: string; options: string[] }>; monitorPid?: number; manuallyStopped?: boolean; buildStep?: boolean }

export interface ContainerServiceOptions {
  root: string;          // <root>/containers/<id>
  execRoot: string;      // runtime state and attach sockets (short paths: sun_path is 108 bytes)
  images: ImageService;
  events?: EventBus;
  log?: (msg: string) => void;
  /** berthd --debug: one line per step worth following (a restart policy's start) */
  debug?: (msg: string) => void;
  /** named volumes for `-v name:/path` */
  volumes?: VolumeStore;
  /** networks: without it every container gets only lo (tests of other parts) */
  networks?: ContainerNetworks;
  /** published ports (-p/-P), forwarded to the container's address on its first network */
  ports?: PortPublisher;
}

export class Containers implements ContainerService {
  private readonly records = new Map<string, Record>();
  private readonly dir: string;
  private readonly runtime: StateStore;
  private readonly exitWaiters = new Map<string, Array<(c: Record) => void>>();
  private readonly removeWaiters = new Map<string, Array<() => void>>();
  private readonly finishing = new Set<string>();
  /** names of creates under way, to their ids */
  private readonly naming = new Map<string, string>();

  /** ImageFacts by image ID: one map for what a create and a start keep of their image. */
  private readonly imageFacts = new Map<string, ImageFacts>();

  private factsOf(imageId: string, img?: ResolvedImage): ImageFacts {
    const hit = this.imageFacts.get(imageId);
    if (hit) return hit;
    const facts: ImageFacts = { run: imageRunConfig((img ?? this.o.images.resolve(imageId)).config.config), targets: new Map() };
    if (this.imageFacts.size >= IMAGE_FACTS_MAX) this.imageFacts.delete(this.imageFacts.keys().next().value!);
    this.imageFacts.set(imageId, facts);
    return facts;
  }

  private runConfigOf(imageId: string, img?: ResolvedImage): ImageRunConfig { return this.factsOf(imageId, img).run; }

  /**
   * Containers this process created whose root was never mounted since: their writable layer is still
   * empty, so their root is their image's, file for file. A start of one takes what it learns from
   * its image's root from its ImageFacts (a restart of the daemon forgets them: their starts look again).
   */
  private readonly untouched = new Set<string>();

  private readonly cgroupMode = detectCgroupMode();
  /** a stopped container's root mounted for cp/diff/export/commit (withRoot), or an ended run's unmount waiting for readers: start waits for it */
  private readonly rootBusy = new Map<string, Promise<void>>();
  /** withRoot calls reading a running container's root: the run's end unmounts that root only after them */
  private readonly rootReaders = new Map<string, Set<Promise<unknown>>>();
  /** cgroups of running containers a reader froze (withRoot's pause): thawed when the daemon stops under it */
  private readonly frozenForReaders = new Set<{ thaw(): unknown }>();
  readonly execs: Execs;
  /** docker stats' samples (containers/stats.ts) */
  readonly sampler = new StatsSampler();
  private readonly restarts: Restarts;
  private readonly health: HealthChecks;

  constructor(private readonly o: ContainerServiceOptions) {
    this.dir = path.join(o.root, 'containers');
    privateDir(this.dir, 0o710);
    privateDir(path.join(o.execRoot, 'attach'));
    this.runtime = new StateStore(path.join(o.execRoot, 'runtime'));
    this.execs = new Execs(this.runtime, o.execRoot);
    this.restarts = new Restarts({ start: (id) => this.start(id, true), log: o.log, debug: o.debug, still: (id) => this.records.has(id) });
    this.health = new HealthChecks({
      get: (id) => this.records.get(id), execCreate: (id, cfg) => this.execCreate(id, cfg), execStart: (id, before) => this.execStart(id, before),
      execInspect: (id) => this.execs.get(id), execDone: (id) => this.execs.drop(id),
      save: (c) => this.saveSoon(c as Record), event: (c, action) => this.event(action, c as Record), log: o.log,
    });
    for (const id of fs.readdirSync(this.dir)) {
      let r: unknown;
      try { r = JSON.parse(fs.readFileSync(this.file(id), 'utf8')); } catch { continue; /* not a container */ }
      // one malformed record must not break list/restore for all: skip it, say so, leave the file for a look
      const bad = recordProblem(r) ?? ((r as Record).id !== id ? `its id is not ${id}` : undefined);
      if (bad) { o.log?.(`container ${id}: skipping its record ${this.file(id)}: ${bad}`); continue; }
      this.records.set(id, r as Record);
    }
  }

  /** After a daemon restart: learn the exits that happened while down, watch the rest, clear what a dead daemon left. */
  async restore(): Promise<void> {
    await this.removeHalfCreated();
    await this.removeBuildSteps();
    const monitors = runningMonitors();
    const mounted = mountPoints();
    // decided on the records as the dead daemon left them: a container that was running and ended while the
    // daemon was down (below) is the exit path's, which schedules its restart itself; asking again after it
    // (it is `restarting` then) started it a second time once the first timer had fired (a restore longer than 100 ms)
    const atStart = [...this.records.values()].filter((c) => c.state.status !== 'running' && c.state.status !== 'paused' && restartsAtDaemonStart(c, NEVER));
    for (const c of this.records.values()) {
      if (c.state.status !== 'running' && c.state.status !== 'paused') {
        await this.clearLeftovers(c, monitors.get(this.exitFile(c.id)), mounted);
        continue;
      }
      const st = await readExitFile(this.exitFile(c.id)).catch(() => undefined);
      if (st) await this.finish(c.id, st);
      else if (c.monitorPid && monitors.get(this.exitFile(c.id)) === c.monitorPid) this.watchExitFile(c.id);
      else await this.monitorGone(c.id);
    }
    // running containers keep their addresses; leases and veths of the rest go
    const running = new Map([...this.records.values()].filter((c) => c.state.status === 'running' || c.state.status === 'paused').map((c) => [c.id, c.state.pid]));
    await this.o.networks?.reconcile(running).catch((e) => this.o.log?.(`network reconcile: ${(e as Error).message}`));
    await this.o.ports?.restore(new Set(running.keys())).catch((e) => this.o.log?.(`published ports: ${(e as Error).message}`));
    // probes go on where they were; restart policies bring back what they keep up
    for (const c of this.records.values()) if (c.state.status === 'running' || c.state.status === 'paused') this.health.start(c, true);
    for (const c of atStart) if (this.records.has(c.id)) this.restarts.schedule(c.id, 0);
  }

  /** A daemon killed inside create() leaves a directory (and a snapshot) without a record: no container. */
  private async removeHalfCreated(): Promise<void> {
    for (const id of fs.readdirSync(this.dir)) {
      if (this.records.has(id) || fs.existsSync(this.file(id))) continue;
      await this.o.images.snapshots.remove(snapshotKey(id)).catch(() => undefined);
      fs.rmSync(path.join(this.dir, id), { recursive: true, force: true });
    }
  }

  /**
   * A daemon killed during a build leaves the step container (running or not) with its process, cgroup,
   * monitor, rootfs mount and snapshot: its build is gone, so all of it goes (docker's builder does not
   * survive a restart either). Before the network reconcile, which then drops its endpoint.
   */
  private async removeBuildSteps(): Promise<void> {
    const steps = [...this.records.values()].filter((c) => c.buildStep);
    if (!steps.length) return;
    const monitors = runningMonitors();
    const mounted = mountPoints();
    for (const c of steps) {
      this.o.log?.(`container ${c.id}: removing the step container of a build the daemon did not finish`);
      await this.clearLeftovers(c, monitors.get(this.exitFile(c.id)), mounted);
      this.records.delete(c.id);
      await this.o.images.snapshots.remove(snapshotKey(c.id)).catch((e) => this.o.log?.(`container ${c.id}: remove snapshot: ${(e as Error).message}`));
      await fs.promises.rm(path.join(this.dir, c.id), { recursive: true, force: true });
      fs.rmSync(c.attachSocket, { force: true });
      await removeAnonymous(this.o.volumes, c);
      // a removed container is a destroy event, as every other removal (the build's own, moby's builder's via
      // ContainerRm): a client that follows containers by their events (compose, `docker events --since`) drops it
      this.event('destroy', c);
    }
  }

  /**
   * A container that is not running owns no process, cgroup or mount; a daemon killed mid-start (or
   * mid-finish) leaves them: a monitor it never recorded, the runtime's container, the rootfs mount.
   */
  private async clearLeftovers(c: Record, monitorPid: number | undefined, mounted: Set<string>): Promise<void> {
    if (monitorPid) { try { process.kill(monitorPid, 'SIGKILL'); } catch { /* gone */ } }
    try {
      await runtimeRemove(RuntimeContainer.load(this.runtime, c.id), true);
    } catch (e) {
      if (!(e instanceof BerthError && e.kind === 'NotFound')) this.o.log?.(`container ${c.id}: runtime cleanup: ${(e as Error).message}`);
    }
    const rootfs = path.join(this.dir, c.id, 'rootfs');
    if (mounted.has(rootfs)) await unmount(rootfs, true).catch((e) => this.o.log?.(`container ${c.id}: unmount: ${(e as Error).message}`));
  }

  private file(id: string): string { return path.join(this.dir, id, 'config.v2.json'); }
  private exitFile(id: string): string { return path.join(this.dir, id, 'exit.json'); }
  /** The record on disk, durably; one record's writes land in call order (util/fs writeFileAtomic). */
  private save(c: Record): Promise<void> { return writeFileAtomic(this.file(c.id), JSON.stringify(c), 0o600); }
  /** For callers that cannot wait: the write goes on in order, a failure is logged. */
  private saveSoon(c: Record): void { this.save(c).catch((e: Error) => this.o.log?.(`container ${c.id}: save record: ${e.message}`)); }
  private event(action: string, c: Record, extra: { [k: string]: string } = {}): void {
    this.o.events?.publish('container', action, c.id, { image: c.image, name: c.name, ...c.config.labels, ...extra });
  }

  private find(ref: string): Record {
    return resolveRef(ref, [...this.records.values()]);
  }

  get(ref: string): Container { return this.viewOf(this.find(ref)); }

  /** The record as callers see it, with its live endpoints (inspect's NetworkSettings). */
  private viewOf(c: Record): Container {
    const v = view(c);
    const n = this.o.networks;
    if (!n) return v;
    const ids: { [name: string]: string } = {};
    for (const name of [...Object.keys(c.config.networks ?? {}), ...(['host', 'none'].includes(c.config.host.networkMode ?? '') ? [c.config.host.networkMode!] : [])]) {
      try { ids[name] = n.get(name).id; } catch { /* removed since */ }
    }
    v.network = { endpoints: n.containerEndpoints(c.id), networkIds: ids };
    return v;
  }

  list(opts: ListOptions = {}): Container[] {
    const f = opts.filters ?? {};
    let out = [...this.records.values()].filter((c) => opts.all || c.state.status === 'running' || c.state.status === 'paused' || c.state.status === 'restarting');
    if (f.id?.length) out = out.filter((c) => f.id!.some((v) => c.id.startsWith(v)));
    if (f.name?.length) out = out.filter((c) => f.name!.some((v) => new RegExp(v).test(c.name)));
    if (f.status?.length) out = out.filter((c) => f.status!.includes(c.state.status));
    if (f.ancestor?.length) out = out.filter((c) => f.ancestor!.some((v) => c.image === v || c.imageId === v || c.imageId.startsWith(`sha256:${v}`) || this.sameImage(v, c.imageId)));
    if (f.label?.length) out = out.filter((c) => f.label!.every((l) => {
      const [k, v] = l.includes('=') ? [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)] : [l, undefined];
      const have = c.config.labels?.[k];
      return v === undefined ? have !== undefined : have === v;
    }));
    out.sort((a, b) => b.created.localeCompare(a.created));
    if (opts.limit && opts.limit > 0) out = out.slice(0, opts.limit);
    return out.map((c) => this.viewOf(c));
  }

  private sameImage(ref: string, imageId: string): boolean {
    try { return this.o.images.resolve(ref).record.id === imageId; } catch { return false; }
  }

  counts(): { running: number; paused: number; stopped: number } {
    let running = 0, paused = 0, stopped = 0;
    for (const c of this.records.values()) {
      if (c.state.status === 'running') running++;
      else if (c.state.status === 'paused') paused++;
      else stopped++;
    }
    return { running, paused, stopped };
  }

  /** The containers using an image, for `rmi` (docker refuses without force). */
  usingImage(imageId: string): string | undefined {
    return [...this.records.values()].find((c) => c.imageId === imageId)?.id;
  }

  async create(name: string | undefined, config: ContainerConfig, opts: { buildStep?: boolean } = {}): Promise<{ id: string; warnings: string[] }> {
    eagerBaseline();
    const taken = (n: string) => this.naming.get(n) ?? [...this.records.values()].find((c) => c.name === n)?.id;
    const wanted = name ? checkName(name) : randomName((n) => !!taken(n));
    const clash = taken(wanted);
    if (clash) throw new BerthError('Conflict', `Conflict. The container name "/${wanted}" is already in use by container "${clash}". You have to remove (or rename) that container to be able to reuse that name.`);
    const id = newId();
    // the name is ours from here: the create awaits disk writes, and another create must not take it meanwhile
    this.naming.set(wanted, id);
    try {
      return await this.createNamed(id, wanted, config, !!opts.buildStep);
    } finally {
      this.naming.delete(wanted);
    }
  }

  private async createNamed(id: string, wanted: string, config: ContainerConfig, buildStep: boolean): Promise<{ id: string; warnings: string[] }> {
    const img = this.o.images.resolve(config.image);
    const [cmd0, ...args] = commandOf(config, this.runConfigOf(img.record.id, img));
    const healthcheck = mergeHealthConfig(config.healthcheck, imageHealthConfig(img.config.config));
    if (healthcheck) config = { ...config, healthcheck };
    checkConfig(config, hostSets, kernel());
    // docker merges the image's EXPOSE into the container's config at create (inspect shows both; -P uses both)
    config = { ...config, exposedPorts: mergeExposed(config.exposedPorts, Object.keys((img.config.config?.ExposedPorts as object | null | undefined) ?? {})) };
    if (!config.exposedPorts) delete config.exposedPorts;
    config = this.resolveNetworking(config);
    const { points, made } = await createMounts(this.o.volumes, config, {
      exists: (p) => fs.existsSync(p), mountsOf: (ref) => mountPointsOf(this.find(ref)),
      imageVolumes: Object.keys((img.config.config?.Volumes as object | null | undefined) ?? {}),
    });
    try { checkMounts(config, isProcfs, points); } catch (e) { await removeVolumes(this.o.volumes, made); throw e; }
    const dir = path.join(this.dir, id);
    fs.mkdirSync(dir, { mode: 0o710 }); // one metadata call: a libuv thread round trip cost more (issue 13)
    try {
      const mounts = await this.o.images.prepareRootfs(img, snapshotKey(id));
      const c: Record = {
        id, name: wanted, created: isoTime(), image: config.image, imageId: img.record.id, config,
        state: { status: 'created', pid: 0, exitCode: 0, oomKilled: false, error: '', startedAt: NEVER, finishedAt: NEVER },
        path: cmd0!, args, logPath: path.join(dir, 'json.log'), attachSocket: path.join(this.o.execRoot, 'attach', `${id.slice(0, 12)}.sock`),
        restartCount: 0, mounts, mountPoints: points, ...(buildStep ? { buildStep } : {}),
      };
      await this.save(c);
      this.records.set(id, c);
      this.untouched.add(id);
      this.event('create', c);
      return { id, warnings: [] };
    } catch (e) {
      await this.o.images.snapshots.remove(snapshotKey(id)).catch(() => undefined);
      await writesDone(this.file(id));
      await fs.promises.rm(dir, { recursive: true, force: true });
      await removeVolumes(this.o.volumes, made);
      throw e;
    }
  }

  /** `byPolicy`: a restart policy's start, which keeps RestartCount (a user's start resets it, as docker's). */
  async start(ref: string, byPolicy = false): Promise<boolean> {
    eagerBaseline();
    const c = this.find(ref);
    // one start of a container at a time: two at once (a policy's and a user's, say) would both claim its
    // runtime state and cgroup; the second waits, then finds it running (docker's 304)
    while (this.starts.has(c.id)) await this.starts.get(c.id);
    const run = this.startNow(c, byPolicy);
    const done = run.then(() => undefined, () => undefined);
    this.starts.set(c.id, done);
    try { return await run; } finally { if (this.starts.get(c.id) === done) this.starts.delete(c.id); }
  }

  private readonly starts = new Map<string, Promise<void>>();

  /**
   * Docker attaches before start and sees every byte its process writes: an attach waiting for the next
   * start connects here, to the monitor that listens already, before the process is let go.
   */
  onNextStart(id: string, connect: (attachSocket: string) => Promise<void>): () => void {
    const set = this.nextStart.get(id) ?? new Set();
    this.nextStart.set(id, set.add(connect));
    return () => { set.delete(connect); if (set.size === 0 && this.nextStart.get(id) === set) this.nextStart.delete(id); };
  }

  private readonly nextStart = new Map<string, Set<(attachSocket: string) => Promise<void>>>();

  /** Each waiting attach gets its connection; one that fails or hangs (a client gone) does not hold up the start. */
  private async connectWaiting(c: Record): Promise<void> {
    const set = this.nextStart.get(c.id);
    if (!set) return;
    this.nextStart.delete(c.id);
    await Promise.all([...set].map((f) => Promise.race([f(c.attachSocket).catch(() => undefined), sleep(2000)])));
  }

  private async startNow(c: Record, byPolicy: boolean): Promise<boolean> {
    while (this.rootBusy.has(c.id)) await this.rootBusy.get(c.id);
    if (c.state.status === 'paused') throw new BerthError('Conflict', 'cannot start a paused container, try unpause instead'); // moby daemon/start.go
    if (c.state.status === 'running' || (c.state.status === 'restarting' && !byPolicy)) return false;
    if (!byPolicy) this.restarts.userStart(c);
    const dir = path.join(this.dir, c.id);
    const rootfs = path.join(dir, 'rootfs');
    // only this first mount of its root finds it as the image's: whatever happens next, it may not be
    const first = this.untouched.delete(c.id);
    trace(`start ${c.id.slice(0, 12)}: begin`);
    fs.mkdirSync(rootfs, { recursive: true });
    await mountAll(c.mounts, rootfs);
    trace(`start ${c.id.slice(0, 12)}: rootfs mounted`);
    const made: { mon?: Monitor; created?: Created; networked?: boolean } = {}; // what a failed start must undo
    try {
      const join = this.networkToJoin(c);
      this.writeEtc(c, dir, join?.dir);
      const points = await prepareMounts(this.o.volumes, c, rootfs);
      const image = this.factsOf(c.imageId);
      const facts = first ? image : undefined;
      const imageConfig = image.run;
      // moby SetupWorkingDirectory: a missing working directory is made in the root before the process starts
      const cwd = c.config.workingDir || imageConfig.workingDir;
      if (cwd && cwd !== '/') await mkdirAllInRoot(rootfs, cwd);
      // both at once: each read is a few thread-pool round trips
      const [passwd, group] = facts?.etc ?? await Promise.all([readInRoot(rootfs, '/etc/passwd'), readInRoot(rootfs, '/etc/group')]);
      if (facts && (passwd?.length ?? 0) + (group?.length ?? 0) <= ETC_KEPT_MAX) facts.etc = [passwd, group];
      const spec = buildContainerSpec(c.config, imageConfig, {
        id: c.id, rootfs, containerDir: dir, cgroupMode: this.cgroupMode, kernel: kernel(), hostHostname: os.hostname(),
        passwd, group, hostDevice, hostDevices, hostCapabilities: ownCapabilities(),
        mountPoints: points, initPath: c.config.host.init ? initBinary() : undefined, joinNetwork: join && { netns: join.netns, hostname: join.hostname },
        linkEnv: this.legacyLinkEnv(c),
      });
      trace(`start ${c.id.slice(0, 12)}: spec built`);
      unlinkIfThere(this.exitFile(c.id));
      unlinkIfThere(c.attachSocket);
      this.runtime.remove(c.id); // a run that ended while we were down may have left its record
      const tty = !!c.config.tty;
      const logTo = monitorLogOptions(c.config.host.logConfig);
      // the monitor runs the helper's code in its forked child (no exec: it is a sealed copy already),
      // which waits for its plan while runtimeCreate checks the spec and makes the cgroup
      const created = made.created = await runtimeCreate(this.runtime, {
        id: c.id, bundle: dir, spec, release: 'go', consoleFd: tty ? 4 : undefined,
        resolvedTargets: facts && facts.targets.size < TARGETS_MAX ? facts.targets : undefined,
        spawnHelper: async () => {
          const mon = made.mon = await startMonitor({
            dir, tty, argv: [HELPER_PATH, 'init'], env: [], fds: ['pipe'], stdin: !!c.config.openStdin, helperInProcess: true,
            paths: { attach: c.attachSocket, ...logTo.paths }, stderr: 'ignore', logMaxSize: logTo.logMaxSize, logMaxFiles: logTo.logMaxFiles,
          });
          trace(`start ${c.id.slice(0, 12)}: monitor ${mon.monitorPid} up`);
          return monitoredHelper(mon.childPid, mon.sockets[0]!);
        },
      });
      const mon = made.mon!;
      mon.containerPid(created.record.pid);
      // the network is in place before the go-ahead: the user's process never sees a netns without it
      if (this.o.networks && c.config.networks) {
        made.networked = true;
        for (const [name, req] of Object.entries(c.config.networks)) if (!this.offBridge(name)) await this.o.networks.attach(name, { id: c.id, name: c.name, pid: created.record.pid, dns: c.config.host.dns }, this.withHostnameAlias(c, name, req));
        this.writeHosts(c);
        await this.publishPorts(c);
      }
      await this.connectWaiting(c);
      const rc = new RuntimeContainer(this.runtime, created.record);
      await startWith(rc, () => created.session.send(MSG.GO));
      trace(`start ${c.id.slice(0, 12)}: released`);
      created.session.close();
      c.monitorPid = mon.monitorPid;
      c.state = { ...c.state, status: 'running', pid: created.record.pid, exitCode: 0, oomKilled: false, error: '', startedAt: isoTime(), finishedAt: NEVER };
      this.health.start(c);
      await this.save(c);
      this.event('start', c);
      mon.exited.then((st) => this.finish(c.id, st), () => this.monitorGone(c.id));
      return true;
    } catch (e) {
      // every way out releases what this start made: the runtime's container, the helper, the monitor, our fds
      if (made.created) {
        made.created.session.close();
        await runtimeRemove(new RuntimeContainer(this.runtime, made.created.record), true).catch(() => undefined);
      }
      made.mon?.abort();
      await releaseMounts(this.o.volumes, c, (n) => this.volumeRunning(n, c.id)).catch(() => undefined);
      if (made.networked) {
        await this.o.ports?.unpublish(c.id).catch((err) => this.o.log?.(`container ${c.id}: published ports: ${(err as Error).message}`));
        delete c.ports;
        await this.o.networks!.detachAll(c.id).catch((err) => this.o.log?.(`container ${c.id}: network cleanup: ${(err as Error).message}`));
      }
      await unmount(rootfs, true).catch(() => undefined);
      c.state = { ...c.state, status: 'exited', error: (e as Error).message, exitCode: 128 };
      await this.save(c);
      // moby removes an --rm container whose start failed; `docker run --rm` waits for that
      if (c.config.host.autoRemove) await this.remove(c.id, { force: true, volumes: true }).catch(() => undefined);
      throw e;
    }
  }

  /**
   * -p/-P: host ports forwarded to the address on the container's first network, before its process
   * runs. A taken port fails the start (docker's "port is already allocated"), and nothing is published.
   */
  private async publishPorts(c: Record): Promise<void> {
    const h = c.config.host;
    const reqs = portRequests({ portBindings: h.portBindings, publishAllPorts: h.publishAllPorts, exposed: c.config.exposedPorts });
    const primary = Object.keys(c.config.networks ?? {})[0];
    if (!this.o.ports || !this.o.networks || !primary || reqs.length === 0) return;
    const ep = this.o.networks.containerEndpoints(c.id).find((e) => e.networkName === primary);
    if (!ep) return; // no endpoint (--bridge none's default mode): dockerd publishes nothing, and says nothing
    const net = this.o.networks.get(primary);
    const subnet = net.ipam.config[0]?.subnet;
    if (!net.bridge || !subnet) return;
    c.ports = await this.o.ports.publish(c.id, `${c.name} (${ep.endpointId})`, reqs, { containerIp: ep.ipv4Address, bridge: net.bridge, subnet, hostLink: ep.hostVeth });
  }

  /** --network container:X: X must be running; its namespace, files and hostname are shared. */
  private networkToJoin(c: Record): { netns: string; dir: string; hostname: string } | undefined {
    const mode = c.config.host.networkMode ?? '';
    if (!mode.startsWith('container:')) return undefined;
    const ref = mode.slice('container:'.length);
    const x = this.find(ref);
    if (x.id === c.id) throw new BerthError('InvalidArgument', 'cannot join own network');
    if (x.state.status !== 'running' && x.state.status !== 'paused') throw new BerthError('Conflict', `cannot join network of a non running container: ${ref}`);
    const dir = path.join(this.dir, x.id);
    let hostname = x.config.hostname || x.id.slice(0, 12);
    try { hostname = fs.readFileSync(path.join(dir, 'hostname'), 'utf8').trim() || hostname; } catch { /* not written */ }
    return { netns: `/proc/${x.state.pid}/ns/net`, dir, hostname };
  }

  /** hostname, hosts and resolv.conf, bind-mounted by the spec; written before every start. */
  private writeEtc(c: Record, dir: string, joinDir?: string): void {
    if (joinDir) {
      for (const f of ['hostname', 'hosts', 'resolv.conf']) {
        let text = '';
        try { text = fs.readFileSync(path.join(joinDir, f), 'utf8'); } catch { /* not written */ }
        writeStartFile(path.join(dir, f), text);
      }
      return;
    }
    writeStartFile(path.join(dir, 'hostname'), `${c.config.hostname || c.id.slice(0, 12)}\n`);
    writeStartFile(path.join(dir, 'hosts'), this.hostsText(c));
    writeStartFile(path.join(dir, 'resolv.conf'), this.resolvText(c));
  }

  /** After a network change: in place, since the running container has the file's inode bind-mounted. */
  private writeHosts(c: Record): void {
    const mode = c.config.host.networkMode ?? '';
    if (mode.startsWith('container:')) return;
    try { fs.writeFileSync(path.join(this.dir, c.id, 'hosts'), this.hostsText(c)); } catch (e) { this.o.log?.(`container ${c.id}: hosts: ${(e as Error).message}`); }
  }

  /**
   * moby setupLinkedContainers: each legacy link's target must be running, on the default bridge; its
   * address, exposed ports and environment become the linking container's variables, at every start.
   */
  private legacyLinkEnv(c: Record): string[] | undefined {
    const links = c.config.host.links;
    if (!links?.length || !this.o.networks || !c.config.networks?.bridge || this.offBridge('bridge')) return undefined;
    return links.flatMap((l) => {
      const t = this.records.get(l.id);
      if (!t) return []; // removed since: the link went with it
      const name = `/${c.name}/${l.alias}`;
      if (t.state.status !== 'running' && t.state.status !== 'paused') throw new BerthError('FailedPrecondition', `Cannot link to a non running container: /${t.name} AS ${name}`);
      const ip = this.o.networks!.containerEndpoints(t.id).find((e) => e.networkName === 'bridge')?.ipv4Address;
      if (!ip) throw new BerthError('FailedPrecondition', `container ${t.id} not attached to default bridge network`);
      const imageEnv = this.runConfigOf(t.imageId).env ?? [];
      return linkEnv({ name, ip, exposed: t.config.exposedPorts ?? [], env: mergedEnv(imageEnv, t.config.env ?? []) });
    });
  }

  /** the default bridge of a daemon without one (--bridge none): nothing to join, only lo (moby sets NetworkDisabled) */
  private offBridge(network: string): boolean {
    return network === 'bridge' && !!this.o.networks?.defaultBridgeDisabled;
  }

  /** moby updateNetworkConfig: on a user network the container's hostname (when not its name) is one of its DNS names */
  private withHostnameAlias(c: Record, network: string, req: EndpointRequest): EndpointRequest {
    const h = c.config.hostname;
    if (!h || h === c.name || network === 'bridge' || req.aliases?.includes(h)) return req;
    return { ...req, aliases: [...(req.aliases ?? []), h] };
  }

  private hostGateway(): string | undefined {
    try { return this.o.networks?.get('bridge').ipam.config[0]?.gateway; } catch { return undefined; }
  }

  private hostsText(c: Record): string {
    const extra = (c.config.host.extraHosts ?? []).map((e) => parseExtraHost(e, this.hostGateway()));
    if (c.config.host.networkMode === 'host') {
      let text = '';
      try { text = fs.readFileSync('/etc/hosts', 'utf8'); } catch { /* none on the host */ }
      return text + (text && !text.endsWith('\n') ? '\n' : '') + extra.map((h) => `${h.ip}\t${h.name}\n`).join('');
    }
    const eps = this.o.networks?.containerEndpoints(c.id) ?? [];
    // legacy links: "<ip> <alias> <id12> <name>" for each linked container with an address on the default bridge (moby)
    for (const l of c.config.host.links ?? []) {
      const t = this.records.get(l.id);
      const ip = t && this.o.networks?.containerEndpoints(t.id).find((e) => e.networkName === 'bridge')?.ipv4Address;
      if (t && ip) extra.push({ ip, name: [...new Set([l.alias, t.id.slice(0, 12), t.name])].join(' ') });
    }
    return hostsFile({
      hostname: c.config.hostname || c.id.slice(0, 12), domainname: c.config.domainname, extraHosts: extra,
      // the default bridge has no network-scoped aliases (docker refuses them there)
      addresses: eps.map((e) => ({ ip: e.ipv4Address, aliases: e.networkName === 'bridge' ? [] : e.aliases })),
    });
  }

  private resolvText(c: Record): string {
    const read = (f: string) => { try { return fs.readFileSync(f, 'utf8'); } catch { return undefined; } };
    const etc = read('/etc/resolv.conf') ?? '';
    const h = c.config.host;
    if (h.networkMode === 'host' && !h.dns?.length && !h.dnsSearch?.length && !h.dnsOptions?.length) return etc;
    const host = hostResolv(etc, () => read('/run/systemd/resolve/resolv.conf'));
    // on a user network the embedded DNS server on the gateway answers names and forwards the rest
    const primary = Object.keys(c.config.networks ?? {})[0];
    let embedded: string | undefined;
    if (primary && primary !== 'bridge' && this.o.networks) {
      try { embedded = this.o.networks.get(primary).ipam.config[0]?.gateway; } catch { /* removed since */ }
    }
    return resolvConf(host, { embedded, dns: h.dns, dnsSearch: h.dnsSearch, dnsOptions: h.dnsOptions });
  }

  /**
   * The network mode and EndpointsConfig checked and keyed by network name (moby daemon/create.go
   * verifyNetworkingConfig): an unknown network, a bad address or alias is refused here, before anything exists.
   */
  private resolveNetworking(config: ContainerConfig): ContainerConfig {
    try {
      return this.resolveNetworkingOf(config);
    } catch (e) {
      // a 404 at create makes the docker CLI think the image is missing and pull it: the request is what is wrong
      if (e instanceof BerthError && e.kind === 'NotFound') throw new BerthError('InvalidArgument', e.message, { cause: e });
      throw e;
    }
  }

  private resolveNetworkingOf(config: ContainerConfig): ContainerConfig {
    const n = this.o.networks;
    const h = config.host;
    const mode = h.networkMode || 'default';
    const { networks: asked = {}, ...rest } = config;
    for (const e of h.extraHosts ?? []) parseExtraHost(e, '0.0.0.0');
    if (mode.startsWith('container:')) {
      this.find(mode.slice('container:'.length));
      if (config.hostname) throw new BerthError('InvalidArgument', 'conflicting options: hostname and the network mode');
      if (h.dns?.length || h.dnsSearch?.length || h.dnsOptions?.length) throw new BerthError('InvalidArgument', 'conflicting options: dns and the network mode');
      if (h.extraHosts?.length) throw new BerthError('InvalidArgument', 'conflicting options: custom host-to-IP mapping and the network mode');
      return rest;
    }
    if (!n || mode === 'host' || mode === 'none') return rest;
    // dockerd --bridge=none: the container is created as if for the default bridge, and joins nothing at start
    if (n.defaultBridgeDisabled && (mode === 'default' || mode === 'bridge')) return { ...rest, networks: { bridge: {} } };
    const primary = n.get(mode === 'default' ? 'bridge' : mode);
    if (primary.driver !== 'bridge') throw new BerthError('InvalidArgument', `network mode ${mode}: use --network ${primary.name === 'none' ? 'none' : 'host'}`);
    const out: { [name: string]: EndpointRequest } = { [primary.name]: cleanRequest(asked[mode] ?? asked[primary.name] ?? asked[primary.id] ?? {}) };
    for (const [k, req] of Object.entries(asked)) {
      if (k === mode || k === 'default') continue;
      const net = n.get(k);
      if (net.id === primary.id) continue;
      if (net.driver !== 'bridge') throw new BerthError('InvalidArgument', `container cannot be connected to network ${net.name} and ${primary.name} at once`);
      out[net.name] = cleanRequest(req);
    }
    for (const [k, req] of Object.entries(out)) n.checkRequest(k, req);
    return { ...rest, networks: out };
  }

  /** `network connect`: recorded on a created container (joined at start), attached now on a running one. */
  async connect(ref: string, network: string, req: EndpointRequest = {}): Promise<void> {
    const c = this.find(ref);
    const n = this.networksOrFail();
    // dockerd without a bridge answers 200 and does nothing (connectToNetwork returns first; a stopped container
    // keeps the name for a network made later, which for "bridge" cannot be)
    if (this.offBridge(network)) return;
    const net = n.get(network);
    const mode = c.config.host.networkMode || 'default';
    if (mode === 'host' || net.driver === 'host') throw new BerthError('PermissionDenied', 'container cannot be disconnected from host network or connected to host network');
    if (mode === 'none' || net.driver === 'null') throw new BerthError('PermissionDenied', 'container cannot be connected to multiple networks with one of the networks in private (none) mode');
    if (mode.startsWith('container:')) throw new BerthError('PermissionDenied', 'conflicting options: container type network can\'t be used with other networks');
    if (c.config.networks?.[net.name]) throw new BerthError('PermissionDenied', `endpoint with name ${c.name} already exists in network ${net.name}`);
    const clean = cleanRequest(req);
    n.checkRequest(net.id, clean);
    const running = c.state.status === 'running' || c.state.status === 'paused';
    if (running) await n.attach(net.id, { id: c.id, name: c.name, pid: c.state.pid, dns: c.config.host.dns }, this.withHostnameAlias(c, net.name, clean));
    c.config.networks = { ...(c.config.networks ?? {}), [net.name]: clean };
    await this.save(c);
    if (running) this.writeHosts(c);
    this.o.events?.publish('network', 'connect', net.id, { container: c.id, name: net.name, type: net.driver });
  }

  /** `network disconnect`; force lets a container leave a network that no longer exists. */
  async disconnect(ref: string, network: string, force = false): Promise<void> {
    const c = this.find(ref);
    const n = this.networksOrFail();
    let name = network, id: string | undefined, driver = 'bridge';
    try {
      const net = n.get(network);
      ({ name, id, driver } = net);
    } catch (e) {
      if (!force || !(e instanceof BerthError && e.kind === 'NotFound')) throw e;
    }
    if (driver === 'host' || c.config.host.networkMode === 'host') throw new BerthError('PermissionDenied', 'container cannot be disconnected from host network or connected to host network');
    if (!c.config.networks?.[name]) throw new BerthError('InvalidArgument', `container ${c.id} is not connected to network ${network}`);
    const running = c.state.status === 'running' || c.state.status === 'paused';
    if (running && id) await n.detach(id, c.id);
    const { [name]: _gone, ...left } = c.config.networks;
    c.config.networks = left;
    await this.save(c);
    if (running) this.writeHosts(c);
    if (id) this.o.events?.publish('network', 'disconnect', id, { container: c.id, name, type: driver });
  }

  private networksOrFail(): ContainerNetworks {
    if (!this.o.networks) throw new BerthError('NotImplemented', 'this daemon runs without networking');
    return this.o.networks;
  }

  /** When the control socket is gone (a restarted daemon), the exit file tells, or the monitor's death. */
  private watchExitFile(id: string): void {
    const t = setInterval(() => {
      const c = this.records.get(id);
      if (!c || (c.state.status !== 'running' && c.state.status !== 'paused')) { clearInterval(t); return; }
      const gone = !this.monitorAlive(c); // looked at first: a monitor writes its exit file before it exits
      void readExitFile(this.exitFile(id)).then((st) => {
        if (!st && !gone) return;
        clearInterval(t);
        void (st ? this.finish(id, st) : this.monitorGone(id));
      }, () => undefined);
    }, 250);
  }

  /** A zombie counts as dead: a restored container's monitor is not our child, and nobody may reap it soon. */
  private monitorAlive(c: Record): boolean {
    return !c.monitorPid || pidStartTime(c.monitorPid) !== '';
  }

  /**
   * The monitor died without an exit status (kill -9): nothing reaps or logs the container any more.
   * finish() kills what is left through the cgroup; the exit is what containerd records when a shim
   * dies and the shim's delete kills the container (cleanupAfterDeadShim): 128 + SIGKILL.
   */
  private async monitorGone(id: string): Promise<void> {
    const c = this.records.get(id);
    if (c?.monitorPid && this.monitorAlive(c)) { try { process.kill(c.monitorPid, 'SIGKILL'); } catch { /* gone */ } } // it stopped answering
    const st = await readExitFile(this.exitFile(id)).catch(() => undefined);
    if (!st) this.o.log?.(`container ${id}: its monitor is gone; killing what is left of the container`);
    await this.finish(id, st ?? { exitCode: 137, signal: 9, finishedAt: isoTime() }, st ? '' : 'the container\'s monitor died');
  }

  /** A run ended: note how, tear down the runtime's part, unmount, wake waiters, --rm. */
  private async finish(id: string, st: ExitStatus, error = ''): Promise<void> {
    const c = this.records.get(id);
    if (!c || (c.state.status !== 'running' && c.state.status !== 'paused') || this.finishing.has(id)) return;
    this.finishing.add(id); // one run ends once: the control socket, the exit-file watch and kill() may all notice
    this.health.stop(id);
    let oomKilled = false;
    try {
      const rc = RuntimeContainer.load(this.runtime, id);
      try { oomKilled = rc.cgroup().oomKillCount() > 0; } catch { /* no memory controller */ }
      await runtimeRemove(rc, true);
    } catch (e) {
      if (!(e instanceof BerthError && e.kind === 'NotFound')) this.o.log?.(`container ${id}: runtime cleanup: ${(e as Error).message}`);
    }
    await this.o.ports?.unpublish(id).catch((e) => this.o.log?.(`container ${id}: published ports: ${(e as Error).message}`));
    delete c.ports;
    await this.o.networks?.detachAll(id).catch((e) => this.o.log?.(`container ${id}: network cleanup: ${(e as Error).message}`));
    await this.unmountRoot(id);
    await releaseMounts(this.o.volumes, c, (n) => this.volumeRunning(n, id)).catch((e) => this.o.log?.(`container ${id}: release volumes: ${(e as Error).message}`));
    const restarting = this.restarts.afterExit(c, st.exitCode, Date.parse(st.finishedAt) - Date.parse(c.state.startedAt));
    c.state = { ...c.state, status: restarting ? 'restarting' : 'exited', pid: 0, exitCode: st.exitCode, oomKilled, error, finishedAt: st.finishedAt };
    this.finishing.delete(id);
    delete c.monitorPid;
    await this.save(c);
    if (oomKilled) this.event('oom', c);
    this.event('die', c, { exitCode: String(st.exitCode) });
    for (const w of this.exitWaiters.get(id) ?? []) w(c);
    this.exitWaiters.delete(id);
    // moby: --rm removes the container with its anonymous volumes (RemoveVolume), named ones stay
    if (c.config.host.autoRemove) await this.remove(id, { force: true, volumes: true }).catch((e) => this.o.log?.(`container ${id}: auto-remove: ${(e as Error).message}`));
  }

  /** Whether a running container other than `except` uses the volume (its own mount stays while one does). */
  private volumeRunning(name: string, except: string): boolean {
    return [...this.records.values()].some((x) => x.id !== except && (x.state.status === 'running' || x.state.status === 'paused') && volumeNamesOf(x).includes(name));
  }

  /**
   * An ended run's root comes off now, or once the cp/diff/export calls reading it are done (rootBusy holds
   * start, withRoot and remove until then): moby's layer mounts are counted, and a reader keeps its mount
   * through the container's exit. Unmounted under a reader, the walk found the merged view empty: a `docker diff`
   * of a short `sh` right after its start (moby's TestDiff does that) reported /etc/passwd and /etc/group deleted
   * in 2 of 10 tries, and ~2 in 3 diffs sent while a kill's clean-up ran.
   */
  private async unmountRoot(id: string): Promise<void> {
    const rootfs = path.join(this.dir, id, 'rootfs');
    const readers = this.rootReaders.get(id);
    if (!readers?.size) { await unmount(rootfs, true).catch(() => undefined); return; }
    const later: Promise<void> = Promise.allSettled([...readers])
      .then(() => unmount(rootfs, true)).catch(() => undefined)
      .finally(() => { if (this.rootBusy.get(id) === later) this.rootBusy.delete(id); });
    this.rootBusy.set(id, later);
  }

  private nextExit(id: string): Promise<Record> {
    return new Promise((resolve) => this.exitWaiters.set(id, [...(this.exitWaiters.get(id) ?? []), resolve]));
  }

  async kill(ref: string, signal = 'SIGKILL'): Promise<void> {
    const c = this.find(ref);
    await this.restarts.settled(c.id); // a user's kill comes after a policy start under way, and ends what it started
    if (c.state.status !== 'running' && c.state.status !== 'paused' && c.state.status !== 'restarting') throw new BerthError('Conflict', `Cannot kill container: ${ref}: Container ${c.id} is not running`);
    const sig = parseSignal(signal);
    if (sig === undefined) throw new BerthError('InvalidArgument', `Invalid signal: ${signal}`);
    if (this.endRestarting(c)) { this.event('kill', c, { signal: String(sig) }); return; }
    this.restarts.userKill(c, sig, c.config.stopSignal ? parseSignal(c.config.stopSignal) : undefined);
    await this.save(c);
    // without its monitor nothing would record the exit: end the container for good, whatever the signal
    if (!this.monitorAlive(c)) { await this.monitorGone(c.id); this.event('kill', c, { signal: String(sig) }); return; }
    // dockerd answers a SIGKILL only once the container is gone: a following inspect or rm sees it exited
    const exited = sig === 9 ? this.nextExit(c.id) : undefined;
    runtimeKill(RuntimeContainer.load(this.runtime, c.id), sig, sig === 9);
    this.event('kill', c, { signal: String(sig) });
    if (thawsAfterSignal(c, sig, c.config.stopSignal ? parseSignal(c.config.stopSignal) : undefined)) await this.thaw(c);
    await exited;
  }

  /** A stop, kill or rm -f of a container waiting for its policy's restart: no restart, it stays exited. */
  private endRestarting(c: Record): boolean {
    if (c.state.status !== 'restarting') return false;
    this.restarts.cancel(c.id);
    c.manuallyStopped = true;
    c.state = { ...c.state, status: 'exited' };
    this.saveSoon(c);
    return true;
  }

  async stop(ref: string, timeoutSec?: number, signal?: string): Promise<boolean> {
    const c = this.find(ref);
    await this.restarts.settled(c.id);
    if (this.endRestarting(c)) { this.event('stop', c); return true; }
    if (c.state.status !== 'running' && c.state.status !== 'paused') return false;
    const exited = this.nextExit(c.id);
    const t = timeoutSec ?? c.config.stopTimeout ?? 10;
    try { await this.kill(c.id, signal ?? c.config.stopSignal ?? 'SIGTERM'); } catch { /* exited meanwhile */ }
    if (t >= 0) {
      const timer = sleep(t * 1000).then(() => 'timeout' as const); // chunked: a long -t must not overflow
      if ((await Promise.race([exited, timer])) === 'timeout') await this.kill(c.id, 'SIGKILL').catch(() => undefined);
    }
    await exited;
    this.event('stop', c);
    return true;
  }

  async restart(ref: string, timeoutSec?: number): Promise<void> {
    const c = this.find(ref);
    await this.stop(c.id, timeoutSec);
    await this.start(c.id); // a user's start: RestartCount starts over (moby containerRestart)
    this.event('restart', c);
  }

  async wait(ref: string, condition: WaitCondition = 'not-running', signal?: AbortSignal): Promise<{ exitCode: number; error?: string }> {
    const c = this.find(ref);
    const running = c.state.status === 'running' || c.state.status === 'paused';
    const aborted = new Promise<never>((_, reject) => signal?.addEventListener('abort', () => reject(new BerthError('Unavailable', 'wait abandoned by the client')), { once: true }));
    if (condition === 'removed') {
      await Promise.race([new Promise<void>((r) => this.removeWaiters.set(c.id, [...(this.removeWaiters.get(c.id) ?? []), r])), aborted]);
      return { exitCode: c.state.exitCode, error: c.state.error || undefined };
    }
    if (condition === 'not-running' && !running) return { exitCode: c.state.exitCode, error: c.state.error || undefined };
    const done = await Promise.race([this.nextExit(c.id), aborted]);
    return { exitCode: done.state.exitCode, error: done.state.error || undefined };
  }

  async remove(ref: string, opts: { force?: boolean; volumes?: boolean } = {}): Promise<void> {
    const c = this.find(ref);
    await this.restarts.settled(c.id);
    if (c.state.status === 'restarting') {
      if (!opts.force) throw new BerthError('Conflict', `You cannot remove a restarting container ${c.id}. Stop the container before attempting removal or force remove`);
      this.endRestarting(c);
    }
    if (c.state.status === 'running' || c.state.status === 'paused') {
      if (!opts.force && c.state.status === 'paused') throw new BerthError('Conflict', `cannot remove container "/${c.name}": container is paused and must be unpaused first`);
      if (!opts.force) throw new BerthError('Conflict', `cannot remove container "/${c.name}": container is running: stop the container before removing or force remove`);
      const exited = this.nextExit(c.id);
      await this.kill(c.id, 'SIGKILL').catch(() => undefined);
      await exited;
    }
    if (!this.records.has(c.id)) return; // --rm got there first
    this.records.delete(c.id);
    this.untouched.delete(c.id);
    this.restarts.forget(c.id);
    this.health.stop(c.id);
    this.execs.forget(c.id);
    this.sampler.forget(c.id);
    // a cp or diff still reading its root, for a while: a reader whose client went away mid-stream must not
    // hold a removal forever (seen once: api-fuzz's daemon stop hung here); the unmount below is lazy anyway
    const t0 = Date.now();
    while (this.rootBusy.has(c.id) && Date.now() - t0 < 5000) await Promise.race([this.rootBusy.get(c.id), sleep(100)]);
    await unmount(path.join(this.dir, c.id, 'rootfs'), true).catch(() => undefined);
    await this.o.images.snapshots.remove(snapshotKey(c.id)).catch(() => undefined);
    await writesDone(this.file(c.id)); // a record write still under way would race the removal
    await fs.promises.rm(path.join(this.dir, c.id), { recursive: true, force: true });
    fs.rmSync(c.attachSocket, { force: true });
    this.event('destroy', c);
    if (opts.volumes) await removeAnonymous(this.o.volumes, c);
    for (const w of this.removeWaiters.get(c.id) ?? []) w();
    this.removeWaiters.delete(c.id);
  }

  /** A step container the build keeps (`--rm=false` after a failed step) is the user's from now on: a daemon start leaves it. */
  async keep(ref: string): Promise<void> {
    const c = this.find(ref);
    if (!c.buildStep) return;
    delete c.buildStep;
    await this.save(c);
  }

  async rename(ref: string, name: string): Promise<void> {
    const c = this.find(ref);
    const wanted = checkName(name);
    if (wanted === c.name) throw new BerthError('InvalidArgument', `Renaming a container with the same name as its current name`);
    const clash = [...this.records.values()].find((x) => x.name === wanted);
    if (clash) throw new BerthError('Conflict', `Conflict. The container name "/${wanted}" is already in use by container "${clash.id}". You have to remove (or rename) that container to be able to reuse that name.`);
    const old = c.name;
    c.name = wanted;
    await this.save(c);
    await this.o.networks?.renameContainer(c.id, wanted).catch((e) => this.o.log?.(`container ${c.id}: rename endpoints: ${(e as Error).message}`));
    this.event('rename', c, { oldName: `/${old}` });
  }

  async *logs(ref: string, opts: LogOptions = {}): AsyncIterable<LogLine> {
    const c = this.find(ref);
    const wantOut = opts.stdout !== false, wantErr = opts.stderr !== false;
    const follow = opts.follow && (c.state.status === 'running' || c.state.status === 'paused');
    const stop = new AbortController();
    opts.signal?.addEventListener('abort', () => stop.abort(), { once: true });
    if (follow) void this.nextExit(c.id).then(() => setTimeout(() => stop.abort(), 100));
    if (!fs.existsSync(c.logPath)) return;
    for await (const e of readLog(c.logPath, { follow, tail: opts.tail, since: opts.since, until: opts.until, signal: stop.signal })) {
      if ((e.stream === 'stdout' && wantOut) || (e.stream === 'stderr' && wantErr)) yield { stream: e.stream as 'stdout' | 'stderr', line: e.line, time: e.time };
    }
  }

  /** `docker exec`: an instance to start later (Conflict when the container is not running). */
  async execCreate(ref: string, cfg: ExecConfig): Promise<string> {
    const c = this.find(ref);
    if (c.state.status === 'paused') throw new BerthError('Conflict', `Container ${c.id} is paused, unpause the container before exec`);
    if (c.state.status !== 'running') throw new BerthError('Conflict', `Container ${c.id} is not running`);
    const id = this.execs.create(c.id, cfg);
    this.event('exec_create', c, { execID: id });
    return id;
  }

  async execStart(execId: string, beforeRelease?: (attachSocket: string) => Promise<void>): Promise<{ exited: Promise<ExitStatus> }> {
    const e = this.execs.get(execId);
    const r = await this.execs.start(e.id, path.join(this.dir, e.containerId, 'rootfs'), beforeRelease);
    const c = this.records.get(e.containerId);
    if (c) {
      this.event('exec_start', c, { execID: e.id });
      void r.exited.then((st) => this.event('exec_die', c, { execID: e.id, exitCode: String(st.exitCode) }), () => undefined);
    }
    return r;
  }

  execInspect(execId: string): ExecInstance { return this.execs.get(execId); }

  /** What stats needs of a running or paused container; no target when it is not running. */
  statsTarget(ref: string): { container: Container; target?: StatsTarget } {
    const c = this.find(ref);
    if (c.state.status !== 'running' && c.state.status !== 'paused') return { container: view(c) };
    const rc = RuntimeContainer.load(this.runtime, c.id);
    const mode = c.config.host.networkMode ?? '';
    return { container: view(c), target: { id: c.id, pid: c.state.pid, cgroup: () => rc.cgroup(), ownNetwork: mode !== 'host' && !mode.startsWith('container:') } };
  }

  async top(ref: string, psArgs?: string): Promise<TopResult> {
    const c = this.find(ref);
    if (c.state.status !== 'running' && c.state.status !== 'paused') throw new BerthError('Conflict', `container ${c.id} is not running`);
    const r = await top(RuntimeContainer.load(this.runtime, c.id).cgroup().pids(), psArgs);
    this.event('top', c);
    return r;
  }

  async pause(ref: string): Promise<void> {
    const c = this.find(ref);
    checkPause(c);
    await RuntimeContainer.load(this.runtime, c.id).cgroup().freeze();
    if (c.state.status !== 'running') return; // it ended while freezing
    c.state = { ...c.state, status: 'paused' };
    await this.save(c);
    this.event('pause', c);
  }

  async unpause(ref: string): Promise<void> {
    const c = this.find(ref);
    checkUnpause(c);
    await this.thaw(c);
  }

  private async thaw(c: Record): Promise<void> {
    try { RuntimeContainer.load(this.runtime, c.id).cgroup().thaw(); } catch (e) { if (!(e instanceof BerthError && e.kind === 'NotFound')) throw e; }
    if (c.state.status !== 'paused') return;
    c.state = { ...c.state, status: 'running' };
    await this.save(c);
    this.event('unpause', c);
  }

  /** `docker update`: checked whole first (containers/update.ts), written to a live cgroup (undone on failure), then stored. */
  async update(ref: string, u: ResourceUpdate, host: { ncpu: number; cpus: string; mems: string }): Promise<{ warnings: string[] }> {
    const c = this.find(ref);
    let plan: ReturnType<typeof planUpdate>;
    try {
      plan = planUpdate(c.config.host, u, host);
    } catch (e) {
      // moby errCannotUpdate: the conflicts with what is set name the container
      if (e instanceof BerthError && e.kind === 'Conflict') throw new BerthError('Conflict', `Cannot update container ${c.id}: ${e.message}`, { cause: e });
      throw e;
    }
    if (plan.resources && (c.state.status === 'running' || c.state.status === 'paused')) {
      const cg = RuntimeContainer.load(this.runtime, c.id).cgroup();
      try {
        cg.apply(plan.resources);
      } catch (e) {
        try { cg.apply(resourcesOf(c.config.host, plan.touched)); } catch (e2) { this.o.log?.(`container ${c.id}: update rollback: ${(e2 as Error).message}`); }
        const kind = e instanceof BerthError ? e.kind : 'Internal';
        throw new BerthError(kind, `Cannot update container ${c.id}: ${(e as Error).message}`, { cause: e });
      }
    }
    c.config = { ...c.config, host: plan.host };
    await this.save(c);
    this.event('update', c);
    return { warnings: plan.warnings };
  }

  /**
   * cp, diff, export, commit (containers/archive.ts, commit.ts): fn gets the container's root — the
   * running container's merged rootfs, or its snapshot mounted for the call (start waits) — its
   * writable layer and the host sources of its bind mounts. `pause` freezes a running container meanwhile.
   */
  async withRoot<T>(ref: string, fn: (r: ContainerRoot) => Promise<T>, o: { pause?: boolean } = {}): Promise<T> {
    const c = this.find(ref);
    this.untouched.delete(c.id); // cp in writes its layer
    const dir = path.join(this.dir, c.id);
    const rootfs = path.join(dir, 'rootfs');
    // a run that is ending unmounts its root: a reader waits for that, then mounts the root itself
    while (this.rootBusy.has(c.id) || this.finishing.has(c.id)) await (this.rootBusy.get(c.id) ?? sleep(5));
    const root: ContainerRoot = {
      container: view(c), rootfs, upper: this.o.images.snapshots.fsPath(snapshotKey(c.id)),
      lowers: (() => { const p = this.o.images.snapshots.stat(snapshotKey(c.id)).parent; return p ? this.o.images.snapshots.lowers(p) : []; })(),
      parent: this.o.images.snapshots.stat(snapshotKey(c.id)).parent,
      mounts: bindSources(c.config, dir, resolvedMountPoints(this.o.volumes, c)),
    };
    if (c.state.status === 'running' || c.state.status === 'paused') {
      const cg = o.pause && c.state.status === 'running' ? RuntimeContainer.load(this.runtime, c.id).cgroup() : undefined;
      // registered before any await: a run ending from here on unmounts the root after this call (unmountRoot)
      const readers = this.rootReaders.get(c.id) ?? new Set<Promise<unknown>>();
      this.rootReaders.set(c.id, readers);
      const reading = (async () => {
        if (cg) { await cg.freeze(); this.frozenForReaders.add(cg); }
        try { return await fn(root); } finally { if (cg) { this.frozenForReaders.delete(cg); cg.thaw(); } }
      })();
      readers.add(reading);
      try { return await reading; } finally {
        readers.delete(reading);
        if (readers.size === 0 && this.rootReaders.get(c.id) === readers) this.rootReaders.delete(c.id);
      }
    }
    let done!: () => void;
    this.rootBusy.set(c.id, new Promise<void>((r) => { done = r; }));
    try {
      fs.mkdirSync(rootfs, { recursive: true });
      await mountAll(c.mounts, rootfs);
      try { return await fn(root); } finally { await unmount(rootfs, true).catch(() => undefined); }
    } finally {
      this.rootBusy.delete(c.id);
      done();
    }
  }

  /**
   * The daemon stops (its connections are ended, so readers writing to a client have failed or will): waits at
   * most `ms` for the withRoot calls holding a stopped container's root mounted (and for ended runs' unmounts
   * held by readers), then unmounts what is left, lazily, and thaws what a reader froze. The next daemon then
   * finds no mount of a stopped container, and no running container left frozen by a commit cut short.
   * Returns the ids whose readers had not let go in time.
   */
  async letGoOfRoots(ms: number): Promise<string[]> {
    const busy = [...this.rootBusy.values()];
    let t: NodeJS.Timeout | undefined;
    if (busy.length) await Promise.race([Promise.allSettled(busy), new Promise((r) => { t = setTimeout(r, ms); })]);
    clearTimeout(t);
    const late = [...this.rootBusy.keys()];
    for (const id of late) await unmount(path.join(this.dir, id, 'rootfs'), true).catch(() => undefined);
    for (const cg of this.frozenForReaders) { try { await cg.thaw(); } catch { /* gone */ } }
    this.frozenForReaders.clear();
    return late;
  }

  async resize(ref: string, height: number, width: number): Promise<void> {
    const c = this.find(ref);
    if (c.state.status !== 'running') throw new BerthError('Conflict', `Container ${c.id} is not running`);
    const a = await attach(c.attachSocket);
    a.resize(height, width);
    a.close();
  }
}

/** An endpoint request as stored: only what was given (docker sends empty strings and nulls). */
function cleanRequest(r: EndpointRequest): EndpointRequest {
  const out: EndpointRequest = {};
  if (r.aliases?.length) out.aliases = [...new Set(r.aliases)];
  if (r.ipv4Address) out.ipv4Address = r.ipv4Address;
  if (r.macAddress) out.macAddress = r.macAddress;
  if (r.links?.length) out.links = [...new Set(r.links)];
  return out;
}

/** A container's writable snapshot (64-hex names are the layers'). */
export const snapshotKey = (id: string) => `ctr-${id}`;

/**
 * hostname, hosts, resolv.conf at a start: made in place the first time (nothing reads them before the
 * start that writes them, and one a killed daemon left half written is there the next time, so that
 * start replaces it), temp + rename after, as a run before may still be read. A first start then makes
 * three files, not three temp files and three renames on the daemon's disk (issue 13).
 */
function writeStartFile(file: string, text: string): void {
  try {
    fs.writeFileSync(file, text, { mode: 0o644, flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    replaceFileSync(file, text);
  }
}

function view(c: Record): Container {
  const { mounts: _m, monitorPid: _p, manuallyStopped: _s, buildStep: _b, ...rest } = c;
  return structuredClone(rest);
}

function hostDevice(p: string): HostDevice | undefined {
  try {
    const st = fs.statSync(p);
    const type = st.isCharacterDevice() ? 'c' : st.isBlockDevice() ? 'b' : undefined;
    if (!type) return undefined;
    // glibc's major()/minor() of dev_t
    const dev = BigInt(st.rdev);
    const major = Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn));
    const minor = Number((dev & 0xffn) | ((dev >> 12n) & ~0xffn));
    return { type, major, minor, fileMode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
  } catch { return undefined; }
}

/** --privileged: every device node directly under /dev (docker walks /dev the same way). */
function hostDevices(): Array<HostDevice & { path: string }> {
  const out: Array<HostDevice & { path: string }> = [];
  const walk = (dir: string) => {
    for (const n of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, n.name);
      if (n.isDirectory() && !['pts', 'shm', 'mqueue', 'fd'].includes(n.name)) walk(p);
      else if (n.isCharacterDevice() || n.isBlockDevice()) { const d = hostDevice(p); if (d && p !== '/dev/console') out.push({ ...d, path: p }); }
    }
  };
  try { walk('/dev'); } catch { /* no /dev */ }
  return out;
}
