// build/builder: runs a parsed Dockerfile the way docker's classic builder does (moby 20.10
// builder/dockerfile): one image per step, RUN in a real container on the step's parent image, COPY/ADD
// written into a created (never started) container's root, each filesystem step committed as one layer
// by containers/commit.ts; metadata steps add history entries without layers. Step lines, cache lines
// and errors use dockerd's wording, because clients and people read them.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BerthError } from '../errors.js';
import { commitContainer } from '../containers/commit.js';
import { extractToDir } from '../containers/archive.js';
import type { ContainerRoot } from '../containers/root.js';
import type { ContainerService } from '../containers/types.js';
import type { ImageService, ResolvedImage } from '../images/service.js';
import { formatReference, parseReference } from '../registry/reference.js';
import { parsePasswd, readInRoot, resolveInRoot } from '../util/in-root.js';
import { parseGoDuration } from '../util/go-duration.js';
import { BuildCache } from './cache.js';
import { applyDockerignore, cleanEntryName, type Context } from './context.js';
import { archiveKind, archiveStream, checksumSources, resolveSources, sourceTar, type CopySource, type KnownSum, type Owner } from './copy.js';
import { flagsOf, parseDockerfile, parseInstruction, type Heredoc, type Instruction } from './dockerfile.js';
import { parseRunMount, type RunMount } from './run-mounts.js';
import { downloadSource } from './url-source.js';
import type { HostConfig, MountSpec } from '../containers/config.js';
import { writeMetadataImage } from './step-image.js';
import { expandText, expandWord, expandWords, keyValues, type Vars } from './shell-words.js';
import { trace } from '../util/trace.js';

export interface BuildOptions {
  dockerfile?: string;
  tags?: string[];
  buildArgs?: Record<string, string | null>;
  target?: string;
  noCache?: boolean;
  /** remove intermediate containers (default true) */
  rm?: boolean;
  labels?: Record<string, string>;
  pull?: boolean;
  /** images whose history may stand in for steps (cachefrom) */
  cacheFrom?: string[];
  /** RUN steps' network (networkmode): `default` is the default bridge, as docker's classic builder */
  networkMode?: string;
  /** ends the build (client gone, daemon stopping): the running step's container is killed and removed */
  signal?: AbortSignal;
}

/** The build context as the builder sees it (receiveContext's Context; a plain directory for callers that have one). */
export type BuildContext = Pick<Context, 'dir'> & Partial<Pick<Context, 'sums' | 'materialize'>>;

export interface BuildDeps {
  images: ImageService;
  containers: ContainerService;
  cache: BuildCache;
}

/** A line of the build's output (`stream`) or the aux record with the result's ID. */
export type Emit = (m: { stream?: string; aux?: { ID: string } }) => void;

/** An error that carries the failing RUN's exit code (errorDetail.code, as dockerd sends it). */
export class StepError extends BerthError {
  constructor(message: string, readonly code: number) { super('Unavailable', message); }
}

/** A step as --cache-from compares it with an image's history. */
interface CacheFromStep { parent?: string; createdBy: string; layer: boolean; st: State }

interface Stage { name?: string; index: number; from: Instruction; body: Instruction[] }

interface State {
  imageId?: string;
  config: Record<string, unknown>;
  author?: string;
  /** ARGs declared in this stage, with their values */
  args: Map<string, string | undefined>;
  cmdSet: boolean;
}

const short = (id: string) => id.replace(/^sha256:/, '').slice(0, 12);
const DEFAULT_SHELL = ['/bin/sh', '-c'];
/** moby builder/dockerfile/buildargs.go builtinAllowedBuildArgs: usable without an ARG */
const BUILTIN_ARGS = new Set(['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy']);

/** Splits instructions into stages; ARGs before the first FROM are the meta args. */
export function splitStages(ins: Instruction[]): { meta: Instruction[]; stages: Stage[] } {
  const meta: Instruction[] = [];
  const stages: Stage[] = [];
  for (const i of ins) {
    if (i.cmd === 'from') {
      const words = i.args.split(/\s+/);
      if (words.length !== 1 && !(words.length === 3 && words[1]!.toLowerCase() === 'as')) throw new BerthError('InvalidArgument', `dockerfile parse error line ${i.line}: FROM requires either one or three arguments`);
      const name = words.length === 3 ? words[2]!.toLowerCase() : undefined;
      if (name && !/^[a-z][a-z0-9-_.]*$/.test(name)) throw new BerthError('InvalidArgument', `invalid name for build stage: "${words[2]}", name can't start with a number or contain symbols`);
      stages.push({ name, index: stages.length, from: i, body: [] });
    } else if (stages.length === 0) {
      if (i.cmd !== 'arg') throw new BerthError('InvalidArgument', `dockerfile parse error line ${i.line}: no build stage in current context`);
      meta.push(i);
    } else stages.at(-1)!.body.push(i);
  }
  if (stages.length === 0) throw new BerthError('InvalidArgument', 'dockerfile parse error: no build stage in current context');
  return { meta, stages };
}

