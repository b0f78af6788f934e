// containers/types: the container service as api/ and cli/ see it. Domain types, camelCase;
// api/types.ts maps them to Docker's wire shapes.
import type { ContainerConfig } from './config.js';
import type { Health } from './health.js';
import type { Endpoint, EndpointRequest } from '../network/types.js';

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
  /** live endpoints (while running) and the ids of the networks it names, for inspect; absent without networking */
  network?: { endpoints: Endpoint[]; networkIds: Record<string, string> };
}

export type WaitCondition = 'not-running' | 'next-exit' | 'removed';

export interface LogOptions { follow?: boolean; tail?: number; since?: number; until?: number; stdout?: boolean; stderr?: boolean; signal?: AbortSignal }
export interface LogLine { stream: 'stdout' | 'stderr'; line: string; time: string }

export interface ListOptions { all?: boolean; filters?: Record<string, string[]>; limit?: number }

export interface ContainerService {
  /** Resolves the image (NotFound "No such image: ref"), claims the name (Conflict, docker's wording), records the container. */
  create(name: string | undefined, config: ContainerConfig): Promise<{ id: string; warnings: string[] }>;
  /** false when it was already running (the API answers 304). */
  start(ref: string): Promise<boolean>;
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
  /** `network connect`: recorded on a created container, attached now on a running one; twice is PermissionDenied (docker's 403). */
  connect?(ref: string, network: string, req?: EndpointRequest): Promise<void>;
  /** `network disconnect`; force also leaves a network that is gone. */
  disconnect?(ref: string, network: string, force?: boolean): Promise<void>;
}
