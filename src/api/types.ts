// api/types: Docker Engine API wire types (PascalCase, as moby's api/types and swagger.yaml name them).
// Image shapes are produced by images/inspect.ts already in wire form; they are re-exported here.
import type { EventMessage } from '../daemon/events.js';
export type { ImageSummary, ImageInspect, HistoryItem as HistoryResponseItem, DeleteItem as ImageDeleteResponseItem, PruneReport as ImagesPruneReport } from '../images/index.js';
export type { EventMessage };

export interface ComponentVersion { Name: string; Version: string; Details?: Record<string, string> }

export interface SystemVersion {
  Platform: { Name: string };
  Components: ComponentVersion[];
  Version: string; ApiVersion: string; MinAPIVersion: string; GitCommit: string; GoVersion: string;
  Os: string; Arch: string; KernelVersion: string; Experimental?: boolean; BuildTime: string;
}

export interface SystemInfo {
  ID: string; Containers: number; ContainersRunning: number; ContainersPaused: number; ContainersStopped: number; Images: number;
  Driver: string; DriverStatus: Array<[string, string]>;
  Plugins: { Volume: string[]; Network: string[]; Authorization: string[] | null; Log: string[] };
  MemoryLimit: boolean; SwapLimit: boolean; KernelMemoryTCP?: boolean; CpuCfsPeriod: boolean; CpuCfsQuota: boolean; CPUShares: boolean; CPUSet: boolean; PidsLimit: boolean;
  OomKillDisable: boolean; IPv4Forwarding: boolean; Debug: boolean; NFd: number; NGoroutines: number; SystemTime: string;
  LoggingDriver: string; CgroupDriver: string; CgroupVersion: string; NEventsListener: number; KernelVersion: string;
  OperatingSystem: string; OSVersion: string; OSType: string; Architecture: string;
  IndexServerAddress: string; RegistryConfig: { AllowNondistributableArtifactsCIDRs?: string[] | null; InsecureRegistryCIDRs: string[]; IndexConfigs: Record<string, unknown>; Mirrors: string[] };
  NCPU: number; MemTotal: number; GenericResources: null; DockerRootDir: string; HttpProxy: string; HttpsProxy: string; NoProxy: string;
  Name: string; Labels: string[]; ExperimentalBuild: boolean; ServerVersion: string;
  Runtimes: Record<string, { path: string }>; DefaultRuntime: string;
  Swarm: { NodeID: string; NodeAddr: string; LocalNodeState: string; ControlAvailable: boolean; Error: string; RemoteManagers: null };
  LiveRestoreEnabled: boolean; Isolation: string; InitBinary: string;
  ContainerdCommit: { ID: string }; RuncCommit: { ID: string }; InitCommit: { ID: string };
  SecurityOptions: string[]; CDISpecDirs: string[]; Warnings: string[];
}

export interface DiskUsage {
  LayersSize: number;
  Images: unknown[];
  Containers: unknown[];
  Volumes: unknown[];
  BuildCache: unknown[];
}

/** X-Registry-Auth and POST /auth body (api/types/registry.AuthConfig). */
export interface AuthConfig {
  username?: string; password?: string; auth?: string; email?: string;
  serveraddress?: string; identitytoken?: string; registrytoken?: string;
}

export interface AuthResponse { Status: string; IdentityToken?: string }

/** jsonmessage.JSONMessage */
export interface JSONMessage {
  stream?: string; status?: string; id?: string;
  progressDetail?: { current?: number; total?: number };
  progress?: string;
  errorDetail?: { code?: number; message: string };
  error?: string;
  aux?: unknown;
}