/** The stages the target needs (FROM a stage, COPY --from a stage), in file order. */
export function neededStages(stages: Stage[], target: Stage, metaVars: Vars): Stage[] {
  const byRef = (ref: string): Stage | undefined => {
    const r = ref.toLowerCase();
    return stages.find((s) => s.name === r) ?? (/^\d+$/.test(r) ? stages[Number(r)] : undefined);
  };
  const need = new Set<number>();
  const visit = (s: Stage) => {
    if (need.has(s.index)) return;
    need.add(s.index);
    const base = byRef(expandWord(s.from.args.split(/\s+/)[0]!, metaVars));
    if (base && base.index < s.index) visit(base);
    for (const i of s.body) {
      // COPY --from=stage, and RUN --mount=…,from=stage
      const froms = i.flags.flatMap((f) => (f.name === 'from' ? [f.value] : f.name === 'mount' ? [...f.value.matchAll(/(?:^|,)from=([^,]+)/g)].map((m) => m[1]!) : []));
      for (const from of froms) {
        const dep = byRef(from);
        if (dep && dep.index < s.index) visit(dep);
      }
    }
  };
  visit(target);
  return stages.filter((s) => need.has(s.index));
}

export class Build {
  private readonly stageImages = new Map<number, string>();
  private step = 0;
  private total = 0;
  private escape = '\\';
  private readonly metaArgs = new Map<string, string | undefined>();
  private readonly usedArgs = new Set<string>();
  /** scratch files of this build (heredocs, downloads, rw bind copies), next to the context; removed at the end */
  private workDir?: string;
  private workN = 0;
  private stages: Stage[] = [];
  private cacheSources?: ResolvedImage[];
  /** the instruction being run, as the cache describes its entries */
  private current = '';

  /**
   * the context's files hashed as they streamed in (receiveContext): a COPY from the context reads none
   * back; a file without a digest is read, so whatever content is still held in memory goes in first
   */
  private readonly known: KnownSum;
  private readonly ctxDir: string;

  constructor(private readonly d: BuildDeps, private readonly ctx: BuildContext, private readonly o: BuildOptions, private readonly emit: Emit) {
    this.ctxDir = ctx.dir;
    this.known = (host, st) => {
      const s = ctx.sums?.get(host);
      if (s && s.size === st.size) return s.sha256;
      this.contextContent();
      return undefined;
    };
  }

  /** Before a step reads the content of the context's files (receiveContext holds some in memory). */
  private contextContent(): void { this.ctx.materialize?.(); }

  private out(s: string) { this.emit({ stream: s }); }

  /**
   * Runs the build; returns the image ID. Tags are added only after every step succeeded. The step cache's
   * new entries are written by the caller (BuildCache.flush), once the client has its answer.
   */
  async run(): Promise<string> {
    try { return await this.runAll(); } finally {
      if (this.workDir) fs.rmSync(this.workDir, { recursive: true, force: true });
    }
  }

  /** a fresh directory for one step's scratch files */
  private scratch(): string {
    this.workDir ??= fs.mkdtempSync(`${this.ctxDir}-work-`);
    const dir = path.join(this.workDir, String(this.workN++));
    fs.mkdirSync(dir, { mode: 0o700 });
    return dir;
  }

  private async runAll(): Promise<string> {
    const tags = (this.o.tags ?? []).map((t) => {
      try { return formatReference(parseReference(t)); } catch { throw new BerthError('InvalidArgument', `invalid reference format: ${t}`); }
    });
    const dfName = this.o.dockerfile || 'Dockerfile';
    let rel: string | undefined;
    try { rel = cleanEntryName(dfName); } catch { rel = undefined; }
    const dfPath = rel ? path.join(this.ctxDir, rel) : undefined;
    if (!dfPath || !fs.lstatSync(dfPath, { throwIfNoEntry: false })?.isFile()) throw new BerthError('InvalidArgument', `Cannot locate specified Dockerfile: ${dfName}`);
    const text = fs.readFileSync(dfPath, 'utf8');
    // moby's wording for both (builder/dockerfile/builder.go, parser.Parse)
    if (text === '') throw new BerthError('InvalidArgument', `the Dockerfile (${dfName}) cannot be empty`);
    const df = parseDockerfile(text);
    if (df.instructions.length === 0) throw new BerthError('InvalidArgument', 'file with no instructions');
    this.escape = df.escape;
    applyDockerignore(this.ctxDir, rel!);
    const { meta, stages } = splitStages(df.instructions);
    this.stages = stages;
    for (const m of meta) for (const [k, v] of keyValues(m.args, this.metaVars(), this.escape, 'arg')) this.metaArgs.set(k, this.argValue(k, v));
    let target = stages.at(-1)!;
    if (this.o.target) {
      const t = stages.find((s) => s.name === this.o.target!.toLowerCase());
      if (!t) throw new BerthError('InvalidArgument', `failed to reach build target ${this.o.target} in Dockerfile`);
      target = t;
    }
    if (this.o.labels && Object.keys(this.o.labels).length) {
      // moby adds --label as a LABEL instruction at the end of the target stage
      const words = Object.entries(this.o.labels).map(([k, v]) => `${JSON.stringify(k)}=${JSON.stringify(v)}`).join(' ');
      target = { ...target, body: [...target.body, parseInstruction(`LABEL ${words}`, 0)] };
    }
    // moby's classic builder builds every stage in file order; only --target (as BuildKit does) leaves out
    // the stages it does not need
    const run = (this.o.target ? neededStages(stages, target, this.metaVars()) : stages).map((s) => (s.index === target.index ? target : s));
    this.total = meta.length + run.reduce((n, s) => n + 1 + s.body.length, 0);
    for (const m of meta) this.out(`Step ${++this.step}/${this.total} : ${m.original}\n`);
    let last = '';
    for (const s of run) {
      last = await this.runStage(s, stages);
      this.stageImages.set(s.index, last);
      // moby emits each stage's image as an aux record; clients keep the last
      this.emit({ aux: { ID: last } });
    }
    const unused = Object.keys(this.o.buildArgs ?? {}).filter((k) => !this.usedArgs.has(k) && !BUILTIN_ARGS.has(k) && !this.metaArgs.has(k));
    if (unused.length) this.out(`[Warning] One or more build-args [${unused.sort().join(' ')}] were not consumed\n`);
    this.out(`Successfully built ${short(last)}\n`);
    // every tag in one locked change of the store
    await this.d.images.addRefs(last, tags);
    for (const t of tags) this.out(`Successfully tagged ${t.replace(/^docker\.io\/(library\/)?/, '')}\n`);
    return last;
  }

