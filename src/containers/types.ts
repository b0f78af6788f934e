// containers/types: the container service as api/ and cli/ see it. Domain types, camelCase;
// api/types.ts maps them to Docker's wire shapes.
import type { ContainerConfig } from './config.js';
import type { StatsSampler, StatsTarget } from './stats.js';
import type { TopResult } from './top.js';
import type { ResourceUpdate } from './update.js';
import type { ContainerRoot } from './root.js';
import type { Health } from './health.js';
import type { MountPoint } from '../volumes/mounts.js';
import type { Endpoint, EndpointRequest } from '../network/types.js';
import type { PublishedPort } from '../network/ports.js';

export type ContainerStatus = 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';

export interface ContainerState {
  status: ContainerStatus;
  pid: number;            // 0 unless running or paused
  exitCode: number;
  oomKilled: boolean;
  error: string;
  startedAt: string;      // RFC 3339 with nanoseconds; "0001-01-01T00:00:00Z" when never
  finishedAt: string;
  health?: Health;        // with a healthcheck, from its first start
}

export interface Container {
  id: string;             // 64 hex
  name: string;           // without the leading "/"
  created: string;
  image: string;          // the reference as given at create
  imageId: string;        // sha256:…
  config: ContainerConfig;
  state: ContainerState;
  path: string;           // process.args[0] at create (docker's Path)
  args: string[];         // the rest (docker's Args)
  logPath: string;        // json-file log (docker format, one JSON object per line)
  attachSocket: string;   // the monitor's attach socket (stdcopy-framed, see src/monitor)
  restartCount: number;
  /** resolved at create (volumes/mounts.ts); absent in records older than it (then read from binds) */
  mountPoints?: MountPoint[];
  /** live endpoints (while running) and the ids of the networks it names, for inspect; absent without networking */
  network?: { endpoints: Endpoint[]; networkIds: Record<string, string> };
  ports?: PublishedPort[]; // the host ports forwarded to it while it runs
}

export type WaitCondition = 'not-running' | 'next-exit' | 'removed';

export interface LogOptions { follow?: boolean; tail?: number; since?: number | string; until?: number | string; stdout?: boolean; stderr?: boolean; signal?: AbortSignal }
export interface LogLine { stream: 'stdout' | 'stderr'; line: string; time: string }

export interface ListOptions { all?: boolean; filters?: Record<string, string[]>; limit?: number }

export interface ContainerService {
  /** Resolves the image (NotFound "No such image: ref"), claims the name (Conflict, docker's wording), records the container. */
  create(name: string | undefined, config: ContainerConfig, opts?: { buildStep?: boolean }): Promise<{ id: string; warnings: string[] }>;
  /** A build step container (create's buildStep, removed at daemon start) becomes an ordinary one. */
  keep?(ref: string): Promise<void>;
  /** false when it was already running (the API answers 304). */
  start(ref: string): Promise<boolean>;
  /** `connect` runs in the next start of container `id`, before its process runs (an attach made before start); returns its removal. */
  onNextStart(id: string, connect: (attachSocket: string) => Promise<void>): () => void;
  /** false when it was not running (304). Signal default: the config's stopSignal or SIGTERM; then SIGKILL after timeout. */
  stop(ref: string, timeoutSec?: number, signal?: string): Promise<boolean>;
  restart(ref: string, timeoutSec?: number): Promise<void>;
  kill(ref: string, signal?: string): Promise<void>;
  /** Resolves when the condition holds; exitCode of the last run. */
  wait(ref: string, condition?: WaitCondition, signal?: AbortSignal): Promise<{ exitCode: number; error?: string }>;
  remove(ref: string, opts?: { force?: boolean; volumes?: boolean }): Promise<void>;
  rename(ref: string, name: string): Promise<void>;
  list(opts?: ListOptions): Container[];
  /** NotFound "No such container: ref"; full id, name or unique id prefix. */
  get(ref: string): Container;
  logs(ref: string, opts?: LogOptions): AsyncIterable<LogLine>;
  resize(ref: string, height: number, width: number): Promise<void>;
  counts(): { running: number; paused: number; stopped: number };
  readonly sampler: StatsSampler;
  /** The container, and what stats samples of it when it runs (containers/stats.ts). */
  statsTarget(ref: string): { container: Container; target?: StatsTarget };
  /** ps over its processes (Conflict when not running). */
  top(ref: string, psArgs?: string): Promise<TopResult>;
  pause(ref: string): Promise<void>;
  unpause(ref: string): Promise<void>;
  /** InvalidArgument (docker's wording) before anything changes; host: the CPUs and memory nodes there are. */
  update(ref: string, u: ResourceUpdate, host: { ncpu: number; cpus: string; mems: string }): Promise<{ warnings: string[] }>;
  /** cp, diff, export, commit: fn gets the container's root (mounted for the call when stopped); pause freezes it meanwhile */
  withRoot?<T>(ref: string, fn: (r: ContainerRoot) => Promise<T>, o?: { pause?: boolean }): Promise<T>;
  /** `network connect`: recorded on a created container, attached now on a running one; twice is PermissionDenied (docker's 403). */
  connect?(ref: string, network: string, req?: EndpointRequest): Promise<void>;
  /** `network disconnect`; force also leaves a network that is gone. */
  disconnect?(ref: string, network: string, force?: boolean): Promise<void>;
}
