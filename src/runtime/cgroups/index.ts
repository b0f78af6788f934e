// cgroups: turns OCI linux.resources into cgroup v1/v2 file writes and manages one container's cgroup; never decides resource policy (spec/ does).
export type { CgroupManager, CgroupSetUp, CgroupStats, ManagerOptions } from './manager.js';
export { cgroupManager, type CgroupManagerOptions } from './factory.js';
export {
  detectCgroupMode, readMountinfo, parseMountinfo, v1Mounts, cgroup2Mountpoint, readHugePageSizes,
  resolveCgroupsPath, defaultCgroupsPath, DEFAULT_CGROUP_PARENT, V1_CONTROLLERS,
  type CgroupMode, type V1Controller, type MountInfoEntry,
} from './mode.js';
export { planV1, type V1Write, type V1PlanOptions } from './plan-v1.js';
export { planV2, v2DeviceRules, cpuSharesToWeight, blkioWeightToIOWeight, memorySwapToV2, type V2Write } from './plan-v2.js';
export { normalizeDeviceRules, v1DeviceLines, type DeviceRule } from './devices.js';
export { compileDeviceFilter } from './device-bpf.js';
export { validateResources, type PlanOptions } from './validate.js';
export { V1Manager } from './v1.js';
export { V2Manager, V2_CONTROLLERS } from './v2.js';
export { readV1Metrics, readV2Metrics, parseFlatKeyed, parseV1Blkio, parseIoStat, type CgroupMetrics, type BlkioEntry } from './metrics.js';