  private metaVars(): Vars {
    return new Map([...this.metaArgs].filter(([, v]) => v !== undefined) as Array<[string, string]>);
  }

  private argValue(name: string, def: string | undefined): string | undefined {
    const given = this.o.buildArgs?.[name];
    if (given !== undefined && given !== null) { this.usedArgs.add(name); return given; }
    return def;
  }

  private async runStage(s: Stage, stages: Stage[]): Promise<string> {
    this.out(`Step ${++this.step}/${this.total} : ${s.from.original}\n`);
    const st: State = { config: {}, args: new Map(), cmdSet: false };
    const fromFlags = flagsOf(s.from, ['platform']);
    void fromFlags;
    const baseName = expandWord(s.from.args.split(/\s+/)[0]!, this.metaVars(), this.escape);
    const baseStage = stages.find((x) => x.name === baseName.toLowerCase() && x.index < s.index);
    let onbuild: string[] = [];
    if (baseStage) st.imageId = this.stageImages.get(baseStage.index);
    else if (baseName.toLowerCase() !== 'scratch') st.imageId = await this.baseImage(baseName);
    if (st.imageId) {
      const img = this.d.images.resolve(st.imageId);
      st.config = { ...((img.config.config as Record<string, unknown> | undefined) ?? {}) };
      onbuild = (st.config.OnBuild as string[] | null | undefined) ?? [];
      delete st.config.OnBuild;
      this.out(` ---> ${short(st.imageId)}\n`);
    } else {
      st.config = {};
      this.out(' ---> \n');
    }
    if (onbuild.length) {
      this.out(`# Executing ${onbuild.length} build trigger${onbuild.length > 1 ? 's' : ''}\n`);
      for (const t of onbuild) await this.dispatch(st, parseInstruction(t, s.from.line), stages);
    }
    for (const i of s.body) {
      this.out(`Step ${++this.step}/${this.total} : ${i.original}\n`);
      this.current = i.original;
      trace(`build step ${this.step}: ${i.cmd}`);
      await this.dispatch(st, i, stages);
    }
    if (!st.imageId) st.imageId = await writeMetadataImage(this.d.images, undefined, st.config, '');
    return st.imageId;
  }

  private async baseImage(name: string): Promise<string> {
    if (!this.o.pull) {
      try { return this.d.images.resolveId(name); } catch (e) { if (!(e instanceof BerthError) || e.kind !== 'NotFound') throw e; }
    }
    const r = await this.d.images.pull(name);
    return r.id;
  }

  /** variables for expansion: the stage's ARGs, overridden by its ENV (moby: env wins) */
  private vars(st: State): Vars {
    const v: Vars = new Map();
    for (const [k, val] of st.args) if (val !== undefined) v.set(k, val);
    for (const e of (st.config.Env as string[] | undefined) ?? []) { const eq = e.indexOf('='); v.set(eq < 0 ? e : e.slice(0, eq), eq < 0 ? '' : e.slice(eq + 1)); }
    return v;
  }

  private shell(st: State): string[] { return (st.config.Shell as string[] | undefined) ?? DEFAULT_SHELL; }

