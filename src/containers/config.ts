// containers/config: a container's configuration as Berth keeps it (camelCase); api/ maps Docker's
// PascalCase Config + HostConfig onto it, and spec/ turns it into an OCI spec.
import type { HealthConfig } from './health.js';
import type { RestartPolicy } from './restart.js';
import type { EndpointRequest } from '../network/types.js';
import type { PortMap } from '../network/ports.js';

export interface ContainerConfig {
  image: string;                 // the image reference as the user gave it
  cmd?: string[];
  entrypoint?: string[];         // [] clears the image's entrypoint (docker --entrypoint "")
  env?: string[];
  workingDir?: string;
  user?: string;                 // "uid", "uid:gid", "name", "name:group"
  tty?: boolean;
  openStdin?: boolean;
  hostname?: string;
  domainname?: string;
  labels?: Record<string, string>;
  stopSignal?: string;
  stopTimeout?: number;          // seconds `stop` waits before SIGKILL (docker: 10)
  healthcheck?: HealthConfig;    // the request's merged over the image's at create
  volumes?: string[];            // Config.Volumes: container paths that get an anonymous volume (`-v /path`)
  /**
   * The networks the container joins when it starts, by network name, with what it asks of each
   * (NetworkingConfig.EndpointsConfig at create, then connect/disconnect); the network mode's first.
   */
  networks?: Record<string, EndpointRequest>;
  exposedPorts?: string[];       // "80/tcp" keys: Config.ExposedPorts with the image's EXPOSE merged at create
  host: HostConfig;
}

/** docker's mount.Mount (HostConfig.Mounts, `--mount`), camelCase; checked by volumes/mounts.ts. */
export interface MountSpec {
  type: string;                  // bind | volume | tmpfs
  source?: string;
  target?: string;
  readOnly?: boolean;
  consistency?: string;
  bindOptions?: { propagation?: string; nonRecursive?: boolean; createMountpoint?: boolean };
  volumeOptions?: { noCopy?: boolean; labels?: Record<string, string>; driverConfig?: { name?: string; options?: Record<string, string> }; subpath?: string };
  tmpfsOptions?: { sizeBytes?: number; mode?: number; options?: string[][] };
}

/** HostConfig.LogConfig: json-file (default), none; `local` is taken as json-file (see containers/log-config.ts). */
export interface LogConfig { type: string; config: Record<string, string> }

/** A legacy link: the target container's id and the alias it has in the linking one. */
export interface ContainerLink { id: string; alias: string }

export interface HostConfig {
  memory?: number;               // bytes; 0 = unlimited
  memorySwap?: number;           // memory + swap; -1 = unlimited swap; 0 = twice the memory (docker's default)
  memoryReservation?: number;
  oomKillDisable?: boolean;
  nanoCpus?: number;
  cpuShares?: number;
  cpuQuota?: number;
  cpuPeriod?: number;
  cpusetCpus?: string;
  cpusetMems?: string;
  pidsLimit?: number;            // 0 or -1 = unlimited
  blkioWeight?: number;
  privileged?: boolean;
  links?: ContainerLink[];       // legacy --link, resolved at create to the target's id
  maskedPaths?: string[];        // HostConfig.MaskedPaths/ReadonlyPaths as given (they replace the defaults; [] = none)
  readonlyPaths?: string[];
  capAdd?: string[];
  capDrop?: string[];
  securityOpt?: string[];
  readonlyRootfs?: boolean;
  tmpfs?: Record<string, string>;
  shmSize?: number;
  ulimits?: Array<{ name: string; soft: number; hard: number }>;
  devices?: Array<{ pathOnHost: string; pathInContainer?: string; cgroupPermissions?: string }>;
  networkMode?: string;          // default | bridge | none | host | container:<name|id> | a network's name or id
  dns?: string[];                // --dns: nameservers for resolv.conf
  dnsSearch?: string[];
  dnsOptions?: string[];
  extraHosts?: string[];         // --add-host name:ip (ip may be host-gateway)
  binds?: string[];              // host:container[:options], as the user gave them
  mounts?: MountSpec[];          // --mount
  volumesFrom?: string[];        // --volumes-from ctr[:ro|:rw]
  logConfig?: LogConfig;
  oomScoreAdj?: number;
  sysctls?: Record<string, string>;
  cgroupParent?: string;
  cgroupnsMode?: 'host' | 'private';
  ipcMode?: string;              // private | host | shareable (default private)
  pidMode?: string;              // "" | host
  utsMode?: string;              // "" | host
  init?: boolean;                // an init (tini) as PID 1: reaps zombies, forwards signals
  groupAdd?: string[];           // --group-add: supplementary groups, names or numbers
  restartPolicy?: RestartPolicy; // absent: "no"
  autoRemove?: boolean;          // --rm: removed by the daemon when it exits
  portBindings?: PortMap;        // -p: container port key -> host bindings
  publishAllPorts?: boolean;     // -P: every exposed port on a free host port
}

/** The parts of an image's config (its `config` object) a container starts from. */
export interface ImageRunConfig {
  env?: string[];
  cmd?: string[];
  entrypoint?: string[];
  workingDir?: string;
  user?: string;
  labels?: Record<string, string>;
  stopSignal?: string;
}

/** From the image config JSON's PascalCase `config` object. */
export function imageRunConfig(config: Record<string, unknown> | undefined): ImageRunConfig {
  const c = config ?? {};
  const list = (v: unknown) => (Array.isArray(v) ? (v as string[]) : undefined);
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  return {
    env: list(c.Env), cmd: list(c.Cmd), entrypoint: list(c.Entrypoint), workingDir: str(c.WorkingDir), user: str(c.User),
    labels: (c.Labels as Record<string, string> | null) ?? undefined, stopSignal: str(c.StopSignal),
  };
}