  private async dispatch(st: State, i: Instruction, stages: Stage[]): Promise<void> {
    this.o.signal?.throwIfAborted();
    const vars = this.vars(st);
    const cfg = st.config;
    const nop = (text: string) => `/bin/sh -c #(nop) ${text}`;
    switch (i.cmd) {
      case 'env': {
        const env = [...((cfg.Env as string[] | undefined) ?? [])];
        for (const [k, v] of keyValues(i.args, vars, this.escape, 'env')) {
          const at = env.findIndex((e) => e.split('=')[0] === k);
          if (at >= 0) env[at] = `${k}=${v}`; else env.push(`${k}=${v}`);
          vars.set(k, v ?? '');
        }
        cfg.Env = env;
        return this.meta(st, nop(` ENV ${i.args}`));
      }
      case 'label': {
        const labels = { ...((cfg.Labels as Record<string, string> | null | undefined) ?? {}) };
        for (const [k, v] of keyValues(i.args, vars, this.escape, 'label', false)) labels[expandWord(k, vars, this.escape)] = v ?? '';
        cfg.Labels = labels;
        return this.meta(st, nop(` LABEL ${i.args}`));
      }
      case 'maintainer':
        st.author = i.args;
        return this.meta(st, nop(` MAINTAINER ${i.args}`));
      case 'arg': {
        for (const [k, def] of keyValues(i.args, vars, this.escape, 'arg')) {
          const fromMeta = def === undefined && this.metaArgs.has(k) ? this.metaArgs.get(k) : def;
          st.args.set(k, this.argValue(k, fromMeta));
        }
        return this.meta(st, nop(` ARG ${i.args}`), false);
      }
      case 'expose': {
        const ports = { ...((cfg.ExposedPorts as Record<string, object> | null | undefined) ?? {}) };
        for (const p of expandWords(i.args, vars, this.escape)) {
          if (!/^\d+(-\d+)?(\/(tcp|udp|sctp))?$/i.test(p)) throw new BerthError('InvalidArgument', `invalid containerPort: ${p}`);
          ports[p.includes('/') ? p.toLowerCase() : `${p}/tcp`] = {};
        }
        cfg.ExposedPorts = ports;
        return this.meta(st, nop(` EXPOSE ${Object.keys(ports).join(' ')}`));
      }
      case 'volume': {
        const vols = { ...((cfg.Volumes as Record<string, object> | null | undefined) ?? {}) };
        for (const v of i.json ?? expandWords(i.args, vars, this.escape)) {
          if (!v.trim()) throw new BerthError('InvalidArgument', 'VOLUME specified can not be an empty string');
          vols[v] = {};
        }
        cfg.Volumes = vols;
        return this.meta(st, nop(` VOLUME [${Object.keys(vols).join(' ')}]`));
      }
      case 'user':
        cfg.User = expandWord(i.args, vars, this.escape);
        return this.meta(st, nop(` USER ${cfg.User as string}`));
      case 'workdir': {
        const w = expandWord(i.args, vars, this.escape);
        cfg.WorkingDir = path.posix.resolve((cfg.WorkingDir as string | undefined) || '/', w);
        return this.workdirStep(st, cfg.WorkingDir as string);
      }
      case 'stopsignal':
        cfg.StopSignal = expandWord(i.args, vars, this.escape);
        return this.meta(st, nop(` STOPSIGNAL ${cfg.StopSignal as string}`));
      case 'shell':
        if (!i.json) throw new BerthError('InvalidArgument', 'SHELL requires the arguments to be in JSON form');
        cfg.Shell = i.json;
        return this.meta(st, nop(` SHELL [${i.json.join(' ')}]`));
      case 'cmd':
        cfg.Cmd = i.json ?? [...this.shell(st), i.args];
        st.cmdSet = true;
        return this.meta(st, nop(` CMD ${JSON.stringify(cfg.Cmd)}`));
      case 'entrypoint':
        cfg.Entrypoint = i.json ?? (i.args ? [...this.shell(st), i.args] : null);
        // moby dispatchEntrypoint: an ENTRYPOINT drops the inherited CMD unless this stage set one
        if (!st.cmdSet) cfg.Cmd = null;
        return this.meta(st, nop(` ENTRYPOINT ${JSON.stringify(cfg.Entrypoint)}`));
      case 'healthcheck':
        cfg.Healthcheck = healthcheck(i);
        return this.meta(st, nop(` HEALTHCHECK ${i.args}`));
      case 'onbuild': {
        const inner = parseInstruction(i.args, i.line);
        if (['onbuild', 'from', 'maintainer'].includes(inner.cmd)) throw new BerthError('InvalidArgument', `${inner.cmd.toUpperCase()} isn't allowed as an ONBUILD trigger`);
        cfg.OnBuild = [...((cfg.OnBuild as string[] | null | undefined) ?? []), i.args];
        return this.meta(st, nop(` ONBUILD ${i.args}`));
      }
      case 'run': return this.runStep(st, i);
      case 'copy': case 'add': return this.copyStep(st, i, vars, stages);
      default: throw new BerthError('InvalidArgument', `dockerfile parse error line ${i.line}: unknown instruction: ${i.cmd.toUpperCase()}`);
    }
  }

  /**
   * WORKDIR creates its directory (moby dispatchWorkdir + ContainerCreateWorkdir: a container on the
   * parent, mkdir -p owned by root, committed), so that later steps and the image's process can chdir.
   */
  private async workdirStep(st: State, dir: string): Promise<void> {
    const createdBy = `/bin/sh -c #(nop) WORKDIR ${dir}`;
    const parent = st.imageId ?? (await this.scratchImage(st));
    const key = BuildCache.key(parent, JSON.stringify([createdBy, st.config, st.author ?? null]));
    const cached = await this.probe(key, { parent, createdBy, layer: true, st });
    if (cached) return this.hit(st, cached);
    const id = await this.withContainer(parent, ['/bin/sh', '-c', `#(nop) WORKDIR ${dir}`], [], st, async (ctr) => {
      const withRoot = this.d.containers.withRoot!.bind(this.d.containers);
      await withRoot(ctr, async (r) => { fs.mkdirSync(path.join(r.rootfs, await resolveInRoot(r.rootfs, dir)), { recursive: true, mode: 0o755 }); });
      return this.commit(ctr, st);
    }, true);
    await this.record(key, id, parent);
    this.out(` ---> ${short(id)}\n`);
    st.imageId = id;
  }

  /** A new step image: into the cache, and its parent recorded so that `images` hides it as intermediate (docker's rule). */
  private async record(key: string, id: string, parent: string | undefined): Promise<void> {
    const rec = this.d.images.store.get(id);
    if (rec && parent && rec.parent !== parent) await this.d.images.store.put({ ...rec, parent });
    this.d.cache.put(key, id, this.current);
  }

  /** The local step cache, then the --cache-from images' histories (the step as a probe of them needs to describe itself). */
  private async probe(key: string, step?: CacheFromStep): Promise<string | undefined> {
    if (this.o.noCache) return undefined;
    const local = this.d.cache.get(key, (id) => !!this.d.images.store.get(id));
    if (local || !step || !this.o.cacheFrom?.length) return local;
    const id = await this.fromCacheSources(step);
    if (id) await this.record(key, id, step.parent);
    return id;
  }

  /**
   * moby image/cache (ImageCache.GetCache + restoreCachedImage): a --cache-from image whose history and
   * layers start with the parent's and whose next history entry is this step gives the step: a new image
   * of the parent plus that entry (and its layer), with the step's own config.
   */
  private async fromCacheSources(step: CacheFromStep): Promise<string | undefined> {
    this.cacheSources ??= (this.o.cacheFrom ?? []).flatMap((ref) => { try { return [this.d.images.resolve(ref)]; } catch { return []; } });
    const p = step.parent ? this.d.images.resolve(step.parent) : undefined;
    const ph = p?.config.history ?? [];
    const pd = p?.diffIds ?? [];
    const same = (a: { created_by?: string; empty_layer?: boolean }, b: { created_by?: string; empty_layer?: boolean }) =>
      (a.created_by ?? '') === (b.created_by ?? '') && !!a.empty_layer === !!b.empty_layer;
    for (const src of this.cacheSources) {
      const h = src.config.history ?? [];
      const next = h[ph.length];
      if (!next || !ph.every((e, k) => same(e, h[k]!)) || !pd.every((d, k) => src.diffIds[k] === d)) continue;
      if (!same(next, { created_by: step.createdBy, empty_layer: !step.layer })) continue;
      const layer = step.layer ? { diffId: src.diffIds[pd.length]!, descriptor: src.manifest.layers[pd.length]! } : undefined;
      if (step.layer && !layer!.diffId) continue;
      return writeMetadataImage(this.d.images, step.parent, { ...step.st.config }, step.createdBy,
        { ...(step.st.author !== undefined ? { author: step.st.author } : {}), ...(layer ? { layer } : {}), ...(next.created ? { created: next.created } : {}) });
    }
    return undefined;
  }

  private hit(st: State, id: string): void {
    this.out(' ---> Using cache\n');
    this.out(` ---> ${short(id)}\n`);
    st.imageId = id;
  }

  /** A metadata-only step: a new config, an empty_layer history entry, no layer. */
  private async meta(st: State, createdBy: string, commit = true): Promise<void> {
    // ARG alone changes no config: docker commits it too (the history shows it); so do we
    void commit;
    const key = BuildCache.key(st.imageId ?? 'scratch', JSON.stringify([createdBy, st.config, st.author ?? null]));
    const cached = await this.probe(key, { parent: st.imageId, createdBy, layer: false, st });
    if (cached) return this.hit(st, cached);
    const id = await writeMetadataImage(this.d.images, st.imageId, { ...st.config }, createdBy, st.author !== undefined ? { author: st.author } : {});
    await this.record(key, id, st.imageId);
    this.out(` ---> ${short(id)}\n`);
    st.imageId = id;
  }

  private buildArgEnv(st: State): string[] {
    const out: string[] = [];
    for (const [k, v] of st.args) if (v !== undefined) out.push(`${k}=${v}`);
    for (const k of BUILTIN_ARGS) { const v = this.o.buildArgs?.[k]; if (v) out.push(`${k}=${v}`); }
    return out;
  }

  private needImage(st: State, what: string): string {
    if (st.imageId) return st.imageId;
    throw new BerthError('InvalidArgument', `${what}: a stage FROM scratch has no filesystem to run in; COPY files into it first`);
  }

  private async runStep(st: State, i: Instruction): Promise<void> {
    const unknown = i.flags.find((f) => f.name !== 'mount');
    if (unknown) {
      if (unknown.name === 'network' || unknown.name === 'security') throw new BerthError('InvalidArgument', `RUN --${unknown.name} is not supported by Berth`);
      flagsOf(i, ['mount']);
    }
    const vars = this.vars(st);
    const workdir = (st.config.WorkingDir as string | undefined) || '/';
    const mounts = i.flags.filter((f) => f.name === 'mount').map((f) => parseRunMount(expandWord(f.value, vars, this.escape), workdir));
    const pipes: MountSpec[] = [];
    let cmd = i.json ?? [...this.shell(st), i.args];
    if (i.heredocs?.length && !i.json) cmd = this.heredocCommand(st, i, i.heredocs, pipes);
    const argEnv = this.buildArgEnv(st);
    const parent = st.imageId ?? (await this.scratchImage(st));
    const key = BuildCache.key(parent, JSON.stringify(['run', cmd, argEnv]), mounts.length ? JSON.stringify(await this.mountKeys(mounts)) : '');
    // the history names neither build args nor what mounts bring in: such steps are never taken from --cache-from
    const cached = await this.probe(key, argEnv.length || mounts.length || pipes.length ? undefined : { parent, createdBy: cmd.join(' '), layer: true, st });
    if (cached) return this.hit(st, cached);
    const env = [...((st.config.Env as string[] | undefined) ?? [])];
    for (const a of argEnv) if (!env.some((e) => e.split('=')[0] === a.split('=')[0])) env.push(a);
    const id = await this.withRunMounts(mounts, async (host) => this.withContainer(parent, cmd, env, st, async (ctr) => {
      this.out(` ---> Running in ${short(ctr)}\n`);
      this.o.signal?.throwIfAborted();
      await this.d.containers.start(ctr);
      // a cancelled build kills its step (moby: the context's cancel); the wait below then returns
      const cancel = () => { void this.d.containers.kill(ctr, 'SIGKILL').catch(() => undefined); };
      this.o.signal?.addEventListener('abort', cancel, { once: true });
      if (this.o.signal?.aborted) cancel(); // it ended while the start was under way
      const stop = new AbortController();
      const streaming = (async () => {
        for await (const l of this.d.containers.logs(ctr, { follow: true, signal: stop.signal })) this.out(l.line);
      })();
      const { exitCode } = await this.d.containers.wait(ctr).finally(() => this.o.signal?.removeEventListener('abort', cancel));
      trace(`build step ${this.step}: exited ${exitCode}`);
      stop.abort();
      await streaming.catch(() => undefined);
      this.o.signal?.throwIfAborted();
      if (exitCode !== 0) throw new StepError(`The command '${cmd.join(' ')}' returned a non-zero code: ${exitCode}`, exitCode);
      return this.commit(ctr, st);
    }, false, { mounts: [...pipes, ...host.mounts], tmpfs: host.tmpfs }));
    await this.record(key, id, parent);
    this.out(` ---> ${short(id)}\n`);
    st.imageId = id;
  }

  /**
   * RUN with heredocs (BuildKit dockerfile2llb dispatchRun): `RUN <<EOF` alone runs the text with the shell,
   * or, when it starts with `#!`, as an executable file mounted at /dev/pipes/<name>; any other command gets
   * the heredocs appended so that its shell reads them.
   */
  private heredocCommand(st: State, i: Instruction, docs: Heredoc[], pipes: MountSpec[]): string[] {
    const only = docs.length === 1 && new RegExp(`^\\d*<<-?(["']?)${docs[0]!.name.replace(/[.]/g, '\\.')}\\1$`).test(i.args);
    if (!only) return [...this.shell(st), i.args + docs.map((d) => `\n${d.data}${d.name}`).join('')];
    const doc = docs[0]!;
    if (!doc.data.startsWith('#!')) return [...this.shell(st), doc.data];
    const file = path.join(this.scratch(), doc.name);
    fs.writeFileSync(file, doc.data, { mode: 0o755 });
    fs.chmodSync(file, 0o755);
    pipes.push({ type: 'bind', source: file, target: `/dev/pipes/${doc.name}`, readOnly: true });
    return [`/dev/pipes/${doc.name}`];
  }

  /** What a RUN's mounts add to its cache key: their options, and the content of what a bind brings in. */
  private async mountKeys(mounts: RunMount[]): Promise<unknown[]> {
    const out: unknown[] = [];
    for (const m of mounts) {
      if (m.type !== 'bind') { out.push(m); continue; }
      out.push([m, await this.withSourceRoot(m.from, async (root, fromContext) => checksumSources(resolveSources(root, m.source || '.', 'run', fromContext), fromContext ? this.known : undefined))]);
    }
    return out;
  }

  /** The root a --from names (a stage or an image, mounted while fn runs) or the context. */
  private async withSourceRoot<T>(from: string | undefined, fn: (root: string, fromContext: boolean) => Promise<T>): Promise<T> {
    if (from === undefined) return fn(this.ctxDir, true);
    const dep = this.stages.find((s) => s.name === from.toLowerCase()) ?? (/^\d+$/.test(from) ? this.stages[Number(from)] : undefined);
    const srcImage = dep ? this.stageImages.get(dep.index) : await this.baseImage(from);
    if (!srcImage) throw new BerthError('InvalidArgument', `invalid from flag value ${from}: stage not built`);
    const noState: State = { config: {}, args: new Map(), cmdSet: false };
    return this.withContainer(srcImage, ['/bin/sh', '-c', '#(nop) COPY --from'], [], noState, async (src) => {
      const withRoot = this.d.containers.withRoot!.bind(this.d.containers);
      return withRoot(src, (r) => fn(r.rootfs, false));
    }, true);
  }

  /**
   * Makes the host side of a RUN's mounts and runs fn with them: a cache mount is a directory of the build
   * cache that outlives the build (keyed by its id); a bind is read-only from the context or a stage, or a
   * copy when rw (its writes are dropped, as BuildKit drops them); a secret without a source is left out
   * unless required (the classic builder's API carries no secrets).
   */
  private async withRunMounts<T>(mounts: RunMount[], fn: (host: { mounts: MountSpec[]; tmpfs: Record<string, string> }) => Promise<T>, at = 0,
    acc: { mounts: MountSpec[]; tmpfs: Record<string, string> } = { mounts: [], tmpfs: {} }): Promise<T> {
    const m = mounts[at];
    if (!m) return fn(acc);
    const next = () => this.withRunMounts(mounts, fn, at + 1, acc);
    switch (m.type) {
      case 'cache': {
        if (m.from) throw new BerthError('NotImplemented', 'RUN --mount=type=cache,from=… is not supported by Berth');
        const dir = this.d.cache.mountDir(m.id, m);
        acc.mounts.push({ type: 'bind', source: dir, target: m.target, readOnly: m.readonly });
        return next();
      }
      case 'tmpfs':
        acc.tmpfs[m.target] = m.size !== undefined ? `size=${m.size}` : '';
        return next();
      case 'secret':
        if (m.required) throw new BerthError('InvalidArgument', `secret ${m.id} not found: the classic builder's API carries no secrets`);
        return next();
      case 'bind':
        return this.withSourceRoot(m.from, async (root, fromContext) => {
          if (fromContext) this.contextContent();
          const rel = await resolveInRoot(root, m.source || '/');
          let src = path.join(root, rel);
          if (!fs.lstatSync(src, { throwIfNoEntry: false })) throw new BerthError('InvalidArgument', `failed to compute cache key: "${m.source || '/'}" not found`);
          if (!m.readonly) {
            const copy = path.join(this.scratch(), 'src');
            fs.cpSync(src, copy, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
            src = copy;
          }
          acc.mounts.push({ type: 'bind', source: src, target: m.target, readOnly: m.readonly });
          return next();
        });
    }
  }

  /** a FROM scratch stage gets a real (empty) image before its first filesystem step */
  private async scratchImage(st: State): Promise<string> {
    st.imageId = await writeMetadataImage(this.d.images, undefined, { ...st.config }, '');
    return st.imageId;
  }

  /** Creates a step container on parent, runs fn, and removes the container whatever happens. */
  private async withContainer<T>(parent: string, cmd: string[], env: string[], st: State, fn: (id: string) => Promise<T>, quiet = false, host: Partial<HostConfig> = {}): Promise<T> {
    const { id } = await this.d.containers.create(undefined, {
      image: parent, cmd, entrypoint: [], env,
      workingDir: (st.config.WorkingDir as string | undefined) || undefined,
      user: (st.config.User as string | undefined) || undefined,
      labels: {}, host: { networkMode: this.o.networkMode || 'default', ...host },
    }, { buildStep: true });
    let ok = false;
    try {
      const r = await fn(id);
      ok = true;
      return r;
    } finally {
      if (ok || this.o.rm !== false || this.o.signal?.aborted) {
        await this.d.containers.remove(id, { force: true, volumes: true }).catch(() => undefined);
        if (ok && !quiet) this.out(`Removing intermediate container ${short(id)}\n`);
      } else {
        await this.d.containers.keep?.(id).catch(() => undefined);
      }
    }
  }

  private async commit(ctr: string, st: State): Promise<string> {
    const withRoot = this.d.containers.withRoot!.bind(this.d.containers);
    const id = await withRoot(ctr, (r) => commitContainer(this.d.images, r, { config: { ...st.config }, ...(st.author !== undefined ? { author: st.author } : {}) }));
    trace(`build step ${this.step}: committed ${short(id)}`);
    return id;
  }

  private async copyStep(st: State, i: Instruction, vars: Vars, stages: Stage[]): Promise<void> {
    const isAdd = i.cmd === 'add';
    const f = flagsOf(i, isAdd ? ['chown', 'chmod', 'checksum'] : ['chown', 'chmod', 'from']);
    const words = i.json ?? expandWords(i.args, vars, this.escape);
    if (words.length < 2) throw new BerthError('InvalidArgument', `${i.cmd.toUpperCase()} requires at least two arguments`);
    const srcs = words.slice(0, -1);
    let dest = words.at(-1)!;
    if (!dest.startsWith('/')) dest = path.posix.join((st.config.WorkingDir as string | undefined) || '/', dest) + (dest.endsWith('/') || dest === '.' ? '/' : '');
    const chmodText = f.get('chmod');
    const chmod = chmodText !== undefined ? parseInt(chmodText, 8) : undefined;
    if (chmodText !== undefined && (!/^[0-7]{3,4}$/.test(chmodText))) throw new BerthError('InvalidArgument', `invalid chmod parameter: ${chmodText}`);
    const from = f.get('from');
    // sources that are not paths: heredocs (`COPY <<EOF /file`) and, for ADD, URLs, each as a file in a scratch directory
    const extra = new Map<string, CopySource>();
    for (const s of srcs) {
      const doc = i.heredocs?.find((h) => new RegExp(`^\\d*<<-?${h.name.replace(/[.]/g, '\\.')}$`).test(s));
      if (doc) {
        const file = path.join(this.scratch(), doc.name);
        fs.writeFileSync(file, doc.expand ? expandText(doc.data, vars, this.escape) : doc.data);
        fs.chmodSync(file, 0o644);
        fs.utimesSync(file, 0, 0);
        extra.set(s, { ...resolveSources(path.dirname(file), doc.name, i.cmd, false)[0]!, orig: s, literal: true });
      } else if (isAdd && /^https?:\/\//.test(s)) {
        extra.set(s, { ...(await downloadSource(s, this.scratch(), f.get('checksum'))), orig: s, literal: true });
      }
    }
    if (f.get('checksum') !== undefined && !srcs.every((s) => /^https?:\/\//.test(s))) throw new BerthError('InvalidArgument', 'checksum can\'t be specified for non-HTTP(S) sources');
    const parent = st.imageId ?? (await this.scratchImage(st));

    const go = async (root: string, fromContext: boolean): Promise<void> => {
      const sources: CopySource[] = srcs.flatMap((s) => extra.get(s) ?? resolveSources(root, s, i.cmd, fromContext));
      if (sources.length === 0) throw new BerthError('InvalidArgument', `${i.cmd.toUpperCase()} failed: no source files were specified`);
      const sum = checksumSources(sources, fromContext ? this.known : undefined);
      trace(`build step ${this.step}: sources checksummed`);
      const kind = sources.length > 1 ? 'multi' : sources[0]!.st.isDirectory() ? 'dir' : 'file';
      const createdBy = `/bin/sh -c #(nop) ${i.cmd.toUpperCase()} ${kind}:${sum} in ${dest} `;
      const key = BuildCache.key(parent, JSON.stringify([createdBy, f.get('chown') ?? '', chmodText ?? '', from ?? '']));
      const cached = await this.probe(key, f.get('chown') || chmodText !== undefined ? undefined : { parent, createdBy, layer: true, st });
      if (cached) return this.hit(st, cached);
      if (fromContext) this.contextContent();
      const destIsDir = dest.endsWith('/') || sources.length > 1 || srcs.some((s) => /[*?[]/.test(s));
      const id = await this.withContainer(parent, ['/bin/sh', '-c', `#(nop) ${i.cmd.toUpperCase()} ${kind}:${sum} in ${dest} `], [], st, async (ctr) => {
        trace(`build step ${this.step}: container ${short(ctr)} created`);
        const withRoot = this.d.containers.withRoot!.bind(this.d.containers);
        await withRoot(ctr, async (r) => {
          const owner = await chownOf(r, f.get('chown'), vars, this.escape);
          for (const s of sources) await this.place(r, s, dest, destIsDir, owner, chmod, isAdd);
        });
        trace(`build step ${this.step}: copied`);
        return this.commit(ctr, st);
      }, true);
      await this.record(key, id, parent);
      this.out(` ---> ${short(id)}\n`);
      st.imageId = id;
    };

    // the context, or the source stage's root mounted through a created container for as long as the copy lasts
    return this.withSourceRoot(from, go);
  }

  /** Puts one source at its destination in the step container's root. */
  private async place(r: ContainerRoot, s: CopySource, dest: string, destIsDir: boolean, owner: Owner, chmod: number | undefined, isAdd: boolean): Promise<void> {
    // a downloaded or heredoc file is copied as it is; a local tar is extracted (docker's ADD rule)
    const arch = isAdd && !s.literal ? archiveKind(s.host, s.st) : undefined;
    let dir: string;
    let name = '';
    if (s.st.isDirectory() || arch) dir = dest;
    else if (destIsDir) { dir = dest; name = path.posix.basename(s.host); } else {
      // a single file onto an existing directory goes inside it
      const existing = await resolveInRoot(r.rootfs, dest);
      const st = fs.lstatSync(path.join(r.rootfs, existing), { throwIfNoEntry: false });
      if (st?.isDirectory()) { dir = dest; name = path.posix.basename(s.host); } else { dir = path.posix.dirname(dest); name = path.posix.basename(dest); }
    }
    const hostDir = path.join(r.rootfs, await resolveInRoot(r.rootfs, dir));
    fs.mkdirSync(hostDir, { recursive: true, mode: 0o755 });
    if (arch) return extractToDir(r, dir, r.container.id, archiveStream(s.host, arch), { copyUIDGID: true });
    await extractToDir(r, dir, r.container.id, sourceTar(s, name, owner, chmod), { copyUIDGID: true });
  }
}

/** --chown user[:group], names looked up in the image's /etc/passwd and /etc/group (moby parseChownFlag). */
async function chownOf(r: ContainerRoot, spec: string | undefined, vars: Vars, escape: string): Promise<Owner> {
  if (!spec) return { uid: 0, gid: 0 };
  const [u, g] = expandWord(spec, vars, escape).split(':');
  const passwd = parsePasswd((await readInRoot(r.rootfs, '/etc/passwd')) ?? '');
  const groups = ((await readInRoot(r.rootfs, '/etc/group')) ?? '').split('\n').map((l) => l.split(':')).filter((p) => p.length >= 3);
  const uid = /^\d+$/.test(u!) ? Number(u) : passwd.find((p) => p.name === u)?.uid;
  if (uid === undefined) throw new BerthError('InvalidArgument', `unable to convert uid/gid chown string to host mapping: can't find uid for user ${u}: no such user: ${u}`);
  let gid = uid;
  if (g !== undefined) {
    const n = /^\d+$/.test(g) ? Number(g) : groups.find((p) => p[0] === g)?.[2];
    if (n === undefined) throw new BerthError('InvalidArgument', `unable to convert uid/gid chown string to host mapping: can't find gid for group ${g}: no such group: ${g}`);
    gid = Number(n);
  } else if (!/^\d+$/.test(u!)) gid = passwd.find((p) => p.name === u)!.gid;
  return { uid, gid };
}

/** HEALTHCHECK [flags] CMD … | NONE -> the image config's Healthcheck (durations in nanoseconds). */
export function healthcheck(i: Instruction): Record<string, unknown> {
  const f = flagsOf(i, ['interval', 'timeout', 'start-period', 'retries', 'start-interval']);
  const words = i.args.split(/\s+/);
  const kind = words[0]!.toUpperCase();
  if (kind === 'NONE') {
    if (words.length > 1 || f.size) throw new BerthError('InvalidArgument', 'HEALTHCHECK NONE takes no arguments');
    return { Test: ['NONE'] };
  }
  if (kind !== 'CMD') throw new BerthError('InvalidArgument', `Unknown type "${kind}" in HEALTHCHECK (try CMD)`);
  const rest = i.args.slice(words[0]!.length).trim();
  const inner = parseInstruction(`CMD ${rest}`, i.line);
  const hc: Record<string, unknown> = { Test: inner.json ? ['CMD', ...inner.json] : ['CMD-SHELL', rest] };
  const dur = (k: string, name: string) => {
    const v = f.get(k);
    if (v === undefined) return;
    const ns = parseGoDuration(v);
    if (ns === undefined) throw new BerthError('InvalidArgument', `time: invalid duration "${v}"`);
    if (ns < 0) throw new BerthError('InvalidArgument', `${name} cannot be negative`);
    hc[name] = ns;
  };
  dur('interval', 'Interval'); dur('timeout', 'Timeout'); dur('start-period', 'StartPeriod'); dur('start-interval', 'StartInterval');
  const retries = f.get('retries');
  if (retries !== undefined) {
    if (!/^\d+$/.test(retries) || Number(retries) < 1) throw new BerthError('InvalidArgument', '--retries must be at least 1');
    hc.Retries = Number(retries);
  }
  return hc;
}
